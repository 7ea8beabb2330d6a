package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"sync"
)

// RecordHeader is one record header. Header keys are never null in Kafka.
type RecordHeader struct {
	Key   string
	Value []byte // nil = null
}

// Record is one decoded record with absolute offset and timestamp.
type Record struct {
	Offset    int64
	Timestamp int64
	Key       []byte // nil = null
	Value     []byte // nil = null
	Headers   []RecordHeader
}

// minRecordSize is the smallest encoding of a record: one byte each for the
// length, attributes, timestamp delta, offset delta, key length, value
// length and header count. It bounds how many records a payload can hold.
const minRecordSize = 7

// Records decodes every record of b, decompressing if needed, and returns
// them with absolute offsets (BaseOffset + offset delta) and timestamps
// (FirstTimestamp + timestamp delta, or MaxTimestamp for LogAppendTime
// batches). Keys, values and header values alias b.Raw for uncompressed
// batches and a fresh buffer for compressed ones.
//
// It returns ErrCorruptRecord for bad varints or lengths, a record count
// other than NumRecords, bytes after the last record, offset deltas that
// are not strictly increasing within 0..LastOffsetDelta, or a payload that
// does not decompress (within MaxDecompressedBytes); ErrCorruptBatch if b's
// header does not describe b.Raw.
func Records(b Batch) ([]Record, error) {
	h := &b.Header
	payload, err := recordsPayload(b, nil)
	if err != nil {
		return nil, err
	}
	recs := make([]Record, 0, min(int(h.NumRecords), len(payload)/minRecordSize))
	it := newRecordIter(h, payload)
	var r rawRecord
	for {
		ok, err := it.next(&r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return recs, nil
		}
		rec := Record{
			Offset:    h.BaseOffset + int64(r.offsetDelta),
			Timestamp: h.FirstTimestamp + r.timestampDelta,
			Key:       r.key,
			Value:     r.value,
		}
		if h.LogAppendTime() {
			rec.Timestamp = h.MaxTimestamp
		}
		if r.numHeaders > 0 {
			rec.Headers = decodeHeaders(r.headers, r.numHeaders)
		}
		recs = append(recs, rec)
	}
}

// decodeHeaders decodes n headers from an encoding parseRecord validated.
func decodeHeaders(b []byte, n int) []RecordHeader {
	hs := make([]RecordHeader, n)
	for i := range hs {
		var key []byte
		key, b, _ = readBytes(b)
		hs[i].Key = string(key)
		hs[i].Value, b, _ = readBytes(b)
	}
	return hs
}

// ValidateRecords checks the framing of every record in b, decompressing
// if needed, under the same rules as Records but without keeping them. For
// an uncompressed batch it allocates nothing; a compressed batch is
// inflated into a pooled buffer.
func ValidateRecords(b Batch) error {
	var bufp *[]byte
	if b.Header.Codec() != CodecNone {
		bufp = decompressBufs.Get().(*[]byte)
		defer func() {
			if cap(*bufp) <= maxPooledBuf {
				decompressBufs.Put(bufp)
			}
		}()
	}
	payload, err := recordsPayload(b, bufp)
	if err != nil {
		return err
	}
	it := newRecordIter(&b.Header, payload)
	var r rawRecord
	for {
		ok, err := it.next(&r)
		if !ok || err != nil {
			return err
		}
	}
}

// decompressBufs holds *[]byte scratch buffers for ValidateRecords; buffers
// that grew past maxPooledBuf are dropped rather than pinned.
var decompressBufs = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledBuf = 4 << 20

// recordsPayload checks that b's header describes b.Raw and returns its
// records section, decompressed if needed. When buf is non-nil the output
// is decompressed into (and saved back to) *buf.
func recordsPayload(b Batch, buf *[]byte) ([]byte, error) {
	h := &b.Header
	if len(b.Raw) < RecordBatchOverhead || h.BatchLength < batchLengthOverhead || h.Size() != len(b.Raw) {
		return nil, fmt.Errorf("%w: header length %d does not match %d raw bytes", ErrCorruptBatch, h.BatchLength, len(b.Raw))
	}
	if h.NumRecords < 0 {
		return nil, fmt.Errorf("%w: negative record count %d", ErrCorruptRecord, h.NumRecords)
	}
	payload := b.Raw[RecordBatchOverhead:]
	c := h.Codec()
	if c == CodecNone {
		return payload, nil
	}
	var dst []byte
	if buf != nil {
		dst = (*buf)[:0]
	}
	out, err := Decompress(dst, c, payload)
	if err != nil {
		return nil, err // already wraps ErrCorruptRecord or ErrUnknownCodec
	}
	if buf != nil {
		*buf = out
	}
	return out, nil
}

