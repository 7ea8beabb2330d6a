package agent

import (
	"sync"
	"sync/atomic"

	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/agent/replica"
	"github.com/strata-io/strata/metadata"
)

// partition is one partition replica hosted by this agent: the leader's,
// or a follower's. It is safe for concurrent use: the log serializes
// appends, role and watermarks are atomics, and waiters are guarded by mu.
type partition struct {
	topic   string
	topicID metadata.TopicID
	index   int32
	dir     string
	log     *log.Log
	counts  *partitionCounters

	cfg         atomic.Pointer[topicConfig]
	hw          atomic.Int64 // high watermark: first offset not visible to consumers
	leaderEpoch atomic.Int32 // the epoch in metadata (leading or following)
	// leader is the replication state while this agent leads the
	// partition, nil while it follows (or the partition is offline).
	leader atomic.Pointer[replica.Leader]
	// following is the leader this replica fetches from, -1 when leading
	// or when there is no live leader.
	following atomic.Int32
	// leaderHW is the high watermark the leader last reported to this
	// follower (DescribeLogDirs reports the follower's lag behind it).
	leaderHW atomic.Int64
	// offloadedUpTo is how far the local log is offloaded to the object
	// tier (the local log may delete below it); see tierRetention.
	offloadedUpTo atomic.Int64
	// remoteStart is a log start offset set by DeleteRecords below the
	// local log start, within the object tier.
	remoteStart atomic.Int64

	mu         sync.Mutex
	waiters    map[*fetchWaiter]struct{} // guarded by mu; woken when the HW moves
	leoWaiters map[*fetchWaiter]struct{} // guarded by mu; woken on every append
}

// fetchWaiter is a request waiting for a partition to change: a
// long-polling fetch, or an acks=all produce waiting for the high
// watermark. ch has room for one wake-up so that waking never blocks.
type fetchWaiter struct {
	ch chan struct{}
}

func newFetchWaiter() *fetchWaiter { return &fetchWaiter{ch: make(chan struct{}, 1)} }

func (w *fetchWaiter) wake() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// addWaiter registers w to be woken when the high watermark moves, or with
// onAppend on every append (followers' fetches wait for new data, not for
// it to be committed).
func (p *partition) addWaiter(w *fetchWaiter, onAppend bool) {
	p.mu.Lock()
	m := &p.waiters
	if onAppend {
		m = &p.leoWaiters
	}
	if *m == nil {
		*m = make(map[*fetchWaiter]struct{})
	}
	(*m)[w] = struct{}{}
	p.mu.Unlock()
}

func (p *partition) removeWaiter(w *fetchWaiter) {
	p.mu.Lock()
	delete(p.waiters, w)
	delete(p.leoWaiters, w)
	p.mu.Unlock()
}

// wakeWaiters wakes the high-watermark waiters, and with all the append
// waiters too.
func (p *partition) wakeWaiters(all bool) {
	p.mu.Lock()
	for w := range p.waiters {
		w.wake()
	}
	if all {
		for w := range p.leoWaiters {
			w.wake()
		}
	}
	p.mu.Unlock()
}

// advanceHighWatermark raises the high watermark to hw (never lowers it) and
// wakes waiting fetches and produces if it moved.
func (p *partition) advanceHighWatermark(hw int64) {
	for {
		cur := p.hw.Load()
		if hw <= cur {
			return
		}
		if p.hw.CompareAndSwap(cur, hw) {
			p.wakeWaiters(false)
			return
		}
	}
}

// highWatermark is the offset up to which consumers may read. It never
// exceeds the log end offset (retention or truncation cannot leave it
// dangling either).
func (p *partition) highWatermark() int64 {
	hw := p.hw.Load()
	if leo := p.log.LogEndOffset(); hw > leo {
		return leo
	}
	return hw
}

// isLeader reports whether this agent leads the partition now.
func (p *partition) isLeader() bool { return p.leader.Load() != nil }

// isrSize is the size of the ISR the leader works with (0 when not leading).
func (p *partition) isrSize() int {
	if l := p.leader.Load(); l != nil {
		return l.ISRSize()
	}
	return 0
}

// append writes records (one or more validated batches) as leader and
// moves the high watermark as far as the ISR allows: at once when the
// leader is alone in the ISR, otherwise when followers fetch.
func (p *partition) append(records []byte, opts log.AppendOptions) (log.AppendResult, error) {
	l := p.leader.Load()
	if l == nil {
		return log.AppendResult{}, errNotLeader
	}
	res, err := p.log.Append(records, opts)
	if err != nil {
		return res, err
	}
	if !res.Duplicate {
		p.advanceHighWatermark(l.OnAppend(res.LastOffset + 1))
		p.wakeWaiters(true)
	}
	return res, nil
}
