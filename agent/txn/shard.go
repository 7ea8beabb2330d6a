package txn

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

// shard is one coordinator shard this agent owns. Its loop goroutine owns
// the shard's state: requests, store completions and transaction
// completions reach it as events, so no lock guards the transactions and
// none is held across I/O. Its writer goroutine applies the shard's store
// writes one at a time, in the order the loop queued them, each fenced by
// the shard's claim. Each prepared transaction gets a goroutine that
// writes its markers and completes its groups' offsets, retrying until it
// succeeds or the shard stops.
type shard struct {
	c      *Coordinator
	claim  metadata.CoordinatorClaim
	loop   *shards.Loop[*state] // Run closes it once every goroutine of the shard has exited
	loaded atomic.Bool
	ctx    context.Context // ends when the shard stops
	cancel context.CancelFunc

	// workers are the completion goroutines; only the loop adds to it.
	workers sync.WaitGroup
}

// Retry backoff bounds for loading a shard and completing transactions.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 10 * time.Second
)

func newShard(ctx context.Context, c *Coordinator, claim metadata.CoordinatorClaim) *shard {
	ctx, cancel := context.WithCancel(ctx)
	sh := &shard{c: c, claim: claim, ctx: ctx, cancel: cancel}
	sh.loop = shards.NewLoop[*state](ErrNotCoordinator, func(err error) { c.shards.Abandon(sh, err) })
	return sh
}

// Claim implements shards.Shard.
func (sh *shard) Claim() metadata.CoordinatorClaim { return sh.claim }

// Stop implements shards.Shard.
func (sh *shard) Stop() { sh.cancel() }

// Run loads the shard's transactions and then serves events until the
// shard stops; it implements shards.Shard.
func (sh *shard) Run() {
	defer sh.loop.Close()
	var writer sync.WaitGroup
	writer.Go(func() { sh.loop.WriteLoop(sh.ctx) })
	defer writer.Wait()
	defer sh.workers.Wait()
	defer sh.cancel()
	st := newState(sh.c.cfg, sh.c.logger.With("shard", sh.claim.Shard.Index), sh)
	if !sh.load(st) {
		return
	}
	sh.loaded.Store(true)
	for {
		select {
		case <-sh.ctx.Done():
			return
		case fn := <-sh.loop.Events():
			fn(st, sh.c.now())
		}
	}
}

// load takes the shard's next coordinator epoch and reads its
// transactions, retrying until it succeeds or the shard stops; prepared
// transactions resume their completion.
func (sh *shard) load(st *state) bool {
	start := time.Now()
	var epoch int32
	err := sh.retry(func() error {
		if epoch == 0 {
			e, err := sh.c.store.BumpCoordinatorEpoch(sh.ctx, sh.claim)
			if err != nil {
				return err
			}
			epoch = e
		}
		stored, err := sh.c.store.LoadTransactions(sh.ctx, sh.claim.Shard)
		if err != nil {
			return err
		}
		st.restore(stored, epoch)
		level := slog.LevelDebug
		if len(stored) > 0 {
			level = slog.LevelInfo
		}
		sh.c.logger.Log(sh.ctx, level, "loaded transaction coordinator shard", "shard", sh.claim.Shard.Index,
			"coordinator_epoch", epoch, "transactional_ids", len(stored), "took", time.Since(start).Round(time.Millisecond))
		return nil
	}, "loading transaction coordinator shard")
	return err == nil
}

// retry calls fn until it succeeds, backing off between attempts, or the
// shard stops (returning its context's error). A fenced write means the
// shard was lost: it stops the shard.
func (sh *shard) retry(fn func() error, what string, attrs ...any) error {
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if errors.Is(err, metadata.ErrFenced) {
			sh.c.shards.Abandon(sh, err)
		}
		if sh.ctx.Err() != nil {
			return sh.ctx.Err()
		}
		level := slog.LevelDebug
		if attempt >= 3 {
			level = slog.LevelWarn
		}
		sh.c.logger.Log(sh.ctx, level, what+" failed; retrying",
			append([]any{"shard", sh.claim.Shard.Index, "err", err, "attempt", attempt, "retry_in", backoff}, attrs...)...)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-sh.ctx.Done():
			t.Stop()
			return sh.ctx.Err()
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// enqueue queues a write for the writer.
func (sh *shard) enqueue(run func(ctx context.Context) error, done doneFunc) {
	sh.loop.Enqueue(run, done)
}

// put implements effects.
func (sh *shard) put(t metadata.Transaction, done doneFunc) {
	sh.enqueue(func(ctx context.Context) error { return sh.c.store.PutTransaction(ctx, sh.claim, t) }, done)
}

// remove implements effects.
func (sh *shard) remove(id string, done doneFunc) {
	sh.enqueue(func(ctx context.Context) error { return sh.c.store.DeleteTransaction(ctx, sh.claim, id) }, done)
}

// complete implements effects: it runs on the loop, so the WaitGroup never
// grows while run waits for it.
func (sh *shard) complete(c completion) {
	sh.workers.Go(func() { sh.runCompletion(c) })
}

// runCompletion ends one prepared transaction: it writes the markers to
// every partition (if it has any), completes the offsets of every group,
// and then stores CompleteCommit or CompleteAbort, each step retried until
// it succeeds.
func (sh *shard) runCompletion(c completion) {
	m := c.marker
	attrs := []any{"transactional_id", m.TransactionalID, "producer_id", m.ProducerID, "producer_epoch", m.ProducerEpoch, "commit", m.Commit}
	if len(m.Partitions) > 0 { // a transaction may only have committed offsets
		err := sh.retry(func() error { return sh.c.markers.WriteMarkers(sh.ctx, m) }, "writing transaction markers", attrs...)
		if err != nil {
			return
		}
	}
	for _, g := range c.groups {
		err := sh.retry(func() error {
			return sh.c.groups.CompleteTxnOffsets(sh.ctx, g, m.ProducerID, m.ProducerEpoch, m.Commit)
		}, "completing transactional offsets", append(attrs, "group", g)...)
		if err != nil {
			return
		}
	}
	_ = sh.retry(func() error {
		res, err := shards.Call(sh.ctx, sh.loop, func(st *state, now time.Time, reply func(error)) { st.finish(now, m, reply) })
		if err != nil {
			return err
		}
		return res
	}, "storing the transaction's completion", attrs...)
}
