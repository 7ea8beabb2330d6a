package group

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/memstore"
	"github.com/strata-io/strata/metadata/shards"
)

// view is a View with fixed topics and agents the test can change.
type view struct {
	mu     sync.Mutex
	topics fakeTopics
	agents []metadata.Agent
}

func (v *view) Topic(name string) (metadata.Topic, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.topics.Topic(name)
}

func (v *view) Agents() []metadata.Agent {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]metadata.Agent(nil), v.agents...)
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

func coordConfig() Config {
	cfg := NewConfig()
	cfg.InitialRebalanceDelay = 0
	cfg.ClaimInterval = 20 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// startCoordinator registers agent id in s and starts its coordinator.
func startCoordinator(t *testing.T, s *memstore.Store, id int32, v *view) (*Coordinator, metadata.Registration) {
	t.Helper()
	reg, err := s.RegisterAgent(t.Context(), metadata.Agent{ID: id, Host: "h", Port: 9092})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(coordConfig(), s, reg, id, v)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(func() { c.Close(); _ = reg.Close() })
	return c, reg
}

// joinAndSync makes one dynamic consumer a Stable single-member group.
func joinAndSync(t *testing.T, c *Coordinator, group string) (string, int32) {
	t.Helper()
	ctx := t.Context()
	var r JoinResult
	eventually(t, "join "+group, func() error {
		r = c.Join(ctx, consumer(group, "t"))
		return r.Err
	})
	s := c.Sync(ctx, SyncRequest{Group: group, Generation: r.Generation, MemberID: r.MemberID, Assignments: map[string][]byte{r.MemberID: {9}}})
	if s.Err != nil || len(s.Assignment) != 1 {
		t.Fatalf("sync = %+v", s)
	}
	return r.MemberID, r.Generation
}

// TestCoordinatorRestart: a single agent claims every shard; a group and
// its offsets survive the coordinator's restart, and its member carries on
// in its generation.
func TestCoordinatorRestart(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	v := &view{topics: fakeTopics{}, agents: []metadata.Agent{{ID: 1}}}
	tp := v.topics.add("t", 4)
	c, reg := startCoordinator(t, s, 1, v)
	eventually(t, "all shards claimed", func() error {
		claims, err := s.ListCoordinators(t.Context(), metadata.CoordinatorGroup)
		if err == nil && len(claims) != shards.Count {
			err = errors.New("not yet")
		}
		return err
	})
	member, gen := joinAndSync(t, c, "g")
	off := metadata.CommittedOffset{Topic: "t", TopicID: tp.ID, Partition: 2, Offset: 77, LeaderEpoch: 1, Metadata: "meta"}
	if errs := c.Commit(t.Context(), CommitRequest{Group: "g", Generation: gen, MemberID: member, Offsets: []metadata.CommittedOffset{off}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if id, err := c.Find(t.Context(), "g"); err != nil || id != 1 {
		t.Fatalf("Find = %d, %v", id, err)
	}
	c.Close()
	_ = reg.Close()

	c2, _ := startCoordinator(t, s, 1, v)
	eventually(t, "heartbeat after restart", func() error {
		return c2.Heartbeat(t.Context(), HeartbeatRequest{Group: "g", Generation: gen, MemberID: member})
	})
	got, err := c2.Fetch(t.Context(), "g", []metadata.GroupPartition{{Topic: "t", Partition: 2}})
	if err != nil || got[0].Offset != 77 || got[0].LeaderEpoch != 1 || got[0].Metadata != "meta" {
		t.Fatalf("fetch after restart = %+v, %v", got, err)
	}
	d, err := c2.Describe(t.Context(), "g")
	if err != nil || d.State != "Stable" || len(d.Members) != 1 || d.Members[0].Assignment[0] != 9 {
		t.Fatalf("describe after restart = %+v, %v", d, err)
	}
	var l []Listing
	eventually(t, "list after every shard loaded", func() error {
		l, err = c2.List(t.Context())
		return err
	})
	if len(l) != 1 || l[0].Group != "g" {
		t.Fatalf("list = %+v", l)
	}
}

// groupIn returns a group id that maps to shard idx.
func groupIn(idx int32) string {
	for i := 0; ; i++ {
		g := "group-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
		if shards.Of(g) == idx {
			return g
		}
	}
}

// TestCoordinatorTwoAgents: two agents split the shards; each group has
// one coordinator; when an agent dies the other takes its shards over,
// with their offsets, and the dead agent's coordinator is fenced.
func TestCoordinatorTwoAgents(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	v := &view{topics: fakeTopics{}, agents: []metadata.Agent{{ID: 1}, {ID: 2}}}
	tp := v.topics.add("t", 1)
	c1, _ := startCoordinator(t, s, 1, v)
	c2, _ := startCoordinator(t, s, 2, v)
	eventually(t, "shards split between the agents", func() error {
		claims, err := s.ListCoordinators(t.Context(), metadata.CoordinatorGroup)
		if err != nil {
			return err
		}
		if len(claims) != shards.Count {
			return errors.New("not all claimed")
		}
		for _, cl := range claims {
			if want := int32(1 + cl.Shard.Index%2); cl.Agent != want {
				return errors.New("shard owned by the other agent")
			}
		}
		return nil
	})
	g := groupIn(1) // agent 2's
	if id, err := c1.Find(t.Context(), g); err != nil || id != 2 {
		t.Fatalf("agent 1 finds %d, %v; want 2", id, err)
	}
	checkErr(t, "join at the wrong agent", c1.Join(t.Context(), consumer(g, "t")).Err, ErrNotCoordinator)
	off := []metadata.CommittedOffset{{Topic: "t", TopicID: tp.ID, Offset: 5, LeaderEpoch: -1}}
	if errs := c2.Commit(t.Context(), CommitRequest{Group: g, Generation: -1, Offsets: off}); errs[0] != nil {
		t.Fatal(errs[0])
	}

	// Agent 2's registration is lost: its claims go with it.
	s.ExpireAgent(2)
	v.mu.Lock()
	v.agents = v.agents[:1]
	v.mu.Unlock()
	eventually(t, "agent 1 takes the shard over", func() error {
		id, err := c1.Find(t.Context(), g)
		if err == nil && id != 1 {
			err = errors.New("still owned by agent 2")
		}
		return err
	})
	eventually(t, "offsets at the new coordinator", func() error {
		got, err := c1.Fetch(t.Context(), g, []metadata.GroupPartition{{Topic: "t"}})
		if err == nil && got[0].Offset != 5 {
			err = errors.New("offset missing")
		}
		return err
	})
	// Agent 2's coordinator may still think it owns the shard; its writes
	// are fenced, and it stops serving the shard.
	errs := c2.Commit(t.Context(), CommitRequest{Group: g, Generation: -1, Offsets: off})
	if !errors.Is(errs[0], ErrNotCoordinator) {
		t.Fatalf("commit at the dead agent: %v", errs[0])
	}
	checkErr(t, "join at the dead agent", c2.Join(context.Background(), consumer(g, "t")).Err, ErrNotCoordinator)
}

// TestCoordinatorAdmin: leaving, deleting offsets and deleting a group
// through the coordinator; group ids the store cannot hold.
func TestCoordinatorAdmin(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	v := &view{topics: fakeTopics{}, agents: []metadata.Agent{{ID: 1}}}
	tp := v.topics.add("t", 2)
	c, _ := startCoordinator(t, s, 1, v)
	ctx := t.Context()
	member, gen := joinAndSync(t, c, "g")
	off := []metadata.CommittedOffset{{Topic: "t", TopicID: tp.ID, Offset: 3, LeaderEpoch: -1}, {Topic: "t", TopicID: tp.ID, Partition: 1, Offset: 4, LeaderEpoch: -1}}
	if errs := c.Commit(ctx, CommitRequest{Group: "g", Generation: gen, MemberID: member, Offsets: off}); errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	checkErr(t, "delete a group with members", c.DeleteGroup(ctx, "g"), ErrNonEmptyGroup)
	errs, err := c.Leave(ctx, "g", []LeaveMember{{MemberID: member}, {MemberID: "nobody"}})
	if err != nil || errs[0] != nil {
		t.Fatalf("leave = %v, %v", errs, err)
	}
	checkErr(t, "leave of a stranger", errs[1], ErrUnknownMemberID)
	if d, err := c.Describe(ctx, "g"); err != nil || d.State != "Empty" {
		t.Fatalf("describe after the leave = %+v, %v", d, err)
	}
	perrs, err := c.DeleteOffsets(ctx, "g", []metadata.GroupPartition{{Topic: "t"}})
	if err != nil || perrs[0] != nil {
		t.Fatalf("delete offsets = %v, %v", perrs, err)
	}
	if got, _ := c.Fetch(ctx, "g", nil); len(got) != 1 || got[0].Partition != 1 {
		t.Fatalf("offsets after OffsetDelete: %+v", got)
	}
	if err := c.DeleteGroup(ctx, "g"); err != nil {
		t.Fatalf("delete an empty group: %v", err)
	}
	if d, _ := c.Describe(ctx, "g"); d.State != "Dead" {
		t.Errorf("describe of a deleted group = %+v", d)
	}
	checkErr(t, "delete it again", c.DeleteGroup(ctx, "g"), ErrGroupIDNotFound)
	if stored, err := s.ListGroups(ctx); err != nil || len(stored) != 0 {
		t.Errorf("stored groups after the deletion: %q, %v", stored, err)
	}

	long := string(make([]byte, metadata.MaxGroupNameLen+1))
	checkErr(t, "join with an empty group id", c.Join(ctx, consumer("", "t")).Err, ErrInvalidGroupID)
	checkErr(t, "commit with a long group id", c.Commit(ctx, CommitRequest{Group: long, Generation: -1, Offsets: off})[0], ErrInvalidGroupID)
	checkErr(t, "delete the empty group id", c.DeleteGroup(ctx, ""), ErrGroupIDNotFound)
	if d, err := c.Describe(ctx, ""); err != nil || d.State != "Dead" {
		t.Errorf("describe of the empty group id = %+v, %v", d, err)
	}
	if got, err := c.Fetch(ctx, "", []metadata.GroupPartition{{Topic: "t"}}); err != nil || got[0].Offset != -1 {
		t.Errorf("fetch of the empty group id = %+v, %v", got, err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := NewConfig()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, mod := range map[string]func(*Config){
		"negative delay":         func(c *Config) { c.InitialRebalanceDelay = -1 },
		"min session above max":  func(c *Config) { c.MinSessionTimeout = time.Hour },
		"max session too long":   func(c *Config) { c.MaxSessionTimeout = 1000 * time.Hour },
		"no members allowed":     func(c *Config) { c.MaxSize = 0 },
		"no retention":           func(c *Config) { c.OffsetsRetention = 0 },
		"no check interval":      func(c *Config) { c.OffsetsRetentionCheckInterval = 0 },
		"negative metadata size": func(c *Config) { c.MaxMetadataBytes = -1 },
		"no claim interval":      func(c *Config) { c.ClaimInterval = 0 },
	} {
		c := NewConfig()
		mod(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
