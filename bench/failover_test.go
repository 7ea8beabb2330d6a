package bench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestParseBrokerPIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[int32]int
	}{
		{"", nil},
		{" , ", nil},
		{"1=4242", map[int32]int{1: 4242}},
		{"1=100,2=200,3=300", map[int32]int{1: 100, 2: 200, 3: 300}},
		{" 0 = 7 ,, 12=8 ", map[int32]int{0: 7, 12: 8}},
	} {
		got, err := ParseBrokerPIDs(tc.in)
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseBrokerPIDs(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for id, pid := range tc.want {
			if got[id] != pid {
				t.Errorf("ParseBrokerPIDs(%q)[%d] = %d, want %d", tc.in, id, got[id], pid)
			}
		}
	}
	for _, in := range []string{
		"1", "1=", "=5", "a=5", "1=b", "1:5", "1=5=6",
		"-1=5",        // negative node id
		"1=0", "1=-3", // non-positive pid
		"1=5,1=6",         // node twice
		"1=5,2=5",         // pid twice
		"2147483648=5",    // node id beyond int32
		"1=5,2=6,,3=5,4=", // bad items after good ones
	} {
		if got, err := ParseBrokerPIDs(in); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseBrokerPIDs(%q) = %v, %v; want ErrInvalidConfig", in, got, err)
		}
	}
}

func TestValidateFailover(t *testing.T) {
	c := NewConfig()
	c.Scenarios = []Scenario{ScenarioFailover}
	if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("failover without broker pids: %v, want ErrInvalidConfig", err)
	}
	c.BrokerPIDs = map[int32]int{1: 10, 2: 20}
	if err := c.Validate(); err != nil {
		t.Errorf("failover with broker pids: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"no warm-up":       func(c *Config) { c.FailoverWarmup = 0 },
		"no timeout":       func(c *Config) { c.FailoverTimeout = -time.Second },
		"shared pid":       func(c *Config) { c.BrokerPIDs = map[int32]int{1: 10, 2: 10} },
		"zero pid":         func(c *Config) { c.BrokerPIDs = map[int32]int{1: 0} },
		"negative node":    func(c *Config) { c.BrokerPIDs = map[int32]int{-1: 10} },
		"negative brokers": func(c *Config) { c.WaitBrokers = -1 },
	} {
		c := c
		c.BrokerPIDs = map[int32]int{1: 10, 2: 20}
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestParseScenariosFailoverOnlyByName(t *testing.T) {
	all, err := ParseScenarios("all")
	if err != nil || slices.Contains(all, ScenarioFailover) {
		t.Fatalf("all = %v, %v; must not kill a broker", all, err)
	}
	got, err := ParseScenarios("failover,produce,all")
	if want := append(slices.Clone(AllScenarios), ScenarioFailover); err != nil || !slices.Equal(got, want) {
		t.Fatalf("failover,produce,all = %v, %v; want %v", got, err, want)
	}
}

// TestFailoverTrackerAccounting drives the tracker with made-up times: only
// acknowledgements of records due after the kill count as recovery, the
// first one per partition wins, and failures are counted, not measured.
func TestFailoverTrackerAccounting(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tr := newFailoverTracker(3)

	tr.ack(0, at(0), at(2), nil) // before the kill
	tr.ack(1, at(1), at(3), nil)
	if killed, rec := tr.state(); !killed.IsZero() || rec {
		t.Fatalf("state before the kill: %v, %v", killed, rec)
	}
	tr.markKilled(at(100))
	tr.ack(0, at(99), at(1500), nil)              // sent before the kill, acknowledged after: not recovery
	tr.ack(1, at(101), at(110), nil)              // partition 1 recovers 10 ms after the kill
	tr.ack(1, at(102), at(105), nil)              // later record, earlier promise: first ack wins
	tr.ack(2, at(100), at(120), nil)              // due exactly at the kill: not after it
	tr.ack(2, at(150), at(0), errors.New("boom")) // failures are not recovery
	if _, _, ok := tr.recovery(); ok {
		t.Fatal("recovered before partitions 0 and 2 acknowledged a post-kill record")
	}
	if got := tr.waitingPartitions(); !slices.Equal(got, []int32{0, 2}) {
		t.Fatalf("waiting partitions %v, want [0 2]", got)
	}
	tr.markLeaderMoved(3, at(1700))
	tr.ack(0, at(200), at(1900), nil) // partition 0 back 1.8 s after the kill
	tr.ack(2, at(300), at(2200), nil) // partition 2 last, 2.1 s after
	tr.ack(0, at(400), at(1950), nil)
	p0, all, ok := tr.recovery()
	if !ok || p0 != 1800*time.Millisecond || all != 2100*time.Millisecond {
		t.Fatalf("recovery = %v, %v, %v; want 1.8s, 2.1s, true", p0, all, ok)
	}
	if _, rec := tr.state(); !rec {
		t.Fatal("state does not report recovery")
	}
	top := topicInfo{name: "t", partitions: 3, replicationFactor: 3}
	res := tr.result(top, 2000, agentProcess{nodeID: 2, pid: 4242}, 11, NewHistogram())
	if res.Acked != 9 || res.Failed != 1 || res.FirstError != "boom" || res.Sent != 11 || res.KilledNodeID != 2 ||
		res.KilledPID != 4242 || res.NewLeader != 3 || res.LeaderMoved != 1600*time.Millisecond || res.ReplicationFactor != 3 {
		t.Fatalf("result %+v", res)
	}
	// Latency runs from the due time: the slowest acknowledged record was
	// due at 300 ms and acknowledged at 2200 ms.
	if res.Latency.Records != 9 || res.Latency.Max != 1900*time.Millisecond {
		t.Fatalf("latency %+v", res.Latency)
	}
	want := "failover  killed=agent 2  partition0=1.80s  all=2.10s  failed=1  "
	if line := failoverLine(*res); !strings.HasPrefix(line, want) || !strings.HasSuffix(line, "first error: boom") {
		t.Fatalf("line %q, want prefix %q", line, want)
	}
}

// newFakeCluster starts a three-node kfake cluster.
func newFakeCluster(t *testing.T) (*kfake.Cluster, *kadm.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
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

// startAgents starts one stand-in process per node, so that --broker-pids
// names real processes whose memory can be read and which can be killed.
func startAgents(t *testing.T, nodes ...int32) map[int32]int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1) to stand in for agents")
	}
	pids := make(map[int32]int)
	for _, n := range nodes {
		cmd := exec.Command(sleep, "600")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		pids[n] = cmd.Process.Pid
	}
	return pids
}

