package etcd

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-io/strata/metadata"
)

// txnOffsetValue is a pending transactional offset; group, producer id,
// topic and partition are in its key.
type txnOffsetValue struct {
	V             int              `json:"v"`
	ProducerEpoch int16            `json:"producer_epoch"`
	TopicID       metadata.TopicID `json:"topic_id"`
	Offset        int64            `json:"offset"`
	LeaderEpoch   int32            `json:"leader_epoch"`
	Metadata      string           `json:"metadata,omitempty"`
	CommitTime    time.Time        `json:"commit_time"`
}

func encodeTxnOffset(epoch int16, o metadata.CommittedOffset) string {
	return mustJSON(txnOffsetValue{
		V:             valueVersion,
		ProducerEpoch: epoch,
		TopicID:       o.TopicID,
		Offset:        o.Offset,
		LeaderEpoch:   o.LeaderEpoch,
		Metadata:      o.Metadata,
		CommitTime:    o.CommitTime.UTC(),
	})
}

// addTxnOffset decodes the pending offset of key k and adds it to sg, whose
// keys arrive in key order (by producer id, then partition).
func addTxnOffset(sg *metadata.StoredGroup, k groupKey, b []byte) error {
	p := k.partition
	var v txnOffsetValue
	what := fmt.Sprintf("pending offset of producer %d in %s-%d", k.producerID, p.Topic, p.Partition)
	if err := unmarshal(what, b, &v, &v.V); err != nil {
		return err
	}
	o := metadata.CommittedOffset{
		Topic:       p.Topic,
		TopicID:     v.TopicID,
		Partition:   p.Partition,
		Offset:      v.Offset,
		LeaderEpoch: v.LeaderEpoch,
		Metadata:    v.Metadata,
		CommitTime:  v.CommitTime,
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, what, err)
	}
	if !encodableTime(o.CommitTime) {
		return fmt.Errorf("%w: %s: commit time %v", ErrCorrupt, what, o.CommitTime)
	}
	if err := metadata.ValidateProducerID(k.producerID, v.ProducerEpoch); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, what, err)
	}
	n := len(sg.TxnOffsets)
	if n == 0 || sg.TxnOffsets[n-1].ProducerID != k.producerID {
		sg.TxnOffsets = append(sg.TxnOffsets, metadata.TxnOffsets{ProducerID: k.producerID, ProducerEpoch: v.ProducerEpoch})
		n++
	}
	t := &sg.TxnOffsets[n-1]
	t.ProducerEpoch = max(t.ProducerEpoch, v.ProducerEpoch)
	t.Offsets = append(t.Offsets, o)
	return nil
}

// CommitTxnOffsets implements metadata.Groups: one put per partition under
// the producer's directory, in transactions of at most maxTxnOps puts.
func (s *Store) CommitTxnOffsets(ctx context.Context, claim metadata.CoordinatorClaim, group string, producerID int64, producerEpoch int16, offsets []metadata.CommittedOffset) error {
	if err := metadata.ValidateGroupWrite(claim, group); err != nil {
		return err
	}
	if err := metadata.ValidateProducerID(producerID, producerEpoch); err != nil {
		return err
	}
	ops := make([]clientv3.Op, len(offsets))
	for i, o := range offsets {
		if err := o.Validate(); err != nil {
			return err
		}
		key := s.keys.groupTxnOffset(claim.Shard.Index, group, producerID, metadata.GroupPartition{Topic: o.Topic, Partition: o.Partition})
		ops[i] = clientv3.OpPut(key, encodeTxnOffset(producerEpoch, o))
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return s.fencedTxns(ctx, claim, fmt.Sprintf("commit transactional offsets of producer %d to group %q", producerID, group), ops)
}

// CompleteTxnOffsets implements metadata.Groups: the committed offsets are
// put first and the producer's directory is deleted last, all in
// transactions of at most maxTxnOps operations, so a failure part-way
// leaves the pending offsets in place for a retry.
func (s *Store) CompleteTxnOffsets(ctx context.Context, claim metadata.CoordinatorClaim, group string, producerID int64, commit []metadata.CommittedOffset) error {
	if err := metadata.ValidateGroupWrite(claim, group); err != nil {
		return err
	}
	if producerID < 0 {
		return fmt.Errorf("%w: producer id %d", metadata.ErrInvalid, producerID)
	}
	ops := make([]clientv3.Op, 0, len(commit)+1)
	for _, o := range commit {
		if err := o.Validate(); err != nil {
			return err
		}
		key := s.keys.groupOffset(claim.Shard.Index, group, metadata.GroupPartition{Topic: o.Topic, Partition: o.Partition})
		ops = append(ops, clientv3.OpPut(key, encodeOffset(o)))
	}
	ops = append(ops, clientv3.OpDelete(s.keys.groupTxnOffsets(claim.Shard.Index, group, producerID), clientv3.WithPrefix()))
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return s.fencedTxns(ctx, claim, fmt.Sprintf("complete transactional offsets of producer %d in group %q", producerID, group), ops)
}
