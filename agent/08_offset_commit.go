package agent

// OffsetCommit, versions 0–9: stores a group's committed offsets (with
// their metadata and leader epoch, v6+) in the metadata store.
//
// Partitions of topics that do not exist, or past a topic's last
// partition, get UNKNOWN_TOPIC_OR_PARTITION; the rest go to the group's
// coordinator, which checks the committer: a member of the current
// generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID
// otherwise; REBALANCE_IN_PROGRESS between a rebalance's join and its
// sync), or, with generation -1 and no member id, anyone while the group
// is empty (a consumer that manages its own partitions). Metadata longer
// than offset.metadata.max.bytes gets OFFSET_METADATA_TOO_LARGE. v1's
// per-partition timestamps and v2–4's retention time are ignored: offsets
// expire as KIP-211 says (see package agent/group). The answer comes once
// the offsets are stored. Group ids must be 1–1024 bytes (INVALID_GROUP_ID
// otherwise): Kafka still accepts an empty one here for pre-0.9 clients.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/metadata"
)

func (a *Agent) handleOffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	cr := group.CommitRequest{Group: req.Group, Generation: req.Generation, MemberID: req.MemberID, InstanceID: req.InstanceID}
	if req.Version == 0 {
		cr.Generation = -1
	}
	// codes[i][j] is the answer for req.Topics[i].Partitions[j]; slot says
	// which offset of cr answers it (-1: answered here).
	type slot struct{ t, p, offset int }
	var slots []slot
	resp.Topics = make([]kmsg.OffsetCommitResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.OffsetCommitResponseTopicPartition, len(rt.Partitions))
		t, known := a.cache.Topic(rt.Topic)
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			if !known || rp.Partition < 0 || int(rp.Partition) >= t.Partitions() {
				sp.ErrorCode = errorCode(fmt.Errorf("%w: %s-%d", metadata.ErrUnknownTopic, rt.Topic, rp.Partition))
				continue
			}
			o := metadata.CommittedOffset{Topic: rt.Topic, TopicID: t.ID, Partition: rp.Partition, Offset: rp.Offset, LeaderEpoch: -1}
			if req.Version >= 6 && rp.LeaderEpoch >= 0 {
				o.LeaderEpoch = rp.LeaderEpoch
			}
			if rp.Metadata != nil {
				o.Metadata = *rp.Metadata
			}
			slots = append(slots, slot{i, j, len(cr.Offsets)})
			cr.Offsets = append(cr.Offsets, o)
		}
	}
	if len(cr.Offsets) == 0 {
		return resp, nil
	}
	var errs []error
	if a.groups != nil {
		errs = a.groups.Commit(ctx, cr)
	}
	for _, s := range slots {
		err := errNoCoordinator
		if errs != nil {
			err = errs[s.offset]
		}
		resp.Topics[s.t].Partitions[s.p].ErrorCode = errorCode(err)
	}
	return resp, nil
}
