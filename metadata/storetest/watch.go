package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/strata-io/strata/metadata"
)

// collect receives events from ch until one has revision last and More
// unset, and returns them.
func collect(t *testing.T, ch <-chan metadata.Event, last int64) []metadata.Event {
	t.Helper()
	var evs []metadata.Event
	for {
		ev, ok := <-ch
		if !ok {
			t.Fatalf("watch channel closed after %d events, before revision %d", len(evs), last)
		}
		evs = append(evs, ev)
		if ev.Revision > last {
			t.Fatalf("event past revision %d: %s at %d", last, describe(ev), ev.Revision)
		}
		if ev.Revision == last && !ev.More {
			return evs
		}
	}
}

// wantEvent is what testWatch expects of one event.
type wantEvent struct {
	rev  int64
	desc string
}

func checkEvents(t *testing.T, got []metadata.Event, want []wantEvent) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		var gr, wr int64
		if i < len(got) {
			g, gr = describe(got[i]), got[i].Revision
		}
		if i < len(want) {
			w, wr = want[i].desc, want[i].rev
		}
		if g != w || gr != wr {
			t.Errorf("event %d = %q at %d, want %q at %d", i, g, gr, w, wr)
		}
	}
}

// watchScript makes the changes testWatch expects events for and returns
// the revision of each.
func watchScript(t *testing.T, ctx context.Context, s metadata.Store) (revs [8]int64, tp metadata.Topic, st metadata.PartitionState, agent metadata.Agent) {
	t.Helper()
	var err error
	check := func(rev int64, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	tp, _, revs[1] = mustCreate(t, ctx, s, "w", 2)
	if st, err = s.Partition(ctx, tp.ID, 1); err != nil {
		t.Fatal(err)
	}
	st.Leader, st.LeaderEpoch = 0, 1
	revs[2] = check(s.CompareAndSwapPartition(ctx, tp.ID, 1, st))
	agent = metadata.Agent{ID: 7, Host: "h7", Port: 9092}
	reg, err := s.RegisterAgent(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	revs[3] = check(s.Revision(ctx))
	upd := tp.Clone()
	upd.Replicas = append(upd.Replicas, []int32{1})
	revs[4] = check(s.UpdateTopic(ctx, upd, []metadata.PartitionState{{Leader: 1, ISR: []int32{1}}}))
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	revs[5] = check(s.Revision(ctx))
	revs[6] = check(s.DeleteTopic(ctx, "w"))
	check(s.AllocateProducerIDs(ctx, 10))
	revs[7] = check(s.Revision(ctx))
	return revs, tp, st, agent
}

func testWatch(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	rev0, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live := s.Watch(ctx, rev0)
	revs, tp, st, agent := watchScript(t, ctx, s)
	want := []wantEvent{
		{revs[1], "topic w deleted=false more=true"},
		{revs[1], "partition 0 deleted=false more=true"},
		{revs[1], "partition 1 deleted=false more=false"},
		{revs[2], "partition 1 deleted=false more=false"},
		{revs[3], "agent 7 deleted=false more=false"},
		{revs[4], "topic w deleted=false more=true"},
		{revs[4], "partition 2 deleted=false more=false"},
		{revs[5], "agent 7 deleted=true more=false"},
		{revs[6], "topic w deleted=true more=true"},
		{revs[6], "partition 0 deleted=true more=true"},
		{revs[6], "partition 1 deleted=true more=true"},
		{revs[6], "partition 2 deleted=true more=false"},
		{revs[7], "progress more=false"},
	}
	got := collect(t, live, revs[7])
	checkEvents(t, got, want)
	checkEventValues(t, got, tp, st, agent, revs[2])

	// A watch from the past replays the same history.
	replayCtx, cancel := context.WithCancel(ctx)
	replayCh := s.Watch(replayCtx, rev0)
	checkEvents(t, collect(t, replayCh, revs[7]), want)
	// Cancelling a watch closes its channel.
	cancel()
	for range replayCh {
	}
	// A watch from revs[3] starts after it.
	ch := s.Watch(ctx, revs[3])
	if ev := <-ch; ev.Revision != revs[4] {
		t.Errorf("watch from %d starts with %s at %d, want revision %d", revs[3], describe(ev), ev.Revision, revs[4])
	}
}

// checkEventValues checks the values carried by testWatch's events.
func checkEventValues(t *testing.T, got []metadata.Event, tp metadata.Topic, st metadata.PartitionState, agent metadata.Agent, casRev int64) {
	t.Helper()
	if len(got) < 5 {
		return
	}
	checkTopic(t, got[0].Topic, tp)
	if got[0].Name != tp.Name {
		t.Errorf("topic event Name = %q, want %q", got[0].Name, tp.Name)
	}
	for _, ev := range got[1:3] {
		if ev.TopicID != tp.ID {
			t.Errorf("partition event topic id %s, want %s", ev.TopicID, tp.ID)
		}
		if ev.State.Revision != ev.Revision {
			t.Errorf("partition event state revision %d, want %d", ev.State.Revision, ev.Revision)
		}
	}
	st.Revision = casRev
	checkState(t, "CAS event state", got[3].State, st)
	if got[4].Agent != agent {
		t.Errorf("agent event = %+v, want %+v", got[4].Agent, agent)
	}
}

// testWatchFromNow: fromRev 0 delivers what happens after the watch is
// established, and nothing before.
func testWatchFromNow(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	_, _, before := mustCreate(t, ctx, s, "before", 1)
	ch := s.Watch(ctx, 0)
	// The watch may be established asynchronously: write until one write
	// shows up.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.AllocateProducerIDs(ctx, 1); err != nil {
				t.Errorf("AllocateProducerIDs: %v", err)
				return
			}
		}
	})
	defer wg.Wait()
	defer close(stop)
	select {
	case ev := <-ch:
		if ev.Kind != metadata.EventProgress || ev.Revision <= before {
			t.Errorf("first event = %s at %d, want progress after %d", describe(ev), ev.Revision, before)
		}
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
}

func testWatchReload(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	c, ok := s.(Compactor)
	if !ok {
		t.Skipf("%T cannot compact on demand", s)
	}
	rev0, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, ctx, s, "a", 1)
	mustCreate(t, ctx, s, "b", 1)
	cur, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Compact(ctx, cur); err != nil {
		t.Fatal(err)
	}
	ch := s.Watch(ctx, rev0)
	ev := <-ch
	if ev.Kind != metadata.EventReload || ev.Revision < cur {
		t.Fatalf("first event of a compacted watch = %s at %d, want reload at %d or later", describe(ev), ev.Revision, cur)
	}
	// The stream goes on after the reload's revision.
	_, _, rev := mustCreate(t, ctx, s, "c", 1)
	evs := collect(t, ch, rev)
	if len(evs) != 2 || evs[0].Kind != metadata.EventTopic || evs[0].Name != "c" {
		t.Errorf("events after reload: %v", evs)
	}
}