// rawRecord is a record as parseRecord finds it, before anything is
// allocated for it.
type rawRecord struct {
	timestampDelta int64
	offsetDelta    int32
	key, value     []byte // nil = null
	numHeaders     int
	headers        []byte // the encoded headers after their count
}

// recordIter walks the records of one batch payload, enforcing the count
// and offset-delta rules.
type recordIter struct {
	numRecords      int32 // from the batch header
	lastOffsetDelta int32 // from the batch header
	b               []byte
	i               int
	lastDelta       int32
}

func newRecordIter(h *BatchHeader, payload []byte) recordIter {
	return recordIter{numRecords: h.NumRecords, lastOffsetDelta: h.LastOffsetDelta, b: payload}
}

// next parses the next record into r. It returns false with a nil error
// once all NumRecords records were read and nothing follows them.
func (it *recordIter) next(r *rawRecord) (bool, error) {
	if it.i == int(it.numRecords) {
		if len(it.b) != 0 {
			return false, fmt.Errorf("%w: %d bytes after the last of %d records", ErrCorruptRecord, len(it.b), it.numRecords)
		}
		return false, nil
	}
	if len(it.b) == 0 {
		return false, fmt.Errorf("%w: batch declares %d records but holds %d", ErrCorruptRecord, it.numRecords, it.i)
	}
	rest, err := parseRecord(it.b, r)
	if err != nil {
		return false, fmt.Errorf("%w: record %d: %w", ErrCorruptRecord, it.i, err)
	}
	d := r.offsetDelta
	if d < 0 || d > it.lastOffsetDelta || (it.i > 0 && d <= it.lastDelta) {
		return false, fmt.Errorf("%w: record %d: offset delta %d after %d (last offset delta %d)",
			ErrCorruptRecord, it.i, d, it.lastDelta, it.lastOffsetDelta)
	}
	it.lastDelta = d
	it.i++
	it.b = rest
	return true, nil
}

var (
	errRecordLength = errors.New("bad record length")
	errRecordField  = errors.New("truncated or invalid field")
	errHeaderCount  = errors.New("bad header count")
	errHeaderKey    = errors.New("null or invalid header key")
	errRecordTail   = errors.New("record length does not match its fields")
)

// parseRecord parses and validates the record at the start of b into r and
// returns the bytes after it. It allocates nothing.
func parseRecord(b []byte, r *rawRecord) ([]byte, error) {
	length, b, ok := readVarint(b)
	if !ok || length < 0 || int(length) > len(b) {
		return nil, errRecordLength
	}
	body, rest := b[:length], b[length:]
	if len(body) < 1 {
		return nil, errRecordField
	}
	body = body[1:] // attributes: unused by magic v2
	if r.timestampDelta, body, ok = readVarlong(body); !ok {
		return nil, errRecordField
	}
	if r.offsetDelta, body, ok = readVarint(body); !ok {
		return nil, errRecordField
	}
	if r.key, body, ok = readBytes(body); !ok {
		return nil, errRecordField
	}
	if r.value, body, ok = readBytes(body); !ok {
		return nil, errRecordField
	}
	n, body, ok := readVarint(body)
	if !ok || n < 0 || int(n) > len(body)/2 { // a header takes at least 2 bytes
		return nil, errHeaderCount
	}
	r.numHeaders, r.headers = int(n), body
	for range n {
		var key []byte
		if key, body, ok = readBytes(body); !ok || key == nil {
			return nil, errHeaderKey
		}
		if _, body, ok = readBytes(body); !ok {
			return nil, errRecordField
		}
	}
	if len(body) != 0 {
		return nil, errRecordTail
	}
	return rest, nil
}

// readVarint reads a zig-zag varint that must fit an int32.
func readVarint(b []byte) (int32, []byte, bool) {
	v, n := binary.Varint(b)
	if n <= 0 || v < math.MinInt32 || v > math.MaxInt32 {
		return 0, nil, false
	}
	return int32(v), b[n:], true
}

// readVarlong reads a zig-zag varint of up to 64 bits.
func readVarlong(b []byte) (int64, []byte, bool) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, nil, false
	}
	return v, b[n:], true
}

// readBytes reads varint-length-prefixed bytes; length -1 is null (nil).
// Non-null results are capped so appending to them cannot clobber b.
func readBytes(b []byte) ([]byte, []byte, bool) {
	n, b, ok := readVarint(b)
	switch {
	case !ok || n < -1 || int(n) > len(b):
		return nil, nil, false
	case n == -1:
		return nil, b, true
	}
	return b[:n:n], b[n:], true
}

