//go:build !linux

package bench

import "time"

// pacer sleeps one goroutine until a deadline. Outside Linux it uses the
// runtime timer, whose precision varies by platform. It is not safe for
// concurrent use.
type pacer struct{}

func newPacer() *pacer { return &pacer{} }

func (p *pacer) close() {}

func (p *pacer) sleep(d time.Duration) { time.Sleep(d) }
