package agent

// AlterPartitionReassignments, versions 0–1.
//
// Starts moving each listed partition to the given replicas, or cancels
// its move when the replica list is null (NO_REASSIGNMENT_IN_PROGRESS when
// there is none). Targets must name live agents, each once
// (INVALID_REPLICA_ASSIGNMENT); from v1 changing the replica count needs
// allow_replication_factor_change (INVALID_REPLICATION_FACTOR). See
// reassign.go for how a move proceeds; ListPartitionReassignments shows
// the moves in progress.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleAlterPartitionAssignments(ctx context.Context, req *kmsg.AlterPartitionAssignmentsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	allowRF := req.Version == 0 || req.AllowReplicationFactorChange
	resp.AllowReplicationFactorChange = allowRF
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = rp.Partition
			if err := a.alterReassignment(ctx, rt.Topic, rp.Partition, rp.Replicas, allowRF); err != nil {
				sp.ErrorCode = errorCode(err)
				sp.ErrorMessage = errorMessage(err)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
