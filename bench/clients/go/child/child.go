// Package child is the Go side of bench/lib/child.ts: the protocol between
// bench/run.ts and a runner process (the config JSON as the first argument,
// one "BENCH_RESULT {json}" line on stdout), the warm-up and measured phases,
// and the measuring (elapsed time, CPU of the measured phase from getrusage of
// the whole process, i.e. every thread, and the process's peak RSS), done the
// same way for every Go runner.
//
// A runner only knows how to connect, hand records to its client's
// asynchronous API, and close. The Pump keeps a bounded number of records
// unacknowledged, as bench/lib/child.ts's Pump does for the Node runners.
package child

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ResultPrefix starts the result line (bench/lib/protocol.ts RESULT_PREFIX).
const ResultPrefix = "BENCH_RESULT "

// Config is bench/lib/protocol.ts ChildConfig.
type Config struct {
	Client             string            `json:"client"`
	Bootstrap          string            `json:"bootstrap"`
	Topic              string            `json:"topic"`
	WarmupTopic        string            `json:"warmupTopic"`
	Partitions         int               `json:"partitions"`
	Records            int               `json:"records"`
	WarmupRecords      int               `json:"warmupRecords"`
	RecordSize         int               `json:"recordSize"`
	Compression        string            `json:"compression"`
	ClientID           string            `json:"clientId"`
	LatencySampleEvery int               `json:"latencySampleEvery"`
	Options            map[string]string `json:"options"`
	// Keys is the number of distinct keys of a keyed scenario (0: records have no key).
	Keys int `json:"keys"`
	// RecordsFile is a realistic scenario's pool of records (bench/lib/realistic.ts):
	// record i is the file's record i % its count.
	RecordsFile string `json:"recordsFile"`
	// Rate is a latency scenario's offered rate, records/s, for the warm-up and the measured phase (0: unpaced).
	Rate int `json:"rate"`
}

// Brokers is the bootstrap as a list (a 3-node cluster's is comma-separated).
func (c *Config) Brokers() []string { return strings.Split(c.Bootstrap, ",") }

// Pool is a realistic scenario's records, read from Config.RecordsFile.
type Pool struct {
	Keys   [][]byte
	Values [][]byte
}

// ReadRecordsFile reads bench/lib/realistic.ts writeRecordsFile's format: per record a
// 4-byte big-endian key length, the key, a 4-byte big-endian value length, the value.
func ReadRecordsFile(path string) (*Pool, error) {
	bytes, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := &Pool{}
	next := func(at int) ([]byte, int, error) {
		if at+4 > len(bytes) {
			return nil, 0, fmt.Errorf("%s: truncated at byte %d", path, at)
		}
		n := int(binary.BigEndian.Uint32(bytes[at:]))
		if at+4+n > len(bytes) {
			return nil, 0, fmt.Errorf("%s: truncated at byte %d", path, at)
		}
		return bytes[at+4 : at+4+n], at + 4 + n, nil
	}
	for at := 0; at < len(bytes); {
		var key, value []byte
		if key, at, err = next(at); err != nil {
			return nil, err
		}
		if value, at, err = next(at); err != nil {
			return nil, err
		}
		pool.Keys = append(pool.Keys, key)
		pool.Values = append(pool.Values, value)
	}
	return pool, nil
}

// IntOption is `--opt client.key=value` as an integer, or fallback.
func (c *Config) IntOption(key string, fallback int) int {
	value, ok := c.Options[key]
	if !ok {
		return fallback
	}
	n, err := strconv.Atoi(value)
	if err != nil {
		Fail(fmt.Errorf("--opt %s.%s=%s is not an integer", c.Client, key, value))
	}
	return n
}

// DefaultWindow is the Node runners' default bound on unacknowledged records
// (bench/clients/kafka-wire.ts): librdkafka's queue limit, 100,000, and no
// more than fit 32 MiB counted with ~64 bytes of overhead per record.
func (c *Config) DefaultWindow() int {
	return min(100_000, 32*1024*1024/(c.RecordSize+64))
}

