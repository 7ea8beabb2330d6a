package replica

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestHighWatermarkFollowsSlowestISRMember(t *testing.T) {
	l := NewLeader(1, 5, []int32{1, 2, 3}, []int32{1, 2, 3}, 100, 90, t0)
	if hw := l.HighWatermark(); hw != 90 {
		t.Fatalf("initial HW %d, want the old HW 90", hw)
	}
	hw := l.OnAppend(110)
	if hw != 90 {
		t.Fatalf("HW moved to %d before followers fetched", hw)
	}
	l.OnFollowerFetch(2, 105, t0)
	if hw, _ := l.OnFollowerFetch(3, 100, t0); hw != 100 {
		t.Fatalf("HW %d, want 100 (follower 3's LEO)", hw)
	}
	if hw, _ := l.OnFollowerFetch(3, 110, t0); hw != 105 {
		t.Fatalf("HW %d, want 105 (follower 2's LEO)", hw)
	}
	l.OnFollowerFetch(2, 110, t0)
	if hw := l.HighWatermark(); hw != 110 {
		t.Fatalf("HW %d, want 110", hw)
	}
	if _, known := l.OnFollowerFetch(9, 0, t0); known {
		t.Fatal("fetch from a non-replica accepted")
	}
}

func TestSoleISRMemberCommitsOnAppend(t *testing.T) {
	l := NewLeader(1, 0, []int32{1, 2}, []int32{1}, 0, 0, t0)
	if hw := l.OnAppend(7); hw != 7 {
		t.Fatalf("HW %d, want 7", hw)
	}
}

func TestISRShrinksAndExpands(t *testing.T) {
	const lag = 10 * time.Second
	l := NewLeader(1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}, 0, 0, t0)
	l.OnAppend(50)
	// Follower 2 keeps up; follower 3 never fetches.
	for i := range 20 {
		now := t0.Add(time.Duration(i) * time.Second)
		l.OnFollowerFetch(2, 50, now)
	}
	if isr, changed := l.ProposeISR(t0.Add(5*time.Second), lag); changed {
		t.Fatalf("ISR changed to %v within the lag limit", isr)
	}
	isr, changed := l.ProposeISR(t0.Add(11*time.Second), lag)
	if !changed || !slices.Equal(isr, []int32{1, 2}) {
		t.Fatalf("ISR %v changed=%v, want [1 2]", isr, changed)
	}
	if hw := l.SetISR(isr); hw != 50 {
		t.Fatalf("HW %d after dropping the stuck follower, want 50", hw)
	}
	// Follower 2 dies right after its last fetch; dropped from the ISR
	// (by the controller, say), it must not rejoin on that old fetch.
	l.SetISR([]int32{1})
	if isr, changed := l.ProposeISR(t0.Add(11*time.Second), lag); changed {
		t.Fatalf("dropped follower rejoined without fetching: %v", isr)
	}
	l.SetISR([]int32{1, 2})
	// Follower 3 catches up and rejoins.
	now := t0.Add(12 * time.Second)
	l.OnFollowerFetch(3, 40, now)
	if _, changed := l.ProposeISR(now, lag); changed {
		t.Fatal("follower below the HW rejoined")
	}
	l.OnFollowerFetch(3, 50, now)
	isr, changed = l.ProposeISR(now, lag)
	if !changed || !slices.Equal(isr, []int32{1, 2, 3}) {
		t.Fatalf("ISR %v changed=%v, want [1 2 3]", isr, changed)
	}
	l.SetISR(isr)
	if got := l.ISR(); !slices.Equal(got, []int32{1, 2, 3}) {
		t.Fatalf("ISR %v", got)
	}
}

func TestFollowerBehindButProgressingStaysInISR(t *testing.T) {
	// Kafka's rule: a follower that reaches the leader LEO seen at its
	// previous fetch counts as caught up as of that fetch, so steady
	// produce does not push a healthy follower out.
	const lag = 10 * time.Second
	l := NewLeader(1, 0, []int32{1, 2}, []int32{1, 2}, 0, 0, t0)
	leo := int64(0)
	for i := range 60 {
		now := t0.Add(time.Duration(i) * time.Second)
		l.OnFollowerFetch(2, leo, now) // always one append behind
		leo += 10
		l.OnAppend(leo)
	}
	if isr, changed := l.ProposeISR(t0.Add(60*time.Second), lag); changed {
		t.Fatalf("progressing follower dropped: %v", isr)
	}
}
