package group

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/metadata"
)

// shard is one coordinator shard this agent owns. Its loop goroutine owns
// the shard's state: requests and store completions reach it as events,
// so no lock guards the groups and none is held across store I/O. Its
// writer goroutine applies the shard's store writes one at a time, in the
// order the loop queued them, each fenced by the shard's claim.
type shard struct {
	c      *Coordinator
	claim  metadata.CoordinatorClaim
	events chan func(st *state, now time.Time)
	loaded atomic.Bool
	ctx    context.Context // ends when the shard stops
	cancel context.CancelFunc
	done   chan struct{} // closed once the loop and the writer have exited

	qmu   sync.Mutex
	queue []writeOp     // guarded by qmu
	qsig  chan struct{} // has room for one wake-up of the writer
}

// writeOp is one queued store write.
type writeOp struct {
	run  func(ctx context.Context) error
	done doneFunc
}

// eventBuffer bounds how many requests may wait for a shard's loop.
const eventBuffer = 256

func newShard(c *Coordinator, claim metadata.CoordinatorClaim) *shard {
	ctx, cancel := context.WithCancel(c.ctx)
	return &shard{
		c:      c,
		claim:  claim,
		events: make(chan func(*state, time.Time), eventBuffer),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		qsig:   make(chan struct{}, 1),
	}
}

// run loads the shard's groups and then serves events until the shard
// stops.
func (sh *shard) run() {
	defer close(sh.done)
	var writer sync.WaitGroup
	writer.Go(sh.writeLoop)
	defer writer.Wait()
	defer sh.cancel()
	st := newState(sh.c.cfg, sh.c.logger.With("shard", sh.claim.Shard.Index), sh, sh.c.view)
	if !sh.load(st) {
		return
	}
	sh.loaded.Store(true)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := time.Hour
		if at, ok := st.nextDeadline(); ok {
			wait = time.Until(at)
		}
		timer.Reset(wait)
		select {
		case <-sh.ctx.Done():
			return
		case fn := <-sh.events:
			fn(st, time.Now())
		case <-timer.C:
			st.fire(time.Now())
		}
	}
}

// Load retry backoff bounds.
const (
	loadMinBackoff = 50 * time.Millisecond
	loadMaxBackoff = 10 * time.Second
)

// load reads the shard's groups from the store, retrying until it succeeds
// or the shard stops.
func (sh *shard) load(st *state) bool {
	start := time.Now()
	backoff := loadMinBackoff
	for {
		stored, err := sh.c.store.LoadGroups(sh.ctx, sh.claim.Shard)
		if err == nil {
			st.restore(stored, time.Now())
			level := slog.LevelDebug
			if len(stored) > 0 {
				level = slog.LevelInfo
			}
			sh.c.logger.Log(sh.ctx, level, "loaded group coordinator shard", "shard", sh.claim.Shard.Index,
				"groups", len(stored), "took", time.Since(start).Round(time.Millisecond))
			return true
		}
		if sh.ctx.Err() != nil {
			return false
		}
		sh.c.logger.Warn("loading group coordinator shard failed; retrying", "shard", sh.claim.Shard.Index, "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-sh.ctx.Done():
			t.Stop()
			return false
		}
		backoff = min(2*backoff, loadMaxBackoff)
	}
}

// enqueue queues a write for the writer.
func (sh *shard) enqueue(run func(ctx context.Context) error, done doneFunc) {
	sh.qmu.Lock()
	sh.queue = append(sh.queue, writeOp{run: run, done: done})
	sh.qmu.Unlock()
	select {
	case sh.qsig <- struct{}{}:
	default:
	}
}

// writeLoop applies queued writes in order and hands each result back to
// the loop. A write fenced by a newer claim means the shard was lost.
func (sh *shard) writeLoop() {
	for {
		sh.qmu.Lock()
		var op writeOp
		ok := len(sh.queue) > 0
		if ok {
			op = sh.queue[0]
			sh.queue[0] = writeOp{}
			sh.queue = sh.queue[1:]
		}
		sh.qmu.Unlock()
		if !ok {
			select {
			case <-sh.qsig:
				continue
			case <-sh.ctx.Done():
				return
			}
		}
		err := op.run(sh.ctx)
		if errors.Is(err, metadata.ErrFenced) {
			sh.c.abandon(sh, err)
		}
		select {
		case sh.events <- func(_ *state, now time.Time) { op.done(now, err) }:
		case <-sh.ctx.Done():
			return
		}
	}
}

func (sh *shard) putGroup(g metadata.Group, done doneFunc) {
	sh.enqueue(func(ctx context.Context) error { return sh.c.store.PutGroup(ctx, sh.claim, g) }, done)
}

func (sh *shard) commitOffsets(group string, offsets []metadata.CommittedOffset, done doneFunc) {
	sh.enqueue(func(ctx context.Context) error { return sh.c.store.CommitOffsets(ctx, sh.claim, group, offsets) }, done)
}

func (sh *shard) commitTxnOffsets(group string, producerID int64, producerEpoch int16, offsets []metadata.CommittedOffset, done doneFunc) {
	sh.enqueue(func(ctx context.Context) error {
		return sh.c.store.CommitTxnOffsets(ctx, sh.claim, group, producerID, producerEpoch, offsets)
	}, done)
}

func (sh *shard) completeTxnOffsets(group string, producerID int64, commit []metadata.CommittedOffset, done doneFunc) {
	sh.enqueue(func(ctx context.Context) error {
		return sh.c.store.CompleteTxnOffsets(ctx, sh.claim, group, producerID, commit)
	}, done)
}

func (sh *shard) deleteOffsets(group string, partitions []metadata.GroupPartition, done doneFunc) {
	sh.enqueue(func(ctx context.Context) error { return sh.c.store.DeleteOffsets(ctx, sh.claim, group, partitions) }, done)
}

func (sh *shard) deleteGroup(group string, done doneFunc) {
	sh.enqueue(func(ctx context.Context) error { return sh.c.store.DeleteGroup(ctx, sh.claim, group) }, done)
}

// post runs fn on the shard's loop without waiting for it.
func (sh *shard) post(ctx context.Context, fn func(st *state, now time.Time)) error {
	select {
	case sh.events <- fn:
		return nil
	case <-sh.done:
		return ErrNotCoordinator
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call runs fn on the shard's loop and waits for the reply it passes to
// its callback (at once, or later: a JoinGroup waits for the rebalance).
func call[T any](ctx context.Context, sh *shard, fn func(st *state, now time.Time, reply func(T))) (T, error) {
	ch := make(chan T, 1)
	var zero T
	err := sh.post(ctx, func(st *state, now time.Time) {
		fn(st, now, func(v T) {
			select {
			case ch <- v:
			default: // answered already; the state machine answers once
			}
		})
	})
	if err != nil {
		return zero, err
	}
	select {
	case v := <-ch:
		return v, nil
	case <-sh.done:
		select {
		case v := <-ch:
			return v, nil
		default:
		}
		return zero, ErrNotCoordinator
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}
