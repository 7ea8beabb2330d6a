package remote

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/tiering"
)

func newTestReader(t testing.TB, store tiering.ObjectStore, blockSize, cacheBytes int64) *Reader {
	t.Helper()
	cfg := NewReaderConfig()
	cfg.Store, cfg.BlockSize, cfg.CacheBytes = store, blockSize, cacheBytes
	cfg.Logger = testLogger(t)
	r, err := NewReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// uploaded builds a log of about size bytes in segments of segmentBytes,
// uploads its closed segments and returns the log and the catalogue.
func uploaded(t *testing.T, store tiering.ObjectStore, size, segmentBytes int64) (*testLog, []metadata.RemoteSegment) {
	t.Helper()
	cat := newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), segmentBytes)
	lg.fill(t, size)
	u := startUploader(t, testUploaderConfig(t, store, cat))
	enqueueAll(t, u, lg.closed(1))
	drain(t, u)
	segs, err := u.RemoteSegments(testContext(t), lg.tp)
	if err != nil {
		t.Fatal(err)
	}
	return lg, segs
}

// TestReadMatchesLocal compares remote reads with local reads of the same
// log for random offsets and limits: the bytes must be identical.
func TestReadMatchesLocal(t *testing.T) {
	store := newFSStore(t)
	lg, segs := uploaded(t, store, 900<<10, 64<<10)
	end := segs[len(segs)-1].LastOffset + 1
	for _, cfg := range []struct{ block, cache int64 }{{4 << 10, 64 << 10}, {64 << 10, 0}, {1 << 20, 256 << 20}} {
		t.Run(fmt.Sprintf("block=%d,cache=%d", cfg.block, cfg.cache), func(t *testing.T) {
			r := newTestReader(t, store, cfg.block, cfg.cache)
			rng := rand.New(rand.NewPCG(3, uint64(cfg.block)))
			for range 300 {
				off := rng.Int64N(end)
				maxBytes := []int{0, 1, 100, 5000, 70 << 10, 1 << 20}[rng.IntN(6)]
				maxOffset := end
				if rng.IntN(3) == 0 {
					maxOffset = off + rng.Int64N(end-off+1)
				}
				minOne := rng.IntN(2) == 0
				want, err := lg.Read(off, maxBytes, maxOffset, minOne)
				if err != nil {
					t.Fatal(err)
				}
				got, err := r.Read(testContext(t), segs, off, maxBytes, maxOffset, minOne)
				if err != nil {
					t.Fatalf("Read(%d, %d, %d, %v): %v", off, maxBytes, maxOffset, minOne, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("Read(%d, %d, %d, %v) = %d bytes, the local log returns %d", off, maxBytes, maxOffset, minOne, len(got), len(want))
				}
			}
			// A full scan, fetch after fetch, as a consumer catching up.
			var all []byte
			for off := int64(0); off < end; {
				got, err := r.ReadInto(testContext(t), all, segs, off, 30<<10, end, true)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == len(all) {
					t.Fatalf("no progress at offset %d", off)
				}
				h, _ := lastBatch(t, got[len(all):])
				all, off = got, h.lastOffset()+1
			}
			want, _ := lg.Read(0, 1<<30, end, true)
			if !bytes.Equal(all, want) {
				t.Fatalf("scan returned %d bytes, the local log %d", len(all), len(want))
			}
			if st := r.Stats(); st.CachedBytes > cfg.cache {
				t.Errorf("cache holds %d bytes, more than %d", st.CachedBytes, cfg.cache)
			}
		})
	}
}

// lastBatch returns the header of the last batch in b.
func lastBatch(t testing.TB, b []byte) (batchHeader, int) {
	t.Helper()
	var h batchHeader
	n := 0
	for pos := int64(0); pos < int64(len(b)); pos += h.length {
		var err error
		if h, err = parseBatchHeader(b[pos:]); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return h, n
}

func TestReadEdges(t *testing.T) {
	store := newFSStore(t)
	lg, segs := uploaded(t, store, 200<<10, 32<<10)
	r := newTestReader(t, store, 4<<10, 1<<20)
	ctx := testContext(t)
	end := segs[len(segs)-1].LastOffset + 1
	for _, off := range []int64{-1, end, end + 100} {
		if _, err := r.Read(ctx, segs, off, 1000, end, true); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Errorf("Read(%d) = %v, want ErrOffsetOutOfRange", off, err)
		}
	}
	if _, err := r.Read(ctx, nil, 0, 1000, end, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Errorf("Read of no segments = %v", err)
	}
	// Without minOneBatch a budget below the first batch returns nothing;
	// with it, exactly the first batch.
	if got, err := r.Read(ctx, segs, 0, 1, end, false); err != nil || len(got) != 0 {
		t.Errorf("Read with 1 byte = %d bytes, %v", len(got), err)
	}
	got, err := r.Read(ctx, segs, 0, 1, end, true)
	if _, n := lastBatch(t, got); err != nil || n != 1 {
		t.Errorf("Read with 1 byte and minOneBatch = %d batches, %v", n, err)
	}
	// maxOffset at the offset returns nothing.
	if got, err := r.Read(ctx, segs, 10, 1<<20, 10, true); err != nil || len(got) != 0 {
		t.Errorf("Read at maxOffset = %d bytes, %v", len(got), err)
	}
	// A gap (a segment missing from the catalogue) reads from the next.
	gap := append(append([]metadata.RemoteSegment{}, segs[:1]...), segs[2:]...)
	got, err = r.Read(ctx, gap, segs[1].BaseOffset+1, 1000, end, true)
	want, _ := lg.Read(segs[2].BaseOffset, 1000, end, true)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("Read in a gap = %d bytes, %v; want the next segment's %d", len(got), err, len(want))
	}
	// A deleted object is tiering.ErrNotFound.
	if err := store.Delete(ctx, segs[0].LogKey); err != nil {
		t.Fatal(err)
	}
	r2 := newTestReader(t, store, 4<<10, 1<<20)
	if _, err := r2.Read(ctx, segs, 0, 1000, end, true); !errors.Is(err, tiering.ErrNotFound) {
		t.Errorf("Read of a deleted object = %v, want ErrNotFound", err)
	}
	r2.Close()
	if _, err := r2.Read(ctx, segs, segs[1].BaseOffset, 1000, end, true); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
}

