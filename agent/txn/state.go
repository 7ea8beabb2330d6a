package txn

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/strata-io/strata/metadata"
)

// doneFunc receives the result of a store write, on the loop goroutine,
// with the time it is delivered.
type doneFunc func(now time.Time, err error)

// completion is the work that ends a transaction in PrepareCommit or
// PrepareAbort: its markers, then its groups' offsets.
type completion struct {
	marker Marker
	groups []string
}

// effects is what a shard's state machine asks of its shard. Writes are
// applied in the order they are queued and each done runs on the shard's
// loop after its write. complete ends a prepared transaction off the loop
// (markers, then group offsets) and then calls state.finish on the loop,
// until it succeeds or the shard stops.
type effects interface {
	put(t metadata.Transaction, done doneFunc)
	remove(id string, done doneFunc)
	complete(c completion)
}

// state is one shard's transactional ids: the coordinator's state
// machine. Its methods run on the shard's loop goroutine only (or a
// test's), take the current time, never block, and reach the store and the
// marker writer only through effects, whose completions come back on the
// same goroutine. Kafka's TransactionCoordinator is the model; comments
// name its methods where the behaviour follows one.
type state struct {
	cfg    Config
	logger *slog.Logger
	fx     effects
	txns   map[string]*txnMeta
	// epoch is the shard's coordinator epoch, which markers carry.
	epoch int32
}

func newState(cfg Config, logger *slog.Logger, fx effects) *state {
	return &state{cfg: cfg, logger: logger, fx: fx, txns: make(map[string]*txnMeta)}
}

// restore adds the transactions loaded from the store and resumes the
// completion of those a previous coordinator prepared.
func (s *state) restore(stored []metadata.Transaction, epoch int32) {
	s.epoch = epoch
	for _, t := range stored {
		m := &txnMeta{Transaction: t, stored: true}
		s.txns[t.TransactionalID] = m
		if t.State == metadata.TxnPrepareCommit || t.State == metadata.TxnPrepareAbort {
			s.logger.Info("resuming transaction completion", "transactional_id", t.TransactionalID,
				"state", t.State, "producer_id", t.ProducerID, "producer_epoch", t.ProducerEpoch)
			s.startCompletion(m)
		}
	}
}

// write stores next as m's new state and applies it once stored; done
// gets the store's error, mapped to what a client sees.
func (s *state) write(m *txnMeta, next metadata.Transaction, done func(err error)) {
	m.pending = true
	s.fx.put(next, func(_ time.Time, err error) {
		m.pending = false
		if err != nil {
			done(storeErr(err))
			return
		}
		m.Transaction, m.stored = next, true
		done(nil)
	})
}

// storeErr turns a failed store write into the error a client gets, as
// Kafka maps failed appends to the transaction log.
func storeErr(err error) error {
	switch {
	case errors.Is(err, metadata.ErrFenced):
		return fmt.Errorf("%w: %v", ErrNotCoordinator, err)
	case errors.Is(err, metadata.ErrInvalid):
		return fmt.Errorf("%w: %v", ErrUnknownServer, err)
	}
	return fmt.Errorf("%w: %v", ErrCoordinatorNotAvailable, err)
}

// initResult is the answer of initProducerID: a producer id and epoch, an
// error, or the request for a fresh producer id to try again with.
type initResult struct {
	ProducerIDAndEpoch
	err    error
	needID bool
}

