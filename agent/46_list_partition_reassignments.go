package agent

// ListPartitionReassignments, version 0.
//
// Lists partition moves in progress (all of them for a null topic list):
// the current replicas (original ∪ target), the replicas being added and
// those being removed.

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleListPartitionReassignments(_ context.Context, req *kmsg.ListPartitionReassignmentsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	wanted := func(topic string, p int32) bool {
		if req.Topics == nil {
			return true
		}
		for _, rt := range req.Topics {
			if rt.Topic == topic && slices.Contains(rt.Partitions, p) {
				return true
			}
		}
		return false
	}
	for _, t := range a.cache.Topics() {
		var parts []kmsg.ListPartitionReassignmentsResponseTopicPartition
		for p, r := range t.Reassignments {
			if !wanted(t.Name, p) {
				continue
			}
			sp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
			sp.Partition = p
			sp.Replicas = t.Replicas[p]
			for _, id := range r.Target {
				if !slices.Contains(r.Original, id) {
					sp.AddingReplicas = append(sp.AddingReplicas, id)
				}
			}
			for _, id := range r.Original {
				if !slices.Contains(r.Target, id) {
					sp.RemovingReplicas = append(sp.RemovingReplicas, id)
				}
			}
			parts = append(parts, sp)
		}
		if len(parts) == 0 {
			continue
		}
		slices.SortFunc(parts, func(x, y kmsg.ListPartitionReassignmentsResponseTopicPartition) int {
			return int(x.Partition - y.Partition)
		})
		st := kmsg.NewListPartitionReassignmentsResponseTopic()
		st.Topic, st.Partitions = t.Name, parts
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