// TestReadSingleflight: readers that want the same cold blocks at once
// cause one GET per block.
func TestReadSingleflight(t *testing.T) {
	fs := newFSStore(t)
	lg, segs := uploaded(t, fs, 300<<10, 64<<10)
	store := &faultyStore{ObjectStore: fs}
	gate := make(chan struct{})
	store.gate = gate
	r := newTestReader(t, store, 16<<10, 64<<20)
	seg := segs[1]
	off := seg.BaseOffset + (seg.LastOffset-seg.BaseOffset)/2
	want, _ := lg.Read(off, 40<<10, seg.LastOffset+1, true)
	const readers = 16
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Go(func() {
			got, err := r.Read(testContext(t), segs, off, 40<<10, seg.LastOffset+1, true)
			if err == nil && !bytes.Equal(got, want) {
				err = fmt.Errorf("got %d bytes, want %d", len(got), len(want))
			}
			errs <- err
		})
	}
	// All readers wait for the index GET; let it through once they do.
	eventually(t, "readers waiting", func() bool { return r.Stats().Shared >= readers-1 })
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// One GET for the index and one per block the read touches (it
	// starts in some block and reads 40 KiB: 3 or 4 blocks, plus perhaps
	// the block before for the index position).
	st := r.Stats()
	if gets := store.gets.Load(); gets > 6 || gets != st.Gets {
		t.Errorf("%d readers caused %d GETs (stats %+v)", readers, gets, st)
	}
	if st.Misses+st.Shared+st.Hits == 0 || st.Shared < readers-1 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestCacheBounded: many readers over more data than the cache holds
