package remote

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/strata-io/strata/metadata"
)

// errChanged marks a local segment whose file no longer matches its
// description (shorter than its size): it was truncated or replaced
// since it closed, so it is not uploaded.
var errChanged = errors.New("remote: local segment changed since it closed")

// scanner is the reader an upload streams a range of a local segment
// through. It passes the bytes on unchanged and, on the way, computes the
// object's CRC-32C, checks the framing (dense offsets from base to last,
// magic 2, each batch's CRC, nothing cut) and builds the remote offset
// and time indexes and the epoch starts. A range that fails a check makes
// Read fail, returning none of the bytes of that call — at the latest
// instead of the range's last bytes — so the object store never
// completes the Put of a bad object.
type scanner struct {
	src        io.Reader
	size       int64 // bytes in the range
	base, last int64 // offsets the range must hold exactly
	interval   int64 // bytes between offset index entries

	pos      int64  // bytes passed so far
	crc      uint32 // of the bytes passed so far
	next     int64  // base offset the next batch must have
	hdr      [batchHeaderSize]byte
	hdrN     int
	h        batchHeader // the current batch, once hdrN == batchHeaderSize
	bodyLeft int64       // bytes of the current batch after its header
	batchCRC uint32      // CRC-32C of the current batch from its attributes on

	index       []indexEntry
	times       []timeEntry
	lastIndexed int64 // position of the last offset index entry
	baseTS      int64
	maxTS       int64
	maxTSRel    uint32
	epochs      []metadata.EpochStart
	err         error // sticky
}

func newScanner(src io.Reader, size, base, last, interval int64) *scanner {
	return &scanner{src: src, size: size, base: base, last: last, interval: interval, next: base, baseTS: -1, maxTS: -1}
}

// Read implements io.Reader.
func (s *scanner) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.pos == s.size {
		return 0, io.EOF
	}
	if int64(len(p)) > s.size-s.pos {
		p = p[:s.size-s.pos]
	}
	n, err := s.src.Read(p)
	if n > 0 {
		s.crc = crc32.Update(s.crc, castagnoli, p[:n])
		if s.err = s.consume(p[:n]); s.err == nil && s.pos == s.size {
			s.err = s.finish()
		}
		if s.err != nil {
			// Withhold the bytes: a consumer that got all it asked
			// for might ignore the error (io.CopyN does).
			return 0, s.err
		}
	}
	if err == io.EOF && s.pos < s.size {
		s.err = fmt.Errorf("%w: file ends %d bytes short of its size", errChanged, s.size-s.pos)
		return 0, s.err
	}
	return n, err
}

// consume follows the batch structure through b.
func (s *scanner) consume(b []byte) error {
	for len(b) > 0 {
		if s.hdrN < batchHeaderSize {
			c := copy(s.hdr[s.hdrN:], b)
			s.hdrN += c
			s.pos += int64(c)
			b = b[c:]
			if s.hdrN == batchHeaderSize {
				if err := s.startBatch(); err != nil {
					return err
				}
			}
			continue
		}
		c := int(min(int64(len(b)), s.bodyLeft))
		s.batchCRC = crc32.Update(s.batchCRC, castagnoli, b[:c])
		s.bodyLeft -= int64(c)
		s.pos += int64(c)
		b = b[c:]
		if s.bodyLeft == 0 {
			if err := s.endBatch(); err != nil {
				return err
			}
		}
	}
	return nil
}

