package txn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/memstore"
	"github.com/strata-io/strata/metadata/shards"
)

// fakeMarkers records the markers it is asked to write; while fail is set
// it fails them.
type fakeMarkers struct {
	mu      sync.Mutex
	fail    error    // guarded by mu
	written []Marker // guarded by mu
}

func (f *fakeMarkers) WriteMarkers(ctx context.Context, m Marker) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.written = append(f.written, m)
	return nil
}

func (f *fakeMarkers) setFail(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

func (f *fakeMarkers) markers() []Marker {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.written)
}

// fakeGroups records the group completions it is asked for.
type fakeGroups struct {
	mu    sync.Mutex
	calls []string // guarded by mu
}

func (f *fakeGroups) CompleteTxnOffsets(ctx context.Context, group string, pid int64, epoch int16, commit bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s %d/%d %v", group, pid, epoch, commit))
	return nil
}

func (f *fakeGroups) completions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// agents is a View of a fixed set of agents.
type agents []int32

func (a agents) Agents() []metadata.Agent {
	var out []metadata.Agent
	for _, id := range a {
		out = append(out, metadata.Agent{ID: id})
	}
	return out
}

// node is one agent's coordinator in a test.
type node struct {
	c       *Coordinator
	reg     metadata.Registration
	markers *fakeMarkers
	groups  *fakeGroups
}

// startNode registers agent id in s and starts its coordinator.
func startNode(t *testing.T, s *memstore.Store, id int32, view agents, mods ...func(*Config, *Deps)) *node {
	t.Helper()
	reg, err := s.RegisterAgent(t.Context(), metadata.Agent{ID: id, Host: "h", Port: 9092})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.ClaimInterval = 20 * time.Millisecond
	n := &node{reg: reg, markers: &fakeMarkers{}, groups: &fakeGroups{}}
	d := Deps{Store: s, Registration: reg, Self: id, View: view, Markers: n.markers, Groups: n.groups,
		ProducerID: func(ctx context.Context) (int64, error) { return s.AllocateProducerIDs(ctx, 1) }}
	for _, m := range mods {
		m(&cfg, &d)
	}
	if n.c, err = New(cfg, d); err != nil {
		t.Fatal(err)
	}
	n.c.Start()
	t.Cleanup(func() { n.c.Close(); _ = reg.Close() })
	return n
}

func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// initProducer finds the coordinator of id and initializes a producer.
func initProducer(t *testing.T, c *Coordinator, id string) ProducerIDAndEpoch {
	t.Helper()
	var pe ProducerIDAndEpoch
	eventually(t, "init "+id, func() error {
		if _, err := c.Find(t.Context(), id); err != nil {
			return err
		}
		var err error
		pe, err = c.InitProducerID(t.Context(), InitRequest{TransactionalID: id, Timeout: time.Minute, ProducerID: -1, ProducerEpoch: -1})
		return err
	})
	return pe
}

func describeState(c *Coordinator, id string, want string) func() error {
	return func() error {
		d, err := c.Describe(context.Background(), id)
		if err == nil && d.State != want {
			err = fmt.Errorf("state %s, want %s", d.State, want)
		}
		return err
	}
}

// TestCoordinatorCommit: a transaction over partitions and a group commits
// end to end; every step is stored.
func TestCoordinatorCommit(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	n := startNode(t, s, 1, agents{1})
	ctx := t.Context()
	pe := initProducer(t, n.c, "t")
	add := AddRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch,
		Partitions: []TopicPartition{tp("b", 0), tp("a", 3)}}
	if err := n.c.AddPartitions(ctx, add); err != nil {
		t.Fatal(err)
	}
	if err := n.c.AddOffsets(ctx, "t", pe.ProducerID, pe.ProducerEpoch, "g"); err != nil {
		t.Fatal(err)
	}
	verify := add
	verify.Partitions = []TopicPartition{tp("a", 3), tp("c", 0), tp(OffsetsTopic, shards.Of("g"))}
	errs, err := n.c.VerifyPartitions(ctx, verify)
	if err != nil || errs[0] != nil || !errors.Is(errs[1], ErrTransactionAbortable) || errs[2] != nil {
		t.Fatalf("verify = %v, %v", errs, err)
	}
	stored, err := s.LoadTransactions(ctx, shardKey(shards.Of("t")))
	if err != nil || len(stored) != 1 || stored[0].State != metadata.TxnOngoing || len(stored[0].Partitions) != 2 || stored[0].Groups[0] != "g" {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	if err := n.c.EndTxn(ctx, EndRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Commit: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "commit completes", describeState(n.c, "t", "CompleteCommit"))
	ms := n.markers.markers()
	if len(ms) != 1 || !ms[0].Commit || ms[0].ProducerID != pe.ProducerID || ms[0].CoordinatorEpoch != 1 ||
		!slices.Equal(ms[0].Partitions, []TopicPartition{tp("a", 3), tp("b", 0)}) {
		t.Fatalf("markers = %+v", ms)
	}
	if g := n.groups.completions(); !slices.Equal(g, []string{fmt.Sprintf("g %d/%d true", pe.ProducerID, pe.ProducerEpoch)}) {
		t.Fatalf("group completions = %v", g)
	}
	if err := n.c.EndTxn(ctx, EndRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Commit: true}); err != nil {
		t.Errorf("retried commit: %v", err)
	}
	l, err := n.c.List(ctx, ListFilter{})
	if err != nil || len(l) != 1 || l[0] != (Listing{"t", pe.ProducerID, "CompleteCommit"}) {
		t.Errorf("list = %+v, %v", l, err)
	}
}

