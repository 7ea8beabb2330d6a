package log

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// buildLog appends n batches (3 records, 100-byte values) with small
// segments, returning the stamped batches. The log is left open.
func buildLog(t *testing.T, dir string, cfg Config, n int) (*Log, [][]byte) {
	t.Helper()
	l, err := Open(dir, cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	var batches [][]byte
	for i := range n {
		b := plain(3, 100, int64(1000+i))
		mustAppend(t, l, b, AppendOptions{LeaderEpoch: int32(i / 10)})
		batches = append(batches, b)
	}
	return l, batches
}

// expectPrefix checks the log holds exactly the first n of batches.
func expectPrefix(t *testing.T, l *Log, batches [][]byte, n int) {
	t.Helper()
	got := readAll(t, l)
	if len(got) != n {
		t.Fatalf("log holds %d batches, want %d", len(got), n)
	}
	for i := range got {
		if !bytes.Equal(got[i].raw, batches[i]) {
			t.Fatalf("batch %d differs", i)
		}
	}
}

// bsz is the size of buildLog's batches.
var bsz = int64(len(plain(3, 100, 0)))

func recoveryConfig() Config {
	cfg := testConfig()
	cfg.SegmentBytes = 2000 // five 388-byte batches per segment
	return cfg
}

func TestRecoverTornTail(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string, size int64)
		batches int // expected survivors of 12
	}{
		{"partial last batch", func(t *testing.T, p string, size int64) { os.Truncate(p, size-50) }, 11},
		{"only a length prefix left", func(t *testing.T, p string, size int64) { os.Truncate(p, size-bsz+10) }, 11},
		{"corrupt CRC in last batch", func(t *testing.T, p string, size int64) { osCorrupt(t, p, size-5) }, 11},
		{"corrupt header of last batch", func(t *testing.T, p string, size int64) { osCorrupt(t, p, size-bsz+16) }, 11},
		{"zeroed tail", func(t *testing.T, p string, size int64) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 4096))
			f.Close()
		}, 12},
		{"last two batches bad", func(t *testing.T, p string, size int64) {
			osCorrupt(t, p, size-5)
			osCorrupt(t, p, size-bsz-5)
		}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l, batches := buildLog(t, dir, recoveryConfig(), 12)
			active := l.Segments()[len(l.Segments())-1]
			l.abandon()
			tt.damage(t, active.LogPath, active.Size)
			l = mustOpen(t, dir, recoveryConfig())
			expectPrefix(t, l, batches, tt.batches)
			// The log keeps working after recovery.
			b := plain(1, 10, 1)
			res := mustAppend(t, l, b, AppendOptions{LeaderEpoch: 1})
			if res.BaseOffset != int64(3*tt.batches) {
				t.Fatalf("next append at %d, want %d", res.BaseOffset, 3*tt.batches)
			}
		})
	}
}

func TestRecoverCorruptMiddle(t *testing.T) {
	t.Run("bad batch followed by valid data", func(t *testing.T) {
		dir := t.TempDir()
		l, _ := buildLog(t, dir, recoveryConfig(), 12)
		active := l.Segments()[len(l.Segments())-1]
		l.abandon()
		osCorrupt(t, active.LogPath, 100) // inside the first batch's records
		_, err := Open(dir, recoveryConfig(), WithLogger(quietLogger()))
		wantCorrupt(t, err, active.LogPath, 0)
	})
	t.Run("bad base offset", func(t *testing.T) {
		dir := t.TempDir()
		l, _ := buildLog(t, dir, recoveryConfig(), 12)
		active := l.Segments()[len(l.Segments())-1]
		l.abandon()
		osCorrupt(t, active.LogPath, bsz+7) // second batch's base offset (not CRC-covered)
		_, err := Open(dir, recoveryConfig(), WithLogger(quietLogger()))
		wantCorrupt(t, err, active.LogPath, bsz)
	})
	t.Run("bad flushed segment", func(t *testing.T) {
		dir := t.TempDir()
		l, _ := buildLog(t, dir, recoveryConfig(), 12)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		first := segPath(dir, 0, logSuffix)
		osCorrupt(t, first, bsz+200)
		// A clean shutdown trusts the segment; its index is rebuilt once
		// missing, which reads the damage.
		os.Remove(segPath(dir, 0, indexSuffix))
		_, err := Open(dir, recoveryConfig(), WithLogger(quietLogger()))
		wantCorrupt(t, err, first, bsz)
	})
	t.Run("torn tail of a flushed segment", func(t *testing.T) {
		dir := t.TempDir()
		l, _ := buildLog(t, dir, recoveryConfig(), 12)
		if err := l.Sync(); err != nil { // flushes the closed segments
			t.Fatal(err)
		}
		l.abandon()
		first := segPath(dir, 0, logSuffix)
		st, _ := os.Stat(first)
		os.Truncate(first, st.Size()-10)
		_, err := Open(dir, recoveryConfig(), WithLogger(quietLogger()))
		wantCorrupt(t, err, first, -1)
	})
}

