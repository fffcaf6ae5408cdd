// Sarama (github.com/IBM/sarama) through its asynchronous API: AsyncProducer,
// records sent on Input(), one message back per record on Successes() or
// Errors(), read by a goroutine each.
//
// Idempotent (Producer.Idempotent, which Sarama allows only with
// RequiredAcks=WaitForAll, Net.MaxOpenRequests=1 and Retry.Max >= 1), acks
// all, Flush.Frequency 5 ms (Sarama's linger), compression as the scenario
// says, Sarama's defaults otherwise: a request holds up to MaxMessageBytes
// (1,000,000 bytes), Flush.Bytes and Flush.Messages unset, protocol version
// its DefaultVersion (2.8), hash partitioner (random for keyless records).
// Latency is per record, from the send on Input() to its message on
// Successes() (every n-th record is timed, through ProducerMessage.Metadata).
//
// Options (`--opt sarama.KEY=VALUE`): lingerMs (5), flushBytes,
// flushMessages, maxMessageBytes, version (e.g. 4.3.1), window (records
// unacknowledged at most; default as kafka-wire's runner: 100,000 or what
// fits 32 MiB, whichever is less).
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/kafka-wire/kafka-wire/bench/clients/go/child"
)

type sample struct {
	phase   *child.Phase
	index   int
	started time.Time
}

type runner struct {
	config   *sarama.Config
	brokers  []string
	producer sarama.AsyncProducer
	pump     atomic.Pointer[child.Pump]
	drained  sync.WaitGroup
	settings map[string]any
	window   int
}

func (r *runner) Version() string {
	return child.ModuleVersion("github.com/IBM/sarama")
}
func (r *runner) Idempotent() bool         { return r.config.Producer.Idempotent }
func (r *runner) Settings() map[string]any { return r.settings }
func (r *runner) Notes() []string          { return nil }

func (r *runner) Connect() error {
	producer, err := sarama.NewAsyncProducer(r.brokers, r.config)
	if err != nil {
		return err
	}
	r.producer = producer
	r.drained.Add(2)
	go func() {
		defer r.drained.Done()
		for message := range producer.Successes() {
			if s, ok := message.Metadata.(*sample); ok {
				s.phase.Record(s.index, s.started)
			}
			r.pump.Load().Done(nil)
		}
	}()
	go func() {
		defer r.drained.Done()
		for failure := range producer.Errors() {
			if s, ok := failure.Msg.Metadata.(*sample); ok {
				s.phase.Record(s.index, s.started)
			}
			r.pump.Load().Done(failure.Err)
		}
	}()
	return nil
}

func (r *runner) Produce(phase *child.Phase) child.Outcome {
	pump := child.NewPump(phase.Records, r.window).Paced(phase.Rate)
	r.pump.Store(pump)
	input := r.producer.Input()
	payload := sarama.ByteEncoder(phase.Payload)
	return pump.Run(func(index int) {
		message := &sarama.ProducerMessage{Topic: phase.Topic, Value: payload}
		if phase.Pool != nil || phase.Keys != nil {
			key, value := phase.KeyValue(index)
			message.Key = sarama.ByteEncoder(key)
			message.Value = sarama.ByteEncoder(value)
		}
		if phase.Sampled(index) {
			message.Metadata = &sample{phase: phase, index: index, started: time.Now()}
		}
		input <- message
	})
}

func (r *runner) Close() error {
	err := r.producer.Close()
	r.drained.Wait()
	return err
}

func main() {
	child.Run(func(config *child.Config, _ []byte) (child.Runner, error) {
		cfg := sarama.NewConfig()
		cfg.ClientID = config.ClientID
		cfg.Producer.RequiredAcks = sarama.WaitForAll
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
		cfg.Producer.Return.Successes = true
		cfg.Producer.Return.Errors = true
		linger := config.IntOption("lingerMs", 5)
		cfg.Producer.Flush.Frequency = time.Duration(linger) * time.Millisecond
		switch config.Compression {
		case "none":
			cfg.Producer.Compression = sarama.CompressionNone
		case "lz4":
			cfg.Producer.Compression = sarama.CompressionLZ4
		case "zstd":
			cfg.Producer.Compression = sarama.CompressionZSTD
		default:
			return nil, fmt.Errorf("compression %s not supported by this runner", config.Compression)
		}
		if _, ok := config.Options["flushBytes"]; ok {
			cfg.Producer.Flush.Bytes = config.IntOption("flushBytes", 0)
		}
		if _, ok := config.Options["flushMessages"]; ok {
			cfg.Producer.Flush.Messages = config.IntOption("flushMessages", 0)
		}
		if _, ok := config.Options["maxMessageBytes"]; ok {
			cfg.Producer.MaxMessageBytes = config.IntOption("maxMessageBytes", 0)
		}
		if v, ok := config.Options["version"]; ok {
			version, err := sarama.ParseKafkaVersion(v)
			if err != nil {
				return nil, err
			}
			cfg.Version = version
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		window := config.IntOption("window", config.DefaultWindow())
		settings := map[string]any{
			"acks":               "all (WaitForAll)",
			"idempotent":         cfg.Producer.Idempotent,
			"netMaxOpenRequests": cfg.Net.MaxOpenRequests,
			"retryMax":           cfg.Producer.Retry.Max,
			"flushFrequencyMs":   linger,
			"flushBytes":         cfg.Producer.Flush.Bytes,
			"flushMessages":      cfg.Producer.Flush.Messages,
			"maxMessageBytes":    cfg.Producer.MaxMessageBytes,
			"channelBufferSize":  cfg.ChannelBufferSize,
			"compression":        config.Compression,
			"version":            cfg.Version.String(),
			"partitioner":        "default (hash; random for keyless records)",
			"api":                "AsyncProducer: Input() <- message, Successes() / Errors()",
			"window":             window,
		}
		return &runner{config: cfg, brokers: config.Brokers(), settings: settings, window: window}, nil
	})
}
