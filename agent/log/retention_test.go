package log

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// retentionLog builds a log of 10 segments of 4 batches (one record each,
// timestamps = offset * 1000 ms).
func retentionLog(t *testing.T, dir string, cfg Config, opts ...Option) *Log {
	t.Helper()
	cfg.SegmentBytes = 4 * int64(len(plain(1, 200, 0)))
	l := mustOpen(t, dir, cfg, opts...)
	for i := range 40 {
		mustAppend(t, l, plain(1, 200, int64(i)*1000), AppendOptions{LeaderEpoch: int32(i / 8)})
	}
	if n := len(l.Segments()); n != 10 {
		t.Fatalf("%d segments, want 10", n)
	}
	return l
}

func TestApplyRetention(t *testing.T) {
	segSize := 4 * int64(len(plain(1, 200, 0)))
	tests := []struct {
		name      string
		retBytes  int64
		retMS     time.Duration
		now       int64 // ms
		limit     int64 // deletable up to; -1 = no limit
		wantCount int
	}{
		{"unlimited", -1, -1, 1 << 40, -1, 0},
		{"by time: nothing old enough", -1, time.Hour, 40_000, -1, 0},
		// Segment k holds timestamps 4k..4k+3 seconds; at 20.5 s with 10 s
		// retention segments whose newest is < 10.5 s go: 0 (3 s), 1 (7 s).
		{"by time", -1, 10 * time.Second, 20_500, -1, 2},
		{"by time never the active segment", -1, 0, 1 << 40, -1, 9},
		{"by bytes", 5 * segSize, -1, 0, -1, 5},
		{"by bytes exact", 10 * segSize, -1, 0, -1, 0},
		{"by bytes keeps at least the limit", 9 * segSize, -1, 0, -1, 1},
		{"by bytes one over", 9*segSize + 1, -1, 0, -1, 0},
		{"deletable limit", 0, -1, 0, 12, 3}, // segments ending at 3, 7, 11
		{"deletable limit at segment end", 0, -1, 0, 11, 2},
		{"nothing uploaded", 0, -1, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.RetentionBytes, cfg.RetentionMS = tt.retBytes, tt.retMS
			var opts []Option
			if tt.limit >= 0 {
				opts = append(opts, WithDeletableUpTo(func() int64 { return tt.limit }))
			}
			l := retentionLog(t, t.TempDir(), cfg, opts...)
			n, err := l.ApplyRetention(time.UnixMilli(tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantCount {
				t.Fatalf("deleted %d segments, want %d", n, tt.wantCount)
			}
			segs := l.Segments()
			if len(segs) != 10-n || l.LogStartOffset() != int64(4*n) || segs[0].BaseOffset != int64(4*n) {
				t.Fatalf("after retention: %d segments, start %d", len(segs), l.LogStartOffset())
			}
			if _, err := l.Read(int64(4*n)-1, 100, 40, true); n > 0 && !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("read below the start: %v", err)
			}
			if bs := readAll(t, l); len(bs) != 40-4*n {
				t.Fatalf("%d batches left", len(bs))
			}
		})
	}
}

func TestDeleteRecordsBefore(t *testing.T) {
	for _, reopen := range []string{"clean", "unclean"} {
		t.Run(reopen, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig()
			l := retentionLog(t, dir, cfg)
			if err := l.DeleteRecordsBefore(41); !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("DeleteRecordsBefore past the end: %v", err)
			}
			if err := l.DeleteRecordsBefore(10); err != nil {
				t.Fatal(err)
			}
			if got := l.LogStartOffset(); got != 10 {
				t.Fatalf("LogStartOffset = %d", got)
			}
			if segs := l.Segments(); segs[0].BaseOffset != 8 {
				t.Fatalf("first segment %d, want 8 (straddling segment kept)", segs[0].BaseOffset)
			}
			if _, err := l.Read(9, 100, 40, true); !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("Read(9): %v", err)
			}
			if err := l.DeleteRecordsBefore(5); err != nil || l.LogStartOffset() != 10 {
				t.Fatalf("moving the start back: %v, start %d", err, l.LogStartOffset())
			}
			if reopen == "clean" {
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				l.abandon()
			}
			l = mustOpen(t, dir, cfg)
			if got := l.LogStartOffset(); got != 10 {
				t.Fatalf("LogStartOffset after reopen = %d, want 10", got)
			}
			if bs := readAll(t, l); bs[0].h.BaseOffset != 10 || len(bs) != 30 {
				t.Fatalf("after reopen: first batch %d, %d batches", bs[0].h.BaseOffset, len(bs))
			}
			// Up to the log end: everything but the active segment goes.
			if err := l.DeleteRecordsBefore(40); err != nil {
				t.Fatal(err)
			}
			if segs := l.Segments(); len(segs) != 1 || l.LogStartOffset() != 40 {
				t.Fatalf("after deleting all: %d segments, start %d", len(segs), l.LogStartOffset())
			}
			if got, err := l.Read(40, 100, 40, true); err != nil || len(got) != 0 {
				t.Fatalf("Read at the end: %d bytes, %v", len(got), err)
			}
		})
	}
}

