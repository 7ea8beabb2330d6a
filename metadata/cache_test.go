package metadata_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/memstore"
)

// scriptedStore is a memstore whose watches the test drives by hand, and
// whose Snapshot can be made to fail.
type scriptedStore struct {
	*memstore.Store
	watches chan *scriptedWatch

	mu        sync.Mutex
	snapErrs  []error // returned by the next Snapshot calls, in order; guarded by mu
	snapCalls int     // guarded by mu
}

// scriptedWatch forwards what the test sends on ch to the cache, and
// ends, like a real watch, when its context ends or the test closes ch.
type scriptedWatch struct {
	ctx  context.Context
	from int64
	ch   chan metadata.Event
}

func (w *scriptedWatch) forward(out chan<- metadata.Event) {
	defer close(out)
	for {
		select {
		case ev, ok := <-w.ch:
			if !ok {
				return
			}
			select {
			case out <- ev:
			case <-w.ctx.Done():
				return
			}
		case <-w.ctx.Done():
			return
		}
	}
}

func newScriptedStore() *scriptedStore {
	return &scriptedStore{Store: memstore.New(), watches: make(chan *scriptedWatch, 10)}
}

func (s *scriptedStore) Watch(ctx context.Context, fromRev int64) <-chan metadata.Event {
	w := &scriptedWatch{ctx: ctx, from: fromRev, ch: make(chan metadata.Event)}
	out := make(chan metadata.Event)
	go w.forward(out)
	s.watches <- w
	return out
}

func (s *scriptedStore) Snapshot(ctx context.Context) (metadata.Snapshot, error) {
	s.mu.Lock()
	s.snapCalls++
	var err error
	if len(s.snapErrs) > 0 {
		err, s.snapErrs = s.snapErrs[0], s.snapErrs[1:]
	}
	s.mu.Unlock()
	if err != nil {
		return metadata.Snapshot{}, err
	}
	return s.Store.Snapshot(ctx)
}

func (s *scriptedStore) nextWatch(t *testing.T) *scriptedWatch {
	t.Helper()
	select {
	case w := <-s.watches:
		return w
	case <-time.After(10 * time.Second):
		t.Fatal("cache did not start a watch")
		return nil
	}
}

func (w *scriptedWatch) send(t *testing.T, ev metadata.Event) {
	t.Helper()
	select {
	case w.ch <- ev:
	case <-w.ctx.Done():
		t.Fatalf("watch ended before event %v at %d was taken", ev.Kind, ev.Revision)
	case <-time.After(10 * time.Second):
		t.Fatal("cache does not read its watch")
	}
}

func createTopic(t *testing.T, s metadata.Store, name string) (metadata.Topic, int64) {
	t.Helper()
	tp := metadata.Topic{Name: name, ID: metadata.NewTopicID(), Replicas: [][]int32{{0}}}
	rev, err := s.CreateTopic(t.Context(), tp, []metadata.PartitionState{{Leader: 0, ISR: []int32{0}}})
	if err != nil {
		t.Fatal(err)
	}
	tp.Revision = rev
	return tp, rev
}