func failoverConfig(c *kfake.Cluster) Config {
	cfg := NewConfig()
	cfg.BootstrapServers = c.ListenAddrs()
	cfg.Scenarios = []Scenario{ScenarioFailover}
	cfg.Partitions = 4
	cfg.RecordSize = 64
	cfg.Rate = 500
	cfg.Duration = 600 * time.Millisecond
	cfg.FailoverWarmup = 200 * time.Millisecond
	cfg.FailoverTimeout = 20 * time.Second
	cfg.WaitBrokers = 3
	return cfg
}

// TestFailoverAgainstKfake kills the leader of partition 0 of a three-node
// kfake cluster mid-run: the stand-in process dies and the node's
// partitions move to the next node, which then leads them while the old
// node answers NOT_LEADER_OR_FOLLOWER (kfake cannot lose a node that
// leads the cluster). The measurement must see the right victim, every
// partition recover, and no record fail.
func TestFailoverAgainstKfake(t *testing.T) {
	c, adm := newFakeCluster(t)
	pids := startAgents(t, 0, 1, 2)
	cfg := failoverConfig(c)
	cfg.BrokerPIDs = pids
	var mu sync.Mutex
	var kills []agentProcess
	cfg.KillAgent = func(node int32, pid int) error {
		mu.Lock()
		kills = append(kills, agentProcess{node, pid})
		mu.Unlock()
		if err := killProcess(node, pid); err != nil {
			return err
		}
		return moveLeadership(c, adm, node, (node+1)%3)
	}
	var out strings.Builder
	rep, err := Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())

	f := rep.Failover
	if f == nil {
		t.Fatal("no failover result")
	}

	mu.Lock()
	defer mu.Unlock()
	if len(kills) != 1 || kills[0].nodeID != f.KilledNodeID || kills[0].pid != pids[f.KilledNodeID] || f.KilledPID != kills[0].pid {
		t.Fatalf("kills %v, result names agent %d pid %d", kills, f.KilledNodeID, f.KilledPID)
	}
	if f.NewLeader != (f.KilledNodeID+1)%3 || f.LeaderMoved <= 0 {
		t.Errorf("after killing node %d, metadata named node %d leader after %s; want node %d",
			f.KilledNodeID, f.NewLeader, f.LeaderMoved, (f.KilledNodeID+1)%3)
	}
	if f.Failed != 0 || f.FirstError != "" || f.Acked != f.Sent || f.Sent < 300 { // 600 ms at 500/s at least
		t.Errorf("records: sent %d acked %d failed %d (%s)", f.Sent, f.Acked, f.Failed, f.FirstError)
	}
	if f.Partition0 <= 0 || f.All < f.Partition0 || f.Partitions != 4 || f.Rate != 500 {
		t.Errorf("figures %+v", f)
	}
	if l := f.Latency; l.Records != f.Acked || l.P50 <= 0 || l.P99 < l.P50 || l.Max < l.P99 {
		t.Errorf("latency %+v", l)
	}
	if h := rep.Header; h.Brokers != 3 || h.Failover == nil || len(h.BrokerPIDs) != 3 {
		t.Errorf("header %+v", h)
	}
	// One memory reading per agent still alive after the scenario.
	var read []int32
	for _, m := range rep.RSS {
		if m.NodeID == nil || m.After != string(ScenarioFailover) || m.VmRSSBytes == 0 {
			t.Errorf("memory reading %+v", m)
			continue
		}
		read = append(read, *m.NodeID)
	}
	if len(read) != 2 || slices.Contains(read, f.KilledNodeID) {
		t.Errorf("memory read of agents %v after killing %d", read, f.KilledNodeID)
	}
	if gone, err := processGone(f.KilledPID); err != nil || !gone {
		t.Errorf("killed agent's process: gone=%v, %v", gone, err)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil || text.String() != out.String() {
		t.Errorf("WriteText (%v) differs from the streamed output:\n%s", err, text.String())
	}
	if c.TopicInfo(f.Topic) != nil {
		t.Errorf("fresh topic %s not deleted", f.Topic)
	}
}

