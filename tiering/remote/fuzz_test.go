package remote

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/tiering"
)

// memObjects is a minimal in-memory tiering.ObjectStore for fuzzing,
// where a file-system store would be too slow.
type memObjects struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (m *memObjects) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	b, err := io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[key] = b
	return nil
}

func (m *memObjects) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	m.mu.Lock()
	b, ok := m.objs[key]
	m.mu.Unlock()
	if !ok {
		return nil, tiering.ErrNotFound
	}
	if off < 0 || off > int64(len(b)) {
		return nil, tiering.ErrInvalidRange
	}
	b = b[off:]
	if n >= 0 && n < int64(len(b)) {
		b = b[:n]
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memObjects) Stat(ctx context.Context, key string) (tiering.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return tiering.ObjectInfo{}, tiering.ErrNotFound
	}
	return tiering.ObjectInfo{Key: key, Size: int64(len(b)), ModTime: time.Unix(0, 0)}, nil
}

func (m *memObjects) List(ctx context.Context, prefix string, fn func(tiering.ObjectInfo) error) error {
	m.mu.Lock()
	var keys []string
	for k := range m.objs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	sort.Strings(keys)
	for _, k := range keys {
		oi, err := m.Stat(ctx, k)
		if err == nil {
			err = fn(oi)
		}
		if err != nil && !errors.Is(err, tiering.ErrNotFound) {
			return err
		}
	}
	return nil
}

func (m *memObjects) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, key)
	return nil
}

// seedSegment returns the bytes of a small real segment.
func seedSegment(f *testing.F) []byte {
	lg := newTestLog(f, filepath.Join(f.TempDir(), "log"), newTP(), 4<<10)
	lg.fill(f, 6<<10)
	return readFile(f, lg.closed(0)[0].LogPath)
}

func FuzzDecodeIndexes(f *testing.F) {
	f.Add(encodeOffsetIndex([]indexEntry{{1, 100}, {5, 900}}))
	f.Add(encodeTimeIndex([]timeEntry{{10, 1}, {20, 4}}))
	f.Add(encodeOffsetIndex(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := decodeOffsetIndex(b); err == nil {
			if !bytes.Equal(encodeOffsetIndex(e), b) {
				t.Fatal("offset index does not re-encode to its bytes")
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("offset index error %v is not ErrCorrupt", err)
		}
		if e, err := decodeTimeIndex(b); err == nil {
			if !bytes.Equal(encodeTimeIndex(e), b) {
				t.Fatal("time index does not re-encode to its bytes")
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("time index error %v is not ErrCorrupt", err)
		}
	})
}

// FuzzScanner streams arbitrary bytes as a segment through the upload
// scanner: it must refuse them or accept them with indexes that point at
// real batches and a valid catalogue entry.
func FuzzScanner(f *testing.F) {
	seg := seedSegment(f)
	h, _ := parseBatchHeader(seg)
	last := h.lastOffset()
	for pos := h.length; pos < int64(len(seg)); pos += h.length {
		h, _ = parseBatchHeader(seg[pos:])
		last = h.lastOffset()
	}
	f.Add(seg, int64(0), last, int64(100))
	f.Add(seg[:len(seg)/2], int64(0), last, int64(0))
	f.Add([]byte{}, int64(0), int64(0), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, base, last, interval int64) {
		if base < 0 || last < base || interval < 0 {
			return
		}
		size := int64(len(data))
		sc := newScanner(bytes.NewReader(data), size, base, last, interval)
		out, err := io.ReadAll(sc)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, errChanged) {
				t.Fatalf("scanner error %v is neither ErrCorrupt nor errChanged", err)
			}
			return
		}
		if size == 0 {
			return // an empty range is refused by Enqueue, not the scanner
		}
		if !bytes.Equal(out, data) || sc.crc != crc32.Checksum(data, castagnoli) {
			t.Fatal("scanner changed the bytes or their CRC")
		}
		for _, e := range sc.index {
			h, err := parseBatchHeader(data[e.pos:])
			if err != nil || h.baseOffset != base+int64(e.rel) {
				t.Fatalf("index entry %+v does not point at its batch", e)
			}
		}
		if _, err := decodeOffsetIndex(encodeOffsetIndex(sc.index)); err != nil {
			t.Fatalf("offset index does not decode: %v", err)
		}
		if _, err := decodeTimeIndex(encodeTimeIndex(sc.times)); err != nil {
			t.Fatalf("time index does not decode: %v", err)
		}
		rs := metadata.RemoteSegment{BaseOffset: base, LastOffset: last, BaseTimestamp: sc.baseTS, MaxTimestamp: sc.maxTS,
			Size: size, EpochStarts: sc.epochs, LogKey: "l", IndexKey: "i", TimeIndexKey: "t", UploadedBy: -1}
		if err := rs.Validate(); err != nil {
			t.Fatalf("accepted segment makes an invalid entry: %v", err)
		}
	})
}

// FuzzRead reads arbitrary object bytes as a remote segment: every call
// returns batches or an error, never panics or hangs, and what it returns
// is whole batches of the object.
func FuzzRead(f *testing.F) {
	seg := seedSegment(f)
	f.Add(seg, int64(0), int64(3), 1000, true)
	f.Add(seg, int64(0), int64(9), 1, false)
	f.Add(seg[:100], int64(5), int64(5), 1<<20, true)
	f.Fuzz(func(t *testing.T, data []byte, base, offset int64, maxBytes int, minOne bool) {
		if base < 0 || base > 1<<40 || len(data) == 0 {
			return
		}
		store := &memObjects{objs: map[string][]byte{
			"s.log":       data,
			"s.index":     encodeOffsetIndex([]indexEntry{{rel: 2, pos: uint32(len(data) / 2)}}),
			"s.timeindex": encodeTimeIndex([]timeEntry{{ts: 5, rel: 1}}),
		}}
		rs := metadata.RemoteSegment{BaseOffset: base, LastOffset: base + 10, Size: int64(len(data)), MaxTimestamp: 100,
			LogKey: "s.log", IndexKey: "s.index", TimeIndexKey: "s.timeindex"}
		cfg := NewReaderConfig()
		cfg.Store, cfg.BlockSize = store, 4<<10
		r, err := NewReader(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		segs := []metadata.RemoteSegment{rs}
		out, err := r.Read(ctx, segs, offset, maxBytes, base+11, minOne)
		if err == nil {
			if !bytes.Contains(data, out) {
				t.Fatal("Read returned bytes the object does not hold")
			}
			for pos := 0; pos < len(out); {
				if len(out)-pos < batchHeaderSize {
					t.Fatalf("Read returned %d bytes after its last batch", len(out)-pos)
				}
				h, err := parseBatchHeader(out[pos:])
				if err != nil || pos+int(h.length) > len(out) {
					t.Fatalf("Read returned a partial batch at %d", pos)
				}
				pos += int(h.length)
			}
		} else if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("Read error %v", err)
		}
		if _, _, err := r.FindByTimestamp(ctx, segs, offset); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("FindByTimestamp error %v", err)
		}
	})
}
