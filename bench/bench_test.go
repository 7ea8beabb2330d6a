package bench

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newCluster starts an in-process fake Kafka broker on a random loopback
// port and returns it with an admin client.
func newCluster(t *testing.T) (*kfake.Cluster, *kadm.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c, kadm.NewClient(cl)
}

// testConfig is a small, fast configuration against c.
func testConfig(c *kfake.Cluster) Config {
	cfg := NewConfig()
	cfg.BootstrapServers = c.ListenAddrs()
	cfg.Partitions = 3
	cfg.RecordSize = 256
	cfg.Duration = 300 * time.Millisecond
	cfg.Rate = 1000
	cfg.LoopbackDuration = 200 * time.Millisecond
	cfg.StallTimeout = 10 * time.Second
	return cfg
}

func benchTopics(t *testing.T, adm *kadm.Client) []string {
	t.Helper()
	topics, err := adm.ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range topics.Names() {
		if strings.HasPrefix(name, "bench-") {
			out = append(out, name)
		}
	}
	return out
}

func checkLatency(t *testing.T, name string, l *Latency, wantRecords, rate int64) {
	t.Helper()
	if l == nil {
		t.Fatalf("%s: no result", name)
	}
	if l.Records != wantRecords || l.Rate != rate {
		t.Errorf("%s: %d records at %d/s, want %d at %d/s", name, l.Records, l.Rate, wantRecords, rate)
	}
	if l.Min < 0 || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.P999 || l.P999 > l.Max || l.Mean <= 0 || l.SendLagMax < l.SendLagP99 {
		t.Errorf("%s: implausible figures %+v", name, *l)
	}
}

func TestRunAllScenariosAgainstKfake(t *testing.T) {
	c, adm := newCluster(t)
	cfg := testConfig(c)
	if runtime.GOOS == "linux" {
		cfg.BrokerPID = os.Getpid() // kfake runs in this process
	}
	var out bytes.Buffer
	rep, err := Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())

	const sent = 300 // 300 ms at 1000 records/s
	if l := rep.Loopback; l == nil || l.MBPerSec <= 0 {
		t.Fatalf("loopback %+v", l)
	}
	p := rep.Produce
	if p == nil || p.Records != sent || p.Bytes != sent*256 || p.MBPerSec <= 0 || p.RecsPerSec <= 0 || p.LoopbackFraction <= 0 {
		t.Fatalf("produce %+v", p)
	}
	// consume reads the produce records plus the producer's warm-up record.
	cs := rep.Consume
	if cs == nil || cs.Records != sent+1 || cs.Bytes != (sent+1)*256 || cs.MBPerSec <= 0 || cs.LoopbackFraction <= 0 {
		t.Fatalf("consume %+v", cs)
	}
	checkLatency(t, "latency", rep.Latency, sent, 1000)
	checkLatency(t, "e2e", rep.E2E, sent, 1000)
	if cfg.BrokerPID > 0 {
		if len(rep.RSS) != len(AllScenarios) {
			t.Fatalf("%d memory readings, want one per scenario", len(rep.RSS))
		}
		for i, m := range rep.RSS {
			if m.After != string(AllScenarios[i]) || m.VmRSSBytes == 0 || m.VmHWMBytes < m.VmRSSBytes {
				t.Errorf("memory reading %d: %+v", i, m)
			}
		}
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if text.String() != out.String() {
		t.Errorf("streamed output differs from WriteText:\n%s\nvs\n%s", out.String(), text.String())
	}
	if left := benchTopics(t, adm); len(left) != 0 {
		t.Errorf("fresh topics not deleted: %v", left)
	}
}

