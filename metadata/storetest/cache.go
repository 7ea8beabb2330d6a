package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/strata-io/strata/metadata"
)

func newCache(t *testing.T, ctx context.Context, s metadata.Store) *metadata.Cache {
	t.Helper()
	c, err := metadata.NewCache(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func waitRev(t *testing.T, ctx context.Context, c *metadata.Cache, rev int64) {
	t.Helper()
	if err := c.WaitForRevision(ctx, rev); err != nil {
		t.Fatalf("WaitForRevision(%d): %v (cache at %d)", rev, err, c.Revision())
	}
}

func testCache(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	pre, preStates, _ := mustCreate(t, ctx, s, "pre", 2)
	c := newCache(t, ctx, s)
	if got, ok := c.Topic("pre"); !ok {
		t.Error("cache misses a topic created before it")
	} else {
		checkTopic(t, got, pre)
	}
	if st, ok := c.Partition(pre.ID, 1); !ok {
		t.Error("cache misses a partition created before it")
	} else {
		checkState(t, "cached partition", st, preStates[1])
	}

	changed := c.Changed()
	tp, states, rev := mustCreate(t, ctx, s, "t", 3)
	waitRev(t, ctx, c, rev)
	select {
	case <-changed:
	default:
		t.Error("Changed not closed after a change")
	}
	if got, ok := c.Topic("t"); !ok {
		t.Error("cache misses a new topic after WaitForRevision")
	} else {
		checkTopic(t, got, tp)
	}
	if got, ok := c.TopicByID(tp.ID); !ok || got.Name != "t" {
		t.Errorf("TopicByID = %v, %v", got.Name, ok)
	}
	for p := range states {
		st, ok := c.Partition(tp.ID, int32(p))
		if !ok {
			t.Fatalf("cache misses partition %d", p)
		}
		checkState(t, "cached partition", st, states[p])
	}
	if _, ok := c.Partition(tp.ID, 3); ok {
		t.Error("cache has a partition past the last")
	}
	if names := topicNames(c.Topics()); !reflect.DeepEqual(names, []string{"pre", "t"}) {
		t.Errorf("Topics = %v", names)
	}

	next := states[2].Clone()
	next.Leader, next.LeaderEpoch = 2, 1
	rev, err := s.CompareAndSwapPartition(ctx, tp.ID, 2, next)
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, ctx, c, rev)
	next.Revision = rev
	if st, _ := c.Partition(tp.ID, 2); !reflect.DeepEqual(st, next) {
		t.Errorf("cached partition after CAS = %+v, want %+v", st, next)
	}

	upd, _ := c.Topic("t")
	upd = upd.Clone()
	upd.Replicas = append(upd.Replicas, []int32{0})
	rev, err = s.UpdateTopic(ctx, upd, []metadata.PartitionState{{Leader: 0, ISR: []int32{0}}})
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, ctx, c, rev)
	if got, _ := c.Topic("t"); got.Partitions() != 4 || got.Revision != rev {
		t.Errorf("cached topic after update has %d partitions at revision %d", got.Partitions(), got.Revision)
	}
	if st, ok := c.Partition(tp.ID, 3); !ok || st.Revision != rev {
		t.Errorf("cached added partition = %+v, %v", st, ok)
	}
	if st, _ := c.Partition(tp.ID, 2); !reflect.DeepEqual(st, next) {
		t.Errorf("update changed cached partition 2: %+v", st)
	}

	rev, err = s.DeleteTopic(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, ctx, c, rev)
	if _, ok := c.Topic("t"); ok {
		t.Error("cache has a deleted topic")
	}
	if _, ok := c.TopicByID(tp.ID); ok {
		t.Error("cache has a deleted topic by id")
	}
	if _, ok := c.Partition(tp.ID, 0); ok {
		t.Error("cache has a deleted topic's partition")
	}
}

func testCacheAgents(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	c := newCache(t, ctx, s)
	agent := metadata.Agent{ID: 4, Host: "h4", Port: 9092}
	reg, err := s.RegisterAgent(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	waitStoreRev(t, ctx, s, c)
	if got, ok := c.Agent(4); !ok || got != agent || !reflect.DeepEqual(c.Agents(), []metadata.Agent{agent}) {
		t.Errorf("cached agents = %v, Agent(4) = %v, %v", c.Agents(), got, ok)
	}
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	waitStoreRev(t, ctx, s, c)
	if as := c.Agents(); len(as) != 0 {
		t.Errorf("cached agents after deregistration = %v", as)
	}
	if _, ok := c.Agent(4); ok {
		t.Error("cache has a deregistered agent")
	}
	// Writes no event kind describes still advance the cache's revision.
	if _, err := s.AllocateProducerIDs(ctx, 5); err != nil {
		t.Fatal(err)
	}
	waitStoreRev(t, ctx, s, c)
}

// waitStoreRev waits until the cache reaches the store's current revision.
func waitStoreRev(t *testing.T, ctx context.Context, s metadata.Store, c *metadata.Cache) {
	t.Helper()
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, ctx, c, rev)
}

func topicNames(ts []metadata.Topic) []string {
	names := make([]string, len(ts))
	for i, tp := range ts {
		names[i] = tp.Name
	}
	return names
}

// testCacheAtomic: a reader never sees a topic without all of its
// partitions, because the cache applies each write's events together.
func testCacheAtomic(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	c := newCache(t, ctx, s)
	done := make(chan struct{})
	var wg sync.WaitGroup
	var readErr error
	wg.Go(func() {
		for {
			for _, tp := range c.Topics() {
				for p := range tp.Partitions() {
					if _, ok := c.Partition(tp.ID, int32(p)); !ok {
						readErr = fmt.Errorf("topic %q visible without partition %d", tp.Name, p)
						return
					}
				}
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})
	var last int64
	for i := range 20 {
		_, _, rev := mustCreate(t, ctx, s, fmt.Sprintf("t%02d", i), 8)
		last = rev
	}
	waitRev(t, ctx, c, last)
	close(done)
	wg.Wait()
	if readErr != nil {
		t.Error(readErr)
	}
	if n := len(c.Topics()); n != 20 {
		t.Errorf("cache has %d topics, want 20", n)
	}
}

func testCacheClose(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	c := newCache(t, ctx, s)
	_, _, rev := mustCreate(t, ctx, s, "x", 1)
	waitRev(t, ctx, c, rev)
	c.Close()
	c.Close() // idempotent
	err := c.WaitForRevision(ctx, rev+1000)
	if !errors.Is(err, metadata.ErrClosed) {
		t.Errorf("WaitForRevision after Close = %v, want ErrClosed", err)
	}
	if _, ok := c.Topic("x"); !ok {
		t.Error("closed cache forgot its last view")
	}
	// A cache outlives nothing: closing the store under a cache stops it
	// following without hanging Close.
	c2 := newCache(t, ctx, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c2.Close()
}