// moveLeadership moves every partition of the bench topics that from leads
// to to.
func moveLeadership(c *kfake.Cluster, adm *kadm.Client, from, to int32) error {
	topics, err := adm.ListTopics(context.Background())
	if err != nil {
		return err
	}
	for _, td := range topics {
		if !strings.HasPrefix(td.Topic, "bench-") {
			continue
		}
		for p := range td.Partitions {
			if c.LeaderFor(td.Topic, p) != from {
				continue
			}
			if err := c.MoveTopicPartition(td.Topic, p, to); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestFailoverWithoutRecovery: a "kill" after which partition 0 rejects
// every produce must end in ErrNoFailover once the timeout has passed.
func TestFailoverWithoutRecovery(t *testing.T) {
	c, _ := newFakeCluster(t)
	cfg := failoverConfig(c)
	cfg.BrokerPIDs = map[int32]int{0: 100, 1: 101, 2: 102}
	cfg.FailoverTimeout = time.Second
	cfg.KillAgent = func(int32, int) error {
		c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Partitions: []int32{0},
			Err: kerr.NotLeaderForPartition, Count: -1})
		return nil
	}
	_, err := Run(context.Background(), cfg, nil)
	if !errors.Is(err, ErrNoFailover) || !strings.Contains(err.Error(), "partitions [0]") {
		t.Fatalf("%v, want ErrNoFailover naming partition 0", err)
	}
}

func TestFailoverKillProblems(t *testing.T) {
	c, _ := newFakeCluster(t)
	t.Run("leader not listed", func(t *testing.T) {
		cfg := failoverConfig(c)
		cfg.BrokerPIDs = map[int32]int{7: 100}
		cfg.KillAgent = func(int32, int) error { t.Error("killed an agent not listed"); return nil }
		if _, err := Run(context.Background(), cfg, nil); !errors.Is(err, ErrUnknownAgent) {
			t.Fatalf("%v, want ErrUnknownAgent", err)
		}
	})
	t.Run("kill fails", func(t *testing.T) {
		cfg := failoverConfig(c)
		cfg.BrokerPIDs = map[int32]int{0: 100, 1: 101, 2: 102}
		errKill := errors.New("permission denied")
		cfg.KillAgent = func(int32, int) error { return errKill }
		if _, err := Run(context.Background(), cfg, nil); !errors.Is(err, errKill) {
			t.Fatalf("%v, want the kill's error", err)
		}
	})
}

func TestKillProcess(t *testing.T) {
	pids := startAgents(t, 1)
	if gone, err := processGone(pids[1]); err != nil || gone {
		t.Fatalf("running process: gone=%v, %v", gone, err)
	}
	if err := killProcess(1, pids[1]); err != nil {
		t.Fatal(err)
	}
	// A zombie until the test's cleanup reaps it: it counts as gone.
	if gone, err := processGone(pids[1]); err != nil || !gone {
		t.Fatalf("killed process: gone=%v, %v", gone, err)
	}
}

// FuzzParseBrokerPIDs: any input is either rejected with ErrInvalidConfig
// or yields valid pairs that survive a round trip through the flag syntax.
func FuzzParseBrokerPIDs(f *testing.F) {
	for _, seed := range []string{"1=4242", "1=100,2=200,3=300", " 0 = 7 ,, 12=8 ", "1=5,2=5", "=", "1=-1", "9999999999=1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseBrokerPIDs(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("unmarked error %v", err)
			}
			return
		}
		if err := checkBrokerPIDs(m); err != nil {
			t.Fatalf("accepted %q as %v: %v", s, m, err)
		}
		var items []string
		for id, pid := range m {
			items = append(items, fmt.Sprintf("%d=%d", id, pid))
		}
		back, err := ParseBrokerPIDs(strings.Join(items, ","))
		if err != nil || len(back) != len(m) {
			t.Fatalf("%v does not round-trip: %v, %v", m, back, err)
		}
		for id, pid := range m {
			if back[id] != pid {
				t.Fatalf("%v does not round-trip: %v", m, back)
			}
		}
	})
}