func TestTruncateTo(t *testing.T) {
	tests := []struct {
		name      string
		offset    int64
		wantEnd   int64
		wantStart int64
	}{
		{"past end", 200, 120, 0},
		{"batch boundary in active segment", 117, 117, 0},
		{"inside a batch", 100, 99, 0}, // batches of 3 records
		{"segment boundary", 60, 60, 0},
		{"inside the first segment", 4, 3, 0},
		{"to zero", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig()
			cfg.SegmentBytes = 5 * int64(len(plain(3, 50, 0)))
			clock := WithClock(newFakeClock().Now)
			l := mustOpen(t, dir, cfg, clock)
			for i := range 40 {
				mustAppend(t, l, idem(1, 0, int32(3*i), 3), AppendOptions{LeaderEpoch: int32(i / 10)})
			}
			if err := l.TruncateTo(tt.offset); err != nil {
				t.Fatal(err)
			}
			if l.LogEndOffset() != tt.wantEnd || l.LogStartOffset() != tt.wantStart {
				t.Fatalf("end %d start %d, want %d %d", l.LogEndOffset(), l.LogStartOffset(), tt.wantEnd, tt.wantStart)
			}
			checkSegments(t, l.Segments(), tt.wantEnd)
			if bs := readAll(t, l); int64(3*len(bs)) != tt.wantEnd {
				t.Fatalf("%d batches left", len(bs))
			}
			// Epochs after the end are gone; producer state is rolled back.
			wantEpoch := int32(-1)
			if tt.wantEnd > 0 {
				wantEpoch = int32((tt.wantEnd/3 - 1) / 10)
			}
			if got := l.LatestEpoch(); got != wantEpoch {
				t.Fatalf("LatestEpoch = %d, want %d", got, wantEpoch)
			}
			nextSeq := int32(tt.wantEnd)
			runSteps(t, l, []seqStep{{batches: [][]byte{idem(1, 0, nextSeq, 1)}, opts: AppendOptions{LeaderEpoch: 9}, want: fmt.Sprintf("ok %d-%d", tt.wantEnd, tt.wantEnd)}})
			// Reopen (clean) and check again.
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, dir, cfg, clock)
			if l.LogEndOffset() != tt.wantEnd+1 {
				t.Fatalf("after reopen end %d", l.LogEndOffset())
			}
			readAll(t, l)
		})
	}
}

// TestTruncateThenCrash: truncation lowers the recovery point and is
// durable, so a power loss after more unsynced appends and rolls recovers a
// prefix of what the log held after the truncation.
func TestTruncateThenCrash(t *testing.T) {
	for seed := range 10 {
		rng := rand.New(rand.NewPCG(uint64(seed), 3))
		fs := NewMemFS()
		cfg := crashConfig(0)
		l, err := Open(crashDir, cfg, WithFS(fs), WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		var written [][]byte
		for i := range 30 {
			b := plain(1, 100, int64(i))
			mustAppend(t, l, b, AppendOptions{})
			written = append(written, b)
		}
		if err := l.Sync(); err != nil { // recovery point past several segments
			t.Fatal(err)
		}
		if err := l.TruncateTo(5); err != nil {
			t.Fatal(err)
		}
		written = written[:5]
		for i := range 20 {
			b := plain(2, 100, int64(100+i))
			mustAppend(t, l, b, AppendOptions{})
			written = append(written, b)
		}
		if seed%2 == 0 {
			fs.CrashPartial(rng)
		} else {
			fs.Crash()
		}
		l.abandon()
		checkRecovered(t, fs, cfg, written, 5)
	}
}

func TestResetTo(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 1024
	l := mustOpen(t, dir, cfg)
	for i := range 10 {
		mustAppend(t, l, plain(2, 50, int64(i)), AppendOptions{LeaderEpoch: 1})
	}
	if err := l.ResetTo(500); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 500 || l.LogEndOffset() != 500 || l.LatestEpoch() != -1 {
		t.Fatalf("after reset: start %d end %d epoch %d", l.LogStartOffset(), l.LogEndOffset(), l.LatestEpoch())
	}
	res := mustAppend(t, l, plain(1, 10, 99), AppendOptions{LeaderEpoch: 2})
	if res.BaseOffset != 500 {
		t.Fatalf("append after reset at %d", res.BaseOffset)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, dir, cfg)
	if l.LogStartOffset() != 500 || l.LogEndOffset() != 501 {
		t.Fatalf("after reopen: start %d end %d", l.LogStartOffset(), l.LogEndOffset())
	}
}