// initProducerID handles an InitProducerId with a transactional id:
// Kafka's handleInitProducerId. newPID is a fresh producer id, or -1; when
// one is needed (a new transactional id, an exhausted epoch) and none was
// given, reply asks for one. An ongoing transaction of the previous
// producer is fenced and aborted first, and the client is told
// CONCURRENT_TRANSACTIONS to retry once the abort completes.
func (s *state) initProducerID(now time.Time, req InitRequest, newPID int64, reply func(initResult)) {
	fail := func(err error) { reply(initResult{ProducerIDAndEpoch{noProducerID, noEpoch}, err, false}) }
	m := s.txns[req.TransactionalID]
	if m == nil {
		if newPID < 0 {
			reply(initResult{needID: true})
			return
		}
		m = &txnMeta{Transaction: metadata.Transaction{
			TransactionalID: req.TransactionalID, ProducerID: newPID, ProducerEpoch: noEpoch,
			LastProducerID: noProducerID, LastProducerEpoch: noEpoch, Timeout: req.Timeout,
			State: metadata.TxnEmpty, LastUpdate: now.Round(0).Truncate(time.Millisecond),
		}}
		s.txns[req.TransactionalID] = m
		newPID = -1
	}
	hasExpected := req.ProducerID != noProducerID
	switch {
	case m.pending || m.deleting:
		fail(fmt.Errorf("%w: transactional id %q is changing state", ErrConcurrentTransactions, m.TransactionalID))
		return
	case hasExpected && !m.validProducerID(req.ProducerID, req.ProducerEpoch):
		fail(fmt.Errorf("%w: producer id %d is not transactional id %q's (%d)", ErrProducerFenced, req.ProducerID, m.TransactionalID, m.ProducerID))
		return
	}
	switch m.State {
	case metadata.TxnPrepareCommit, metadata.TxnPrepareAbort:
		fail(fmt.Errorf("%w: transactional id %q is completing its transaction (%s)", ErrConcurrentTransactions, m.TransactionalID, m.State))
	case metadata.TxnOngoing:
		// Fence the previous producer and abort its transaction; the
		// client retries and then gets the epoch bumped once more.
		s.fenceAndAbort(now, m, "fenced by a new producer", func(err error) {
			if err == nil {
				err = fmt.Errorf("%w: aborting the ongoing transaction of transactional id %q", ErrConcurrentTransactions, m.TransactionalID)
			}
			fail(err)
		})
	default: // Empty, CompleteCommit, CompleteAbort
		var next metadata.Transaction
		if epochExhausted(m.ProducerEpoch) && (!hasExpected || req.ProducerEpoch == m.ProducerEpoch) {
			if newPID < 0 {
				reply(initResult{needID: true})
				return
			}
			next = m.rotate(now, req.Timeout, newPID, hasExpected)
		} else {
			var ok bool
			if next, ok = m.incrementEpoch(now, req.Timeout, req.ProducerEpoch, hasExpected); !ok {
				fail(fmt.Errorf("%w: epoch %d is neither transactional id %q's current (%d) nor its last (%d)",
					ErrProducerFenced, req.ProducerEpoch, m.TransactionalID, m.ProducerEpoch, m.LastProducerEpoch))
				return
			}
		}
		s.write(m, next, func(err error) {
			if err != nil {
				if !m.stored && s.txns[m.TransactionalID] == m {
					delete(s.txns, m.TransactionalID)
				}
				fail(err)
				return
			}
			s.logger.Info("initialized transactional producer", "transactional_id", m.TransactionalID,
				"producer_id", m.ProducerID, "producer_epoch", m.ProducerEpoch)
			reply(initResult{ProducerIDAndEpoch: ProducerIDAndEpoch{m.ProducerID, m.ProducerEpoch}})
		})
	}
}

// fenceAndAbort bumps the epoch of m's ongoing transaction, fencing its
// producer, and aborts the transaction with the new epoch: Kafka's
// prepareFenceProducerEpoch followed by an abort that did not come from
// the client. done gets the result of storing PrepareAbort; the markers
// follow.
func (s *state) fenceAndAbort(now time.Time, m *txnMeta, why string, done func(error)) {
	next := m.next(now)
	if !m.failedEpochFence {
		if m.ProducerEpoch == math.MaxInt16 {
			done(fmt.Errorf("%w: producer epoch of %q cannot be bumped past %d", ErrUnknownServer, m.TransactionalID, m.ProducerEpoch))
			return
		}
		next.ProducerEpoch++
	}
	next.LastProducerEpoch = noEpoch
	next.State = metadata.TxnPrepareAbort
	s.write(m, next, func(err error) {
		if err != nil {
			// The write may have been applied. As Kafka does, keep the
			// bumped epoch (never given to a client), which fences the
			// producer now, and reuse it for the next attempt.
			m.ProducerEpoch, m.LastProducerEpoch = next.ProducerEpoch, next.LastProducerEpoch
			m.failedEpochFence = true
			done(err)
			return
		}
		m.failedEpochFence = false
		s.logger.Info("aborting transaction", "transactional_id", m.TransactionalID, "reason", why,
			"producer_id", m.ProducerID, "producer_epoch", m.ProducerEpoch, "partitions", len(m.Partitions))
		s.startCompletion(m)
		done(nil)
	})
}

// check is the validation AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and
// verification share: the id must be bound to this producer id and epoch.
func (s *state) check(id string, pid int64, epoch int16) (*txnMeta, error) {
	m := s.txns[id]
	switch {
	case m == nil || m.deleting || m.ProducerEpoch == noEpoch:
		return nil, fmt.Errorf("%w: transactional id %q has no producer (call InitProducerId)", ErrInvalidProducerIDMapping, id)
	case m.ProducerID != pid:
		return nil, fmt.Errorf("%w: producer id %d is not transactional id %q's (%d)", ErrInvalidProducerIDMapping, pid, id, m.ProducerID)
	case m.ProducerEpoch != epoch:
		return nil, fmt.Errorf("%w: epoch %d of producer %d, transactional id %q is at epoch %d", ErrProducerFenced, epoch, pid, id, m.ProducerEpoch)
	}
	return m, nil
}

