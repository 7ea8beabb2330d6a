package log

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"segment too small", func(c *Config) { c.SegmentBytes = 10 }, false},
		{"segment too large", func(c *Config) { c.SegmentBytes = 1 << 32 }, false},
		{"zero segment ms", func(c *Config) { c.SegmentMS = 0 }, false},
		{"negative index interval", func(c *Config) { c.IndexIntervalBytes = -1 }, false},
		{"index every batch", func(c *Config) { c.IndexIntervalBytes = 0 }, true},
		{"unlimited retention", func(c *Config) { c.RetentionBytes, c.RetentionMS = -1, -1 }, true},
		{"negative flush messages", func(c *Config) { c.FlushMessages = -1 }, false},
		{"negative flush interval", func(c *Config) { c.FlushInterval = -time.Second }, false},
		{"zero producer expiration", func(c *Config) { c.ProducerIDExpiration = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig()
			tt.mod(&c)
			err := c.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v is not ErrInvalidConfig", err)
			}
		})
	}
}

// TestAppendReadAcrossSegments appends batches of various shapes across
// many segments and reads at every offset.
func TestAppendReadAcrossSegments(t *testing.T) {
	tests := []struct {
		name         string
		segmentBytes int64
		interval     int
		batches      int
		records      int
		valueSize    int
	}{
		{"one record batches", 1024, 0, 60, 1, 20},
		{"multi record batches", 2048, 128, 40, 5, 30},
		{"sparse index", 8192, 4096, 50, 3, 40},
		{"batch larger than segment", 256, 64, 10, 4, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.SegmentBytes, cfg.IndexIntervalBytes = tt.segmentBytes, tt.interval
			l := mustOpen(t, t.TempDir(), cfg)
			var want [][]byte
			for i := range tt.batches {
				b := plain(tt.records, tt.valueSize, int64(1000+i))
				res := mustAppend(t, l, b, AppendOptions{LeaderEpoch: 3})
				if wantBase := int64(i * tt.records); res.BaseOffset != wantBase || res.LastOffset != wantBase+int64(tt.records)-1 {
					t.Fatalf("batch %d: offsets %d-%d, want %d-%d", i, res.BaseOffset, res.LastOffset, wantBase, wantBase+int64(tt.records)-1)
				}
				want = append(want, b) // stamped in place by Append
			}
			leo := int64(tt.batches * tt.records)
			if got := l.LogEndOffset(); got != leo {
				t.Fatalf("LogEndOffset = %d, want %d", got, leo)
			}
			segs := l.Segments()
			if len(segs) < 2 {
				t.Fatalf("expected several segments, got %d", len(segs))
			}
			checkSegments(t, segs, leo)
			checkReadsEverywhere(t, l, want, tt.records)
		})
	}
}

func checkSegments(t *testing.T, segs []SegmentInfo, leo int64) {
	t.Helper()
	var next int64
	for i, s := range segs {
		if s.BaseOffset != next {
			t.Fatalf("segment %d base %d, want %d", i, s.BaseOffset, next)
		}
		if s.Closed != (i < len(segs)-1) {
			t.Fatalf("segment %d Closed=%v", i, s.Closed)
		}
		next = s.LastOffset + 1
	}
	if next != leo {
		t.Fatalf("segments end at %d, log end %d", next, leo)
	}
}

// checkReadsEverywhere reads at every offset (start, middle and end of each
// batch) and checks the first batch returned holds the offset.
func checkReadsEverywhere(t *testing.T, l *Log, want [][]byte, records int) {
	t.Helper()
	leo := l.LogEndOffset()
	for off := int64(0); off < leo; off++ {
		got, err := l.Read(off, 1, leo, true)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		bs := splitBatches(t, got)
		if len(bs) != 1 {
			t.Fatalf("Read(%d, maxBytes=1, minOne) returned %d batches", off, len(bs))
		}
		if !bytes.Equal(bs[0].raw, want[off/int64(records)]) {
			t.Fatalf("Read(%d) returned the wrong batch (base %d)", off, bs[0].h.BaseOffset)
		}
	}
	if got, err := l.Read(leo, 1<<20, leo, true); err != nil || len(got) != 0 {
		t.Fatalf("Read(LEO) = %d bytes, %v; want empty", len(got), err)
	}
	if _, err := l.Read(leo+1, 1<<20, leo+1, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read(LEO+1) error = %v, want ErrOffsetOutOfRange", err)
	}
	if _, err := l.Read(-1, 1<<20, leo, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read(-1) error = %v, want ErrOffsetOutOfRange", err)
	}
	all := readAll(t, l)
	if len(all) != len(want) {
		t.Fatalf("read %d batches, want %d", len(all), len(want))
	}
	for i := range all {
		if !bytes.Equal(all[i].raw, want[i]) {
			t.Fatalf("batch %d differs", i)
		}
	}
}

