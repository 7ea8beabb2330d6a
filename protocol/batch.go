package protocol

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// RecordBatchOverhead is the size of a magic v2 record batch header: the
// bytes before the first record.
const RecordBatchOverhead = 61

// Byte offsets of the magic v2 batch header fields; see doc.go.
const (
	offBaseOffset           = 0
	offBatchLength          = 8
	offPartitionLeaderEpoch = 12
	offMagic                = 16
	offCRC                  = 17
	offAttributes           = 21
	offLastOffsetDelta      = 23
	offFirstTimestamp       = 27
	offMaxTimestamp         = 35
	offProducerID           = 43
	offProducerEpoch        = 51
	offBaseSequence         = 53
	offNumRecords           = 57

	// batchLengthOverhead is the part of RecordBatchOverhead that
	// BatchLength counts (everything after the BatchLength field).
	batchLengthOverhead = RecordBatchOverhead - offPartitionLeaderEpoch
)

// Batch attribute bits.
const (
	attrCodecMask     = 0x07
	attrLogAppendTime = 0x08
	attrTransactional = 0x10
	attrControl       = 0x20

	// AttrTransactional and AttrControl mark a batch of a transaction and
	// a control batch (a transaction marker), for AppendBatch.
	AttrTransactional = attrTransactional
	AttrControl       = attrControl
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is the fixed 61-byte header of a magic v2 record batch.
type BatchHeader struct {
	BaseOffset           int64
	BatchLength          int32
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	FirstTimestamp       int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Codec returns the batch's compression codec.
func (h *BatchHeader) Codec() Codec { return Codec(h.Attributes & attrCodecMask) }

// IsTransactional reports whether the batch belongs to a transaction.
func (h *BatchHeader) IsTransactional() bool { return h.Attributes&attrTransactional != 0 }

// IsControl reports whether the batch holds a control record (a
// transaction marker) rather than user records.
func (h *BatchHeader) IsControl() bool { return h.Attributes&attrControl != 0 }

// LogAppendTime reports whether the batch's timestamp type is
// LogAppendTime, in which case every record's timestamp is MaxTimestamp.
func (h *BatchHeader) LogAppendTime() bool { return h.Attributes&attrLogAppendTime != 0 }

// LastOffset returns the offset of the batch's last record.
func (h *BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Size returns the batch's total size in bytes, header included.
func (h *BatchHeader) Size() int { return offPartitionLeaderEpoch + int(h.BatchLength) }

// ParseBatchHeader decodes the header at the start of b, which must hold at
// least RecordBatchOverhead bytes. It checks that the magic is 2
// (ErrUnsupportedMagic otherwise) and that BatchLength covers at least the
// header (ErrCorruptBatch), but not the CRC nor that b holds the whole batch.
func ParseBatchHeader(b []byte) (BatchHeader, error) {
	if len(b) < RecordBatchOverhead {
		return BatchHeader{}, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorruptBatch, len(b))
	}
	be := binary.BigEndian
	h := BatchHeader{
		BaseOffset:           int64(be.Uint64(b[offBaseOffset:])),
		BatchLength:          int32(be.Uint32(b[offBatchLength:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[offPartitionLeaderEpoch:])),
		Magic:                int8(b[offMagic]),
		CRC:                  be.Uint32(b[offCRC:]),
		Attributes:           int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta:      int32(be.Uint32(b[offLastOffsetDelta:])),
		FirstTimestamp:       int64(be.Uint64(b[offFirstTimestamp:])),
		MaxTimestamp:         int64(be.Uint64(b[offMaxTimestamp:])),
		ProducerID:           int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:        int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:         int32(be.Uint32(b[offBaseSequence:])),
		NumRecords:           int32(be.Uint32(b[offNumRecords:])),
	}
	if err := checkMagic(h.Magic); err != nil {
		return h, err
	}
	if h.BatchLength < batchLengthOverhead {
		return h, fmt.Errorf("%w: batch length %d is shorter than the header", ErrCorruptBatch, h.BatchLength)
	}
	return h, nil
}

// checkMagic accepts magic 2 only.
func checkMagic(magic int8) error {
	switch magic {
	case 2:
		return nil
	case 0, 1:
		return fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, magic)
	}
	return fmt.Errorf("%w: unknown magic %d", ErrCorruptBatch, magic)
}

// Batch is one record batch of a Produce request or a log segment.
type Batch struct {
	Header BatchHeader
	// Raw is the whole batch, header included, aliasing the input it was
	// split from.
	Raw []byte
}

// SplitBatches appends to dst every record batch in records (a Produce
// partition's records field, or any concatenation of batches) and returns
// the extended slice. Each batch must be magic 2 (magic 0 or 1 is
// ErrUnsupportedMagic), wholly present (a trailing partial batch is
// ErrCorruptBatch), at most maxBatchBytes long including its header
// (ErrBatchTooLarge; maxBatchBytes <= 0 means no limit), have a CRC32-C
// over attributes..end that matches (ErrCorruptBatch), name a known codec
// (ErrCorruptBatch wrapping ErrUnknownCodec), and have NumRecords equal to
// LastOffsetDelta+1 and at least 1 (ErrCorruptBatch). Errors name
// the failing batch by index and byte position.
//
// The returned batches alias records. SplitBatches allocates nothing except
// when dst must grow, so callers should pass a reused slice.
func SplitBatches(dst []Batch, records []byte, maxBatchBytes int) ([]Batch, error) {
	for i, pos := 0, 0; pos < len(records); i++ {
		b, err := splitBatch(records[pos:], maxBatchBytes)
		if err != nil {
			return dst, fmt.Errorf("batch %d at byte %d: %w", i, pos, err)
		}
		dst = append(dst, b)
		pos += len(b.Raw)
	}
	return dst, nil
}

// splitBatch validates and returns the batch at the start of b.
func splitBatch(b []byte, maxBatchBytes int) (Batch, error) {
	if len(b) <= offMagic {
		return Batch{}, fmt.Errorf("%w: %d trailing bytes", ErrCorruptBatch, len(b))
	}
	// The magic sits at the same offset in every message format, so old
	// formats are told apart before their header is misread as v2.
	if err := checkMagic(int8(b[offMagic])); err != nil {
		return Batch{}, err
	}
	h, err := ParseBatchHeader(b)
	if err != nil {
		return Batch{}, err
	}
	size := h.Size()
	if size > len(b) {
		return Batch{}, fmt.Errorf("%w: batch of %d bytes truncated to %d", ErrCorruptBatch, size, len(b))
	}
	if maxBatchBytes > 0 && size > maxBatchBytes {
		return Batch{}, fmt.Errorf("%w: %d bytes exceed the limit of %d", ErrBatchTooLarge, size, maxBatchBytes)
	}
	raw := b[:size:size]
	if crc := crc32.Checksum(raw[offAttributes:], castagnoli); crc != h.CRC {
		return Batch{}, fmt.Errorf("%w: crc %#08x, computed %#08x", ErrCorruptBatch, h.CRC, crc)
	}
	if c := h.Codec(); c > CodecZstd {
		return Batch{}, fmt.Errorf("%w: %w: %d", ErrCorruptBatch, ErrUnknownCodec, c)
	}
	if h.NumRecords < 1 || int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
		return Batch{}, fmt.Errorf("%w: %d records but last offset delta %d", ErrCorruptBatch, h.NumRecords, h.LastOffsetDelta)
	}
	return Batch{Header: h, Raw: raw}, nil
}

// SetBaseOffset rewrites the base offset of the batch in raw. The CRC does
// not cover it, so the batch stays valid.
func SetBaseOffset(raw []byte, offset int64) {
	binary.BigEndian.PutUint64(raw[offBaseOffset:], uint64(offset))
}

// SetPartitionLeaderEpoch rewrites the partition leader epoch of the batch
// in raw. The CRC does not cover it, so the batch stays valid.
func SetPartitionLeaderEpoch(raw []byte, epoch int32) {
	binary.BigEndian.PutUint32(raw[offPartitionLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime marks the batch in raw as LogAppendTime, sets its
// MaxTimestamp to ts and recomputes the CRC. As in Kafka
// (DefaultRecordBatch.setMaxTimestamp), FirstTimestamp and the records'
// timestamp deltas are left alone: readers take every record's timestamp
// from MaxTimestamp once the timestamp-type bit is set.
func SetLogAppendTime(raw []byte, ts int64) {
	be := binary.BigEndian
	attrs := be.Uint16(raw[offAttributes:]) | attrLogAppendTime
	be.PutUint16(raw[offAttributes:], attrs)
	be.PutUint64(raw[offMaxTimestamp:], uint64(ts))
	be.PutUint32(raw[offCRC:], crc32.Checksum(raw[offAttributes:], castagnoli))
}