// add handles AddPartitionsToTxn and AddOffsetsToTxn: Kafka's
// handleAddPartitionsToTransaction. A transaction starts with its first
// partition or group.
func (s *state) add(now time.Time, req AddRequest, reply func(error)) {
	m, err := s.check(req.TransactionalID, req.ProducerID, req.ProducerEpoch)
	switch {
	case err != nil:
		reply(err)
		return
	case m.pending || m.State == metadata.TxnPrepareCommit || m.State == metadata.TxnPrepareAbort:
		reply(fmt.Errorf("%w: transactional id %q is %s", ErrConcurrentTransactions, m.TransactionalID, m.State))
		return
	case m.State == metadata.TxnOngoing && m.contains(req.Partitions, req.Groups):
		reply(nil)
		return
	}
	s.write(m, m.add(now, req.Partitions, req.Groups), reply)
}

// verify handles a verify-only AddPartitionsToTxn (KIP-890): for each
// partition, nil if it is in the producer's ongoing transaction and
// ErrTransactionAbortable if not; or one error for all of them.
func (s *state) verify(req AddRequest) ([]error, error) {
	m, err := s.check(req.TransactionalID, req.ProducerID, req.ProducerEpoch)
	if err != nil {
		return nil, err
	}
	if m.State == metadata.TxnPrepareCommit || m.State == metadata.TxnPrepareAbort {
		return nil, fmt.Errorf("%w: transactional id %q is %s", ErrConcurrentTransactions, m.TransactionalID, m.State)
	}
	errs := make([]error, len(req.Partitions))
	for i, p := range req.Partitions {
		in := false
		if m.State == metadata.TxnOngoing {
			if p.Topic == OffsetsTopic {
				in = m.hasGroupShard(p.Partition)
			} else {
				_, in = slices.BinarySearchFunc(m.Partitions, p, metadata.CompareTxnPartitions)
			}
		}
		if !in {
			errs[i] = fmt.Errorf("%w: %s-%d is not in the transaction of %q", ErrTransactionAbortable, p.Topic, p.Partition, m.TransactionalID)
		}
	}
	return errs, nil
}

// end handles an EndTxn: Kafka's handleEndTransaction. An ongoing
// transaction is prepared (stored as PrepareCommit or PrepareAbort) and the
// client answered; its markers are written afterwards. A retry after the
// preparation answers CONCURRENT_TRANSACTIONS until the transaction is
// complete and then succeeds; asking for the other outcome is
// INVALID_TXN_STATE.
func (s *state) end(now time.Time, req EndRequest, reply func(error)) {
	m, err := s.check(req.TransactionalID, req.ProducerID, req.ProducerEpoch)
	if err != nil {
		reply(err)
		return
	}
	if m.pending {
		reply(fmt.Errorf("%w: transactional id %q is changing state", ErrConcurrentTransactions, m.TransactionalID))
		return
	}
	want := map[bool]string{true: "commit", false: "abort"}[req.Commit]
	invalid := func() {
		reply(fmt.Errorf("%w: cannot %s transactional id %q in state %s", ErrInvalidTxnState, want, m.TransactionalID, m.State))
	}
	switch m.State {
	case metadata.TxnOngoing:
		next := m.next(now)
		next.State = metadata.TxnPrepareAbort
		if req.Commit {
			next.State = metadata.TxnPrepareCommit
		}
		s.write(m, next, func(err error) {
			if err == nil {
				s.startCompletion(m)
			}
			reply(err)
		})
	case metadata.TxnCompleteCommit, metadata.TxnCompleteAbort:
		if req.Commit == (m.State == metadata.TxnCompleteCommit) {
			reply(nil)
			return
		}
		invalid()
	case metadata.TxnPrepareCommit, metadata.TxnPrepareAbort:
		if req.Commit == (m.State == metadata.TxnPrepareCommit) {
			reply(fmt.Errorf("%w: transactional id %q is completing its %s", ErrConcurrentTransactions, m.TransactionalID, want))
			return
		}
		invalid()
	default:
		invalid()
	}
}

// completion returns a channel closed once the transaction req ended is
// complete (its markers written and CompleteCommit or CompleteAbort
// stored), or nil when there is nothing to wait for.
func (s *state) completion(req EndRequest) <-chan struct{} {
	m := s.txns[req.TransactionalID]
	if m == nil || !m.completing || m.ProducerID != req.ProducerID {
		return nil
	}
	return m.done
}