func TestReadLimits(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	l := mustOpen(t, t.TempDir(), cfg)
	// Ten batches of 3 records; record sizes differ so batches differ in size.
	var sizes []int
	for i := range 10 {
		b := plain(3, 10*(i+1), int64(i))
		sizes = append(sizes, len(b))
		mustAppend(t, l, b, AppendOptions{LeaderEpoch: 0})
	}
	sum := func(from, to int) int { // bytes of batches [from, to)
		n := 0
		for i := from; i < to; i++ {
			n += sizes[i]
		}
		return n
	}
	tests := []struct {
		name        string
		offset      int64
		maxBytes    int
		maxOffset   int64
		minOne      bool
		wantBatches []int64 // base offsets
	}{
		{"everything", 0, 1 << 20, 30, true, []int64{0, 3, 6, 9, 12, 15, 18, 21, 24, 27}},
		{"from middle of batch", 4, 1 << 20, 30, true, []int64{3, 6, 9, 12, 15, 18, 21, 24, 27}},
		{"last offset", 29, 1 << 20, 30, true, []int64{27}},
		{"maxOffset at batch boundary", 0, 1 << 20, 9, true, []int64{0, 3, 6}},
		{"maxOffset inside batch", 0, 1 << 20, 10, true, []int64{0, 3, 6}},
		{"maxOffset before first batch end", 3, 1 << 20, 4, true, nil},
		{"maxBytes exact", 0, sum(0, 3), 30, true, []int64{0, 3, 6}},
		{"maxBytes one short", 0, sum(0, 3) - 1, 30, true, []int64{0, 3}},
		{"maxBytes below first, minOne", 6, 5, 30, true, []int64{6}},
		{"maxBytes below first, no minOne", 6, 5, 30, false, nil},
		{"zero maxBytes minOne", 6, 0, 30, true, []int64{6}},
		{"maxBytes mid second batch no minOne", 0, sum(0, 1) + 1, 30, false, []int64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Read(tt.offset, tt.maxBytes, tt.maxOffset, tt.minOne)
			if err != nil {
				t.Fatal(err)
			}
			var bases []int64
			for _, b := range splitBatches(t, got) {
				bases = append(bases, b.h.BaseOffset)
			}
			if fmt.Sprint(bases) != fmt.Sprint(tt.wantBatches) {
				t.Fatalf("batches %v, want %v", bases, tt.wantBatches)
			}
		})
	}
	t.Run("ReadInto appends", func(t *testing.T) {
		prefix := []byte("keep")
		got, err := l.ReadInto(prefix, 0, sum(0, 2), 30, true)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(got, []byte("keep")) || len(got) != 4+sum(0, 2) {
			t.Fatalf("ReadInto returned %d bytes", len(got))
		}
	})
}

func TestRollBySizeAndTime(t *testing.T) {
	clock := newFakeClock()
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	cfg.SegmentMS = time.Minute
	var rolled []SegmentInfo
	var mu sync.Mutex
	l := mustOpen(t, t.TempDir(), cfg, WithClock(clock.Now), WithOnRoll(func(s SegmentInfo) {
		mu.Lock()
		rolled = append(rolled, s)
		mu.Unlock()
	}))
	b := plain(1, 300, 1) // 300+ bytes: three fit in 1000
	for range 3 {
		mustAppend(t, l, plain(1, 300, 1), AppendOptions{})
	}
	if n := len(l.Segments()); n != 2 {
		t.Fatalf("after 3 appends of %d bytes: %d segments, want 2", len(b), n)
	}
	// Time: the active segment's first batch was appended now; a minute
	// later the next append rolls.
	clock.Advance(59 * time.Second)
	mustAppend(t, l, plain(1, 10, 2), AppendOptions{})
	if n := len(l.Segments()); n != 2 {
		t.Fatalf("before segment.ms: %d segments, want 2", n)
	}
	clock.Advance(time.Second)
	mustAppend(t, l, plain(1, 10, 3), AppendOptions{})
	segs := l.Segments()
	if len(segs) != 3 {
		t.Fatalf("after segment.ms: %d segments, want 3", len(segs))
	}
	mu.Lock()
	rolledCopy := append([]SegmentInfo(nil), rolled...)
	mu.Unlock()
	rolled = rolledCopy
	if len(rolled) != 2 || rolled[0].BaseOffset != 0 || rolled[1].BaseOffset != segs[1].BaseOffset || !rolled[1].Closed {
		t.Fatalf("OnRoll saw %+v", rolled)
	}
	for _, r := range rolled {
		if _, err := NewOSFS().Open(r.IndexPath); err != nil {
			t.Fatalf("index of rolled segment missing when OnRoll ran: %v", err)
		}
	}
	// MaybeRoll closes an idle segment.
	if ok, err := l.MaybeRoll(clock.Now()); err != nil || ok {
		t.Fatalf("MaybeRoll before segment.ms = %v, %v", ok, err)
	}
	clock.Advance(time.Minute)
	if ok, err := l.MaybeRoll(clock.Now()); err != nil || !ok {
		t.Fatalf("MaybeRoll after segment.ms = %v, %v", ok, err)
	}
	if err := l.Roll(); err != nil || len(l.Segments()) != 4 {
		t.Fatalf("Roll of an empty segment: %v, %d segments", err, len(l.Segments()))
	}
}

