package log

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// Kafka RecordBatch (magic v2) header layout; all fields big-endian.
const (
	offBaseOffset      = 0  // int64
	offBatchLength     = 8  // int32: bytes after this field
	offLeaderEpoch     = 12 // int32: partitionLeaderEpoch
	offMagic           = 16 // int8
	offCRC             = 17 // uint32: CRC32-C of bytes [offAttributes, end)
	offAttributes      = 21 // int16
	offLastOffsetDelta = 23 // int32
	offBaseTimestamp   = 27 // int64
	offMaxTimestamp    = 35 // int64
	offProducerID      = 43 // int64
	offProducerEpoch   = 51 // int16
	offBaseSequence    = 53 // int32
	offRecordsCount    = 57 // int32

	// batchHeaderSize is the fixed header before the records.
	batchHeaderSize = 61
	// batchOverhead is the part of a batch that batchLength does not count.
	batchOverhead = 12
	// minBatchLength is the smallest valid batchLength (an empty records
	// section).
	minBatchLength = batchHeaderSize - batchOverhead

	attrTimestampType = 1 << 3 // 1 = LogAppendTime
	attrTransactional = 1 << 4
	attrControl       = 1 << 5
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batchHeader holds the fixed fields of a magic-v2 record batch.
type batchHeader struct {
	BaseOffset      int64
	BatchLength     int32
	LeaderEpoch     int32
	Magic           int8
	CRC             uint32
	Attributes      int16
	LastOffsetDelta int32
	BaseTimestamp   int64
	MaxTimestamp    int64
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
	RecordsCount    int32
}

// parseBatchHeader decodes the header at the start of b. It checks only what
// framing and offset assignment rely on: magic 2, a batchLength that covers
// the header, and a non-negative lastOffsetDelta. It does not check the CRC
// or that b holds the whole batch.
func parseBatchHeader(b []byte) (batchHeader, error) {
	if len(b) < batchHeaderSize {
		return batchHeader{}, fmt.Errorf("%w: %d bytes, header needs %d", ErrInvalidBatch, len(b), batchHeaderSize)
	}
	be := binary.BigEndian
	h := batchHeader{
		BaseOffset:      int64(be.Uint64(b[offBaseOffset:])),
		BatchLength:     int32(be.Uint32(b[offBatchLength:])),
		LeaderEpoch:     int32(be.Uint32(b[offLeaderEpoch:])),
		Magic:           int8(b[offMagic]),
		CRC:             be.Uint32(b[offCRC:]),
		Attributes:      int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta: int32(be.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:   int64(be.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:    int64(be.Uint64(b[offMaxTimestamp:])),
		ProducerID:      int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:   int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:    int32(be.Uint32(b[offBaseSequence:])),
		RecordsCount:    int32(be.Uint32(b[offRecordsCount:])),
	}
	switch {
	case h.Magic != 2:
		return h, fmt.Errorf("%w: magic %d, want 2", ErrInvalidBatch, h.Magic)
	case h.BatchLength < minBatchLength:
		return h, fmt.Errorf("%w: batch length %d below %d", ErrInvalidBatch, h.BatchLength, minBatchLength)
	case h.LastOffsetDelta < 0:
		return h, fmt.Errorf("%w: negative last offset delta %d", ErrInvalidBatch, h.LastOffsetDelta)
	}
	return h, nil
}

// size is the batch's total length in bytes.
func (h *batchHeader) size() int64 { return batchOverhead + int64(h.BatchLength) }

// lastOffset is the offset of the batch's last record.
func (h *batchHeader) lastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// lastSequence is the sequence number of the batch's last record, wrapping
// from math.MaxInt32 to 0 as Kafka does (DefaultRecordBatch.incrementSequence).
func (h *batchHeader) lastSequence() int32 {
	if h.BaseSequence < 0 {
		return -1
	}
	return incrementSequence(h.BaseSequence, h.LastOffsetDelta)
}

func incrementSequence(seq, inc int32) int32 {
	if seq > math.MaxInt32-inc {
		return inc - (math.MaxInt32 - seq) - 1
	}
	return seq + inc
}

// batchCRC computes the CRC32-C a batch's header must carry.
func batchCRC(b []byte) uint32 { return crc32.Checksum(b[offAttributes:], castagnoli) }

// scanStatus is what a batchScanner found at its position.
type scanStatus int

const (
	scanOK        scanStatus = iota
	scanEOF                  // clean end of the scanned range
	scanTorn                 // the range ends inside the batch
	scanBadLength            // batchLength too small: the rest cannot be framed
	scanBadHeader            // framed, but the header does not parse
	scanBadCRC               // framed, but the CRC does not match
)

func (s scanStatus) String() string {
	switch s {
	case scanOK:
		return "ok"
	case scanEOF:
		return "end of file"
	case scanTorn:
		return "incomplete batch"
	case scanBadLength:
		return "invalid batch length"
	case scanBadHeader:
		return "invalid batch header"
	case scanBadCRC:
		return "CRC mismatch"
	}
	return "unknown"
}

// batchScanner reads consecutive batches of a segment file through one
// reusable buffer. It is not safe for concurrent use.
type batchScanner struct {
	f      File
	end    int64 // scanning stops here
	pos    int64 // position of the next batch
	buf    []byte
	bufPos int64 // file position of buf[0]
	bufLen int   // valid bytes in buf
}

func newBatchScanner(f File, pos, end int64, buf []byte) *batchScanner {
	return &batchScanner{f: f, pos: pos, end: end, buf: buf[:cap(buf)], bufPos: -1}
}

// window returns n bytes at s.pos, refilling the buffer when needed. The
// caller guarantees s.pos+n <= s.end.
func (s *batchScanner) window(n int) ([]byte, error) {
	if s.bufPos >= 0 && s.pos >= s.bufPos && s.pos+int64(n) <= s.bufPos+int64(s.bufLen) {
		off := s.pos - s.bufPos
		return s.buf[off : off+int64(n)], nil
	}
	if len(s.buf) < n {
		s.buf = make([]byte, max(n, 2*len(s.buf)))
	}
	read := int(min(int64(len(s.buf)), s.end-s.pos))
	got, err := s.f.ReadAt(s.buf[:read], s.pos)
	if got < read {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	s.bufPos, s.bufLen = s.pos, read
	return s.buf[:n], nil
}

// next examines the batch at s.pos. On scanOK it returns the header and the
// raw batch (valid until the next call) and advances; otherwise the position
// stays at the bad batch and h holds what could be decoded (BatchLength at
// least, for scanBadHeader and scanBadCRC). err reports I/O errors only.
func (s *batchScanner) next(verifyCRC bool) (h batchHeader, raw []byte, st scanStatus, err error) {
	rem := s.end - s.pos
	if rem <= 0 {
		return h, nil, scanEOF, nil
	}
	if rem < batchOverhead {
		return h, nil, scanTorn, nil
	}
	b, err := s.window(batchOverhead)
	if err != nil {
		return h, nil, 0, err
	}
	h.BatchLength = int32(binary.BigEndian.Uint32(b[offBatchLength:]))
	if h.BatchLength < minBatchLength {
		return h, nil, scanBadLength, nil
	}
	total := batchOverhead + int64(h.BatchLength)
	if total > rem {
		return h, nil, scanTorn, nil
	}
	if b, err = s.window(int(total)); err != nil {
		return h, nil, 0, err
	}
	parsed, perr := parseBatchHeader(b)
	if perr != nil {
		return h, nil, scanBadHeader, nil
	}
	if verifyCRC && batchCRC(b) != parsed.CRC {
		return parsed, nil, scanBadCRC, nil
	}
	s.pos += total
	return parsed, b, scanOK, nil
}
