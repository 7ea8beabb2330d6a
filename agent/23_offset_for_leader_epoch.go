package agent

// OffsetForLeaderEpoch, versions 2–4.
//
// For each partition, the largest leader epoch at or below the requested
// one that the leader's log knows, and the offset where the next epoch
// starts (the log end offset for the current epoch). Consumers use it after
// a leader change to detect that the log they read was truncated (KIP-320);
// followers could use it instead of the diverging epoch in Fetch. Only the
// leader answers (NOT_LEADER_OR_FOLLOWER otherwise); a stale or future
// current_leader_epoch gets FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH.
// The end offset is capped at the high watermark for consumers, since they
// must not learn of uncommitted records.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleOffsetForLeaderEpoch(ctx context.Context, req *kmsg.OffsetForLeaderEpochRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	consumer := req.Version < 3 || req.ReplicaID < 0
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		t, terr := a.lookupTopic(ctx, rt.Topic, false)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LeaderEpoch, sp.EndOffset = -1, -1
			err := terr
			var p *partition
			if err == nil {
				p, err = a.leaderPartition(t, rp.Partition)
			}
			if err == nil {
				err = checkLeaderEpoch(p, rp.CurrentLeaderEpoch)
			}
			if err != nil {
				sp.ErrorCode = errorCode(err)
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			sp.LeaderEpoch, sp.EndOffset = p.log.EndOffsetForEpoch(rp.LeaderEpoch)
			if consumer && sp.EndOffset > p.highWatermark() {
				sp.EndOffset = p.highWatermark()
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
