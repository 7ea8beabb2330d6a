package replica

import (
	"slices"
	"sync"
	"time"
)

// follower is what the leader knows of one follower replica.
type follower struct {
	leo int64 // its log end offset, from its last fetch; -1 before one
	// lastCaughtUp is the last time its LEO was known to reach the
	// leader's LEO (Kafka's lastCaughtUpTimeMs).
	lastCaughtUp time.Time
	// Bookkeeping of the previous fetch, for the caught-up rule.
	prevFetchTime   time.Time
	prevFetchLeoEnd int64 // leader LEO at the previous fetch
	// canJoin is set by a fetch that shows this out-of-sync follower has
	// caught up; only such a fetch brings a follower back into the ISR.
	canJoin bool
}

// Leader is the replication state of a partition on its leader.
type Leader struct {
	self       int32
	epoch      int32
	epochStart int64 // leader LEO when this epoch began

	mu        sync.Mutex
	replicas  []int32             // guarded by mu
	isr       []int32             // guarded by mu; sorted
	followers map[int32]*follower // guarded by mu
	leo       int64               // guarded by mu; leader's LEO
	hw        int64               // guarded by mu
}

// NewLeader starts tracking a partition that self leads in epoch, with the
// given replicas and ISR (from metadata), the leader's current LEO and the
// HW it had (a new leader keeps the old HW until followers report in, as
// Kafka does; it never moves backwards). All followers count as caught up
// now, so none leaves the ISR before it had the lag limit to fetch.
func NewLeader(self, epoch int32, replicas, isr []int32, leo, hw int64, now time.Time) *Leader {
	l := &Leader{
		self: self, epoch: epoch, epochStart: leo,
		replicas: slices.Clone(replicas), followers: make(map[int32]*follower),
		leo: leo, hw: min(hw, leo),
	}
	for _, r := range replicas {
		if r != self {
			l.followers[r] = &follower{leo: -1, lastCaughtUp: now, prevFetchTime: now}
		}
	}
	l.isr = normalizeISR(isr, self)
	l.recomputeHW()
	return l
}

func normalizeISR(isr []int32, self int32) []int32 {
	out := slices.Clone(isr)
	if !slices.Contains(out, self) {
		out = append(out, self)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Epoch is the leader epoch this state belongs to.
func (l *Leader) Epoch() int32 { return l.epoch }

// HighWatermark returns the current high watermark.
func (l *Leader) HighWatermark() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hw
}

// ISR returns the current in-sync replica set (sorted).
func (l *Leader) ISR() []int32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.isr)
}

// ISRSize is len(ISR()) without the copy.
func (l *Leader) ISRSize() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.isr)
}

// OnAppend records that the leader's LEO advanced to leo and returns the
// new HW (which moves at once when the leader is the only ISR member).
func (l *Leader) OnAppend(leo int64) (hw int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leo = max(l.leo, leo)
	l.recomputeHW()
	return l.hw
}

// OnFollowerFetch records a fetch by follower id starting at fetchOffset
// (the follower's LEO) at time now, and returns the new HW. It reports
// known=false for an id that is not a replica of the partition.
func (l *Leader) OnFollowerFetch(id int32, fetchOffset int64, now time.Time) (hw int64, known bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.followers[id]
	if !ok {
		return l.hw, false
	}
	// Kafka's rule: caught up now if the fetch reaches the leader's LEO;
	// otherwise, if it reaches the LEO the leader had at the previous
	// fetch, it was caught up as of that fetch.
	switch {
	case fetchOffset >= l.leo:
		f.lastCaughtUp = now
	case fetchOffset >= f.prevFetchLeoEnd && f.prevFetchTime.After(f.lastCaughtUp):
		f.lastCaughtUp = f.prevFetchTime
	}
	f.leo = fetchOffset
	f.prevFetchTime, f.prevFetchLeoEnd = now, l.leo
	if !slices.Contains(l.isr, id) && f.leo >= l.hw && f.leo >= l.epochStart {
		f.canJoin = true
	}
	l.recomputeHW()
	return l.hw, true
}

// recomputeHW sets hw to the smallest LEO in the ISR; it never decreases.
// The caller holds mu.
func (l *Leader) recomputeHW() {
	hw := l.leo
	for _, r := range l.isr {
		if r == l.self {
			continue
		}
		f := l.followers[r]
		if f == nil || f.leo < 0 {
			return // an ISR member that has not fetched yet holds the HW
		}
		hw = min(hw, f.leo)
	}
	if hw > l.hw {
		l.hw = hw
	}
}

// ProposeISR returns the ISR the leader wants: without followers that have
// not caught up for longer than maxLag, and with followers whose fetches
// since they left have reached the HW (and the start of this epoch).
// changed is false when it equals the current ISR.
func (l *Leader) ProposeISR(now time.Time, maxLag time.Duration) (isr []int32, changed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	isr = []int32{l.self}
	for _, r := range l.replicas {
		f := l.followers[r]
		if f == nil {
			continue
		}
		in := slices.Contains(l.isr, r)
		switch {
		case in && now.Sub(f.lastCaughtUp) <= maxLag:
			isr = append(isr, r)
		case !in && f.canJoin && f.leo >= l.hw && now.Sub(f.lastCaughtUp) <= maxLag:
			isr = append(isr, r)
		}
	}
	slices.Sort(isr)
	return isr, !slices.Equal(isr, l.isr)
}

// SetISR installs an ISR that was written to metadata and returns the new
// HW (shrinking the ISR can move it up).
func (l *Leader) SetISR(isr []int32) (hw int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.isr = normalizeISR(isr, l.self)
	for _, f := range l.followers {
		// A follower must show progress again, by a fetch, before it
		// (re)joins: one just dropped must not come straight back on the
		// strength of a fetch from before it died.
		f.canJoin = false
	}
	l.recomputeHW()
	return l.hw
}

// SetReplicas changes the replica set (a reassignment added or removed
// replicas): new followers start as not yet fetched, removed ones are
// forgotten. The ISR is left to SetISR.
func (l *Leader) SetReplicas(replicas []int32, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.replicas = slices.Clone(replicas)
	for _, r := range replicas {
		if _, ok := l.followers[r]; !ok && r != l.self {
			l.followers[r] = &follower{leo: -1, lastCaughtUp: now, prevFetchTime: now}
		}
	}
	for id := range l.followers {
		if !slices.Contains(replicas, id) {
			delete(l.followers, id)
		}
	}
}

// Replicas returns the replica set.
func (l *Leader) Replicas() []int32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.replicas)
}

// FollowerLEO returns what the leader knows of a follower's LEO (-1 if it
// has not fetched).
func (l *Leader) FollowerLEO(id int32) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.followers[id]; ok {
		return f.leo
	}
	return -1
}
