package log

import (
	"fmt"
	"io"
)

// Chunk is a byte range of one segment file that holds whole batches. It
// keeps the segment's file open (even if retention deletes the segment)
// until Release, so the range can be sent with sendfile(2) without copying
// it through user space. A Chunk must be released exactly once.
type Chunk struct {
	seg      *segment
	Pos, Len int64
	// Last is the last offset of the chunk's last batch.
	Last int64
}

// File is the segment file the chunk lies in. With the OS file system it is
// an *os.File. Read it with ReadAt only: its file position is shared.
func (c Chunk) File() io.ReaderAt { return c.seg.file }

// Release lets the segment's file be closed.
func (c Chunk) Release() { c.seg.release() }

// ReleaseChunks releases every chunk in cs.
func ReleaseChunks(cs []Chunk) {
	for _, c := range cs {
		c.Release()
	}
}

// ReadChunks is Read without copying: it appends to dst the file ranges
// that Read would have returned, one per segment, reading only batch
// headers. The same limits apply (maxBytes, maxOffset, minOneBatch), and
// the chunks' total length is what Read's result length would be. On error
// dst is returned with nothing added (and nothing left acquired).
func (l *Log) ReadChunks(dst []Chunk, offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]Chunk, error) {
	return retryRead(l, dst, offset, func(hb []byte) ([]Chunk, bool, error) {
		return l.chunksOnce(dst, offset, maxBytes, maxOffset, minOneBatch, hb)
	})
}

func (l *Log) chunksOnce(dst []Chunk, offset int64, maxBytes int, maxOffset int64, minOne bool, hb []byte) ([]Chunk, bool, error) {
	leo := l.leo.Load()
	v := l.view.Load()
	if offset < v.logStart || offset > leo {
		return dst, false, fmt.Errorf("%w: offset %d not in [%d, %d]", ErrOffsetOutOfRange, offset, v.logStart, leo)
	}
	if offset == leo {
		return dst, false, nil
	}
	start := len(dst)
	budget := int64(max(maxBytes, 0))
	for i := max(v.segmentFor(offset), 0); i < len(v.segs); i++ {
		s := v.segs[i]
		if !s.acquire() {
			ReleaseChunks(dst[start:])
			return dst[:start], true, nil
		}
		c, done, err := segmentChunk(s, max(offset, s.base), budget, maxOffset, minOne && len(dst) == start, hb)
		if err != nil || c.Len == 0 {
			s.release()
		}
		if err != nil {
			ReleaseChunks(dst[start:])
			return dst[:start], false, err
		}
		if c.Len > 0 {
			dst = append(dst, c)
			budget -= c.Len
		}
		if done {
			break
		}
	}
	return dst, false, nil
}

// segmentChunk finds the range of s to return from offset: whole batches
// below maxOffset within budget (the first batch whole when minOne). done
// reports that the read is complete.
func segmentChunk(s *segment, offset, budget, maxOffset int64, minOne bool, hb []byte) (c Chunk, done bool, err error) {
	limit := s.size.Load()
	pos, h, found, err := s.locate(offset, limit, hb)
	if err != nil || !found {
		return Chunk{}, false, err
	}
	c = Chunk{seg: s, Pos: pos}
	for end := pos; ; {
		if h.lastOffset() >= maxOffset {
			return c, true, nil
		}
		if c.Len+h.size() > budget {
			if minOne && c.Len == 0 {
				c.Len = h.size() // the first batch whole, even above the budget
				c.Last = h.lastOffset()
			}
			return c, true, nil
		}
		c.Len += h.size()
		c.Last = h.lastOffset()
		end += h.size()
		if end >= limit {
			return c, false, nil
		}
		if h, err = s.readHeader(end, limit, hb); err != nil {
			return Chunk{}, true, err
		}
	}
}