func newTestCache(t *testing.T, s metadata.Store) *metadata.Cache {
	t.Helper()
	c, err := metadata.NewCache(t.Context(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func waitRev(t *testing.T, c *metadata.Cache, rev int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.WaitForRevision(ctx, rev); err != nil {
		t.Fatalf("WaitForRevision(%d): %v (cache at %d)", rev, err, c.Revision())
	}
}

// TestCacheReload: on EventReload the cache reloads everything and watches
// again from the snapshot's revision.
func TestCacheReload(t *testing.T) {
	s := newScriptedStore()
	defer s.Close()
	createTopic(t, s, "a")
	c := newTestCache(t, s)
	w := s.nextWatch(t)
	if w.from != c.Revision() {
		t.Errorf("first watch from %d, want the snapshot's %d", w.from, c.Revision())
	}
	// "b" is written but its events never come: the watch fell behind.
	_, rev := createTopic(t, s, "b")
	w.send(t, metadata.Event{Kind: metadata.EventReload, Revision: rev})
	waitRev(t, c, rev)
	if _, ok := c.Topic("b"); !ok {
		t.Error("reload missed topic b")
	}
	w2 := s.nextWatch(t)
	if w2.from != rev {
		t.Errorf("watch after reload from %d, want %d", w2.from, rev)
	}
	if w.ctx.Err() == nil {
		t.Error("the old watch was not cancelled")
	}
}

// TestCacheReloadRetries: when the watch ends unexpectedly the cache
// reloads, retrying a failing Snapshot with backoff.
func TestCacheReloadRetries(t *testing.T) {
	s := newScriptedStore()
	defer s.Close()
	c := newTestCache(t, s)
	w := s.nextWatch(t)
	_, rev := createTopic(t, s, "late")
	s.mu.Lock()
	s.snapErrs = []error{metadata.ErrUnavailable, metadata.ErrUnavailable}
	s.mu.Unlock()
	close(w.ch)
	waitRev(t, c, rev)
	if _, ok := c.Topic("late"); !ok {
		t.Error("reload after failures missed the topic")
	}
	s.mu.Lock()
	calls := s.snapCalls
	s.mu.Unlock()
	if calls != 4 { // NewCache, two failures, success
		t.Errorf("%d Snapshot calls, want 4", calls)
	}
	s.nextWatch(t)
}

// TestCacheGroups: events of one revision are published together, stale
// events are ignored.
func TestCacheGroups(t *testing.T) {
	s := newScriptedStore()
	defer s.Close()
	c := newTestCache(t, s)
	w := s.nextWatch(t)
	base := c.Revision()
	changed := c.Changed()
	id := metadata.NewTopicID()
	tp := metadata.Topic{Name: "g", ID: id, Replicas: [][]int32{{0}, {1}}, Revision: base + 1}
	w.send(t, metadata.Event{Kind: metadata.EventTopic, Name: "g", Topic: tp, Revision: base + 1, More: true})
	w.send(t, metadata.Event{Kind: metadata.EventPartition, TopicID: id, Partition: 0, Revision: base + 1, More: true,
		State: metadata.PartitionState{Leader: 0, Revision: base + 1}})
	// The write is incomplete: nothing is published yet.
	select {
	case <-changed:
		t.Fatal("cache published part of a write")
	default:
	}
	if _, ok := c.Topic("g"); ok {
		t.Fatal("cache shows a topic before its write is complete")
	}
	w.send(t, metadata.Event{Kind: metadata.EventPartition, TopicID: id, Partition: 1, Revision: base + 1,
		State: metadata.PartitionState{Leader: 1, Revision: base + 1}})
	waitRev(t, c, base+1)
	if st, ok := c.Partition(id, 1); !ok || st.Leader != 1 {
		t.Errorf("partition 1 = %+v, %v", st, ok)
	}
	// A replayed event at or below the cache's revision changes nothing.
	w.send(t, metadata.Event{Kind: metadata.EventTopic, Name: "g", Deleted: true, Revision: base + 1})
	w.send(t, metadata.Event{Kind: metadata.EventProgress, Revision: base + 2})
	waitRev(t, c, base+2)
	if _, ok := c.Topic("g"); !ok {
		t.Error("a stale delete removed the topic")
	}
}

// TestCacheProgress: writes that only advance the revision (offset
// commits, claims) reach WaitForRevision without closing Changed, so the
// agent does not reconcile its partitions on every offset commit; a real
// change still closes it.
func TestCacheProgress(t *testing.T) {
	s := newScriptedStore()
	defer s.Close()
	c := newTestCache(t, s)
	w := s.nextWatch(t)
	base := c.Revision()
	changed := c.Changed()
	w.send(t, metadata.Event{Kind: metadata.EventProgress, Revision: base + 1})
	waitRev(t, c, base+1)
	select {
	case <-changed:
		t.Fatal("Changed closed by a revision-only write")
	default:
	}
	w.send(t, metadata.Event{Kind: metadata.EventAgent, Agent: metadata.Agent{ID: 4, Host: "h", Port: 1}, Revision: base + 2})
	waitRev(t, c, base+2)
	select {
	case <-changed:
	default:
		t.Fatal("Changed not closed by an agent change")
	}
}

// TestCacheStoreClosed: a cache whose store closes stops following it, and
// waits for revisions it will never reach fail with ErrClosed.
func TestCacheStoreClosed(t *testing.T) {
	s := memstore.New()
	c := newTestCache(t, s)
	s.Close()
	err := c.WaitForRevision(t.Context(), c.Revision()+1)
	if !errors.Is(err, metadata.ErrClosed) {
		t.Errorf("WaitForRevision after the store closed = %v, want ErrClosed", err)
	}
}

// BenchmarkCacheTopic measures the read on the Produce and Fetch path.
func BenchmarkCacheTopic(b *testing.B) {
	s := memstore.New()
	defer s.Close()
	for _, name := range []string{"a", "b", "c", "d"} {
		tp := metadata.Topic{Name: name, ID: metadata.NewTopicID(), Replicas: [][]int32{{0}}}
		if _, err := s.CreateTopic(b.Context(), tp, []metadata.PartitionState{{Leader: 0}}); err != nil {
			b.Fatal(err)
		}
	}
	c, err := metadata.NewCache(b.Context(), s, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := c.Topic("c"); !ok {
				b.Fatal("missing topic")
			}
		}
	})
}
