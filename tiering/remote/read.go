package remote

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/strata-io/strata/metadata"
)

// Read returns whole batches from the remote segments segs (a partition's
// catalogue, sorted by base offset, as Uploader.RemoteSegments returns
// it), byte for byte as the local log held them, starting with the batch
// that holds offset (it may begin before offset). The limits are the
// local log's (agent/log Log.Read): it stops before a batch whose last
// offset is >= maxOffset and never returns more than maxBytes, except
// that with minOneBatch the first batch is returned whole even if larger.
// Reading continues into the following segments and ends after the last
// one; the caller continues from the local log if it wants more. An
// offset in a gap between segments reads from the next segment.
//
// offset must lie in [segs[0].BaseOffset, last segment's LastOffset];
// otherwise Read fails with ErrOffsetOutOfRange. A segment whose object
// is gone (retention deleted it after the caller read the catalogue)
// fails with an error wrapping tiering.ErrNotFound: the caller reads the
// catalogue again. Read blocks on GETs for missing blocks until ctx ends.
// After Close it fails with ErrClosed.
func (r *Reader) Read(ctx context.Context, segs []metadata.RemoteSegment, offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	return r.ReadInto(ctx, nil, segs, offset, maxBytes, maxOffset, minOneBatch)
}

// ReadInto is Read appending to dst. On error dst is returned unchanged.
func (r *Reader) ReadInto(ctx context.Context, dst []byte, segs []metadata.RemoteSegment, offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	r.reads.Add(1)
	if r.ctx.Err() != nil {
		return dst, ErrClosed
	}
	if len(segs) == 0 || offset < segs[0].BaseOffset || offset > segs[len(segs)-1].LastOffset {
		return dst, fmt.Errorf("%w: offset %d not in the remote segments", ErrOffsetOutOfRange, offset)
	}
	i, _ := slices.BinarySearchFunc(segs, offset, func(s metadata.RemoteSegment, off int64) int {
		return cmp.Compare(s.LastOffset, off)
	})
	f := fetchState{dst: dst, start: len(dst), budget: int64(max(maxBytes, 0)), maxOffset: maxOffset, minOne: minOneBatch}
	first := i
	for ; i < len(segs); i++ {
		done, err := r.readSegment(ctx, &f, &segs[i], max(offset, segs[i].BaseOffset), i == first)
		if err != nil {
			return dst, err
		}
		if done {
			break
		}
	}
	if f.endSeg != nil {
		r.afterRead(segs, &f)
	}
	return f.dst, nil
}

// fetchState is the progress of one Read.
type fetchState struct {
	dst       []byte
	start     int // len(dst) on entry
	budget    int64
	maxOffset int64
	minOne    bool

	// Where the read began and ended, for read-ahead.
	sequential bool // it continues an earlier read
	endSeg     *metadata.RemoteSegment
	endPos     int64 // byte position after the last batch read
	endOffset  int64 // offset after the last batch read
}

// readSegment appends batches of seg from the one holding offset; first
// is set for the first segment of the read. done reports that the read is
// complete (budget or maxOffset reached, or it stopped inside seg).
func (r *Reader) readSegment(ctx context.Context, f *fetchState, seg *metadata.RemoteSegment, offset int64, first bool) (bool, error) {
	pos, h, continued, err := r.locate(ctx, seg, offset)
	if err != nil {
		return true, err
	}
	if first {
		f.sequential = pos == 0 || continued
	}
	if h.lastOffset() >= f.maxOffset {
		return true, nil
	}
	if h.length > f.budget {
		if !f.minOne || len(f.dst) > f.start {
			return true, nil
		}
		// The first batch is returned whole even above the budget.
		if f.dst, err = r.appendRange(ctx, f.dst, seg, pos, h.length); err != nil {
			return true, err
		}
		f.budget = 0
		f.endSeg, f.endPos, f.endOffset = seg, pos+h.length, h.lastOffset()+1
		return true, nil
	}
	n := min(f.budget, seg.Size-pos)
	old := len(f.dst)
	if f.dst, err = r.appendRange(ctx, f.dst, seg, pos, n); err != nil {
		return true, err
	}
	keep, next, cut, err := wholeBatches(f.dst[old:], h.baseOffset, f.maxOffset)
	if err != nil {
		f.dst = f.dst[:old]
		return true, fmt.Errorf("object %s at %d: %w", seg.LogKey, pos, err)
	}
	f.dst = f.dst[:old+int(keep)]
	f.budget -= keep
	if keep > 0 {
		f.endSeg, f.endPos, f.endOffset = seg, pos+keep, next
	}
	return cut || pos+keep < seg.Size || f.budget <= 0, nil
}

// wholeBatches returns the length of the whole batches at the start of
// chunk that end below maxOffset, and the offset after them, checking that
// offsets are dense from base; cut reports a stop at maxOffset.
func wholeBatches(chunk []byte, base, maxOffset int64) (keep, next int64, cut bool, err error) {
	next = base
	for keep+batchHeaderSize <= int64(len(chunk)) {
		h, err := parseBatchHeader(chunk[keep:])
		if err != nil {
			return 0, 0, false, err
		}
		if h.baseOffset != next {
			return 0, 0, false, fmt.Errorf("%w: batch has base offset %d, want %d", ErrCorrupt, h.baseOffset, next)
		}
		if keep+h.length > int64(len(chunk)) {
			break
		}
		if h.lastOffset() >= maxOffset {
			return keep, next, true, nil
		}
		keep += h.length
		next = h.lastOffset() + 1
	}
	return keep, next, false, nil
}

