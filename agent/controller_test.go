package agent

import (
	"slices"
	"testing"

	"github.com/strata-io/strata/metadata"
)

func TestDesiredState(t *testing.T) {
	replicas := []int32{1, 2, 3}
	cases := []struct {
		name      string
		st        metadata.PartitionState
		live      []int32
		unclean   bool
		rebalance bool
		want      metadata.PartitionState
		changed   bool
	}{
		{"all live", metadata.PartitionState{Leader: 1, LeaderEpoch: 4, ISR: []int32{1, 2, 3}}, []int32{1, 2, 3}, false, true,
			metadata.PartitionState{Leader: 1, LeaderEpoch: 4, ISR: []int32{1, 2, 3}}, false},
		{"dead follower leaves the ISR", metadata.PartitionState{Leader: 1, LeaderEpoch: 4, ISR: []int32{1, 2, 3}}, []int32{1, 3}, false, false,
			metadata.PartitionState{Leader: 1, LeaderEpoch: 4, ISR: []int32{1, 3}}, true},
		{"dead leader: first live ISR replica in replica order", metadata.PartitionState{Leader: 1, LeaderEpoch: 4, ISR: []int32{3, 1, 2}}, []int32{2, 3}, false, false,
			metadata.PartitionState{Leader: 2, LeaderEpoch: 5, ISR: []int32{2, 3}}, true},
		{"dead leader, live replica out of sync: offline", metadata.PartitionState{Leader: 1, LeaderEpoch: 4, ISR: []int32{1}}, []int32{2, 3}, false, false,
			metadata.PartitionState{Leader: -1, LeaderEpoch: 5, ISR: []int32{1}}, true},
		{"offline stays offline", metadata.PartitionState{Leader: -1, LeaderEpoch: 5, ISR: []int32{1}}, []int32{2, 3}, false, false,
			metadata.PartitionState{Leader: -1, LeaderEpoch: 5, ISR: []int32{1}}, false},
		{"last ISR member returns", metadata.PartitionState{Leader: -1, LeaderEpoch: 5, ISR: []int32{1}}, []int32{1, 2, 3}, false, false,
			metadata.PartitionState{Leader: 1, LeaderEpoch: 6, ISR: []int32{1}}, true},
		{"unclean election", metadata.PartitionState{Leader: 1, LeaderEpoch: 4, ISR: []int32{1}}, []int32{3}, true, false,
			metadata.PartitionState{Leader: 3, LeaderEpoch: 5, ISR: []int32{3}}, true},
		{"preferred replica back in sync", metadata.PartitionState{Leader: 2, LeaderEpoch: 5, ISR: []int32{1, 2, 3}}, []int32{1, 2, 3}, false, true,
			metadata.PartitionState{Leader: 1, LeaderEpoch: 6, ISR: []int32{1, 2, 3}}, true},
		{"no rebalance pass: leave it", metadata.PartitionState{Leader: 2, LeaderEpoch: 5, ISR: []int32{1, 2, 3}}, []int32{1, 2, 3}, false, false,
			metadata.PartitionState{Leader: 2, LeaderEpoch: 5, ISR: []int32{1, 2, 3}}, false},
		{"preferred replica out of sync stays follower", metadata.PartitionState{Leader: 2, LeaderEpoch: 5, ISR: []int32{2, 3}}, []int32{1, 2, 3}, false, true,
			metadata.PartitionState{Leader: 2, LeaderEpoch: 5, ISR: []int32{2, 3}}, false},
	}
	for _, c := range cases {
		got, changed := desiredState(c.st, replicas, c.live, c.unclean, c.rebalance)
		if changed != c.changed || got.Leader != c.want.Leader || got.LeaderEpoch != c.want.LeaderEpoch || !slices.Equal(got.ISR, c.want.ISR) {
			t.Errorf("%s: got %+v changed=%v, want %+v changed=%v", c.name, got, changed, c.want, c.changed)
		}
	}
}
