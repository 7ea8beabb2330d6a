package agent

// TxnOffsetCommit, versions 0–4: offsets a transactional producer commits
// to a consumer group as part of its transaction (consume-transform-
// produce). The group's coordinator keeps them pending, invisible to
// OffsetFetch (and UNSTABLE_OFFSET_COMMIT for require_stable fetches),
// until the transaction ends: a commit makes them the group's committed
// offsets, an abort drops them.
//
// The request must reach the group's coordinator (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS otherwise). Before the offsets are stored,
// the producer's transaction coordinator confirms (KIP-890) that the
// producer's ongoing transaction includes the group (AddOffsetsToTxn):
// otherwise the commit gets TRANSACTION_ABORTABLE (INVALID_TXN_STATE
// before v4), and a fenced producer INVALID_PRODUCER_EPOCH, as in Kafka.
// Then the committer is checked as Kafka checks transactional commits:
// with v3+'s generation and member id (KIP-447) it must be a member of the
// current generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID); without them anyone may commit. Partitions of
// unknown topics get UNKNOWN_TOPIC_OR_PARTITION; metadata longer than
// offset.metadata.max.bytes, OFFSET_METADATA_TOO_LARGE.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/agent/txn"
	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

func (a *Agent) handleTxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	tr := group.TxnCommitRequest{Group: req.Group, ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch, Generation: -1}
	if req.Version >= 3 {
		tr.Generation, tr.MemberID, tr.InstanceID = req.Generation, req.MemberID, req.InstanceID
	}
	type slot struct{ t, p int }
	var slots []slot
	resp.Topics = make([]kmsg.TxnOffsetCommitResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.TxnOffsetCommitResponseTopicPartition, len(rt.Partitions))
		t, known := a.cache.Topic(rt.Topic)
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			if !known || rp.Partition < 0 || int(rp.Partition) >= t.Partitions() {
				sp.ErrorCode = errorCode(fmt.Errorf("%w: %s-%d", metadata.ErrUnknownTopic, rt.Topic, rp.Partition))
				continue
			}
			o := metadata.CommittedOffset{Topic: rt.Topic, TopicID: t.ID, Partition: rp.Partition, Offset: rp.Offset, LeaderEpoch: -1}
			if req.Version >= 2 && rp.LeaderEpoch >= 0 {
				o.LeaderEpoch = rp.LeaderEpoch
			}
			if rp.Metadata != nil {
				o.Metadata = *rp.Metadata
			}
			slots = append(slots, slot{i, j})
			tr.Offsets = append(tr.Offsets, o)
		}
	}
	if len(tr.Offsets) == 0 {
		return resp, nil
	}
	codes := a.txnCommitOffsets(ctx, req.Version, req.TransactionalID, tr)
	for k, s := range slots {
		resp.Topics[s.t].Partitions[s.p].ErrorCode = codes[k]
	}
	return resp, nil
}

// txnCommitOffsets verifies the producer's transaction and stores the
// offsets of tr; it returns one error code per offset.
func (a *Agent) txnCommitOffsets(ctx context.Context, version int16, txnID string, tr group.TxnCommitRequest) []int16 {
	codes := make([]int16, len(tr.Offsets))
	all := func(code int16) []int16 {
		for i := range codes {
			codes[i] = code
		}
		return codes
	}
	if a.groups == nil {
		return all(errorCode(errNoCoordinator))
	}
	if err := a.groups.Check(tr.Group); err != nil {
		return all(errorCode(err))
	}
	err := a.verifyTxnPartition(ctx, txnID, tr.ProducerID, tr.ProducerEpoch, txn.OffsetsTopic, shards.Of(tr.Group))
	switch code := errorCode(err); {
	case code == kerr.ProducerFenced.Code:
		// As Kafka answers a failed verification of a group commit.
		return all(kerr.InvalidProducerEpoch.Code)
	case code == kerr.InvalidTxnState.Code, code == kerr.TransactionAbortable.Code:
		return all(txnErrorCode(fmt.Errorf("%w: group %q was not added to the transaction of %q", txn.ErrTransactionAbortable, tr.Group, txnID), version, noVersion, 4))
	case err != nil:
		return all(errorCode(err))
	}
	for i, err := range a.groups.TxnCommit(ctx, tr) {
		codes[i] = errorCode(err)
	}
	return codes
}