func TestRunUnlimitedOnNamedTopic(t *testing.T) {
	c, adm := newCluster(t)
	const topic = "named"
	if _, err := adm.CreateTopic(context.Background(), 2, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	// Records already in the topic: consume reads them, e2e must skip them.
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("old record")}, &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(c)
	cfg.Topic = topic
	cfg.Rate = 0
	cfg.Records = 500
	cfg.Producers = 2
	cfg.Acks = "1"
	cfg.Compression = "zstd"
	cfg.Scenarios = []Scenario{ScenarioProduce, ScenarioConsume, ScenarioE2E}
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Header.Partitions != 2 || rep.Header.Topic != topic || rep.Header.Payload != "text" {
		t.Errorf("header %+v", rep.Header)
	}
	if p := rep.Produce; p.Records != 500 || p.Partitions != 2 || p.MBPerSec <= 0 || p.LoopbackFraction != 0 {
		t.Errorf("produce %+v", p)
	}
	// 2 old records, 500 produced, one warm-up per producer client.
	if cs := rep.Consume; cs.Records != 2+500+2 || cs.MBPerSec <= 0 {
		t.Errorf("consume %+v", cs)
	}
	checkLatency(t, "e2e", rep.E2E, 500, DefaultLatencyRate)
	if rep.Latency != nil || rep.Loopback != nil {
		t.Error("unselected scenarios ran")
	}
	topics, err := adm.ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !topics.Has(topic) {
		t.Error("named topic was deleted")
	}
}

func TestRunKeepsFreshTopics(t *testing.T) {
	c, adm := newCluster(t)
	cfg := testConfig(c)
	cfg.Keep = true
	cfg.Records = 20
	cfg.Scenarios = []Scenario{ScenarioLatency}
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkLatency(t, "latency", rep.Latency, 20, 1000)
	left := benchTopics(t, adm)
	if len(left) != 1 || left[0] != rep.Latency.Topic || !strings.HasPrefix(left[0], "bench-latency-") {
		t.Fatalf("topics after --keep: %v, want [%s]", left, rep.Latency.Topic)
	}
}

func TestRunUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := NewConfig()
	cfg.BootstrapServers = []string{addr}
	cfg.Scenarios = []Scenario{ScenarioProduce}
	cfg.ConnectTimeout = 5 * time.Second
	if _, err := Run(context.Background(), cfg, nil); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("run against a closed port: %v, want ErrUnreachable", err)
	}
}

func TestRunRejectsInvalidConfig(t *testing.T) {
	cfg := NewConfig()
	cfg.Producers = 0
	if _, err := Run(context.Background(), cfg, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("%v, want ErrInvalidConfig", err)
	}
}

// TestRunTxnAgainstKfake: the txn scenario sends the same paced load
// idempotently and in transactions, and every record of both runs (plus
// the warm-ups) is readable read_committed.
func TestRunTxnAgainstKfake(t *testing.T) {
	c, adm := newCluster(t)
	cfg := testConfig(c)
	cfg.Scenarios = []Scenario{ScenarioTxn}
	cfg.Keep = true
	var out bytes.Buffer
	rep, err := Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	x := rep.Txn
	if x == nil {
		t.Fatalf("no txn result:\n%s", out.String())
	}
	want := 2 * txnRun(cfg).sendCount(cfg.Rate) // two runs of each kind
	if x.Idempotent.Records != want || x.Transactional.Records != want {
		t.Errorf("records idempotent %d, transactional %d; want %d each", x.Idempotent.Records, x.Transactional.Records, want)
	}
	if x.Transactions < 1 || x.Interval != DefaultTxnInterval || x.Ratio <= 0 {
		t.Errorf("implausible result %+v", *x)
	}
	if !strings.Contains(out.String(), "transactional=") || !strings.Contains(out.String(), "ratio=") {
		t.Errorf("output lacks the txn line:\n%s", out.String())
	}

	topics := benchTopics(t, adm)
	if len(topics) != 1 {
		t.Fatalf("topics %v, want one", topics)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topics[0]),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	total := 2*want + int64(len(txnOrder)*cfg.Producers) // and one warm-up record per client and run
	var got int64
	for got < total && ctx.Err() == nil {
		got += int64(cl.PollFetches(ctx).NumRecords())
	}
	if got != total {
		t.Errorf("read_committed read %d records, want %d", got, total)
	}
}

func TestTxnNeedsAcksAll(t *testing.T) {
	cfg := NewConfig()
	cfg.Scenarios = []Scenario{ScenarioTxn}
	cfg.Acks = "1"
	if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "acks all") {
		t.Errorf("Validate with acks=1: %v", err)
	}
}
