package bench

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
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
	// ScenarioCatchup replays a topic from its start with a fresh consumer
	// with franz-go's default fetch sizes, after (optionally) waiting
	// until the broker has moved the data to its object tier; "all" does
	// not select it.
	ScenarioCatchup Scenario = "catchup"
	// ScenarioTxn runs the produce load with idempotent producers and with
	// transactional ones committing every Config.TxnInterval (see
	// txnOrder), and reports the ratio; "all" does not select it.
	ScenarioTxn     Scenario = "txn"
	ScenarioLatency Scenario = "latency"
	ScenarioE2E     Scenario = "e2e"
	// ScenarioFailover kills the agent leading partition 0 of its topic
	// while producing; "all" does not select it.
	ScenarioFailover Scenario = "failover"
)

// AllScenarios lists the scenarios "all" selects, in execution order. The
// catchup scenario, which is only telling against a broker that tiers
// data, and the failover scenario, which kills a broker, are not among
// them: they run only when named.
var AllScenarios = []Scenario{ScenarioLoopback, ScenarioProduce, ScenarioConsume, ScenarioLatency, ScenarioE2E}

// scenarioOrder lists every scenario in execution order.
var scenarioOrder = []Scenario{ScenarioLoopback, ScenarioProduce, ScenarioConsume, ScenarioCatchup,
	ScenarioTxn, ScenarioLatency, ScenarioE2E, ScenarioFailover}

const (
	// DefaultLatencyRate is the send rate, in records per second, of the
	// latency, e2e and failover scenarios when Config.Rate is zero.
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
	// DefaultFailoverWarmup is how long the failover scenario produces
	// before it kills the leader of partition 0.
	DefaultFailoverWarmup = 3 * time.Second
	// DefaultTxnInterval is how often the txn scenario's producers commit.
	DefaultTxnInterval = 100 * time.Millisecond
	// DefaultFailoverTimeout is how long after the kill the failover
	// scenario waits for every partition to accept records again.
	DefaultFailoverTimeout = 30 * time.Second
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
	// Duration is how long the produce, latency and e2e scenarios send,
	// and how long the failover scenario sends at least (it goes on until
	// every partition has recovered from the kill). Ignored when Records is
	// positive.
	Duration time.Duration
	// Records, when positive, is how many records the produce, latency,
	// e2e and failover scenarios each send (failover: at least), instead of
	// sending for Duration.
	Records int64
	// Rate is the send rate in records per second. Zero means unlimited for
	// produce and DefaultLatencyRate for latency, e2e and failover.
	Rate int64
	// Producers is the number of franz-go clients the produce scenario
	// drives concurrently, one sending goroutine each.
	Producers int
	// Scenarios are the scenarios to run; Run runs them in the order of
	// AllScenarios, then failover.
	Scenarios []Scenario
	// BrokerPID, when positive, is the broker process whose memory is
	// reported after every scenario (Linux only).
	BrokerPID int
	// BrokerPIDs maps the node IDs of a cluster's agents to their process
	// IDs. The failover scenario kills the process of partition 0's leader
	// through it, and every agent's memory is reported after every scenario
	// (Linux only), except an agent this run has killed.
	BrokerPIDs map[int32]int
	// WaitBrokers, when positive, makes Run wait (up to ConnectTimeout)
	// until Metadata lists at least this many brokers before the first
	// scenario, so that a cluster that is still starting gets topics with
	// its full default replication factor.
	WaitBrokers int
	// FailoverWarmup is how long the failover scenario produces before the
	// kill.
	FailoverWarmup time.Duration
	// FailoverTimeout fails the failover scenario if some partition has
	// not acknowledged a record sent after the kill this long after it. It
	// is also the failover producers' record delivery timeout.
	FailoverTimeout time.Duration
	// WaitOffloaded makes the catchup scenario wait, before it reads,
	// until every partition's local log start offset (ListOffsets with
	// timestamp -4, KIP-405's earliest local offset) is at least its end
	// offset minus OffloadedWithin: everything but the last
	// OffloadedWithin records of each partition has left the broker's
	// local disk. It fails with ErrStalled if no local log start offset
	// advances for StallTimeout.
	WaitOffloaded bool
	// OffloadedWithin is how many records per partition may still be on
	// local disk when WaitOffloaded's wait ends, e.g. one segment's worth
	// (the active segment is not offloaded until it rolls).
	OffloadedWithin int64
	// KillAgent, if not nil, replaces how the failover scenario kills the
	// agent nodeID, whose process is pid (from BrokerPIDs). The default
	// sends SIGKILL to pid. It must not return before the agent has stopped
	// serving, and must not restart it.
	KillAgent func(nodeID int32, pid int) error
	// TxnInterval is how often the txn scenario's transactional producers
	// commit.
	TxnInterval time.Duration
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
		FailoverWarmup:   DefaultFailoverWarmup,
		FailoverTimeout:  DefaultFailoverTimeout,
		TxnInterval:      DefaultTxnInterval,
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
	case c.WaitBrokers < 0:
		return bad("wait for %d brokers < 0", c.WaitBrokers)
	case c.has(ScenarioFailover) && len(c.BrokerPIDs) == 0:
		return bad("the failover scenario needs the agents' process IDs (--broker-pids id=pid,...)")
	case c.has(ScenarioFailover) && (c.FailoverWarmup <= 0 || c.FailoverTimeout <= 0):
		return bad("failover warm-up and timeout must be positive")
	case c.has(ScenarioTxn) && !c.idempotent():
		return bad("the txn scenario needs --acks all: transactional producers are idempotent")
	case c.has(ScenarioTxn) && c.TxnInterval <= 0:
		return bad("txn interval must be positive")
	case c.has(ScenarioLoopback) && c.LoopbackDuration <= 0:
		return bad("loopback duration must be positive")
	case c.FetchMaxWait <= 0 || c.StallTimeout <= 0 || c.ConnectTimeout <= 0:
		return bad("fetch max wait, stall timeout and connect timeout must be positive")
	case c.has(ScenarioConsume) && !c.has(ScenarioProduce) && c.Topic == "":
		return bad("consume without produce needs --topic: a fresh topic has nothing to read")
	case c.has(ScenarioCatchup) && !c.has(ScenarioProduce) && c.Topic == "":
		return bad("catchup without produce needs --topic: a fresh topic has nothing to read")
	case c.WaitOffloaded && !c.has(ScenarioCatchup):
		return bad("--wait-offloaded applies to the catchup scenario, which is not selected")
	case c.OffloadedWithin < 0:
		return bad("offloaded-within %d < 0", c.OffloadedWithin)
	}
	for _, b := range c.BootstrapServers {
		if strings.TrimSpace(b) == "" {
			return bad("empty bootstrap server")
		}
	}
	for _, s := range c.Scenarios {
		if !slices.Contains(scenarioOrder, s) {
			return bad("unknown scenario %q", s)
		}
	}
	if err := checkBrokerPIDs(c.BrokerPIDs); err != nil {
		return err
	}
	if _, err := parseAcks(c.Acks); err != nil {
		return err
	}
	if _, err := parseCompression(c.Compression); err != nil {
		return err
	}
	return nil
}

