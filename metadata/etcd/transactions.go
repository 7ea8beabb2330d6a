package etcd

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-io/strata/metadata"
)

// transactionValue is a transactional id's state; the id is in its key.
// Partitions are grouped by topic, each topic's partitions sorted.
type transactionValue struct {
	V                 int               `json:"v"`
	ProducerID        int64             `json:"producer_id"`
	ProducerEpoch     int16             `json:"producer_epoch"`
	LastProducerID    int64             `json:"last_producer_id"`
	LastProducerEpoch int16             `json:"last_producer_epoch"`
	TimeoutMS         int64             `json:"timeout_ms"`
	State             metadata.TxnState `json:"state"`
	Partitions        []txnTopicValue   `json:"partitions,omitempty"`
	Groups            []string          `json:"groups,omitempty"`
	StartTime         *time.Time        `json:"start_time,omitempty"`
	LastUpdate        time.Time         `json:"last_update"`
}

type txnTopicValue struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// coordinatorEpochValue is a shard's coordinator epoch.
type coordinatorEpochValue struct {
	V     int   `json:"v"`
	Epoch int32 `json:"epoch"`
}

func encodeTransaction(t metadata.Transaction) string {
	v := transactionValue{
		V:                 valueVersion,
		ProducerID:        t.ProducerID,
		ProducerEpoch:     t.ProducerEpoch,
		LastProducerID:    t.LastProducerID,
		LastProducerEpoch: t.LastProducerEpoch,
		TimeoutMS:         t.Timeout.Milliseconds(),
		State:             t.State,
		Groups:            t.Groups,
		LastUpdate:        t.LastUpdate.UTC(),
	}
	if !t.StartTime.IsZero() {
		st := t.StartTime.UTC()
		v.StartTime = &st
	}
	for _, p := range t.Partitions {
		if n := len(v.Partitions); n == 0 || v.Partitions[n-1].Topic != p.Topic {
			v.Partitions = append(v.Partitions, txnTopicValue{Topic: p.Topic})
		}
		last := &v.Partitions[len(v.Partitions)-1]
		last.Partitions = append(last.Partitions, p.Partition)
	}
	return mustJSON(v)
}

