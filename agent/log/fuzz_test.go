package log

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

const fuzzDir = "/fuzz/p"

// validSegment returns the bytes of a segment holding n batches from
// offset 0.
func validSegment(n int) []byte {
	var seg []byte
	var next int64
	for i := range n {
		b := makeBatch(batchSpec{records: 1 + i%3, valueSize: 10 * i, pid: int64(i % 2), epoch: 0, seq: int32(i), ts: int64(i)})
		stampBatches(b, []pendingBatch{{pos: 0, h: mustHeader(b)}}, next, AppendOptions{LeaderEpoch: 1})
		next += int64(1 + i%3)
		seg = append(seg, b...)
	}
	return seg
}

func mustHeader(b []byte) batchHeader {
	h, err := parseBatchHeader(b)
	if err != nil {
		panic(err)
	}
	return h
}

func writeMemFile(t testing.TB, m *MemFS, name string, data []byte) {
	t.Helper()
	f, err := m.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// FuzzRecover opens a log whose only segment (or whose index) is arbitrary
// bytes. Open must not panic; it either fails with ErrCorrupt or recovers a
// log whose content is a valid prefix of the segment bytes. The first byte
// picks the scenario: 0 unclean shutdown, 1 clean shutdown (the segment is
// trusted and its missing index rebuilt strictly), 2 clean shutdown with
// the rest as the .index file of a valid segment.
func FuzzRecover(f *testing.F) {
	seg := validSegment(8)
	f.Add(append([]byte{0}, seg...))
	f.Add(append([]byte{0}, seg[:len(seg)-7]...))
	bad := bytes.Clone(seg)
	bad[100] ^= 1
	f.Add(append([]byte{0}, bad...))
	f.Add(append([]byte{0}, append(bytes.Clone(seg), make([]byte, 64)...)...))
	f.Add(append([]byte{1}, seg...))
	f.Add(append([]byte{1}, seg[:len(seg)-1]...))
	f.Add(append([]byte{2}, encodeOffsetIndex([]indexEntry{{rel: 1, pos: 75}, {rel: 3, pos: 200}})...))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		mode, rest := data[0]%3, data[1:]
		m := NewMemFS()
		if err := m.MkdirAll(fuzzDir, 0o755); err != nil {
			t.Fatal(err)
		}
		segment := rest
		if mode == 2 {
			segment = seg
			writeMemFile(t, m, filepath.Join(fuzzDir, offsetFileName(0, indexSuffix)), rest)
			writeMemFile(t, m, filepath.Join(fuzzDir, offsetFileName(0, timeIndexSuffix)), encodeTimeIndex(nil))
		}
		writeMemFile(t, m, filepath.Join(fuzzDir, offsetFileName(0, logSuffix)), segment)
		if mode != 0 {
			cp := logCheckpoint{clean: true}
			writeMemFile(t, m, filepath.Join(fuzzDir, logCheckpointName), cp.encode())
		}
		cfg := testConfig()
		cfg.SegmentBytes = 1 << 20
		l, err := Open(fuzzDir, cfg, WithFS(m), WithLogger(quietLogger()))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open error %v is not ErrCorrupt", err)
			}
			return
		}
		defer l.Close()
		var got []byte
		for _, b := range readAll(t, l) {
			got = append(got, b.raw...)
		}
		if !bytes.HasPrefix(segment, got) || int64(len(got)) != l.Size() {
			t.Fatalf("recovered %d bytes that are not a prefix of the %d-byte segment", len(got), len(segment))
		}
		if mode != 0 && len(got) != len(segment) {
			t.Fatalf("a trusted segment lost %d bytes", len(segment)-len(got))
		}
		checkIndexes(t, l)
	})
}

// checkIndexes checks every index entry of every segment points at a batch
// with that base offset.
func checkIndexes(t *testing.T, l *Log) {
	t.Helper()
	var hb [batchHeaderSize]byte
	for _, s := range l.view.Load().segs {
		s.mu.RLock()
		idx := append([]indexEntry(nil), s.idx...)
		s.mu.RUnlock()
		for _, e := range idx {
			h, err := s.readHeader(int64(e.pos), s.size.Load(), hb[:])
			if err != nil || h.BaseOffset != s.base+int64(e.rel) {
				t.Fatalf("index entry %d@%d of %s is wrong: %v", e.rel, e.pos, s.logPath, err)
			}
		}
	}
}

