package storetest

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/strata-io/strata/metadata"
)

func testCreateTopic(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	want, states, rev := mustCreate(t, ctx, s, "orders", 3)
	if rev <= 0 {
		t.Errorf("CreateTopic revision = %d", rev)
	}
	got, err := s.Topic(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	checkTopic(t, got, want)
	for p := range states {
		st, err := s.Partition(ctx, want.ID, int32(p))
		if err != nil {
			t.Fatalf("Partition(%d): %v", p, err)
		}
		checkState(t, "partition state", st, states[p])
	}
	_, err = s.Partition(ctx, want.ID, 3)
	checkErr(t, "Partition past the last", err, metadata.ErrUnknownPartition)

	dup, dupStates := newTopic("orders", 1)
	_, err = s.CreateTopic(ctx, dup, dupStates)
	checkErr(t, "CreateTopic of a taken name", err, metadata.ErrTopicExists)
	got, err = s.Topic(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	checkTopic(t, got, want) // unchanged

	_, err = s.Topic(ctx, "nope")
	checkErr(t, "Topic of unknown name", err, metadata.ErrUnknownTopic)
	_, err = s.Partition(ctx, metadata.NewTopicID(), 0)
	checkErr(t, "Partition of unknown topic", err, metadata.ErrUnknownTopic)

	// Values handed in are copied: changing them later changes nothing.
	tp, st := newTopic("copied", 1)
	if _, err := s.CreateTopic(ctx, tp, st); err != nil {
		t.Fatal(err)
	}
	tp.Replicas[0][0] = 42
	tp.Configs["x"] = "y"
	got, err = s.Topic(ctx, "copied")
	if err != nil {
		t.Fatal(err)
	}
	if got.Replicas[0][0] == 42 || got.Configs["x"] == "y" {
		t.Error("store aliases the caller's topic")
	}
}

func testCreateTopicInvalid(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	valid, validStates := newTopic("ok", 2)
	cases := []struct {
		name   string
		change func(*metadata.Topic, *[]metadata.PartitionState)
	}{
		{"empty name", func(tp *metadata.Topic, _ *[]metadata.PartitionState) { tp.Name = "" }},
		{"slash", func(tp *metadata.Topic, _ *[]metadata.PartitionState) { tp.Name = "a/b" }},
		{"dot", func(tp *metadata.Topic, _ *[]metadata.PartitionState) { tp.Name = "." }},
		{"too long", func(tp *metadata.Topic, _ *[]metadata.PartitionState) {
			tp.Name = string(make([]byte, metadata.MaxTopicNameLen+1))
		}},
		{"zero id", func(tp *metadata.Topic, _ *[]metadata.PartitionState) { tp.ID = metadata.TopicID{} }},
		{"no partitions", func(tp *metadata.Topic, st *[]metadata.PartitionState) { tp.Replicas, *st = nil, nil }},
		{"no replicas", func(tp *metadata.Topic, _ *[]metadata.PartitionState) { tp.Replicas[1] = nil }},
		{"duplicate replica", func(tp *metadata.Topic, _ *[]metadata.PartitionState) { tp.Replicas[1] = []int32{1, 1} }},
		{"missing state", func(_ *metadata.Topic, st *[]metadata.PartitionState) { *st = (*st)[:1] }},
		{"bad leader", func(_ *metadata.Topic, st *[]metadata.PartitionState) { (*st)[0].Leader = -2 }},
		{"bad epoch", func(_ *metadata.Topic, st *[]metadata.PartitionState) { (*st)[0].LeaderEpoch = -1 }},
	}
	for _, c := range cases {
		tp := valid.Clone()
		st := make([]metadata.PartitionState, len(validStates))
		for i := range st {
			st[i] = validStates[i].Clone()
		}
		c.change(&tp, &st)
		_, err := s.CreateTopic(ctx, tp, st)
		checkErr(t, c.name, err, metadata.ErrInvalid)
	}
	if ts, err := s.ListTopics(ctx); err != nil || len(ts) != 0 {
		t.Errorf("after invalid creates, ListTopics = %v, %v; want none", ts, err)
	}
}

func testDeleteTopic(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	old, _, rev := mustCreate(t, ctx, s, "doomed", 2)
	delRev, err := s.DeleteTopic(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	if delRev <= rev {
		t.Errorf("DeleteTopic revision %d, not after %d", delRev, rev)
	}
	_, err = s.Topic(ctx, "doomed")
	checkErr(t, "Topic after delete", err, metadata.ErrUnknownTopic)
	_, err = s.Partition(ctx, old.ID, 0)
	checkErr(t, "Partition after delete", err, metadata.ErrUnknownTopic)
	_, err = s.DeleteTopic(ctx, "doomed")
	checkErr(t, "second DeleteTopic", err, metadata.ErrUnknownTopic)
	_, err = s.DeleteTopic(ctx, "never")
	checkErr(t, "DeleteTopic of unknown topic", err, metadata.ErrUnknownTopic)

	// The name is free again, under a new id.
	reborn, states, _ := mustCreate(t, ctx, s, "doomed", 1)
	got, err := s.Topic(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	checkTopic(t, got, reborn)
	st, err := s.Partition(ctx, reborn.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkState(t, "new partition 0", st, states[0])
	_, err = s.Partition(ctx, old.ID, 1)
	checkErr(t, "old topic's partition", err, metadata.ErrUnknownTopic)
}

func testTopicIDUnique(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	a, _, _ := mustCreate(t, ctx, s, "a", 1)
	b, bStates := newTopic("b", 1)
	b.ID = a.ID
	_, err := s.CreateTopic(ctx, b, bStates)
	checkErr(t, "CreateTopic with a taken id", err, metadata.ErrTopicExists)
	_, err = s.Topic(ctx, "b")
	checkErr(t, "Topic after failed create", err, metadata.ErrUnknownTopic)
	if _, err := s.DeleteTopic(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTopic(ctx, b, bStates); err != nil {
		t.Errorf("CreateTopic with the id of a deleted topic: %v", err)
	}
}

func testListTopics(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	if ts, err := s.ListTopics(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("ListTopics on empty store = %v, %v", ts, err)
	}
	var want []metadata.Topic
	for _, name := range []string{"m", "b", "z.1", "a-b", "a_b", "A"} {
		tp, _, _ := mustCreate(t, ctx, s, name, 1)
		want = append(want, tp)
	}
	slices.SortFunc(want, func(a, b metadata.Topic) int { return strings.Compare(a.Name, b.Name) })
	got, err := s.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("ListTopics returned %d topics, want %d", len(got), len(want))
	}
	for i := range got {
		checkTopic(t, got[i], want[i])
	}
}

func testUpdateTopic(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	orig, _, _ := mustCreate(t, ctx, s, "grow", 2)
	cur, err := s.Topic(ctx, "grow")
	if err != nil {
		t.Fatal(err)
	}
	upd := cur.Clone()
	upd.Configs = map[string]string{"cleanup.policy": "compact"}
	upd.Replicas = append(upd.Replicas, []int32{2, 0})
	upd.Replicas[0] = []int32{1, 2}         // reassign an existing partition
	upd.CreatedAt = upd.CreatedAt.Add(99e9) // ignored: creation time is kept
	added := metadata.PartitionState{Leader: 2, ISR: []int32{2, 0}}
	rev, err := s.UpdateTopic(ctx, upd, []metadata.PartitionState{added})
	if err != nil {
		t.Fatal(err)
	}
	if rev <= cur.Revision {
		t.Errorf("UpdateTopic revision %d, not after %d", rev, cur.Revision)
	}
	got, err := s.Topic(ctx, "grow")
	if err != nil {
		t.Fatal(err)
	}
	want := upd.Clone()
	want.CreatedAt, want.Revision = orig.CreatedAt, rev
	checkTopic(t, got, want)
	st, err := s.Partition(ctx, orig.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	added.Revision = rev
	checkState(t, "added partition", st, added)

	// cur is stale now.
	_, err = s.UpdateTopic(ctx, cur, nil)
	checkErr(t, "UpdateTopic at a stale revision", err, metadata.ErrConflict)
	bad := got.Clone()
	bad.Replicas = bad.Replicas[:1]
	_, err = s.UpdateTopic(ctx, bad, nil)
	checkErr(t, "UpdateTopic removing partitions", err, metadata.ErrInvalid)
	bad = got.Clone()
	bad.Replicas = append(bad.Replicas, []int32{0})
	_, err = s.UpdateTopic(ctx, bad, nil)
	checkErr(t, "UpdateTopic without states for added partitions", err, metadata.ErrInvalid)
	bad = got.Clone()
	bad.ID = metadata.NewTopicID()
	_, err = s.UpdateTopic(ctx, bad, nil)
	checkErr(t, "UpdateTopic changing the id", err, metadata.ErrInvalid)
	missing, _ := newTopic("missing", 1)
	_, err = s.UpdateTopic(ctx, missing, nil)
	checkErr(t, "UpdateTopic of unknown topic", err, metadata.ErrUnknownTopic)
	if after, _ := s.Topic(ctx, "grow"); after.Revision != rev {
		t.Errorf("failed updates changed the topic: revision %d, want %d", after.Revision, rev)
	}
}

func testPartitionCAS(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	tp, _, _ := mustCreate(t, ctx, s, "p", 2)
	st, err := s.Partition(ctx, tp.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	next := st.Clone()
	next.Leader, next.LeaderEpoch, next.ISR = 2, st.LeaderEpoch+1, []int32{2}
	rev, err := s.CompareAndSwapPartition(ctx, tp.ID, 1, next)
	if err != nil {
		t.Fatal(err)
	}
	if rev <= st.Revision {
		t.Errorf("CAS revision %d, not after %d", rev, st.Revision)
	}
	got, err := s.Partition(ctx, tp.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	next.Revision = rev
	checkState(t, "partition after CAS", got, next)

	stale := st.Clone()
	stale.Leader = 0
	_, err = s.CompareAndSwapPartition(ctx, tp.ID, 1, stale)
	checkErr(t, "CAS at a stale revision", err, metadata.ErrConflict)
	stale.Revision = 0
	_, err = s.CompareAndSwapPartition(ctx, tp.ID, 1, stale)
	checkErr(t, "CAS at revision 0", err, metadata.ErrConflict)
	_, err = s.CompareAndSwapPartition(ctx, tp.ID, 2, metadata.PartitionState{Leader: -1})
	checkErr(t, "CAS of a partition the topic lacks", err, metadata.ErrUnknownPartition)
	_, err = s.CompareAndSwapPartition(ctx, metadata.NewTopicID(), 0, metadata.PartitionState{Leader: -1})
	checkErr(t, "CAS of an unknown topic", err, metadata.ErrUnknownTopic)
	_, err = s.CompareAndSwapPartition(ctx, tp.ID, 1, metadata.PartitionState{Leader: -5, Revision: rev})
	checkErr(t, "CAS of an invalid state", err, metadata.ErrInvalid)
	if got, _ := s.Partition(ctx, tp.ID, 1); got.Revision != rev {
		t.Errorf("failed CAS changed the partition: revision %d, want %d", got.Revision, rev)
	}
	// The other partition is untouched.
	if other, _ := s.Partition(ctx, tp.ID, 0); other.Revision != tp.Revision {
		t.Errorf("partition 0 revision %d, want %d", other.Revision, tp.Revision)
	}
}

// testPartitionCASRace: of several writers that read the same state, one
// wins and the others get ErrConflict — the fencing leadership relies on.
func testPartitionCASRace(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	tp, _, _ := mustCreate(t, ctx, s, "race", 1)
	st, err := s.Partition(ctx, tp.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			next := st.Clone()
			next.Leader, next.LeaderEpoch = int32(i), st.LeaderEpoch+1
			_, errs[i] = s.CompareAndSwapPartition(ctx, tp.ID, 0, next)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		default:
			checkErr(t, "losing writer", err, metadata.ErrConflict)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	got, err := s.Partition(ctx, tp.ID, 0)
	if err != nil || got.Leader != int32(winner) {
		t.Errorf("partition leader = %d, %v; want winner %d", got.Leader, err, winner)
	}
}

func testProducerIDs(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	_, err := s.AllocateProducerIDs(ctx, 0)
	checkErr(t, "AllocateProducerIDs(0)", err, metadata.ErrInvalid)
	const workers, each = 6, 10
	type block struct{ first, n int64 }
	blocks := make([][]block, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				n := int64(1 + (w+i)%4*100)
				first, err := s.AllocateProducerIDs(ctx, n)
				if err != nil {
					t.Errorf("AllocateProducerIDs: %v", err)
					return
				}
				blocks[w] = append(blocks[w], block{first, n})
			}
		})
	}
	wg.Wait()
	all := slices.Concat(blocks...)
	if len(all) != workers*each {
		t.Fatalf("%d blocks, want %d", len(all), workers*each)
	}
	slices.SortFunc(all, func(a, b block) int { return int(a.first - b.first) })
	var next int64
	for _, b := range all {
		if b.first < next {
			t.Fatalf("block at %d overlaps the one before, which ends at %d (%v)", b.first, next, all)
		}
		next = b.first + b.n
	}
	first, err := s.AllocateProducerIDs(ctx, 1)
	if err != nil || first < next {
		t.Errorf("next allocation = %d, %v; want at least %d", first, err, next)
	}
}
