package group

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

// shard is one coordinator shard this agent owns. Its loop goroutine owns
// the shard's state: requests and store completions reach it as events,
// so no lock guards the groups and none is held across store I/O. Its
// writer goroutine applies the shard's store writes one at a time, in the
// order the loop queued them, each fenced by the shard's claim.
type shard struct {
	c      *Coordinator
	claim  metadata.CoordinatorClaim
	loop   *shards.Loop[*state] // Run closes it once the loop and the writer have exited
	loaded atomic.Bool
	ctx    context.Context // ends when the shard stops
	cancel context.CancelFunc
}

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

// Run loads the shard's groups and then serves events until the shard
// stops; it implements shards.Shard.
func (sh *shard) Run() {
	defer sh.loop.Close()
	var writer sync.WaitGroup
	writer.Go(func() { sh.loop.WriteLoop(sh.ctx) })
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
		case fn := <-sh.loop.Events():
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
	sh.loop.Enqueue(run, done)
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