func FuzzIndexDecode(f *testing.F) {
	f.Add(encodeOffsetIndex(nil))
	f.Add(encodeOffsetIndex([]indexEntry{{1, 100}, {5, 4000}, {9, 1 << 30}}))
	f.Add(encodeTimeIndex([]timeEntry{{-5, 0}, {1000, 3}, {1 << 40, 7}}))
	f.Add([]byte("SIDX\x00\x01\x00\x00\x00\x00\x00\x08"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if idx, err := decodeOffsetIndex(data); err == nil {
			if !bytes.Equal(encodeOffsetIndex(idx), data) {
				t.Fatalf("offset index does not round-trip")
			}
			for _, e := range idx {
				if lookupPosition(idx, e.rel) != int64(e.pos) {
					t.Fatalf("lookup of %d", e.rel)
				}
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v is not ErrCorrupt", err)
		}
		if tidx, err := decodeTimeIndex(data); err == nil {
			if !bytes.Equal(encodeTimeIndex(tidx), data) {
				t.Fatalf("time index does not round-trip")
			}
			for _, e := range tidx {
				lookupTime(tidx, e.ts)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v is not ErrCorrupt", err)
		}
	})
}

func FuzzSnapshotDecode(f *testing.F) {
	m := newProducerStateManager()
	for i := range 7 {
		for j := range i {
			m.apply(&batchHeader{ProducerID: int64(i), ProducerEpoch: 1, BaseSequence: int32(j), BaseOffset: int64(10 * j), MaxTimestamp: 99}, nil)
		}
	}
	f.Add(encodeSnapshot(123, m))
	f.Add(encodeSnapshot(0, newProducerStateManager()))
	f.Fuzz(func(t *testing.T, data []byte) {
		off, m, err := decodeSnapshot(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if !bytes.Equal(encodeSnapshot(off, m), data) {
			t.Fatalf("snapshot does not round-trip")
		}
	})
}

func FuzzCheckpointDecode(f *testing.F) {
	c := epochCache{entries: []epochEntry{{1, 0}, {4, 100}}}
	f.Add(c.encode())
	f.Add(logCheckpoint{logStartOffset: 5, recoveryPoint: 10, clean: true}.encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		if entries, err := decodeEpochCheckpoint(data); err == nil {
			if !bytes.Equal((&epochCache{entries: entries}).encode(), data) {
				t.Fatalf("epoch checkpoint does not round-trip")
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v is not ErrCorrupt", err)
		}
		if cp, err := decodeLogCheckpoint(data); err == nil {
			if !bytes.Equal(cp.encode(), data) {
				t.Fatalf("log checkpoint does not round-trip")
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v is not ErrCorrupt", err)
		}
	})
}

// FuzzAppend feeds arbitrary request bytes to Append: it must reject them
// with ErrInvalidBatch (or a producer error) or store them so they read
// back byte for byte apart from the stamped fields.
func FuzzAppend(f *testing.F) {
	f.Add(validSegment(3))
	f.Add(plain(2, 10, 1))
	f.Add(append(plain(1, 1, 1), 0, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := NewMemFS()
		l, err := Open(fuzzDir, testConfig(), WithFS(m), WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		in := bytes.Clone(data)
		res, err := l.Append(in, AppendOptions{LeaderEpoch: 0})
		if err != nil {
			if !errors.Is(err, ErrInvalidBatch) && !errors.Is(err, ErrOutOfOrderSequence) && !errors.Is(err, ErrInvalidProducerEpoch) {
				t.Fatalf("Append error %v", err)
			}
			if l.LogEndOffset() != 0 {
				t.Fatalf("rejected append moved the log end")
			}
			return
		}
		out, err := l.Read(0, len(in)+1, l.LogEndOffset(), true)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, in) || res.LastOffset != l.LogEndOffset()-1 {
			t.Fatalf("read back differs from the appended request")
		}
	})
}