// Phase is one run of records to one topic.
type Phase struct {
	Topic   string
	Records int
	Payload []byte
	// Keys of a keyed scenario (nil: no key); record i carries Key(i).
	Keys [][]byte
	// Pool of a realistic scenario (nil: none); record i is KeyValue(i).
	Pool        *Pool
	SampleEvery int
	// Rate is the offered rate in records/s for the Pump (0: as fast as the client takes them).
	Rate int
	// Latencies[i] is the latency of record i*SampleEvery; each slot is written by one delivery callback only.
	Latencies []time.Duration
	sampled   atomic.Int64
}

// KeyIndex is bench/lib/protocol.ts keyIndex: the key record index carries, of keys.
func KeyIndex(index, keys int) int {
	return int((uint32(index) * 0x9e3779b1) % uint32(keys))
}

// Key is record index's key (nil when the scenario has none).
func (p *Phase) Key(index int) []byte {
	if p.Keys == nil {
		return nil
	}
	return p.Keys[KeyIndex(index, len(p.Keys))]
}

// KeyValue is record index's key and value: from the pool, or Key(index) and the payload.
func (p *Phase) KeyValue(index int) ([]byte, []byte) {
	if p.Pool != nil {
		i := index % len(p.Pool.Values)
		return p.Pool.Keys[i], p.Pool.Values[i]
	}
	return p.Key(index), p.Payload
}

// Sampled reports whether record index is timed.
func (p *Phase) Sampled(index int) bool { return index%p.SampleEvery == 0 }

// Record stores the latency of a timed record (index a multiple of SampleEvery).
func (p *Phase) Record(index int, started time.Time) {
	p.Latencies[index/p.SampleEvery] = time.Since(started)
	p.sampled.Add(1)
}

// Outcome is bench/lib/child.ts PhaseOutcome.
type Outcome struct {
	Acked      int
	Failed     int
	FirstError string
	// DroppedFromSchedule counts, in a paced phase, records given up by the schedule (PacedDue).
	DroppedFromSchedule int
}

// Runner is what a client runner provides.
type Runner interface {
	Version() string
	Idempotent() bool
	Settings() map[string]any
	Notes() []string
	Connect() error
	// Produce hands every record of the phase to the client and returns once each was acknowledged or failed.
	Produce(phase *Phase) Outcome
	Close() error
}

// Fail prints the error on stderr and exits non-zero, as a Node runner that throws.
func Fail(err error) {
	fmt.Fprintf(os.Stderr, "error: %v\n", err)
	os.Exit(1)
}

// ReadConfig parses the config JSON given as the first argument.
func ReadConfig() *Config {
	if len(os.Args) < 2 {
		Fail(errors.New("usage: <runner> <config JSON>"))
	}
	var config Config
	if err := json.Unmarshal([]byte(os.Args[1]), &config); err != nil {
		Fail(fmt.Errorf("config: %w", err))
	}
	if config.LatencySampleEvery < 1 {
		config.LatencySampleEvery = 1
	}
	if config.Options == nil {
		config.Options = map[string]string{}
	}
	return &config
}

// MakePayload is random uppercase letters, as ProducerPerformance's --record-size payload.
func MakePayload(size int) []byte {
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(65 + rand.Intn(26))
	}
	return payload
}

// ModuleVersion is the version of a module this binary was built with.
func ModuleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			if dep.Replace != nil {
				return dep.Replace.Version
			}
			return dep.Version
		}
	}
	return "unknown"
}

func newPhase(topic string, records int, payload []byte, keys [][]byte, pool *Pool, sampleEvery int, rate int) *Phase {
	return &Phase{
		Rate:        rate,
		Topic:       topic,
		Records:     records,
		Payload:     payload,
		Keys:        keys,
		Pool:        pool,
		SampleEvery: sampleEvery,
		Latencies:   make([]time.Duration, (records+sampleEvery-1)/sampleEvery),
	}
}

type cpuTimes struct{ user, system time.Duration }

func rusage() (cpuTimes, int64) {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		Fail(fmt.Errorf("getrusage: %w", err))
	}
	return cpuTimes{time.Duration(usage.Utime.Nano()), time.Duration(usage.Stime.Nano())}, usage.Maxrss
}

