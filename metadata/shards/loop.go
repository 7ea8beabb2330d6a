package shards

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/strata-io/strata/metadata"
)

// eventBuffer bounds how many events may wait for a shard's loop.
const eventBuffer = 256

// Loop is the plumbing of a served shard whose state (St) one goroutine
// owns: it carries events (requests, store results) to that goroutine,
// and applies the shard's store writes one at a time, in the order they
// were queued, on a writer goroutine (WriteLoop) that hands each result
// back as an event. It is safe for concurrent use.
type Loop[St any] struct {
	events     chan func(st St, now time.Time)
	done       chan struct{} // closed by Close
	notServing error
	fenced     func(err error)

	qmu   sync.Mutex
	queue []writeOp     // guarded by qmu
	qsig  chan struct{} // has room for one wake-up of the writer
}

// writeOp is one queued store write.
type writeOp struct {
	run  func(ctx context.Context) error
	done func(now time.Time, err error)
}

// NewLoop returns a Loop. Post and Call fail with notServing once the
// shard has stopped; fenced is called when a write fails with
// metadata.ErrFenced (the shard's claim is gone).
func NewLoop[St any](notServing error, fenced func(err error)) *Loop[St] {
	return &Loop[St]{
		events:     make(chan func(St, time.Time), eventBuffer),
		done:       make(chan struct{}),
		notServing: notServing,
		fenced:     fenced,
		qsig:       make(chan struct{}, 1),
	}
}

// Events is what the goroutine that owns the state serves: it calls each
// event with the state and the current time.
func (l *Loop[St]) Events() <-chan func(st St, now time.Time) { return l.events }

// Close records that the shard's goroutines have exited for good: Post
// then fails and Call stops waiting.
func (l *Loop[St]) Close() { close(l.done) }

// Enqueue queues a write for the writer; done gets its result on the
// state's goroutine.
func (l *Loop[St]) Enqueue(run func(ctx context.Context) error, done func(now time.Time, err error)) {
	l.qmu.Lock()
	l.queue = append(l.queue, writeOp{run: run, done: done})
	l.qmu.Unlock()
	select {
	case l.qsig <- struct{}{}:
	default:
	}
}

// WriteLoop applies queued writes in order and hands each result back to
// the state's goroutine, until ctx ends. A write fenced by a newer claim
// means the shard was lost.
func (l *Loop[St]) WriteLoop(ctx context.Context) {
	for {
		l.qmu.Lock()
		var op writeOp
		ok := len(l.queue) > 0
		if ok {
			op = l.queue[0]
			l.queue[0] = writeOp{}
			l.queue = l.queue[1:]
		}
		l.qmu.Unlock()
		if !ok {
			select {
			case <-l.qsig:
				continue
			case <-ctx.Done():
				return
			}
		}
		err := op.run(ctx)
		if errors.Is(err, metadata.ErrFenced) {
			l.fenced(err)
		}
		select {
		case l.events <- func(_ St, now time.Time) { op.done(now, err) }:
		case <-ctx.Done():
			return
		}
	}
}

// Post runs fn on the state's goroutine without waiting for it.
func (l *Loop[St]) Post(ctx context.Context, fn func(st St, now time.Time)) error {
	select {
	case l.events <- fn:
		return nil
	case <-l.done:
		return l.notServing
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Call runs fn on l's state goroutine and waits for the reply it passes
// to its callback (at once, or later: once a store write completes, or a
// JoinGroup's rebalance does).
func Call[T, St any](ctx context.Context, l *Loop[St], fn func(st St, now time.Time, reply func(T))) (T, error) {
	ch := make(chan T, 1)
	var zero T
	err := l.Post(ctx, func(st St, now time.Time) {
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
	case <-l.done:
		select {
		case v := <-ch:
			return v, nil
		default:
		}
		return zero, l.notServing
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}