// startBatch checks the header just read and records what the indexes
// need.
func (s *scanner) startBatch() error {
	h, err := parseBatchHeader(s.hdr[:])
	if err != nil {
		return err
	}
	start := s.pos - batchHeaderSize
	switch {
	case h.baseOffset != s.next:
		return fmt.Errorf("%w: batch at byte %d has base offset %d, want %d", ErrCorrupt, start, h.baseOffset, s.next)
	case h.length > s.size-start:
		return fmt.Errorf("%w: batch at offset %d runs %d bytes past the segment's end", ErrCorrupt, h.baseOffset, h.length-(s.size-start))
	case h.lastOffset() > s.last:
		return fmt.Errorf("%w: batch at offset %d ends at offset %d, past the segment's last offset %d", ErrCorrupt, h.baseOffset, h.lastOffset(), s.last)
	}
	s.h = h
	s.bodyLeft = h.length - batchHeaderSize
	s.batchCRC = crc32.Checksum(s.hdr[offAttributes:], castagnoli)
	s.next = h.lastOffset() + 1
	rel := h.baseOffset - s.base
	if start == 0 {
		s.baseTS = max(h.baseTimestamp, -1)
	}
	if h.maxTimestamp > s.maxTS && rel <= math.MaxUint32 {
		s.maxTS, s.maxTSRel = h.maxTimestamp, uint32(rel)
	}
	if start > 0 && start-s.lastIndexed >= s.interval && rel <= math.MaxUint32 && start <= math.MaxUint32 {
		s.index = append(s.index, indexEntry{rel: uint32(rel), pos: uint32(start)})
		s.lastIndexed = start
		s.addTimeEntry()
	}
	if e := h.leaderEpoch; e >= 0 && (len(s.epochs) == 0 || e > s.epochs[len(s.epochs)-1].Epoch) {
		s.epochs = append(s.epochs, metadata.EpochStart{Epoch: e, StartOffset: h.baseOffset})
	}
	if s.bodyLeft == 0 {
		return s.endBatch()
	}
	return nil
}

// addTimeEntry adds the maximum timestamp so far to the time index if it
// grew since the last entry.
func (s *scanner) addTimeEntry() {
	if s.maxTS < 0 {
		return
	}
	if n := len(s.times); n > 0 && (s.times[n-1].ts >= s.maxTS || s.times[n-1].rel >= s.maxTSRel) {
		return
	}
	s.times = append(s.times, timeEntry{ts: s.maxTS, rel: s.maxTSRel})
}

func (s *scanner) endBatch() error {
	s.hdrN = 0
	if s.batchCRC != s.h.crc {
		return fmt.Errorf("%w: batch at offset %d fails its CRC (%#08x, header says %#08x)", ErrCorrupt, s.h.baseOffset, s.batchCRC, s.h.crc)
	}
	return nil
}

// finish checks that the range ended at a batch boundary after the last
// offset, and closes the time index.
func (s *scanner) finish() error {
	if s.hdrN != 0 {
		return fmt.Errorf("%w: segment ends inside a batch", ErrCorrupt)
	}
	if s.next != s.last+1 {
		return fmt.Errorf("%w: segment ends at offset %d, want %d", ErrCorrupt, s.next-1, s.last)
	}
	s.addTimeEntry()
	return nil
}

// findBatch returns the position in the local segment file f (size bytes,
// first batch at offset base) of the batch whose base offset is want,
// walking batch headers from the start. It fails with ErrCorrupt if no
// batch starts there: the file's batch boundaries differ from the
// catalogue's.
func findBatch(f io.ReaderAt, size, base, want int64) (int64, error) {
	var hb [batchHeaderSize]byte
	next := base
	for pos := int64(0); pos < size; {
		if size-pos < batchHeaderSize {
			break
		}
		if _, err := f.ReadAt(hb[:], pos); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, fmt.Errorf("%w: file ends at %d", errChanged, pos)
			}
			return 0, err
		}
		h, err := parseBatchHeader(hb[:])
		if err != nil {
			return 0, err
		}
		switch {
		case h.baseOffset != next:
			return 0, fmt.Errorf("%w: batch at byte %d has base offset %d, want %d", ErrCorrupt, pos, h.baseOffset, next)
		case h.baseOffset == want:
			return pos, nil
		case h.baseOffset > want || h.lastOffset() >= want:
			return 0, fmt.Errorf("%w: no batch starts at offset %d (batch %d-%d spans it)", ErrCorrupt, want, h.baseOffset, h.lastOffset())
		}
		next = h.lastOffset() + 1
		pos += h.length
	}
	return 0, fmt.Errorf("%w: no batch starts at offset %d", ErrCorrupt, want)
}
