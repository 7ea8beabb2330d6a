package memstore

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/strata-io/strata/metadata"
)

// txnKey names a stored transactional id: ids live in their coordinator
// shard, as in the etcd store's keys.
type txnKey struct {
	shard int32
	id    string
}

// beginTxnWrite validates a claim, checks the store and takes d.mu; the
// caller must unlock it when err is nil.
func (s *Store) beginTxnWrite(ctx context.Context, claim metadata.CoordinatorClaim) (*data, error) {
	if err := metadata.ValidateTransactionClaim(claim); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	d := s.d
	d.mu.Lock()
	if err := d.fenced(claim); err != nil {
		d.mu.Unlock()
		return nil, err
	}
	return d, nil
}

// LoadTransactions implements metadata.Transactions.
func (s *Store) LoadTransactions(ctx context.Context, shard metadata.CoordinatorShard) ([]metadata.Transaction, error) {
	if err := shard.Validate(); err != nil {
		return nil, err
	}
	if shard.Kind != metadata.CoordinatorTransaction {
		return nil, fmt.Errorf("%w: load transactions of a %s shard", metadata.ErrInvalid, shard.Kind)
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var out []metadata.Transaction
	for k, t := range s.d.txns {
		if k.shard == shard.Index {
			out = append(out, t.Clone())
		}
	}
	slices.SortFunc(out, func(a, b metadata.Transaction) int { return strings.Compare(a.TransactionalID, b.TransactionalID) })
	return out, nil
}

// PutTransaction implements metadata.Transactions.
func (s *Store) PutTransaction(ctx context.Context, claim metadata.CoordinatorClaim, t metadata.Transaction) error {
	if err := t.Validate(); err != nil {
		return err
	}
	d, err := s.beginTxnWrite(ctx, claim)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	d.txns[txnKey{shard: claim.Shard.Index, id: t.TransactionalID}] = t.Clone()
	d.commit()
	return nil
}

// DeleteTransaction implements metadata.Transactions.
func (s *Store) DeleteTransaction(ctx context.Context, claim metadata.CoordinatorClaim, id string) error {
	if err := metadata.ValidateTransactionalID(id); err != nil {
		return err
	}
	d, err := s.beginTxnWrite(ctx, claim)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	delete(d.txns, txnKey{shard: claim.Shard.Index, id: id})
	d.commit()
	return nil
}

// BumpCoordinatorEpoch implements metadata.Transactions.
func (s *Store) BumpCoordinatorEpoch(ctx context.Context, claim metadata.CoordinatorClaim) (int32, error) {
	d, err := s.beginTxnWrite(ctx, claim)
	if err != nil {
		return 0, err
	}
	defer d.mu.Unlock()
	cur := d.txnEpochs[claim.Shard.Index]
	if cur == math.MaxInt32 {
		return 0, fmt.Errorf("%w: coordinator epoch of %s is exhausted", metadata.ErrInvalid, claim.Shard)
	}
	d.txnEpochs[claim.Shard.Index] = cur + 1
	d.commit()
	return cur + 1, nil
}
