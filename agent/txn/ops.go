package txn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

// InitProducerID serves an InitProducerId with a transactional id: the
// producer id and the epoch the producer is to use, fencing the previous
// producer of the id. While an ongoing transaction of that producer is
// being aborted it fails with ErrConcurrentTransactions, and the client
// retries.
func (c *Coordinator) InitProducerID(ctx context.Context, req InitRequest) (ProducerIDAndEpoch, error) {
	fail := ProducerIDAndEpoch{ProducerID: noProducerID, ProducerEpoch: noEpoch}
	if err := checkID(req.TransactionalID); err != nil {
		return fail, err
	}
	if req.Timeout <= 0 || req.Timeout > c.cfg.MaxTimeout {
		return fail, fmt.Errorf("%w: %v, the maximum is %v", ErrInvalidTransactionTimeout, req.Timeout, c.cfg.MaxTimeout)
	}
	if (req.ProducerID == noProducerID) != (req.ProducerEpoch == noEpoch) || req.ProducerID < noProducerID || req.ProducerEpoch < noEpoch {
		return fail, fmt.Errorf("%w: producer id %d with epoch %d", ErrInvalidRequest, req.ProducerID, req.ProducerEpoch)
	}
	sh, err := c.route(req.TransactionalID)
	if err != nil {
		return fail, err
	}
	newPID := noProducerID
	for range 3 {
		res, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func(initResult)) {
			st.initProducerID(now, req, newPID, reply)
		})
		switch {
		case err != nil:
			return fail, err
		case !res.needID:
			return res.ProducerIDAndEpoch, res.err
		}
		// No lock or loop is held while the id is allocated; one not
		// used after all (a race with another InitProducerId) is lost,
		// which producer ids can afford.
		if newPID, err = c.newPID(ctx); err != nil {
			return fail, fmt.Errorf("%w: allocate a producer id: %v", ErrCoordinatorNotAvailable, err)
		}
	}
	return fail, fmt.Errorf("%w: transactional id %q keeps changing", ErrConcurrentTransactions, req.TransactionalID)
}

// AddPartitions serves an AddPartitionsToTxn (v0–3, or a v4+ transaction
// that is not verify-only): the partitions become part of the producer's
// transaction, which starts if none is ongoing.
func (c *Coordinator) AddPartitions(ctx context.Context, req AddRequest) error {
	req.Groups = nil
	if len(req.Partitions) == 0 {
		return fmt.Errorf("%w: no partitions", ErrInvalidRequest)
	}
	return c.add(ctx, req)
}

// AddOffsets serves an AddOffsetsToTxn: the producer's transaction will
// commit offsets to group, whose pending offsets the transaction's end
// completes.
func (c *Coordinator) AddOffsets(ctx context.Context, id string, producerID int64, producerEpoch int16, group string) error {
	if err := metadata.ValidateGroupName(group); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	return c.add(ctx, AddRequest{TransactionalID: id, ProducerID: producerID, ProducerEpoch: producerEpoch, Groups: []string{group}})
}

func (c *Coordinator) add(ctx context.Context, req AddRequest) error {
	sh, err := c.route(req.TransactionalID)
	if err != nil {
		return err
	}
	res, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func(error)) { st.add(now, req, reply) })
	if err != nil {
		return err
	}
	return res
}

// VerifyPartitions serves a verify-only AddPartitionsToTxn (v4+, KIP-890),
// which partition leaders send before a transactional producer's first
// write: one error per partition of req (nil when the partition is in the
// producer's ongoing transaction, ErrTransactionAbortable when it is not),
// or one error for all. A partition of OffsetsTopic stands for the groups
// of that group-coordinator shard.
func (c *Coordinator) VerifyPartitions(ctx context.Context, req AddRequest) ([]error, error) {
	sh, err := c.route(req.TransactionalID)
	if err != nil {
		return nil, err
	}
	type result struct {
		errs []error
		err  error
	}
	res, err := shards.Call(ctx, sh.loop, func(st *state, _ time.Time, reply func(result)) {
		errs, err := st.verify(req)
		reply(result{errs, err})
	})
	if err != nil {
		return nil, err
	}
	return res.errs, res.err
}

// EndTxn serves an EndTxn. The transaction's outcome is decided once it is
// stored (PrepareCommit or PrepareAbort), which is when Kafka answers; this
// answers once the markers are written and the completion stored too, or
// after Config.CompletionWait, whichever comes first. The producer's next
// transaction then starts at once rather than being told
// CONCURRENT_TRANSACTIONS until the markers are out, and read_committed
// readers see a commit as soon as it returns.
func (c *Coordinator) EndTxn(ctx context.Context, req EndRequest) error {
	sh, err := c.route(req.TransactionalID)
	if err != nil {
		return err
	}
	res, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func(error)) { st.end(now, req, reply) })
	if err != nil || res != nil || c.cfg.CompletionWait <= 0 {
		return cmp.Or(err, res)
	}
	done, err := shards.Call(ctx, sh.loop, func(st *state, _ time.Time, reply func(<-chan struct{})) { reply(st.completion(req)) })
	if err != nil || done == nil {
		return nil // decided; the completion goes on regardless
	}
	t := time.NewTimer(c.cfg.CompletionWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// Describe serves DescribeTransactions for one transactional id.
func (c *Coordinator) Describe(ctx context.Context, id string) (Description, error) {
	sh, err := c.route(id)
	if err != nil {
		return Description{}, err
	}
	type result struct {
		d   Description
		err error
	}
	res, err := shards.Call(ctx, sh.loop, func(st *state, _ time.Time, reply func(result)) {
		d, err := st.describe(id)
		reply(result{d, err})
	})
	if err != nil {
		return Description{}, err
	}
	return res.d, res.err
}

// List serves ListTransactions: the transactional ids this agent
// coordinates that match f, sorted. While some of its shards are still
// loading it fails with ErrCoordinatorLoadInProgress, as Kafka does.
func (c *Coordinator) List(ctx context.Context, f ListFilter) ([]Listing, error) {
	owned := c.shards.Owned()
	for _, sh := range owned {
		if !sh.loaded.Load() {
			return nil, fmt.Errorf("%w: shard %d", ErrCoordinatorLoadInProgress, sh.claim.Shard.Index)
		}
	}
	var out []Listing
	for _, sh := range owned {
		ls, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func([]Listing)) { reply(st.list(now, f)) })
		if errors.Is(err, ErrNotCoordinator) {
			continue // lost meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	slices.SortFunc(out, func(a, b Listing) int { return strings.Compare(a.TransactionalID, b.TransactionalID) })
	return out, nil
}
