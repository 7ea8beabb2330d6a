package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scenario names one benchmark scenario.
type Scenario string

// The scenarios, in the order Run executes them.
const (
	ScenarioLoopback Scenario = "loopback"
	ScenarioProduce  Scenario = "produce"
	ScenarioConsume  Scenario = "consume"
	ScenarioLatency  Scenario = "latency"
	ScenarioE2E      Scenario = "e2e"
)

// AllScenarios lists every scenario in execution order.
var AllScenarios = []Scenario{ScenarioLoopback, ScenarioProduce, ScenarioConsume, ScenarioLatency, ScenarioE2E}

const (
	// DefaultLatencyRate is the send rate, in records per second, of the
	// latency and e2e scenarios when Config.Rate is zero.
	DefaultLatencyRate = 2000
	// MaxRate bounds Config.Rate; it keeps the timeline arithmetic exact in
	// int64 nanoseconds.
	MaxRate = 100_000_000
	// MinRecordSize is the smallest record value: an e2e record starts with
	// an 8-byte send timestamp.
	MinRecordSize = 8
	// MaxRecordSize keeps one record inside one 1 MiB record batch, the
	// largest batch a default-configured Kafka broker accepts.
	MaxRecordSize = 1<<20 - 1024
)

// Config is the configuration of one benchmark run. NewConfig returns the
// defaults; the zero value is not valid.
type Config struct {
	// BootstrapServers are the seed brokers, host:port.
	BootstrapServers []string
	// Topic, when set, is used by every scenario instead of fresh
	// bench-<scenario>-<random> topics. It is created with Partitions if it
	// does not exist, and it is never deleted.
	Topic string
	// Partitions is the partition count of the topics bench creates.
	Partitions int32
	// Keep keeps the fresh topics after the run instead of deleting them.
	Keep bool
	// RecordSize is the size of each record value in bytes.
	RecordSize int
	// Acks is "all" (or "-1"), "1" or "0".
	Acks string
	// Compression is "none", "gzip", "snappy", "lz4" or "zstd".
	Compression string
	// Linger is the producer linger; 0 sends as soon as possible.
	Linger time.Duration
	// Duration is how long the produce, latency and e2e scenarios send.
	// Ignored when Records is positive.
	Duration time.Duration
	// Records, when positive, is how many records the produce, latency and
	// e2e scenarios each send, instead of sending for Duration.
	Records int64
	// Rate is the send rate in records per second. Zero means unlimited for
	// produce and DefaultLatencyRate for latency and e2e.
	Rate int64
	// Producers is the number of franz-go clients the produce scenario
	// drives concurrently, one sending goroutine each.
	Producers int
	// Scenarios are the scenarios to run; Run orders them as AllScenarios.
	Scenarios []Scenario
	// BrokerPID, when positive, is the broker process whose memory is
	// reported after every scenario (Linux only).
	BrokerPID int
	// LoopbackDuration is how long the loopback scenario streams.
	LoopbackDuration time.Duration
	// FetchMaxWait is the e2e consumer's fetch long-poll time.
	FetchMaxWait time.Duration
	// StallTimeout fails a scenario that makes no progress for this long.
	StallTimeout time.Duration
	// ConnectTimeout bounds the initial reachability check.
	ConnectTimeout time.Duration
}

// NewConfig returns the default configuration: localhost:9092, fresh
// 6-partition topics, 1 KiB records, acks=all, no compression, no linger,
// 10 s per scenario, one producer, all scenarios.
func NewConfig() Config {
	return Config{
		BootstrapServers: []string{"localhost:9092"},
		Partitions:       6,
		RecordSize:       1024,
		Acks:             "all",
		Compression:      "none",
		Duration:         10 * time.Second,
		Producers:        1,
		Scenarios:        slices.Clone(AllScenarios),
		LoopbackDuration: 2 * time.Second,
		FetchMaxWait:     500 * time.Millisecond,
		StallTimeout:     15 * time.Second,
		ConnectTimeout:   10 * time.Second,
	}
}

// Validate reports the first problem that would stop c from running, wrapped
// in ErrInvalidConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case len(c.Scenarios) == 0:
		return bad("no scenarios selected")
	case c.needsBroker() && len(c.BootstrapServers) == 0:
		return bad("no bootstrap servers")
	case c.Partitions < 1:
		return bad("partitions %d < 1", c.Partitions)
	case c.RecordSize < MinRecordSize || c.RecordSize > MaxRecordSize:
		return bad("record size %d outside [%d, %d]", c.RecordSize, MinRecordSize, MaxRecordSize)
	case c.Duration <= 0 && c.Records <= 0:
		return bad("need a positive duration or record count")
	case c.Records < 0:
		return bad("records %d < 0", c.Records)
	case c.Rate < 0 || c.Rate > MaxRate:
		return bad("rate %d outside [0, %d]", c.Rate, MaxRate)
	case c.Producers < 1:
		return bad("producers %d < 1", c.Producers)
	case c.BrokerPID < 0:
		return bad("broker pid %d < 0", c.BrokerPID)
	case c.has(ScenarioLoopback) && c.LoopbackDuration <= 0:
		return bad("loopback duration must be positive")
	case c.FetchMaxWait <= 0 || c.StallTimeout <= 0 || c.ConnectTimeout <= 0:
		return bad("fetch max wait, stall timeout and connect timeout must be positive")
	case c.has(ScenarioConsume) && !c.has(ScenarioProduce) && c.Topic == "":
		return bad("consume without produce needs --topic: a fresh topic has nothing to read")
	}
	for _, b := range c.BootstrapServers {
		if strings.TrimSpace(b) == "" {
			return bad("empty bootstrap server")
		}
	}
	for _, s := range c.Scenarios {
		if !slices.Contains(AllScenarios, s) {
			return bad("unknown scenario %q", s)
		}
	}
	if _, err := parseAcks(c.Acks); err != nil {
		return err
	}
	if _, err := parseCompression(c.Compression); err != nil {
		return err
	}
	return nil
}

// ParseScenarios parses a comma-separated scenario list; "all" selects every
// scenario. The result is deduplicated and in execution order.
func ParseScenarios(s string) ([]Scenario, error) {
	want := make(map[Scenario]bool)
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch {
		case f == "":
			continue
		case f == "all":
			for _, sc := range AllScenarios {
				want[sc] = true
			}
		case slices.Contains(AllScenarios, Scenario(f)):
			want[Scenario(f)] = true
		default:
			return nil, fmt.Errorf("%w: unknown scenario %q (want %s or all)", ErrInvalidConfig, f, scenarioList())
		}
	}
	var out []Scenario
	for _, sc := range AllScenarios {
		if want[sc] {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no scenarios in %q", ErrInvalidConfig, s)
	}
	return out, nil
}

func scenarioList() string { return joinScenarios(AllScenarios) }

func (c Config) has(s Scenario) bool { return slices.Contains(c.Scenarios, s) }

// needsBroker reports whether any selected scenario talks to Kafka.
func (c Config) needsBroker() bool {
	return slices.ContainsFunc(c.Scenarios, func(s Scenario) bool { return s != ScenarioLoopback })
}

// latencyRate is the send rate of the latency and e2e scenarios.
func (c Config) latencyRate() int64 {
	if c.Rate > 0 {
		return c.Rate
	}
	return DefaultLatencyRate
}