// Run is bench/lib/child.ts runChild: config in, warm-up, measured phase, result line out.
func Run(create func(config *Config, payload []byte) (Runner, error)) {
	config := ReadConfig()
	payload := MakePayload(config.RecordSize)
	var keys [][]byte
	for i := 0; i < config.Keys; i++ {
		keys = append(keys, []byte(fmt.Sprintf("key-%08d", i)))
	}
	var pool *Pool
	if config.RecordsFile != "" {
		var err error
		if pool, err = ReadRecordsFile(config.RecordsFile); err != nil {
			Fail(err)
		}
	}
	runner, err := create(config, payload)
	if err != nil {
		Fail(err)
	}
	if err := runner.Connect(); err != nil {
		Fail(fmt.Errorf("connect: %w", err))
	}
	if config.WarmupRecords > 0 {
		// Paced at the measured phase's rate, if it has one (as ProducerPerformance's warm-up
		// is), so the code a paced producer runs per request is as warm as the per-record code.
		warmup := runner.Produce(newPhase(config.WarmupTopic, config.WarmupRecords, payload, keys, pool, config.LatencySampleEvery, config.Rate))
		if warmup.Failed > 0 {
			Fail(fmt.Errorf("warm-up: %d records failed: %s", warmup.Failed, warmup.FirstError))
		}
	}

	phase := newPhase(config.Topic, config.Records, payload, keys, pool, config.LatencySampleEvery, config.Rate)
	cpuBefore, _ := rusage()
	started := time.Now()
	outcome := runner.Produce(phase)
	elapsed := time.Since(started)
	cpuAfter, _ := rusage()

	if err := runner.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "close: %v\n", err)
	}
	total, maxRSS := rusage()

	result := map[string]any{
		"client":      config.Client,
		"version":     runner.Version(),
		"idempotent":  runner.Idempotent(),
		"compression": config.Compression,
		"records":     config.Records,
		"acked":       outcome.Acked,
		"failed":      outcome.Failed,
		"elapsedMs":   math.Round(float64(elapsed.Nanoseconds())/1e3) / 1e3,
		"latency":     summary(phase, config.LatencySampleEvery),
		"cpu": map[string]any{
			"measuredUserS":   (cpuAfter.user - cpuBefore.user).Seconds(),
			"measuredSystemS": (cpuAfter.system - cpuBefore.system).Seconds(),
			"processS":        (total.user + total.system).Seconds(),
		},
		// getrusage ru_maxrss: KiB on Linux.
		"maxRssKiB": maxRSS,
		"settings":  runner.Settings(),
		"notes":     append([]string{}, runner.Notes()...),
	}
	if outcome.FirstError != "" {
		result["firstError"] = outcome.FirstError
	}
	if config.Rate > 0 {
		result["paced"] = map[string]any{"rate": config.Rate, "droppedFromSchedule": outcome.DroppedFromSchedule}
	}
	line, err := json.Marshal(result)
	if err != nil {
		Fail(err)
	}
	fmt.Printf("%s%s\n", ResultPrefix, line)
	os.Exit(0)
}

// summary is bench/lib/latency.ts LatencyRecorder.summary (nearest rank, milliseconds rounded to µs).
func summary(phase *Phase, recordsPerSample int) map[string]any {
	n := int(phase.sampled.Load())
	samples := make([]float64, 0, n)
	for _, d := range phase.Latencies {
		if d > 0 {
			samples = append(samples, float64(d.Nanoseconds())/1e6)
		}
	}
	sort.Float64s(samples)
	sum := 0.0
	for _, v := range samples {
		sum += v
	}
	percentile := func(p float64) any {
		if len(samples) == 0 {
			return nil
		}
		rank := int(math.Ceil(p / 100 * float64(len(samples))))
		return round(samples[min(len(samples), max(1, rank))-1])
	}
	var avg, maxMs any
	if len(samples) > 0 {
		avg = round(sum / float64(len(samples)))
		maxMs = round(samples[len(samples)-1])
	}
	return map[string]any{
		"kind":             "per-record",
		"samples":          len(samples),
		"recordsPerSample": recordsPerSample,
		"avgMs":            avg,
		"p50Ms":            percentile(50),
		"p99Ms":            percentile(99),
		"p999Ms":           percentile(99.9),
		"maxMs":            maxMs,
	}
}