// ParseScenarios parses a comma-separated scenario list; "all" selects
// AllScenarios, and failover must be named. The result is deduplicated and
// in execution order.
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
		case slices.Contains(scenarioOrder, Scenario(f)):
			want[Scenario(f)] = true
		default:
			return nil, fmt.Errorf("%w: unknown scenario %q (want %s or all)", ErrInvalidConfig, f, scenarioList())
		}
	}
	var out []Scenario
	for _, sc := range scenarioOrder {
		if want[sc] {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no scenarios in %q", ErrInvalidConfig, s)
	}
	return out, nil
}

func scenarioList() string { return joinScenarios(scenarioOrder) }

// ParseBrokerPIDs parses a list of agents' node IDs and process IDs,
// "id=pid,id=pid,...", as --broker-pids takes it. Blank items are skipped;
// an empty list yields a nil map. Node IDs must be non-negative, process IDs
// positive, and neither may repeat.
func ParseBrokerPIDs(s string) (map[int32]int, error) {
	var out map[int32]int
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		id, pid, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%w: broker pid %q is not id=pid", ErrInvalidConfig, item)
		}
		node, err := strconv.ParseInt(strings.TrimSpace(id), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: node id in %q: %w", ErrInvalidConfig, item, err)
		}
		proc, err := strconv.Atoi(strings.TrimSpace(pid))
		if err != nil {
			return nil, fmt.Errorf("%w: process id in %q: %w", ErrInvalidConfig, item, err)
		}
		if _, dup := out[int32(node)]; dup {
			return nil, fmt.Errorf("%w: node id %d given twice", ErrInvalidConfig, node)
		}
		if out == nil {
			out = make(map[int32]int)
		}
		out[int32(node)] = proc
	}
	if err := checkBrokerPIDs(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkBrokerPIDs reports an impossible node ID or process ID in m.
func checkBrokerPIDs(m map[int32]int) error {
	seen := make(map[int]int32, len(m))
	for _, node := range slices.Sorted(maps.Keys(m)) {
		pid := m[node]
		switch other, dup := seen[pid]; {
		case node < 0:
			return fmt.Errorf("%w: node id %d < 0", ErrInvalidConfig, node)
		case pid <= 0:
			return fmt.Errorf("%w: process id %d of node %d is not positive", ErrInvalidConfig, pid, node)
		case dup:
			return fmt.Errorf("%w: nodes %d and %d have the same process id %d", ErrInvalidConfig, other, node, pid)
		}
		seen[pid] = node
	}
	return nil
}

func (c Config) has(s Scenario) bool { return slices.Contains(c.Scenarios, s) }

// needsBroker reports whether any selected scenario talks to Kafka.
func (c Config) needsBroker() bool {
	return slices.ContainsFunc(c.Scenarios, func(s Scenario) bool { return s != ScenarioLoopback })
}

// latencyRate is the send rate of the latency, e2e and failover scenarios.
func (c Config) latencyRate() int64 {
	if c.Rate > 0 {
		return c.Rate
	}
	return DefaultLatencyRate
}
