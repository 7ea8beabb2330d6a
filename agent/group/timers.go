package group

import (
	"container/heap"
	"time"
)

// timerKind says what a timer entry is for.
type timerKind uint8

const (
	timerSession timerKind = iota // a member's session (or first-join) deadline
	timerPending                  // a pending member id (MEMBER_ID_REQUIRED) expires
	timerJoin                     // the rebalance's join phase ends
	timerSync                     // members that did not SyncGroup are removed
)

// timer is one entry of a shard's timer queue. Entries are never removed
// early: each says what it is for, and is ignored when it fires if that
// no longer holds (the member left, the deadline moved, a newer join
// timer replaced it).
type timer struct {
	at     time.Time
	g      *group
	kind   timerKind
	member *member // timerSession
	id     string  // timerPending
	seq    uint64  // timerJoin, timerSync
}

// timers is a min-heap of timer entries by time.
type timers []*timer

func (h timers) Len() int           { return len(h) }
func (h timers) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timers) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timers) Push(x any)        { *h = append(*h, x.(*timer)) }
func (h *timers) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return t
}

func (h *timers) add(t *timer) { heap.Push(h, t) }

// next returns the earliest entry's time.
func (h timers) next() (time.Time, bool) {
	if len(h) == 0 {
		return time.Time{}, false
	}
	return h[0].at, true
}

// popDue removes and returns the earliest entry if it is due at now.
func (h *timers) popDue(now time.Time) *timer {
	if len(*h) == 0 || (*h)[0].at.After(now) {
		return nil
	}
	return heap.Pop(h).(*timer)
}
