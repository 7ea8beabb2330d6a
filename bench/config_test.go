package bench

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestNewConfigIsValid(t *testing.T) {
	c := NewConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Partitions != 6 || c.RecordSize != 1024 || c.Acks != "all" || c.Compression != "none" ||
		c.Duration != 10*time.Second || c.Producers != 1 || !slices.Equal(c.Scenarios, AllScenarios) || c.latencyRate() != DefaultLatencyRate {
		t.Fatalf("unexpected defaults %+v", c)
	}
}

func TestValidate(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"no scenarios":         func(c *Config) { c.Scenarios = nil },
		"unknown scenario":     func(c *Config) { c.Scenarios = []Scenario{"warp"} },
		"no bootstrap":         func(c *Config) { c.BootstrapServers = nil },
		"blank bootstrap":      func(c *Config) { c.BootstrapServers = []string{" "} },
		"zero partitions":      func(c *Config) { c.Partitions = 0 },
		"tiny record":          func(c *Config) { c.RecordSize = MinRecordSize - 1 },
		"huge record":          func(c *Config) { c.RecordSize = MaxRecordSize + 1 },
		"no duration":          func(c *Config) { c.Duration = 0 },
		"negative records":     func(c *Config) { c.Records = -1 },
		"negative rate":        func(c *Config) { c.Rate = -1 },
		"rate too high":        func(c *Config) { c.Rate = MaxRate + 1 },
		"no producers":         func(c *Config) { c.Producers = 0 },
		"bad acks":             func(c *Config) { c.Acks = "2" },
		"uppercase acks":       func(c *Config) { c.Acks = "ALL" },
		"bad compression":      func(c *Config) { c.Compression = "brotli" },
		"negative pid":         func(c *Config) { c.BrokerPID = -1 },
		"no loopback duration": func(c *Config) { c.LoopbackDuration = 0 },
		"no fetch wait":        func(c *Config) { c.FetchMaxWait = 0 },
		"no stall timeout":     func(c *Config) { c.StallTimeout = 0 },
		"consume fresh only":   func(c *Config) { c.Scenarios = []Scenario{ScenarioConsume} },
		"catchup fresh only":   func(c *Config) { c.Scenarios = []Scenario{ScenarioCatchup} },
		"wait without catchup": func(c *Config) { c.WaitOffloaded = true },
		"negative within": func(c *Config) {
			c.Topic, c.Scenarios, c.WaitOffloaded, c.OffloadedWithin = "t", []Scenario{ScenarioCatchup}, true, -1
		},
	} {
		c := NewConfig()
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	for name, mut := range map[string]func(*Config){
		"records instead of duration": func(c *Config) { c.Duration, c.Records = 0, 10 },
		"loopback needs no broker":    func(c *Config) { c.BootstrapServers, c.Scenarios = nil, []Scenario{ScenarioLoopback} },
		"consume of a named topic":    func(c *Config) { c.Topic, c.Scenarios = "t", []Scenario{ScenarioConsume} },
		"catchup of a named topic": func(c *Config) {
			c.Topic, c.Scenarios, c.WaitOffloaded, c.OffloadedWithin = "t", []Scenario{ScenarioCatchup}, true, 8192
		},
		"catchup after produce": func(c *Config) { c.Scenarios = []Scenario{ScenarioProduce, ScenarioCatchup} },
		"acks -1":               func(c *Config) { c.Acks = "-1" },
		"acks 0 zstd":           func(c *Config) { c.Acks, c.Compression = "0", "zstd" },
	} {
		c := NewConfig()
		mut(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseScenarios(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Scenario
	}{
		{"all", AllScenarios},
		{"e2e,produce", []Scenario{ScenarioProduce, ScenarioE2E}},
		{" latency , latency,", []Scenario{ScenarioLatency}},
		{"produce,all", AllScenarios},
		{"Consume", []Scenario{ScenarioConsume}},
		{"catchup,e2e,produce", []Scenario{ScenarioProduce, ScenarioCatchup, ScenarioE2E}},
		{"all,catchup", []Scenario{ScenarioLoopback, ScenarioProduce, ScenarioConsume, ScenarioCatchup, ScenarioLatency, ScenarioE2E}},
	} {
		got, err := ParseScenarios(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseScenarios(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", ",", "produce,fly"} {
		if _, err := ParseScenarios(in); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseScenarios(%q): %v, want ErrInvalidConfig", in, err)
		}
	}
}

func TestProducerOptsFollowAcks(t *testing.T) {
	c := NewConfig()
	if !c.idempotent() || !c.producerSettings().Idempotent {
		t.Fatal("acks=all must produce idempotently")
	}
	for _, acks := range []string{"1", "0"} {
		c.Acks = acks
		if c.idempotent() {
			t.Fatalf("acks=%s cannot be idempotent in franz-go", acks)
		}
	}
	if acksName("-1") != "all" {
		t.Fatal("acks -1 is printed as all")
	}
}
