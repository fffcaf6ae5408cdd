// franz-go (github.com/twmb/franz-go/pkg/kgo) through its asynchronous API:
// Client.Produce(ctx, record, promise), one promise call per record.
//
// Idempotent (franz-go's default), acks=all, linger 5 ms (its default is
// 10 ms), compression as the scenario says (its default would be snappy),
// franz-go's defaults otherwise: batches up to 1,000,012 bytes, 50,000
// records buffered at most (Produce blocks when that many are buffered, as
// it does for a user), up to 5 produce requests in flight per broker (fixed
// for idempotent writes). Latency is per record, from Produce() to its promise (every n-th
// record is timed).
//
// Options (`--opt franz-go.KEY=VALUE`): lingerMs (5), batchMaxBytes,
// maxBufferedRecords (client defaults), window (records
// unacknowledged at most; default as kafka-wire's runner: 100,000 or what
// fits 32 MiB, whichever is less).
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/kafka-wire/kafka-wire/bench/clients/go/child"
	"github.com/twmb/franz-go/pkg/kgo"
)

type runner struct {
	client   *kgo.Client
	settings map[string]any
	window   int
}

func (r *runner) Version() string {
	return child.ModuleVersion("github.com/twmb/franz-go")
}
func (r *runner) Idempotent() bool         { return true }
func (r *runner) Settings() map[string]any { return r.settings }
func (r *runner) Notes() []string          { return nil }
func (r *runner) Connect() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.client.Ping(ctx)
}

func (r *runner) Produce(phase *child.Phase) child.Outcome {
	pump := child.NewPump(phase.Records, r.window).Paced(phase.Rate)
	ctx := context.Background()
	done := func(_ *kgo.Record, err error) { pump.Done(err) }
	return pump.Run(func(index int) {
		key, value := phase.KeyValue(index)
		record := &kgo.Record{Topic: phase.Topic, Key: key, Value: value}
		if phase.Sampled(index) {
			started := time.Now()
			r.client.Produce(ctx, record, func(_ *kgo.Record, err error) {
				phase.Record(index, started)
				pump.Done(err)
			})
		} else {
			r.client.Produce(ctx, record, done)
		}
	})
}

func (r *runner) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.client.Flush(ctx)
	r.client.Close()
	return err
}

func main() {
	child.Run(func(config *child.Config, _ []byte) (child.Runner, error) {
		var compression kgo.CompressionCodec
		switch config.Compression {
		case "none":
			compression = kgo.NoCompression()
		case "lz4":
			compression = kgo.Lz4Compression()
		case "zstd":
			compression = kgo.ZstdCompression()
		default:
			return nil, fmt.Errorf("compression %s not supported by this runner", config.Compression)
		}
		linger := config.IntOption("lingerMs", 5)
		settings := map[string]any{
			"acks":        "all",
			"idempotent":  true,
			"lingerMs":    linger,
			"compression": config.Compression,
			"api":         "Client.Produce(ctx, record, promise)",
			"partitioner": "default (UniformBytesPartitioner, 64 KiB sticky for keyless records)",
		}
		opts := []kgo.Opt{
			kgo.SeedBrokers(config.Brokers()...),
			kgo.ClientID(config.ClientID),
			kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.ProducerLinger(time.Duration(linger) * time.Millisecond),
			kgo.ProducerBatchCompression(compression),
		}
		if _, ok := config.Options["batchMaxBytes"]; ok {
			n := config.IntOption("batchMaxBytes", 0)
			opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
			settings["batchMaxBytes"] = n
		} else {
			settings["batchMaxBytes"] = "default (1000012)"
		}
		if _, ok := config.Options["maxBufferedRecords"]; ok {
			n := config.IntOption("maxBufferedRecords", 0)
			opts = append(opts, kgo.MaxBufferedRecords(n))
			settings["maxBufferedRecords"] = n
		} else {
			settings["maxBufferedRecords"] = "default (50000)"
		}
		window := config.IntOption("window", config.DefaultWindow())
		settings["window"] = window
		client, err := kgo.NewClient(opts...)
		if err != nil {
			return nil, err
		}
		return &runner{client: client, settings: settings, window: window}, nil
	})
}
