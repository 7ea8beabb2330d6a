package agent

// OffsetFetch, versions 0–9: a group's committed offsets, with their
// metadata and (v5+) leader epoch. A partition without a committed offset,
// or whose topic was deleted (or deleted and created again) since the
// commit, answers offset -1. A null topic list (v2+) asks for every
// offset the group has. v8+ asks for several groups at once. Group errors
// (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, …) are the response's
// (v2–7) or the group's (v8+) error; before v2 every partition carries
// them. With require_stable (v7+, KIP-447), a partition with offsets a
// transaction committed but has not ended yet (or with a commit being
// stored) answers UNSTABLE_OFFSET_COMMIT and offset -1, so a transactional
// consumer retries rather than read behind what the transaction will
// commit; without it such offsets stay invisible and the last committed
// one is returned. v9's member id and epoch belong to KIP-848 groups and
// are ignored for classic ones, as in Kafka.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/metadata"
)

func (a *Agent) handleOffsetFetch(ctx context.Context, req *kmsg.OffsetFetchRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			var parts []metadata.GroupPartition
			if rg.Topics != nil {
				parts = []metadata.GroupPartition{}
				for _, rt := range rg.Topics {
					for _, p := range rt.Partitions {
						parts = append(parts, metadata.GroupPartition{Topic: rt.Topic, Partition: p})
					}
				}
			}
			sg := kmsg.NewOffsetFetchResponseGroup()
			sg.Group = rg.Group
			offsets, err := a.fetchOffsets(ctx, rg.Group, parts, req.RequireStable)
			sg.ErrorCode = errorCode(err)
			for _, t := range byTopic(offsets) {
				st := kmsg.NewOffsetFetchResponseGroupTopic()
				st.Topic = t[0].Topic
				for _, o := range t {
					sp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata = o.Partition, o.Offset, o.LeaderEpoch, kmsg.StringPtr(o.Metadata)
					sp.ErrorCode = errorCode(o.Err)
					st.Partitions = append(st.Partitions, sp)
				}
				sg.Topics = append(sg.Topics, st)
			}
			resp.Groups = append(resp.Groups, sg)
		}
		return resp, nil
	}
	var parts []metadata.GroupPartition
	if req.Topics != nil || req.Version < 2 {
		parts = []metadata.GroupPartition{}
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				parts = append(parts, metadata.GroupPartition{Topic: rt.Topic, Partition: p})
			}
		}
	}
	offsets, err := a.fetchOffsets(ctx, req.Group, parts, req.Version >= 7 && req.RequireStable)
	if err != nil && req.Version < 2 {
		// No top-level error field: every partition carries the error.
		offsets = noOffsets(parts)
	}
	resp.ErrorCode = errorCode(err)
	for _, t := range byTopic(offsets) {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = t[0].Topic
		for _, o := range t {
			sp := kmsg.NewOffsetFetchResponseTopicPartition()
			sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata = o.Partition, o.Offset, o.LeaderEpoch, kmsg.StringPtr(o.Metadata)
			if req.Version < 2 {
				sp.ErrorCode = errorCode(err)
			} else {
				sp.ErrorCode = errorCode(o.Err)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

func (a *Agent) fetchOffsets(ctx context.Context, groupID string, parts []metadata.GroupPartition, requireStable bool) ([]group.FetchedOffset, error) {
	if a.groups == nil {
		return nil, errNoCoordinator
	}
	if requireStable {
		return a.groups.FetchStable(ctx, groupID, parts)
	}
	return a.groups.Fetch(ctx, groupID, parts)
}

// noOffsets answers -1 for every partition.
func noOffsets(parts []metadata.GroupPartition) []group.FetchedOffset {
	out := make([]group.FetchedOffset, len(parts))
	for i, p := range parts {
		out[i] = group.FetchedOffset{Topic: p.Topic, Partition: p.Partition, Offset: -1, LeaderEpoch: -1}
	}
	return out
}

// byTopic splits offsets into runs of one topic each, keeping their order
// (a request's topics stay in request order).
func byTopic(offsets []group.FetchedOffset) [][]group.FetchedOffset {
	var out [][]group.FetchedOffset
	for i := 0; i < len(offsets); {
		j := i + 1
		for j < len(offsets) && offsets[j].Topic == offsets[i].Topic {
			j++
		}
		out = append(out, offsets[i:j])
		i = j
	}
	return out
}
