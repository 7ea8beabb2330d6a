package bench

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

func TestScheduleOffset(t *testing.T) {
	for _, tc := range []struct {
		rate, i int64
		want    time.Duration
	}{
		{2000, 0, 0},
		{2000, 1, 500 * time.Microsecond},
		{2000, 2000, time.Second},
		{2000, 2001, time.Second + 500*time.Microsecond},
		{3, 1, 333_333_333},
		{3, 2, 666_666_666},
		{3, 3, time.Second},
		{3, 3_000_000_001, 1_000_000_000*time.Second + 333_333_333},
		{MaxRate, 1, 10},
		{MaxRate, 3 * MaxRate, 3 * time.Second},
		{1, 86_400, 24 * time.Hour},
	} {
		if got := (schedule{rate: tc.rate}).offset(tc.i); got != tc.want {
			t.Errorf("rate %d: offset(%d) = %v, want %v", tc.rate, tc.i, got, tc.want)
		}
	}
}

func TestScheduleAtIsAnchoredToStart(t *testing.T) {
	start := time.Now()
	s := schedule{start: start, rate: 7}
	for i := range int64(100) {
		if got := s.at(i).Sub(start); got != s.offset(i) {
			t.Fatalf("at(%d) - start = %v, want %v", i, got, s.offset(i))
		}
	}
}

func TestScheduleCountWithin(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		rate int64
		want int64
	}{
		{10 * time.Second, 2000, 20_000},
		{300 * time.Millisecond, 1000, 300},
		{time.Second, 3, 3},
		{time.Second + 1, 3, 4},
		{1, 1, 1},
		{0, 2000, 0},
		{-time.Second, 2000, 0},
		{24 * time.Hour, MaxRate, 86_400 * MaxRate},
	} {
		if got := (schedule{rate: tc.rate}).countWithin(tc.d); got != tc.want {
			t.Errorf("countWithin(%v) at %d/s = %d, want %d", tc.d, tc.rate, got, tc.want)
		}
	}
}

// countWithin(d) must be exactly the number of sends due before d.
func TestScheduleCountWithinMatchesOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 10_000 {
		s := schedule{rate: 1 + rng.Int64N(1_000_000)}
		d := time.Duration(1 + rng.Int64N(int64(3*time.Second)))
		n := s.countWithin(d)
		if n < 1 || s.offset(n-1) >= d || s.offset(n) < d {
			t.Fatalf("rate %d, d %v: count %d, offset(n-1)=%v offset(n)=%v", s.rate, d, n, s.offset(n-1), s.offset(n))
		}
	}
}

func TestScheduleGapsAreEven(t *testing.T) {
	for _, rate := range []int64{1, 3, 7, 2000, 999_983} {
		s := schedule{rate: rate}
		step := time.Second / time.Duration(rate)
		for i := range int64(5000) {
			gap := s.offset(i+1) - s.offset(i)
			if gap < step || gap > step+1 {
				t.Fatalf("rate %d: gap after %d is %v, want %v or %v", rate, i, gap, step, step+1)
			}
		}
	}
}

func TestSendCount(t *testing.T) {
	c := NewConfig()
	c.Duration = 300 * time.Millisecond
	if got := c.sendCount(2000); got != 600 {
		t.Fatalf("duration mode: %d, want 600", got)
	}
	c.Records = 42
	if got := c.sendCount(2000); got != 42 {
		t.Fatalf("records mode: %d, want 42", got)
	}
}

func TestPacerSleepUntil(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		p := newPacer()
		defer p.close()
		target := time.Now().Add(2 * time.Millisecond)
		if err := p.sleepUntil(context.Background(), target); err != nil {
			done <- err
			return
		}
		if now := time.Now(); now.Before(target) {
			t.Errorf("woke at %v, before target %v", now, target)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done <- p.sleepUntil(ctx, time.Now().Add(time.Hour))
	}()
	if err := <-done; err != context.Canceled {
		t.Fatalf("sleep with canceled context: %v, want context.Canceled", err)
	}
}
