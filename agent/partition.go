package agent

import (
	"sync"
	"sync/atomic"

	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/metadata"
)

// partition is one partition replica hosted by this agent. It is safe for
// concurrent use: the log serializes appends, the high watermark and leader
// epoch are atomics, and fetch waiters are guarded by mu.
type partition struct {
	topic   string
	topicID metadata.TopicID
	index   int32
	dir     string
	log     *log.Log

	cfg         atomic.Pointer[topicConfig]
	hw          atomic.Int64 // high watermark: first offset not visible to consumers
	leaderEpoch atomic.Int32
	isLeader    atomic.Bool
	isrSize     atomic.Int32

	mu      sync.Mutex
	waiters map[*fetchWaiter]struct{} // guarded by mu
}

// fetchWaiter is a long-polling fetch waiting for any of its partitions'
// high watermarks to move. ch has room for one wake-up so that a wake never
// blocks the appender.
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

func (p *partition) addWaiter(w *fetchWaiter) {
	p.mu.Lock()
	if p.waiters == nil {
		p.waiters = make(map[*fetchWaiter]struct{})
	}
	p.waiters[w] = struct{}{}
	p.mu.Unlock()
}

func (p *partition) removeWaiter(w *fetchWaiter) {
	p.mu.Lock()
	delete(p.waiters, w)
	p.mu.Unlock()
}

// wakeWaiters wakes every fetch waiting on this partition.
func (p *partition) wakeWaiters() {
	p.mu.Lock()
	for w := range p.waiters {
		w.wake()
	}
	p.mu.Unlock()
}

// advanceHighWatermark raises the high watermark to hw (never lowers it) and
// wakes waiting fetches if it moved.
func (p *partition) advanceHighWatermark(hw int64) {
	for {
		cur := p.hw.Load()
		if hw <= cur {
			return
		}
		if p.hw.CompareAndSwap(cur, hw) {
			p.wakeWaiters()
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

// append writes records (one or more validated batches) as leader and moves
// the high watermark. With a single replica every appended record is
// committed at once; replication (a later layer) moves it instead.
func (p *partition) append(records []byte, opts log.AppendOptions) (log.AppendResult, error) {
	res, err := p.log.Append(records, opts)
	if err != nil {
		return res, err
	}
	if !res.Duplicate {
		p.advanceHighWatermark(res.LastOffset + 1)
	}
	return res, nil
}