func wantCorrupt(t *testing.T, err error, path string, pos int64) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open error = %v, want ErrCorrupt", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s", err, path)
	}
	if pos >= 0 && !strings.Contains(err.Error(), fmt.Sprintf("position %d", pos)) {
		t.Fatalf("error %q does not name position %d", err, pos)
	}
}

// TestRecoverTornSegmentBeforeOthers: after a power loss, a closed but
// unflushed segment may have lost its tail while the next one kept data;
// the log is cut at the tear (Kafka's rule for unflushed segments).
func TestRecoverTornSegmentBeforeOthers(t *testing.T) {
	dir := t.TempDir()
	l, batches := buildLog(t, dir, recoveryConfig(), 12)
	segs := l.Segments()
	l.abandon()
	os.Truncate(segs[1].LogPath, segs[1].Size-100)
	l = mustOpen(t, dir, recoveryConfig())
	expectPrefix(t, l, batches, 9) // segment 1 held batches 5-9
	if n := len(l.Segments()); n != 2 {
		t.Fatalf("%d segments after recovery, want 2", n)
	}
	if _, err := os.Stat(segs[2].LogPath); !os.IsNotExist(err) {
		t.Fatalf("later segment not deleted: %v", err)
	}
}

func TestRebuildDeletedIndexes(t *testing.T) {
	dir := t.TempDir()
	cfg := recoveryConfig()
	cfg.IndexIntervalBytes = 100
	l, batches := buildLog(t, dir, cfg, 23)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	indexes, _ := filepath.Glob(filepath.Join(dir, "*index"))
	if len(indexes) != 10 { // 5 segments, two index files each
		t.Fatalf("found %d index files", len(indexes))
	}
	orig := make(map[string][]byte)
	for _, p := range indexes {
		orig[p], _ = os.ReadFile(p)
		os.Remove(p)
	}
	l = mustOpen(t, dir, cfg)
	expectPrefix(t, l, batches, 23)
	checkReadsEverywhere(t, l, batches, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for p, want := range orig {
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("rebuilt %s differs (%v)", filepath.Base(p), err)
		}
	}
}

func TestRecoverDamagedIndexAndLeftovers(t *testing.T) {
	dir := t.TempDir()
	l, batches := buildLog(t, dir, recoveryConfig(), 12)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	osCorrupt(t, segPath(dir, 0, indexSuffix), 17)
	os.WriteFile(segPath(dir, 5, timeIndexSuffix)+tmpSuffix, []byte("junk"), 0o644)
	os.WriteFile(segPath(dir, 999, indexSuffix), []byte("orphan"), 0o644)
	l = mustOpen(t, dir, recoveryConfig())
	expectPrefix(t, l, batches, 12)
	for _, p := range []string{segPath(dir, 5, timeIndexSuffix) + tmpSuffix, segPath(dir, 999, indexSuffix)} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("leftover %s not removed", filepath.Base(p))
		}
	}
}

func TestCleanReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	cfg := recoveryConfig()
	l, batches := buildLog(t, dir, cfg, 17)
	wantSegs := l.Segments()
	wantTS, wantTSOff := l.MaxTimestamp()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, dir, cfg)
	expectPrefix(t, l, batches, 17)
	if got := l.Segments(); fmt.Sprint(got) != fmt.Sprint(wantSegs) {
		t.Fatalf("segments after reopen:\n got %+v\nwant %+v", got, wantSegs)
	}
	if ts, off := l.MaxTimestamp(); ts != wantTS || off != wantTSOff {
		t.Fatalf("MaxTimestamp %d@%d, want %d@%d", ts, off, wantTS, wantTSOff)
	}
	if got := l.LatestEpoch(); got != 1 {
		t.Fatalf("LatestEpoch = %d, want 1", got)
	}
	checkReadsEverywhere(t, l, batches, 3)
	// Appending after a clean reopen continues the active segment.
	b := plain(3, 100, 5000)
	mustAppend(t, l, b, AppendOptions{LeaderEpoch: 1})
	expectPrefix(t, l, append(batches, b), 18)
}