// TestCoordinatorRequests: request validation and routing errors.
func TestCoordinatorRequests(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	n := startNode(t, s, 1, agents{1})
	ctx := t.Context()
	initProducer(t, n.c, "t")
	long := string(make([]byte, metadata.MaxTransactionalIDLen+1))
	for _, tc := range []struct {
		name string
		req  InitRequest
		want error
	}{
		{"empty id", InitRequest{TransactionalID: "", Timeout: time.Second, ProducerID: -1, ProducerEpoch: -1}, ErrInvalidRequest},
		{"long id", InitRequest{TransactionalID: long, Timeout: time.Second, ProducerID: -1, ProducerEpoch: -1}, ErrInvalidRequest},
		{"zero timeout", InitRequest{TransactionalID: "t", ProducerID: -1, ProducerEpoch: -1}, ErrInvalidTransactionTimeout},
		{"timeout above the maximum", InitRequest{TransactionalID: "t", Timeout: 16 * time.Minute, ProducerID: -1, ProducerEpoch: -1}, ErrInvalidTransactionTimeout},
		{"producer id without epoch", InitRequest{TransactionalID: "t", Timeout: time.Second, ProducerID: 3, ProducerEpoch: -1}, ErrInvalidRequest},
		{"epoch without producer id", InitRequest{TransactionalID: "t", Timeout: time.Second, ProducerID: -1, ProducerEpoch: 0}, ErrInvalidRequest},
	} {
		_, err := n.c.InitProducerID(ctx, tc.req)
		checkErr(t, tc.name, err, tc.want)
	}
	checkErr(t, "add without partitions", n.c.AddPartitions(ctx, AddRequest{TransactionalID: "t"}), ErrInvalidRequest)
	checkErr(t, "add an empty group", n.c.AddOffsets(ctx, "t", 0, 0, ""), ErrInvalidRequest)
	_, err := n.c.Describe(ctx, "never")
	checkErr(t, "describe an unknown id", err, ErrTransactionalIDNotFound)
}

// TestCoordinatorTwoAgents: two agents split the shards; requests for an
// id coordinated elsewhere get NOT_COORDINATOR; when the owner dies the
// other agent takes its shards over, resumes its prepared transactions
// with a higher coordinator epoch, and the dead agent is fenced.
func TestCoordinatorTwoAgents(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	view := agents{1, 2}
	n1 := startNode(t, s, 1, view)
	n2 := startNode(t, s, 2, view)
	eventually(t, "shards split between the agents", func() error {
		claims, err := s.ListCoordinators(t.Context(), metadata.CoordinatorTransaction)
		if err == nil && len(claims) != shards.Count {
			err = fmt.Errorf("%d claims", len(claims))
		}
		return err
	})
	// An id agent 1 coordinates.
	var id string
	for i := 0; ; i++ {
		id = fmt.Sprintf("txn-%d", i)
		if owner, err := n2.c.Find(t.Context(), id); err == nil && owner == 1 {
			break
		}
	}
	_, err := n2.c.InitProducerID(t.Context(), InitRequest{TransactionalID: id, Timeout: time.Minute, ProducerID: -1, ProducerEpoch: -1})
	checkErr(t, "init at the wrong agent", err, ErrNotCoordinator)
	pe := initProducer(t, n1.c, id)
	ctx := t.Context()
	if err := n1.c.AddPartitions(ctx, AddRequest{TransactionalID: id, ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Partitions: []TopicPartition{tp("a", 0)}}); err != nil {
		t.Fatal(err)
	}
	n1.markers.setFail(errors.New("partition leader unreachable"))
	if err := n1.c.EndTxn(ctx, EndRequest{TransactionalID: id, ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Commit: true}); err != nil {
		t.Fatal(err)
	}
	if err := describeState(n1.c, id, "PrepareCommit")(); err != nil {
		t.Fatal(err)
	}
	// Agent 1 dies: its registration, and with it its claims, end.
	if err := n1.reg.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "agent 2 completes the commit", func() error {
		if _, err := n2.c.Find(ctx, id); err != nil {
			return err
		}
		return describeState(n2.c, id, "CompleteCommit")()
	})
	ms := n2.markers.markers()
	if len(ms) != 1 || !ms[0].Commit || ms[0].CoordinatorEpoch < 2 || ms[0].ProducerEpoch != pe.ProducerEpoch {
		t.Fatalf("markers written by agent 2 = %+v", ms)
	}
	if len(n1.markers.markers()) != 0 {
		t.Errorf("agent 1 wrote markers: %+v", n1.markers.markers())
	}
	// Agent 1's coordinator is fenced: its shard is gone once it notices.
	eventually(t, "agent 1 drops the shard", func() error {
		if _, err := n1.c.Describe(ctx, id); !errors.Is(err, ErrNotCoordinator) {
			return fmt.Errorf("describe at agent 1: %v", err)
		}
		return nil
	})
}

