package log

import (
	"fmt"
	"slices"
	"sync"
)

// headerPool holds batchHeaderSize scratch buffers for reading headers
// without allocating.
var headerPool = sync.Pool{New: func() any { return new([batchHeaderSize]byte) }}

// maxReadAttempts bounds retries of a read that raced with segment
// deletion.
const maxReadAttempts = 4

// Read returns whole batches starting with the one that holds offset (it
// may begin before offset). It stops before a batch whose last offset is
// >= maxOffset (e.g. the high watermark) and never returns more than
// maxBytes, except that with minOneBatch the first batch is returned whole
// even if larger (Kafka's fetch semantics). Reading continues across
// segment boundaries. offset < LogStartOffset or > LogEndOffset fails with
// ErrOffsetOutOfRange; offset == LogEndOffset returns nothing.
//
// Read takes no lock that Append holds: it works on a snapshot of the
// segment list with pread. A Read racing with TruncateTo of the same range
// may fail.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	return l.ReadInto(nil, offset, maxBytes, maxOffset, minOneBatch)
}

// ReadInto is Read appending to dst, to reuse buffers. On error dst is
// returned unchanged.
func (l *Log) ReadInto(dst []byte, offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	return retryRead(l, dst, offset, func(hb []byte) ([]byte, bool, error) {
		return l.readOnce(dst, offset, maxBytes, maxOffset, minOneBatch, hb)
	})
}

// retryRead runs one read attempt (on a snapshot of the segment list) until
// it does not race with segment deletion, up to maxReadAttempts. On error it
// returns unchanged.
func retryRead[T any](l *Log, unchanged T, offset int64, once func(hb []byte) (T, bool, error)) (T, error) {
	hb := headerPool.Get().(*[batchHeaderSize]byte)
	defer headerPool.Put(hb)
	for attempt := 1; ; attempt++ {
		if l.isClosed.Load() {
			return unchanged, ErrClosed
		}
		out, retry, err := once(hb[:])
		if !retry {
			return out, err
		}
		if attempt == maxReadAttempts {
			return unchanged, fmt.Errorf("log: read at %d kept racing with segment deletion", offset)
		}
	}
}

// fetchState is the progress of one read.
type fetchState struct {
	dst       []byte
	start     int // len(dst) on entry
	budget    int64
	maxOffset int64
	minOne    bool
}

// readOnce reads from one view; retry reports that a segment was deleted
// under it.
func (l *Log) readOnce(dst []byte, offset int64, maxBytes int, maxOffset int64, minOne bool, hb []byte) ([]byte, bool, error) {
	leo := l.leo.Load()
	v := l.view.Load()
	if offset < v.logStart || offset > leo {
		return dst, false, fmt.Errorf("%w: offset %d not in [%d, %d]", ErrOffsetOutOfRange, offset, v.logStart, leo)
	}
	if offset == leo {
		return dst, false, nil
	}
	f := fetchState{dst: dst, start: len(dst), budget: int64(max(maxBytes, 0)), maxOffset: maxOffset, minOne: minOne}
	for i := max(v.segmentFor(offset), 0); i < len(v.segs); i++ {
		s := v.segs[i]
		if !s.acquire() {
			return dst, true, nil
		}
		done, err := f.readSegment(s, max(offset, s.base), hb)
		s.release()
		if err != nil {
			return dst, false, err
		}
		if done {
			break
		}
	}
	return f.dst, false, nil
}

// readSegment appends batches of s from the one holding offset. done
// reports that the read is complete (budget, maxOffset or data
// exhausted within s).
func (f *fetchState) readSegment(s *segment, offset int64, hb []byte) (done bool, err error) {
	limit := s.size.Load()
	pos, h, found, err := s.locate(offset, limit, hb)
	if err != nil || !found {
		return false, err
	}
	if h.lastOffset() >= f.maxOffset {
		return true, nil
	}
	if h.size() > f.budget {
		if !f.minOne || len(f.dst) > f.start {
			return true, nil
		}
		// The first batch is returned whole even above the budget.
		err := f.readRange(s, pos, h.size())
		f.budget = 0
		return true, err
	}
	n := min(f.budget, limit-pos)
	old := len(f.dst)
	if err := f.readRange(s, pos, n); err != nil {
		return true, err
	}
	chunk := f.dst[old:]
	keep, cut := int64(0), false
	for keep+batchHeaderSize <= n {
		bh, err := parseBatchHeader(chunk[keep:])
		if err != nil {
			f.dst = f.dst[:old]
			return true, s.corrupt(pos+keep, err)
		}
		if keep+bh.size() > n {
			break
		}
		if bh.lastOffset() >= f.maxOffset {
			cut = true
			break
		}
		keep += bh.size()
	}
	f.dst = f.dst[:old+int(keep)]
	f.budget -= keep
	return cut || pos+keep < limit || f.budget <= 0, nil
}

// readRange appends n bytes of s at pos to f.dst.
func (f *fetchState) readRange(s *segment, pos, n int64) error {
	old := len(f.dst)
	f.dst = slices.Grow(f.dst, int(n))[:old+int(n)]
	if _, err := s.file.ReadAt(f.dst[old:], pos); err != nil {
		f.dst = f.dst[:old]
		return fmt.Errorf("read %s at %d: %w", s.logPath, pos, err)
	}
	return nil
}

// FindByTimestamp returns a copy of the first batch at or after
// LogStartOffset whose MaxTimestamp >= ts, and found=false if there is
// none. The caller decodes its records for the exact offset.
func (l *Log) FindByTimestamp(ts int64) (batch []byte, found bool, err error) {
	if l.isClosed.Load() {
		return nil, false, ErrClosed
	}
	hb := headerPool.Get().(*[batchHeaderSize]byte)
	defer headerPool.Put(hb)
	v := l.view.Load()
	for _, s := range v.segs {
		if !s.acquire() {
			continue // deleted by retention: its batches are below the new start
		}
		batch, found, err = findInSegment(s, ts, v.logStart, hb[:])
		s.release()
		if err != nil || found {
			return batch, found, err
		}
	}
	return nil, false, nil
}

func findInSegment(s *segment, ts, logStart int64, hb []byte) ([]byte, bool, error) {
	s.mu.RLock()
	maxTS := s.maxTS
	rel := lookupTime(s.tidx, ts)
	s.mu.RUnlock()
	if maxTS < ts {
		return nil, false, nil
	}
	limit := s.size.Load()
	for pos := s.lookup(s.base + int64(rel)); pos < limit; {
		h, err := s.readHeader(pos, limit, hb)
		if err != nil {
			return nil, false, err
		}
		if h.lastOffset() >= logStart && h.MaxTimestamp >= ts {
			b := make([]byte, h.size())
			if _, err := s.file.ReadAt(b, pos); err != nil {
				return nil, false, fmt.Errorf("read %s at %d: %w", s.logPath, pos, err)
			}
			return b, true, nil
		}
		pos += h.size()
	}
	return nil, false, nil
}

// MaxTimestamp returns the largest batch MaxTimestamp in the log and the
// base offset of the (first) batch holding it, or (-1, -1) if the log has no
// timestamped batch (ListOffsets with timestamp -3).
func (l *Log) MaxTimestamp() (ts, offset int64) {
	ts, offset = -1, -1
	for _, s := range l.view.Load().segs {
		s.mu.RLock()
		if s.maxTS > ts {
			ts, offset = s.maxTS, s.maxTSOffset
		}
		s.mu.RUnlock()
	}
	return ts, offset
}