func round(ms float64) float64 { return math.Round(ms*1000) / 1000 }

// Pump keeps at most Window records unacknowledged, as bench/lib/child.ts's
// Pump: it hands records to Submit in chunks of 1,000, and after a chunk,
// when Window or more are out, waits until half the window came back.
// Done is called once per record from the client's delivery callback.
type Pump struct {
	total    int
	window   int
	acked    atomic.Int64
	failed   atomic.Int64
	waitFor  atomic.Int64
	wake     chan struct{}
	finished chan struct{}
	errOnce  sync.Once
	firstErr string
	rate     int
}

// Paced makes the pump send at rate records/s (0: unpaced), as bench/lib/child.ts's Pump
// with a rate: in slices of PaceSlice, the records due by the end of the slice, catching
// up at most one missed slice (PacedDue).
func (p *Pump) Paced(rate int) *Pump {
	p.rate = rate
	return p
}

// PaceSlice is bench/lib/protocol.ts PACE_SLICE_MS.
const PaceSlice = time.Millisecond

// PacedDue is bench/lib/protocol.ts pacedDue: records that may go now at rate records/s,
// elapsed after the start, with sent so far and dropped given up; the new dropped count;
// and the time to the next slice. Records of slices missed by more than one are dropped
// from the schedule (the schedule shifts) rather than sent in a burst.
func PacedDue(rate int, elapsed time.Duration, sent, dropped int) (int, int, time.Duration) {
	slice := int64(elapsed / PaceSlice)
	upTo := func(k int64) int { return int(int64(rate) * k * int64(PaceSlice) / int64(time.Second)) }
	if floor := upTo(slice-1) - dropped; sent < floor {
		dropped += floor - sent
	}
	return max(0, upTo(slice+1)-dropped-sent), dropped, time.Duration(slice+1)*PaceSlice - elapsed
}

// NewPump makes a pump for total records with at most window unacknowledged.
func NewPump(total, window int) *Pump {
	p := &Pump{total: total, window: max(1, window), wake: make(chan struct{}, 1), finished: make(chan struct{})}
	p.waitFor.Store(math.MaxInt64)
	return p
}

// Done settles one record; err nil means acknowledged.
func (p *Pump) Done(err error) {
	var settled int64
	if err != nil {
		p.errOnce.Do(func() { p.firstErr = err.Error() })
		settled = p.failed.Add(1) + p.acked.Load()
	} else {
		settled = p.acked.Add(1) + p.failed.Load()
	}
	if settled == int64(p.total) {
		close(p.finished)
	}
	if settled >= p.waitFor.Load() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

func (p *Pump) settled() int64 { return p.acked.Load() + p.failed.Load() }

func (p *Pump) settledAtLeast(count int64) {
	p.waitFor.Store(count)
	for p.settled() < count {
		<-p.wake
	}
	p.waitFor.Store(math.MaxInt64)
}

// Run hands records 0..total-1 to submit (which may block, as a client's own buffer limit does) and waits for every one to settle.
func (p *Pump) Run(submit func(index int)) Outcome {
	const chunk = 1000
	next := 0
	dropped := 0
	started := time.Now()
	for next < p.total {
		end := min(p.total, next+chunk)
		if p.rate > 0 {
			var due int
			var wait time.Duration
			due, dropped, wait = PacedDue(p.rate, time.Since(started), next, dropped)
			if due == 0 {
				time.Sleep(wait)
				continue
			}
			end = min(p.total, next+due)
		}
		for ; next < end; next++ {
			submit(next)
		}
		if int64(next)-p.settled() >= int64(p.window) {
			p.settledAtLeast(int64(next - p.window/2))
		}
	}
	if p.total > 0 {
		<-p.finished
	}
	outcome := Outcome{Acked: int(p.acked.Load()), Failed: int(p.failed.Load()), DroppedFromSchedule: dropped}
	if outcome.Failed > 0 {
		outcome.FirstError = p.firstErr
	}
	return outcome
}
