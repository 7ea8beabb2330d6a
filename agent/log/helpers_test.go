package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// batchSpec describes a magic-v2 batch for tests.
type batchSpec struct {
	records   int
	valueSize int
	pid       int64
	epoch     int16
	seq       int32
	ts        int64 // first record's timestamp; record i has ts+i
	fill      byte  // value byte, to tell batches apart
}

// makeBatch builds a valid record batch (base offset 0, CRC set) with
// records encoded as Kafka does.
func makeBatch(sp batchSpec) []byte {
	if sp.records == 0 {
		sp.records = 1
	}
	b := make([]byte, batchHeaderSize, batchHeaderSize+sp.records*(sp.valueSize+16))
	for i := range sp.records {
		var rec []byte
		rec = append(rec, 0) // attributes
		rec = binary.AppendVarint(rec, int64(i))
		rec = binary.AppendVarint(rec, int64(i))
		rec = binary.AppendVarint(rec, -1) // null key
		rec = binary.AppendVarint(rec, int64(sp.valueSize))
		rec = append(rec, bytes.Repeat([]byte{sp.fill}, sp.valueSize)...)
		rec = binary.AppendVarint(rec, 0) // no headers
		b = binary.AppendVarint(b, int64(len(rec)))
		b = append(b, rec...)
	}
	be := binary.BigEndian
	be.PutUint32(b[offBatchLength:], uint32(len(b)-batchOverhead))
	be.PutUint32(b[offLeaderEpoch:], 0xffffffff)
	b[offMagic] = 2
	be.PutUint32(b[offLastOffsetDelta:], uint32(sp.records-1))
	be.PutUint64(b[offBaseTimestamp:], uint64(sp.ts))
	be.PutUint64(b[offMaxTimestamp:], uint64(sp.ts+int64(sp.records)-1))
	be.PutUint64(b[offProducerID:], uint64(sp.pid))
	be.PutUint16(b[offProducerEpoch:], uint16(sp.epoch))
	be.PutUint32(b[offBaseSequence:], uint32(sp.seq))
	be.PutUint32(b[offRecordsCount:], uint32(sp.records))
	be.PutUint32(b[offCRC:], batchCRC(b))
	return b
}

// plain returns a non-idempotent batch of n records of size bytes each.
func plain(n, size int, ts int64) []byte {
	return makeBatch(batchSpec{records: n, valueSize: size, pid: -1, epoch: -1, seq: -1, ts: ts, fill: byte(ts)})
}

// idem returns a one-record batch of an idempotent producer.
func idem(pid int64, epoch int16, seq int32, n int) []byte {
	return makeBatch(batchSpec{records: n, valueSize: 8, pid: pid, epoch: epoch, seq: seq, ts: testEpochMillis})
}

func testConfig() Config {
	c := NewConfig()
	c.SegmentBytes = 4096
	c.IndexIntervalBytes = 256
	return c
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// testEpochMillis is the fake clock's start and the timestamp of idem
// batches.
const testEpochMillis = 1_700_000_000_000

func newFakeClock() *fakeClock { return &fakeClock{now: time.UnixMilli(testEpochMillis)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// mustOpen opens a log and registers a Close (ignoring ErrClosed).
func mustOpen(t testing.TB, dir string, cfg Config, opts ...Option) *Log {
	t.Helper()
	opts = append([]Option{WithLogger(quietLogger())}, opts...)
	l, err := Open(dir, cfg, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

func mustAppend(t testing.TB, l *Log, b []byte, opts AppendOptions) AppendResult {
	t.Helper()
	res, err := l.Append(b, opts)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return res
}

// decoded is one batch read back from the log.
type decoded struct {
	h   batchHeader
	raw []byte
}

// splitBatches parses read output into batches, checking framing and CRCs.
func splitBatches(t testing.TB, b []byte) []decoded {
	t.Helper()
	var out []decoded
	for len(b) > 0 {
		h, err := parseBatchHeader(b)
		if err != nil {
			t.Fatalf("read output: %v", err)
		}
		if h.size() > int64(len(b)) {
			t.Fatalf("read output: batch of %d bytes, %d left", h.size(), len(b))
		}
		raw := b[:h.size()]
		if batchCRC(raw) != h.CRC {
			t.Fatalf("read output: CRC mismatch in batch at offset %d", h.BaseOffset)
		}
		out = append(out, decoded{h: h, raw: raw})
		b = b[h.size():]
	}
	return out
}

// readAll returns every batch from LogStartOffset, checking that offsets are
// dense.
func readAll(t testing.TB, l *Log) []decoded {
	t.Helper()
	start, end := l.LogStartOffset(), l.LogEndOffset()
	if start == end {
		return nil
	}
	b, err := l.Read(start, 1<<30, end, true)
	if err != nil {
		t.Fatalf("Read(%d): %v", start, err)
	}
	bs := splitBatches(t, b)
	for i := 1; i < len(bs); i++ {
		if bs[i].h.BaseOffset != bs[i-1].h.lastOffset()+1 {
			t.Fatalf("offsets not dense: batch at %d after batch ending %d", bs[i].h.BaseOffset, bs[i-1].h.lastOffset())
		}
	}
	if len(bs) > 0 && bs[len(bs)-1].h.lastOffset() != end-1 {
		t.Fatalf("last batch ends at %d, log end %d", bs[len(bs)-1].h.lastOffset(), end)
	}
	return bs
}

// osCorrupt XORs the byte at pos of a file with 0xff.
func osCorrupt(t testing.TB, path string, pos int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], pos); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:], pos); err != nil {
		t.Fatal(err)
	}
}

func segPath(dir string, base int64, suffix string) string {
	return filepath.Join(dir, offsetFileName(base, suffix))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
