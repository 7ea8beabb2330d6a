//go:build linux

package bench

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// pacer sleeps one goroutine with sub-millisecond precision. The Go runtime
// timer wakes a 500 µs sleep about 0.5-1 ms late on Linux, which at 2,000
// records/s would be charged to the broker as latency; nanosleep(2) on a
// thread whose timer slack is 1 ns wakes within tens of microseconds,
// without spinning a core the broker needs.
//
// A pacer locks its goroutine to its OS thread: create it, use it and close
// it on one goroutine. It is not safe for concurrent use.
type pacer struct{}

// newPacer locks the calling goroutine to its thread and makes that
// thread's timers precise.
func newPacer() *pacer {
	runtime.LockOSThread()
	// Best effort: without it nanosleep still works, with the default
	// 50 µs slack.
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	return &pacer{}
}

// close restores the thread's default timer slack and unlocks it.
func (p *pacer) close() {
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 0, 0, 0, 0)
	runtime.UnlockOSThread()
}

// sleep blocks the thread for about d. An interrupted sleep (EINTR, e.g.
// from a runtime preemption signal) returns early; sleepUntil loops.
func (p *pacer) sleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	_ = unix.Nanosleep(&ts, nil)
}