// decodeTransaction decodes the state of transactional id id.
func decodeTransaction(id string, b []byte) (metadata.Transaction, error) {
	var v transactionValue
	if err := unmarshal("transaction "+strconv.Quote(id), b, &v, &v.V); err != nil {
		return metadata.Transaction{}, err
	}
	if v.TimeoutMS <= 0 || v.TimeoutMS > math.MaxInt32 {
		return metadata.Transaction{}, fmt.Errorf("%w: transaction %q timeout %d ms", ErrCorrupt, id, v.TimeoutMS)
	}
	t := metadata.Transaction{
		TransactionalID:   id,
		ProducerID:        v.ProducerID,
		ProducerEpoch:     v.ProducerEpoch,
		LastProducerID:    v.LastProducerID,
		LastProducerEpoch: v.LastProducerEpoch,
		Timeout:           time.Duration(v.TimeoutMS) * time.Millisecond,
		State:             v.State,
		Groups:            v.Groups,
		LastUpdate:        v.LastUpdate,
	}
	if v.StartTime != nil {
		t.StartTime = *v.StartTime
	}
	for _, tp := range v.Partitions {
		for _, p := range tp.Partitions {
			t.Partitions = append(t.Partitions, metadata.TxnPartition{Topic: tp.Topic, Partition: p})
		}
	}
	if !encodableTime(t.StartTime) || !encodableTime(t.LastUpdate) {
		return metadata.Transaction{}, fmt.Errorf("%w: transaction %q times %v, %v", ErrCorrupt, id, t.StartTime, t.LastUpdate)
	}
	if err := t.Validate(); err != nil {
		return metadata.Transaction{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return t, nil
}

// encodableTime reports whether t, in UTC, is in the years JSON's RFC 3339
// encoding can carry (a zone offset can push a decoded time outside them).
func encodableTime(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// LoadTransactions implements metadata.Transactions with one paged read of
// the shard's ids directory.
func (s *Store) LoadTransactions(ctx context.Context, shard metadata.CoordinatorShard) ([]metadata.Transaction, error) {
	if err := shard.Validate(); err != nil {
		return nil, err
	}
	if shard.Kind != metadata.CoordinatorTransaction {
		return nil, fmt.Errorf("%w: load transactions of a %s shard", metadata.ErrInvalid, shard.Kind)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var out []metadata.Transaction
	err = s.rangeAll(ctx, "load transactions of "+shard.String(), s.keys.txnIDs(shard.Index), func(kv *mvccpb.KeyValue) error {
		id, err := s.keys.parseTxnID(shard.Index, string(kv.Key))
		if err != nil {
			return err
		}
		t, err := decodeTransaction(id, kv.Value)
		if err != nil {
			return fmt.Errorf("key %q: %w", kv.Key, err)
		}
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Escaped ids sort differently from ids: sort by the ids.
	slices.SortFunc(out, func(a, b metadata.Transaction) int { return strings.Compare(a.TransactionalID, b.TransactionalID) })
	return out, nil
}

// PutTransaction implements metadata.Transactions: one put, fenced by the
// claim.
func (s *Store) PutTransaction(ctx context.Context, claim metadata.CoordinatorClaim, t metadata.Transaction) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := metadata.ValidateTransactionClaim(claim); err != nil {
		return err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	op := clientv3.OpPut(s.keys.txnID(claim.Shard.Index, t.TransactionalID), encodeTransaction(t))
	return s.fencedTxn(ctx, claim, fmt.Sprintf("store transaction %q", t.TransactionalID), []clientv3.Op{op})
}

// DeleteTransaction implements metadata.Transactions.
func (s *Store) DeleteTransaction(ctx context.Context, claim metadata.CoordinatorClaim, id string) error {
	if err := metadata.ValidateTransactionalID(id); err != nil {
		return err
	}
	if err := metadata.ValidateTransactionClaim(claim); err != nil {
		return err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	op := clientv3.OpDelete(s.keys.txnID(claim.Shard.Index, id))
	return s.fencedTxn(ctx, claim, fmt.Sprintf("delete transaction %q", id), []clientv3.Op{op})
}

// BumpCoordinatorEpoch implements metadata.Transactions: a compare-and-swap
// on the epoch key's mod revision, fenced by the claim, retried while it
// races (only with itself: the claim is one agent's).
func (s *Store) BumpCoordinatorEpoch(ctx context.Context, claim metadata.CoordinatorClaim) (int32, error) {
	if err := metadata.ValidateTransactionClaim(claim); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	key := s.keys.txnEpoch(claim.Shard.Index)
	claimKey := s.keys.coordinator(claim.Shard)
	for {
		resp, err := s.client.Get(ctx, key)
		if err != nil {
			return 0, unavailable("read coordinator epoch of "+claim.Shard.String(), err)
		}
		var cur int32
		var modRev int64
		if len(resp.Kvs) == 1 {
			var v coordinatorEpochValue
			if err := unmarshal("coordinator epoch of "+claim.Shard.String(), resp.Kvs[0].Value, &v, &v.V); err != nil {
				return 0, err
			}
			if v.Epoch < 0 {
				return 0, fmt.Errorf("%w: coordinator epoch %d of %s", ErrCorrupt, v.Epoch, claim.Shard)
			}
			cur, modRev = v.Epoch, resp.Kvs[0].ModRevision
		}
		if cur == math.MaxInt32 {
			return 0, fmt.Errorf("%w: coordinator epoch of %s is exhausted", metadata.ErrInvalid, claim.Shard)
		}
		next := cur + 1
		txn, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(claimKey), "=", claim.Revision),
				clientv3.Compare(clientv3.ModRevision(key), "=", modRev)).
			Then(clientv3.OpPut(key, mustJSON(coordinatorEpochValue{V: valueVersion, Epoch: next}))).
			Else(clientv3.OpGet(claimKey)).
			Commit()
		if err != nil {
			return 0, unavailable("bump coordinator epoch of "+claim.Shard.String(), err)
		}
		if txn.Succeeded {
			return next, nil
		}
		kvs := txn.Responses[0].GetResponseRange().Kvs
		if len(kvs) != 1 || kvs[0].CreateRevision != claim.Revision {
			return 0, fmt.Errorf("bump coordinator epoch: %s claimed at revision %d: %w", claim.Shard, claim.Revision, metadata.ErrFenced)
		}
	}
}