// startCompletion starts writing m's markers.
func (s *state) startCompletion(m *txnMeta) {
	if m.completing {
		return
	}
	m.completing = true
	m.done = make(chan struct{})
	s.fx.complete(completion{marker: m.marker(s.epoch), groups: slices.Clone(m.Groups)})
}

// finish moves a transaction whose markers and group offsets are written
// from PrepareCommit or PrepareAbort to CompleteCommit or CompleteAbort
// (Kafka's prepareComplete). mk identifies the completion; one that no
// longer matches the transaction has nothing left to do.
func (s *state) finish(now time.Time, mk Marker, reply func(error)) {
	m := s.txns[mk.TransactionalID]
	prepared := metadata.TxnPrepareAbort
	if mk.Commit {
		prepared = metadata.TxnPrepareCommit
	}
	if m == nil || m.ProducerID != mk.ProducerID || m.ProducerEpoch != mk.ProducerEpoch || m.State != prepared {
		reply(nil)
		return
	}
	if m.pending {
		reply(fmt.Errorf("%w: transactional id %q is changing state", ErrConcurrentTransactions, m.TransactionalID))
		return
	}
	next := m.next(now)
	next.State = metadata.TxnCompleteAbort
	if mk.Commit {
		next.State = metadata.TxnCompleteCommit
	}
	next.Partitions, next.Groups = nil, nil
	s.write(m, next, func(err error) {
		if err == nil {
			m.completing = false
			close(m.done)
			m.done = nil
			s.logger.Debug("completed transaction", "transactional_id", m.TransactionalID, "state", m.State,
				"producer_id", m.ProducerID, "producer_epoch", m.ProducerEpoch)
		}
		reply(err)
	})
}

// abortTimedOut aborts the transactions that have run longer than their
// timeout, fencing their producers: Kafka's abortTimedOutTransactions.
func (s *state) abortTimedOut(now time.Time) {
	for _, m := range s.txns {
		if m.State != metadata.TxnOngoing || m.pending || m.deleting || !now.After(m.StartTime.Add(m.Timeout)) {
			continue
		}
		s.fenceAndAbort(now, m, "transaction timed out", func(err error) {
			if err != nil {
				s.logger.Warn("aborting a timed-out transaction failed; retrying at the next check",
					"transactional_id", m.TransactionalID, "err", err)
			}
		})
	}
}

// expire removes transactional ids without a transaction in progress
// whose state has not changed for IDExpiration (Kafka's
// removeExpiredTransactionalIds).
func (s *state) expire(now time.Time) {
	for id, m := range s.txns {
		if inTransaction(m.State) || m.pending || m.deleting || now.Sub(m.LastUpdate) < s.cfg.IDExpiration {
			continue
		}
		if !m.stored {
			delete(s.txns, id)
			continue
		}
		m.deleting = true
		s.fx.remove(id, func(_ time.Time, err error) {
			m.deleting = false
			if err != nil {
				s.logger.Warn("removing an expired transactional id failed", "transactional_id", id, "err", err)
				return
			}
			if s.txns[id] == m {
				delete(s.txns, id)
			}
			s.logger.Info("removed expired transactional id", "transactional_id", id, "producer_id", m.ProducerID)
		})
	}
}

// describe handles DescribeTransactions for one id.
func (s *state) describe(id string) (Description, error) {
	m := s.txns[id]
	if m == nil || m.deleting {
		return Description{}, fmt.Errorf("%w: %q", ErrTransactionalIDNotFound, id)
	}
	return Description{
		TransactionalID: id,
		State:           string(m.State),
		ProducerID:      m.ProducerID,
		ProducerEpoch:   m.ProducerEpoch,
		Timeout:         m.Timeout,
		StartTime:       m.StartTime,
		Partitions:      slices.Clone(m.Partitions),
	}, nil
}

// list handles ListTransactions for the shard: Kafka's
// listTransactionStates.
func (s *state) list(now time.Time, f ListFilter) []Listing {
	var out []Listing
	for id, m := range s.txns {
		switch {
		case m.deleting:
		case len(f.ProducerIDs) > 0 && !slices.Contains(f.ProducerIDs, m.ProducerID):
		case len(f.States) > 0 && !slices.Contains(f.States, string(m.State)):
		case f.ByDuration && !m.StartTime.IsZero() && now.Sub(m.StartTime) <= f.MinDuration:
		case f.Match != nil && !f.Match(id):
		default:
			out = append(out, Listing{TransactionalID: id, ProducerID: m.ProducerID, State: string(m.State)})
		}
	}
	slices.SortFunc(out, func(a, b Listing) int { return strings.Compare(a.TransactionalID, b.TransactionalID) })
	return out
}