func TestAppendInvalid(t *testing.T) {
	l := mustOpen(t, t.TempDir(), testConfig())
	good := plain(2, 10, 1)
	badMagic := plain(1, 10, 1)
	badMagic[offMagic] = 1
	badCount := plain(3, 10, 1)
	badCount[offRecordsCount+3] = 7
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", good[:30]},
		{"truncated", good[:len(good)-1]},
		{"trailing garbage", append(append([]byte{}, good...), 1, 2, 3)},
		{"magic 1", badMagic},
		{"count mismatch", badCount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := l.Append(tt.b, AppendOptions{}); !errors.Is(err, ErrInvalidBatch) {
				t.Fatalf("Append error = %v, want ErrInvalidBatch", err)
			}
			if l.LogEndOffset() != 0 || l.Size() != 0 {
				t.Fatalf("invalid append changed the log")
			}
		})
	}
}

func TestLogAppendTimeAndLeaderEpoch(t *testing.T) {
	l := mustOpen(t, t.TempDir(), testConfig())
	b := plain(3, 10, 500)
	res := mustAppend(t, l, b, AppendOptions{LeaderEpoch: 7, LogAppendTime: 123456})
	if res.LogAppendTime != 123456 {
		t.Fatalf("LogAppendTime = %d", res.LogAppendTime)
	}
	got := readAll(t, l)[0].h // splitBatches checked the CRC
	if got.Attributes&attrTimestampType == 0 || got.MaxTimestamp != 123456 || got.BaseTimestamp != 500 || got.LeaderEpoch != 7 {
		t.Fatalf("stored header %+v", got)
	}
	res = mustAppend(t, l, plain(1, 10, 600), AppendOptions{LeaderEpoch: 7})
	if res.LogAppendTime != -1 {
		t.Fatalf("CreateTime append: LogAppendTime = %d, want -1", res.LogAppendTime)
	}
	if _, err := l.Append(plain(1, 1, 1), AppendOptions{LeaderEpoch: 6}); !errors.Is(err, ErrFencedLeaderEpoch) {
		t.Fatalf("append with an older epoch: %v", err)
	}
}

func TestFindByTimestampAndMaxTimestamp(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 600
	cfg.IndexIntervalBytes = 0
	l := mustOpen(t, t.TempDir(), cfg)
	if ts, off := l.MaxTimestamp(); ts != -1 || off != -1 {
		t.Fatalf("empty MaxTimestamp = %d, %d", ts, off)
	}
	// Batch i (2 records) has timestamps 100*i and 100*i+1, except batch 5
	// which is the newest.
	for i := range 12 {
		ts := int64(100 * i)
		if i == 5 {
			ts = 5000
		}
		mustAppend(t, l, plain(2, 50, ts), AppendOptions{})
	}
	if len(l.Segments()) < 3 {
		t.Fatalf("want several segments")
	}
	if ts, off := l.MaxTimestamp(); ts != 5001 || off != 10 {
		t.Fatalf("MaxTimestamp = %d at %d, want 5001 at 10", ts, off)
	}
	tests := []struct {
		ts       int64
		wantBase int64
		found    bool
	}{
		{0, 0, true},
		{1, 0, true},
		{2, 2, true},
		{301, 6, true},
		{302, 8, true},
		{450, 10, true}, // batch 5's max is 5001 and it comes first
		{601, 10, true},
		{5001, 10, true},
		{5002, 0, false},
	}
	for _, tt := range tests {
		b, found, err := l.FindByTimestamp(tt.ts)
		if err != nil {
			t.Fatal(err)
		}
		if found != tt.found {
			t.Fatalf("FindByTimestamp(%d) found=%v", tt.ts, found)
		}
		if found {
			if h := splitBatches(t, b)[0].h; h.BaseOffset != tt.wantBase {
				t.Fatalf("FindByTimestamp(%d) = batch %d, want %d", tt.ts, h.BaseOffset, tt.wantBase)
			}
		}
	}
	// Below the log start offset batches are skipped.
	if err := l.DeleteRecordsBefore(12); err != nil {
		t.Fatal(err)
	}
	if b, found, _ := l.FindByTimestamp(0); !found || splitBatches(t, b)[0].h.BaseOffset != 12 {
		t.Fatalf("FindByTimestamp(0) after DeleteRecordsBefore(12) found=%v", found)
	}
}

