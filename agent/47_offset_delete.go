package agent

// OffsetDelete, version 0 (KIP-496): removes a group's committed offsets.
// An empty group may lose any of them; a consumer group with members only
// those of topics it does not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC per
// partition otherwise); another group with members gets NON_EMPTY_GROUP,
// and a group that does not exist GROUP_ID_NOT_FOUND. Partitions of topics
// that do not exist get UNKNOWN_TOPIC_OR_PARTITION. A group-level error
// answers no partitions, as in Kafka.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metadata"
)

func (a *Agent) handleOffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	type slot struct{ t, p int }
	var parts []metadata.GroupPartition
	var slots []slot
	resp.Topics = make([]kmsg.OffsetDeleteResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.OffsetDeleteResponseTopicPartition, len(rt.Partitions))
		t, known := a.cache.Topic(rt.Topic)
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = rp.Partition
			if !known || rp.Partition < 0 || int(rp.Partition) >= t.Partitions() {
				sp.ErrorCode = errorCode(fmt.Errorf("%w: %s-%d", metadata.ErrUnknownTopic, rt.Topic, rp.Partition))
				continue
			}
			parts = append(parts, metadata.GroupPartition{Topic: rt.Topic, Partition: rp.Partition})
			slots = append(slots, slot{i, j})
		}
	}
	errs, err := []error(nil), errNoCoordinator
	if a.groups != nil {
		errs, err = a.groups.DeleteOffsets(ctx, req.Group, parts)
	}
	if err != nil {
		resp.ErrorCode = errorCode(err)
		resp.Topics = nil
		return resp, nil
	}
	for k, s := range slots {
		resp.Topics[s.t].Partitions[s.p].ErrorCode = errorCode(errs[k])
	}
	return resp, nil
}
