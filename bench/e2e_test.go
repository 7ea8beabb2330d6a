package bench

import (
	"errors"
	"testing"
	"time"
)

func TestE2EValueRoundTrip(t *testing.T) {
	for _, sent := range []int64{0, 1, time.Now().UnixNano(), 1<<63 - 1} {
		v := e2eValue(sent, []byte("filler"))
		if len(v) != e2eHeaderSize+6 || string(v[e2eHeaderSize:]) != "filler" {
			t.Fatalf("value %q", v)
		}
		got, err := parseE2EValue(v)
		if err != nil || got != sent {
			t.Fatalf("parse(%d) = %d, %v", sent, got, err)
		}
	}
	for _, v := range [][]byte{nil, []byte("short"), {0x80, 0, 0, 0, 0, 0, 0, 0}} {
		if _, err := parseE2EValue(v); !errors.Is(err, ErrNotBenchRecord) {
			t.Errorf("parse(%x): %v, want ErrNotBenchRecord", v, err)
		}
	}
}

func TestE2EClockFollowsMonotonicTime(t *testing.T) {
	c := newE2EClock()
	later := c.epoch.Add(1500 * time.Microsecond)
	if got := c.unixNano(later) - c.epochUnix; got != 1_500_000 {
		t.Fatalf("1.5 ms after the epoch is %d ns after it", got)
	}
}

// FuzzParseE2EValue: any record value either parses to a non-negative
// send time that re-encodes to the same header, or is rejected.
func FuzzParseE2EValue(f *testing.F) {
	f.Add(e2eValue(0, nil))
	f.Add(e2eValue(time.Now().UnixNano(), []byte("payload")))
	f.Add([]byte("old record"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, v []byte) {
		sent, err := parseE2EValue(v)
		if err != nil {
			if !errors.Is(err, ErrNotBenchRecord) {
				t.Fatalf("unmarked error %v", err)
			}
			return
		}
		if sent < 0 || string(e2eValue(sent, v[e2eHeaderSize:])) != string(v) {
			t.Fatalf("parse(%x) = %d does not round-trip", v, sent)
		}
	})
}