// TestConcurrentReadersAndAppends runs readers against a log being appended
// to, rolled and trimmed by retention; run with -race.
func TestConcurrentReadersAndAppends(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 2048
	cfg.RetentionBytes = 8192
	cfg.RetentionMS = -1
	l := mustOpen(t, t.TempDir(), cfg)
	const n = 400
	var wg sync.WaitGroup
	done := make(chan struct{})
	errc := make(chan error, 4)
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 1<<16)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				start, end := l.LogStartOffset(), l.LogEndOffset()
				if end == start {
					continue
				}
				off := start + int64(i*(r+1))%(end-start)
				out, err := l.ReadInto(buf[:0], off, 4096, end, true)
				if errors.Is(err, ErrOffsetOutOfRange) {
					continue // retention moved the start
				}
				if err != nil {
					errc <- err
					return
				}
				var prev int64 = -1
				for len(out) > 0 {
					h, err := parseBatchHeader(out)
					if err != nil || batchCRC(out[:h.size()]) != h.CRC || (prev >= 0 && h.BaseOffset != prev+1) {
						errc <- fmt.Errorf("bad read at %d: %v", off, err)
						return
					}
					prev = h.lastOffset()
					out = out[h.size():]
				}
			}
		}()
	}
	for i := range n {
		mustAppend(t, l, plain(2, 60, int64(i)), AppendOptions{})
		if i%50 == 0 {
			if _, err := l.ApplyRetention(time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if l.LogStartOffset() == 0 {
		t.Fatalf("retention never ran")
	}
}

func TestClosedLog(t *testing.T) {
	l := mustOpen(t, t.TempDir(), testConfig())
	mustAppend(t, l, plain(1, 1, 1), AppendOptions{})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(plain(1, 1, 1), AppendOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := l.Read(0, 100, 1, true); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestDelete(t *testing.T) {
	dir := t.TempDir() + "/p0"
	l := mustOpen(t, dir, testConfig())
	for i := range 30 {
		mustAppend(t, l, plain(1, 200, int64(i)), AppendOptions{})
	}
	if err := l.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewOSFS().ReadDir(dir); err == nil {
		t.Fatalf("directory still exists")
	}
}

// TestFindByTimestampRandom compares FindByTimestamp with a linear scan on
// logs with random, non-monotonic timestamps, before and after a reopen
// (which loads the time indexes from disk).
func TestFindByTimestampRandom(t *testing.T) {
	for seed := range 6 {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		cfg := testConfig()
		cfg.SegmentBytes = 1000 + int64(rng.IntN(3000))
		cfg.IndexIntervalBytes = rng.IntN(600)
		dir := t.TempDir()
		l := mustOpen(t, dir, cfg, WithFS(NewMemFS()))
		fs := l.fs
		type entry struct{ base, maxTS int64 }
		var all []entry
		for range 80 {
			ts := int64(rng.IntN(5000))
			b := plain(1+rng.IntN(4), rng.IntN(200), ts)
			res := mustAppend(t, l, b, AppendOptions{})
			all = append(all, entry{res.BaseOffset, mustHeader(b).MaxTimestamp})
		}
		check := func(l *Log) {
			for q := int64(-1); q <= 5010; q += 7 {
				want := int64(-1)
				for _, e := range all {
					if e.maxTS >= q {
						want = e.base
						break
					}
				}
				b, found, err := l.FindByTimestamp(q)
				if err != nil {
					t.Fatal(err)
				}
				got := int64(-1)
				if found {
					got = splitBatches(t, b)[0].h.BaseOffset
				}
				if got != want {
					t.Fatalf("seed %d: FindByTimestamp(%d) = %d, want %d", seed, q, got, want)
				}
			}
		}
		check(l)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l2 := mustOpen(t, dir, cfg, WithFS(fs))
		check(l2)
	}
}
