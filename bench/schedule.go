package bench

import (
	"context"
	"time"
)

// schedule is a fixed send timeline: send i is due at start + i/rate
// seconds. Senders compute every due time from start instead of sleeping a
// fixed interval after the previous send, so a late send does not push the
// rest of the timeline back, and latency measured from the due time
// includes any time a record waited for an earlier one (no coordinated
// omission).
//
// rate must be in [1, MaxRate]; that keeps every product below in int64.
type schedule struct {
	start time.Time
	rate  int64
}

// offset returns when send i is due, relative to start: floor(i*1s/rate).
func (s schedule) offset(i int64) time.Duration {
	sec := int64(time.Second)
	return time.Duration(i/s.rate*sec + i%s.rate*sec/s.rate)
}

// at returns when send i is due.
func (s schedule) at(i int64) time.Time { return s.start.Add(s.offset(i)) }

// countWithin returns how many sends are due strictly before start+d:
// the number of i >= 0 with offset(i) < d, which is ceil(d*rate/1s).
func (s schedule) countWithin(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	sec := int64(time.Second)
	whole, frac := int64(d)/sec, int64(d)%sec
	return whole*s.rate + (frac*s.rate+sec-1)/sec
}

// sendCount returns how many records a paced scenario sends: c.Records if
// set, otherwise every send due within c.Duration.
func (c Config) sendCount(rate int64) int64 {
	if c.Records > 0 {
		return c.Records
	}
	return schedule{rate: rate}.countWithin(c.Duration)
}

// pacerChunk bounds one sleep so that cancellation is noticed promptly even
// at very low rates.
const pacerChunk = 10 * time.Millisecond

// sleepUntil blocks until t or until ctx is done, returning ctx.Err() in
// the latter case. It returns at once if t has passed.
func (p *pacer) sleepUntil(ctx context.Context, t time.Time) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := time.Until(t)
		if d <= 0 {
			return nil
		}
		p.sleep(min(d, pacerChunk))
	}
}
