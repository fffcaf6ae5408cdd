// A tiny franz-go client for the proxy's client test (test/proxy/clients.test.ts):
// produces -n records to -topic, then reads them back in consumer group -group,
// committing offsets, and prints "produced N" and "consumed N".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:19092", "bootstrap brokers, comma-separated")
	topic := flag.String("topic", "", "topic to produce to and consume from")
	group := flag.String("group", "", "consumer group")
	n := flag.Int("n", 10, "records")
	flag.Parse()
	if *topic == "" || *group == "" {
		fmt.Fprintln(os.Stderr, "-topic and -group are required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	producer, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*brokers, ",")...), kgo.ClientID("franz-go-proxy-test"))
	if err != nil {
		fail(err)
	}
	for i := 0; i < *n; i++ {
		rec := &kgo.Record{Topic: *topic, Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("franz-%d", i))}
		if err := producer.ProduceSync(ctx, rec).FirstErr(); err != nil {
			fail(err)
		}
	}
	producer.Close()
	fmt.Printf("produced %d\n", *n)

	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.ClientID("franz-go-proxy-test"),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	)
	if err != nil {
		fail(err)
	}
	got := 0
	for got < *n {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			fail(fmt.Errorf("consumed %d of %d: %w", got, *n, ctx.Err()))
		}
		fetches.EachError(func(t string, p int32, err error) { fail(fmt.Errorf("fetch %s[%d]: %w", t, p, err)) })
		got += fetches.NumRecords()
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		fail(err)
	}
	consumer.Close()
	fmt.Printf("consumed %d\n", got)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}