// never make it hold more than CacheBytes.
func TestCacheBounded(t *testing.T) {
	store := newFSStore(t)
	lg, segs := uploaded(t, store, 1<<20, 64<<10)
	const limit = 8 * 16 << 10
	r := newTestReader(t, store, 16<<10, limit)
	end := segs[len(segs)-1].LastOffset + 1
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			for range 100 {
				off := rng.Int64N(end)
				got, err := r.Read(testContext(t), segs, off, 20<<10, end, true)
				if err != nil {
					errs <- err
					return
				}
				if want, _ := lg.Read(off, 20<<10, end, true); !bytes.Equal(got, want) {
					errs <- fmt.Errorf("Read(%d) differs from the local log", off)
					return
				}
				if st := r.Stats(); st.CachedBytes > limit {
					errs <- fmt.Errorf("cache holds %d bytes, limit %d", st.CachedBytes, limit)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Evictions == 0 || st.CachedBytes == 0 {
		t.Errorf("Stats = %+v, want evictions and a non-empty cache", st)
	}
}

// TestReadAhead: a consumer reading sequentially finds the next blocks
// already fetched (or being fetched) when read-ahead is on, and misses
// every block when it is off.
func TestReadAhead(t *testing.T) {
	fs := newFSStore(t)
	_, segs := uploaded(t, fs, 600<<10, 128<<10)
	end := segs[len(segs)-1].LastOffset + 1
	for _, ra := range []int{0, 4} {
		t.Run(fmt.Sprintf("readahead=%d", ra), func(t *testing.T) {
			store := &faultyStore{ObjectStore: fs}
			d := 5 * time.Millisecond
			store.getDelay.Store(&d)
			cfg := NewReaderConfig()
			cfg.Store, cfg.BlockSize, cfg.ReadAhead = store, 8<<10, ra
			r, err := NewReader(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			reads := 0
			for off := int64(0); off < end; reads++ {
				got, err := r.Read(testContext(t), segs, off, 8<<10, end, true)
				if err != nil {
					t.Fatal(err)
				}
				h, _ := lastBatch(t, got)
				off = h.lastOffset() + 1
			}
			st := r.Stats()
			t.Logf("%d reads: %+v", reads, st)
			if ra == 0 && (st.Prefetches != 0 || st.Misses < int64(reads)/2) {
				t.Errorf("without read-ahead: %+v", st)
			}
			if ra > 0 && (st.Prefetches == 0 || st.Misses > int64(len(segs))+2) {
				t.Errorf("with read-ahead %d: %+v", ra, st)
			}
		})
	}
}

func TestFindByTimestamp(t *testing.T) {
	store := newFSStore(t)
	lg, segs := uploaded(t, store, 500<<10, 48<<10)
	r := newTestReader(t, store, 8<<10, 1<<20)
	lo, hi := segs[0].BaseTimestamp, segs[len(segs)-1].MaxTimestamp
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		ts := lo - 100 + rng.Int64N(hi-lo+200)
		got, found, err := r.FindByTimestamp(testContext(t), segs, ts)
		if err != nil {
			t.Fatal(err)
		}
		if ts > hi {
			if found {
				t.Errorf("FindByTimestamp(%d) past the max %d found a batch", ts, hi)
			}
			continue
		}
		want, wantFound, err := lg.FindByTimestamp(ts)
		if err != nil || !wantFound {
			t.Fatalf("local FindByTimestamp(%d) = %v, %v", ts, wantFound, err)
		}
		if !found || !bytes.Equal(got, want) {
			t.Fatalf("FindByTimestamp(%d) = %d bytes, %v; the local log finds %d bytes", ts, len(got), found, len(want))
		}
	}
}