// TestCoordinatorRestartResumes: a commit prepared before the coordinator
// stopped is completed by the next one.
func TestCoordinatorRestartResumes(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	n := startNode(t, s, 1, agents{1})
	ctx := t.Context()
	pe := initProducer(t, n.c, "t")
	if err := n.c.AddOffsets(ctx, "t", pe.ProducerID, pe.ProducerEpoch, "g"); err != nil {
		t.Fatal(err)
	}
	if err := n.c.AddPartitions(ctx, AddRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Partitions: []TopicPartition{tp("a", 0)}}); err != nil {
		t.Fatal(err)
	}
	n.markers.setFail(errors.New("down"))
	if err := n.c.EndTxn(ctx, EndRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch}); err != nil {
		t.Fatal(err)
	}
	n.c.Close()
	_ = n.reg.Close()
	if len(n.groups.completions()) != 0 {
		t.Fatalf("groups completed before the markers: %v", n.groups.completions())
	}
	n2 := startNode(t, s, 1, agents{1})
	eventually(t, "the abort completes after the restart", func() error {
		if _, err := n2.c.Find(ctx, "t"); err != nil {
			return err
		}
		return describeState(n2.c, "t", "CompleteAbort")()
	})
	if g := n2.groups.completions(); len(g) != 1 || g[0] != fmt.Sprintf("g %d/%d false", pe.ProducerID, pe.ProducerEpoch) {
		t.Errorf("group completions = %v", g)
	}
	if ms := n2.markers.markers(); len(ms) != 1 || ms[0].Commit || !slices.Equal(ms[0].Partitions, []TopicPartition{tp("a", 0)}) {
		t.Errorf("markers = %+v", ms)
	}
}

// TestCoordinatorOffsetsOnly: a transaction that only commits offsets
// needs no markers.
func TestCoordinatorOffsetsOnly(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	n := startNode(t, s, 1, agents{1})
	n.markers.setFail(errors.New("no partition may be written"))
	ctx := t.Context()
	pe := initProducer(t, n.c, "t")
	if err := n.c.AddOffsets(ctx, "t", pe.ProducerID, pe.ProducerEpoch, "g"); err != nil {
		t.Fatal(err)
	}
	if err := n.c.EndTxn(ctx, EndRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Commit: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the commit completes", describeState(n.c, "t", "CompleteCommit"))
	if g := n.groups.completions(); len(g) != 1 {
		t.Errorf("group completions = %v", g)
	}
}

// TestCoordinatorTimeout: the background check aborts a transaction
// running past its timeout, with the injected clock.
func TestCoordinatorTimeout(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	n := startNode(t, s, 1, agents{1}, func(c *Config, d *Deps) {
		c.AbortInterval = 10 * time.Millisecond
		d.Now = clock
	})
	ctx := t.Context()
	pe := initProducer(t, n.c, "t")
	if err := n.c.AddPartitions(ctx, AddRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Partitions: []TopicPartition{tp("a", 0)}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(time.Minute + time.Millisecond)
	mu.Unlock()
	eventually(t, "the timed-out transaction is aborted", describeState(n.c, "t", "CompleteAbort"))
	ms := n.markers.markers()
	if len(ms) != 1 || ms[0].Commit || ms[0].ProducerEpoch != pe.ProducerEpoch+1 {
		t.Fatalf("markers = %+v", ms)
	}
	err := n.c.EndTxn(ctx, EndRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Commit: true})
	checkErr(t, "commit of the timed-out producer", err, ErrProducerFenced)
}

func TestConfigValidate(t *testing.T) {
	good := NewConfig()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, mod := range map[string]func(*Config){
		"no max timeout":         func(c *Config) { c.MaxTimeout = 0 },
		"max timeout too long":   func(c *Config) { c.MaxTimeout = 1000 * time.Hour },
		"no abort interval":      func(c *Config) { c.AbortInterval = 0 },
		"no expiration":          func(c *Config) { c.IDExpiration = 0 },
		"no expiration interval": func(c *Config) { c.ExpireInterval = -1 },
		"no claim interval":      func(c *Config) { c.ClaimInterval = 0 },
	} {
		c := NewConfig()
		mod(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
