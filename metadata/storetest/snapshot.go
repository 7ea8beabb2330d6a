package storetest

import (
	"reflect"
	"testing"

	"github.com/strata-io/strata/metadata"
)

func testSnapshot(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Topics) != 0 || len(snap.Partitions) != 0 || len(snap.Agents) != 0 {
		t.Errorf("snapshot of an empty store: %+v", snap)
	}
	b, bStates, _ := mustCreate(t, ctx, s, "b", 2)
	a, aStates, _ := mustCreate(t, ctx, s, "a", 1)
	next := bStates[1].Clone()
	next.Leader, next.LeaderEpoch = -1, 1
	rev, err := s.CompareAndSwapPartition(ctx, b.ID, 1, next)
	if err != nil {
		t.Fatal(err)
	}
	next.Revision = rev
	bStates[1] = next
	agent := metadata.Agent{ID: 3, Host: "h", Port: 9092}
	if _, err := s.RegisterAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	cur, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap, err = s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Revision != cur {
		t.Errorf("snapshot revision %d, want %d", snap.Revision, cur)
	}
	if len(snap.Topics) != 2 {
		t.Fatalf("snapshot has %d topics, want 2", len(snap.Topics))
	}
	checkTopic(t, snap.Topics[0], a)
	checkTopic(t, snap.Topics[1], b)
	for _, tc := range []struct {
		id     metadata.TopicID
		states []metadata.PartitionState
	}{{a.ID, aStates}, {b.ID, bStates}} {
		got := snap.Partitions[tc.id]
		if len(got) != len(tc.states) {
			t.Errorf("snapshot has %d states for topic %s, want %d", len(got), tc.id, len(tc.states))
			continue
		}
		for p := range got {
			checkState(t, "snapshot partition", got[p], tc.states[p])
		}
	}
	if !reflect.DeepEqual(snap.Agents, []metadata.Agent{agent}) {
		t.Errorf("snapshot agents = %v, want [%v]", snap.Agents, agent)
	}
}