// AppendBatch appends a magic v2 record batch holding records to dst and
// returns the extended slice. BaseOffset, PartitionLeaderEpoch, Attributes
// (timestamp type, transactional and control bits; the codec bits are
// replaced by codec), ProducerID, ProducerEpoch and BaseSequence come from
// h. Everything else is computed: offset deltas run from 0 in slice order
// (Record.Offset is ignored), FirstTimestamp is the first record's
// timestamp, MaxTimestamp the largest, and the CRC covers the result. The
// records section is compressed with codec. At least one record is needed.
func AppendBatch(dst []byte, h BatchHeader, codec Codec, records []Record) ([]byte, error) {
	if codec < CodecNone || codec > CodecZstd {
		return nil, fmt.Errorf("%w: %d", ErrUnknownCodec, int8(codec))
	}
	if len(records) == 0 || len(records) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: a batch needs 1 to %d records, got %d", ErrCorruptBatch, math.MaxInt32, len(records))
	}
	h.FirstTimestamp, h.MaxTimestamp = records[0].Timestamp, records[0].Timestamp
	for i := range records {
		h.MaxTimestamp = max(h.MaxTimestamp, records[i].Timestamp)
	}
	start := len(dst)
	dst = slices.Grow(dst, RecordBatchOverhead)[:start+RecordBatchOverhead]
	if codec == CodecNone {
		dst = appendRecords(dst, h.FirstTimestamp, records)
	} else {
		scratch := appendRecords(nil, h.FirstTimestamp, records)
		var err error
		if dst, err = Compress(dst, codec, scratch); err != nil {
			return nil, err
		}
	}
	size := len(dst) - start
	if size-offPartitionLeaderEpoch > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBatchTooLarge, size)
	}
	h.BatchLength = int32(size - offPartitionLeaderEpoch)
	h.Magic = 2
	h.Attributes = h.Attributes&^attrCodecMask | int16(codec)
	h.LastOffsetDelta = int32(len(records) - 1)
	h.NumRecords = int32(len(records))
	raw := dst[start:]
	putBatchHeader(raw, &h)
	binary.BigEndian.PutUint32(raw[offCRC:], crc32.Checksum(raw[offAttributes:], castagnoli))
	return dst, nil
}

// putBatchHeader writes every header field but the CRC.
func putBatchHeader(b []byte, h *BatchHeader) {
	be := binary.BigEndian
	be.PutUint64(b[offBaseOffset:], uint64(h.BaseOffset))
	be.PutUint32(b[offBatchLength:], uint32(h.BatchLength))
	be.PutUint32(b[offPartitionLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	b[offMagic] = byte(h.Magic)
	be.PutUint16(b[offAttributes:], uint16(h.Attributes))
	be.PutUint32(b[offLastOffsetDelta:], uint32(h.LastOffsetDelta))
	be.PutUint64(b[offFirstTimestamp:], uint64(h.FirstTimestamp))
	be.PutUint64(b[offMaxTimestamp:], uint64(h.MaxTimestamp))
	be.PutUint64(b[offProducerID:], uint64(h.ProducerID))
	be.PutUint16(b[offProducerEpoch:], uint16(h.ProducerEpoch))
	be.PutUint32(b[offBaseSequence:], uint32(h.BaseSequence))
	be.PutUint32(b[offNumRecords:], uint32(h.NumRecords))
}

// appendRecords appends the encoding of records with offset deltas from 0
// and timestamp deltas from firstTimestamp.
func appendRecords(dst []byte, firstTimestamp int64, records []Record) []byte {
	for i := range records {
		r := &records[i]
		tsDelta := r.Timestamp - firstTimestamp
		size := 1 + varintLen(tsDelta) + varintLen(int64(i)) +
			bytesLen(r.Key) + bytesLen(r.Value) + varintLen(int64(len(r.Headers)))
		for _, hd := range r.Headers {
			size += varintLen(int64(len(hd.Key))) + len(hd.Key) + bytesLen(hd.Value)
		}
		dst = binary.AppendVarint(dst, int64(size))
		dst = append(dst, 0) // attributes
		dst = binary.AppendVarint(dst, tsDelta)
		dst = binary.AppendVarint(dst, int64(i))
		dst = appendBytes(dst, r.Key)
		dst = appendBytes(dst, r.Value)
		dst = binary.AppendVarint(dst, int64(len(r.Headers)))
		for _, hd := range r.Headers {
			dst = binary.AppendVarint(dst, int64(len(hd.Key)))
			dst = append(dst, hd.Key...)
			dst = appendBytes(dst, hd.Value)
		}
	}
	return dst
}

// varintLen is the size of v as a zig-zag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// bytesLen is the size of b as varint-length-prefixed nullable bytes.
func bytesLen(b []byte) int {
	if b == nil {
		return 1
	}
	return varintLen(int64(len(b))) + len(b)
}

// appendBytes appends b as varint-length-prefixed nullable bytes.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}