// locate returns the position and header of the batch of seg that holds
// offset (the first batch when offset is at or below the base). A read
// that continues where an earlier one ended (continued) starts at the
// position it left; others find a place close before it in the offset
// index and walk batch headers from there.
func (r *Reader) locate(ctx context.Context, seg *metadata.RemoteSegment, offset int64) (pos int64, h batchHeader, continued bool, err error) {
	if offset > seg.BaseOffset {
		if pos, continued = r.cache.stream(seg.LogKey, offset); !continued {
			idx, err := r.offsetIndex(ctx, seg)
			if err != nil {
				return 0, h, false, err
			}
			pos = lookupPosition(idx, relOffset(offset, seg.BaseOffset))
		}
	}
	for pos < seg.Size {
		if h, err = r.header(ctx, seg, pos); err != nil {
			return 0, h, false, err
		}
		if h.lastOffset() >= offset {
			return pos, h, continued, nil
		}
		pos += h.length
	}
	return 0, h, false, fmt.Errorf("%w: offset %d is not in object %s (offsets %d to %d)", ErrCorrupt, offset, seg.LogKey, seg.BaseOffset, seg.LastOffset)
}

// afterRead remembers where the read ended, so that the next read from
// there counts as sequential, and for a sequential read fetches the
// ReadAhead blocks after the end in the background, into the following
// segments if need be.
func (r *Reader) afterRead(segs []metadata.RemoteSegment, f *fetchState) {
	bs := r.cfg.BlockSize
	seg, pos := f.endSeg, f.endPos
	r.cache.noteStream(seg.LogKey, f.endOffset, pos)
	if !f.sequential || r.cfg.ReadAhead == 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(segs, seg.BaseOffset, func(s metadata.RemoteSegment, base int64) int {
		return cmp.Compare(s.BaseOffset, base)
	})
	b := pos/bs + 1
	if pos%bs == 0 {
		b = pos / bs // the next read starts exactly at this block
	}
	for n := 0; n < r.cfg.ReadAhead && i < len(segs); {
		s := &segs[i]
		if b*bs >= s.Size {
			i, b = i+1, 0
			continue
		}
		if _, _, err := r.lookup(cacheKey{s.LogKey, b}, r.blockLoader(s.LogKey, s.Size, b), true); err != nil {
			return
		}
		b++
		n++
	}
}

// FindByTimestamp returns a copy of the first batch in segs whose
// MaxTimestamp is >= ts, and found=false if there is none (ListOffsets by
// timestamp). It picks the segment by the catalogue's MaxTimestamp and
// seeks in it with the time and offset indexes.
func (r *Reader) FindByTimestamp(ctx context.Context, segs []metadata.RemoteSegment, ts int64) (batch []byte, found bool, err error) {
	if r.ctx.Err() != nil {
		return nil, false, ErrClosed
	}
	for i := range segs {
		seg := &segs[i]
		if seg.MaxTimestamp < ts {
			continue
		}
		tidx, err := r.timeIndex(ctx, seg)
		if err != nil {
			return nil, false, err
		}
		pos := int64(0)
		if rel := lookupTime(tidx, ts); rel > 0 {
			idx, err := r.offsetIndex(ctx, seg)
			if err != nil {
				return nil, false, err
			}
			pos = lookupPosition(idx, rel)
		}
		for pos < seg.Size {
			h, err := r.header(ctx, seg, pos)
			if err != nil {
				return nil, false, err
			}
			if h.maxTimestamp >= ts {
				b, err := r.appendRange(ctx, nil, seg, pos, h.length)
				return b, err == nil, err
			}
			pos += h.length
		}
	}
	return nil, false, nil
}

// ReaderStats is a snapshot of a Reader's counters, for metrics.
type ReaderStats struct {
	// Reads counts Read calls.
	Reads int64
	// Hits counts blocks and indexes served from the cache, Misses those
	// that needed a GET, Shared those that waited for a GET another
	// reader had started (one GET for many readers). The hit ratio is
	// Hits / (Hits + Misses + Shared).
	Hits, Misses, Shared int64
	// Prefetches counts GETs started by read-ahead.
	Prefetches int64
	// Gets, GetErrors and BytesFetched count GETs, failed GETs and the
	// bytes they returned.
	Gets, GetErrors, BytesFetched int64
	// Evictions counts values dropped to stay within CacheBytes;
	// CachedBytes and CachedItems are what the cache holds now.
	Evictions   int64
	CachedBytes int64
	CachedItems int
}

// Stats returns a snapshot of the Reader's counters.
func (r *Reader) Stats() ReaderStats {
	c := r.cache
	bytes, items := c.size()
	return ReaderStats{
		Reads:        r.reads.Load(),
		Hits:         c.hits.Load(),
		Misses:       c.misses.Load(),
		Shared:       c.shared.Load(),
		Prefetches:   c.prefetched.Load(),
		Gets:         r.gets.Load(),
		GetErrors:    r.getErrors.Load(),
		BytesFetched: r.fetched.Load(),
		Evictions:    c.evicted.Load(),
		CachedBytes:  bytes,
		CachedItems:  items,
	}
}
