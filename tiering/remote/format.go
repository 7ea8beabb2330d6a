package remote

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record-batch header layout (Kafka magic v2), big-endian; see doc.go.
const (
	batchHeaderSize     = 61
	batchLengthOverhead = 12 // baseOffset and batchLength precede what batchLength counts
	minBatchLength      = batchHeaderSize - batchLengthOverhead
	offBatchLength      = 8
	offLeaderEpoch      = 12
	offMagic            = 16
	offCRC              = 17
	offAttributes       = 21
	offLastOffsetDelta  = 23
	offBaseTimestamp    = 27
	offMaxTimestamp     = 35
	batchMagic          = 2
)

// batchHeader holds the header fields the tier uses.
type batchHeader struct {
	baseOffset      int64
	length          int64 // whole batch, header included
	leaderEpoch     int32
	crc             uint32
	lastOffsetDelta int32
	baseTimestamp   int64
	maxTimestamp    int64
}

func (h *batchHeader) lastOffset() int64 { return h.baseOffset + int64(h.lastOffsetDelta) }

// parseBatchHeader decodes the header at the start of b, which holds at
// least batchHeaderSize bytes. It checks only what framing needs: magic 2,
// a batch length that covers the header, a non-negative last offset delta.
func parseBatchHeader(b []byte) (batchHeader, error) {
	h := batchHeader{
		baseOffset:      int64(binary.BigEndian.Uint64(b)),
		length:          int64(int32(binary.BigEndian.Uint32(b[offBatchLength:]))) + batchLengthOverhead,
		leaderEpoch:     int32(binary.BigEndian.Uint32(b[offLeaderEpoch:])),
		crc:             binary.BigEndian.Uint32(b[offCRC:]),
		lastOffsetDelta: int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:])),
		baseTimestamp:   int64(binary.BigEndian.Uint64(b[offBaseTimestamp:])),
		maxTimestamp:    int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])),
	}
	switch {
	case b[offMagic] != batchMagic:
		return h, fmt.Errorf("%w: batch at offset %d has magic %d", ErrCorrupt, h.baseOffset, b[offMagic])
	case h.length < batchHeaderSize:
		return h, fmt.Errorf("%w: batch at offset %d has length %d", ErrCorrupt, h.baseOffset, h.length-batchLengthOverhead)
	case h.lastOffsetDelta < 0 || h.baseOffset < 0 || h.baseOffset > math.MaxInt64-int64(h.lastOffsetDelta):
		return h, fmt.Errorf("%w: batch at offset %d has last offset delta %d", ErrCorrupt, h.baseOffset, h.lastOffsetDelta)
	}
	return h, nil
}

// Index objects are frames as the local log writes them (see doc.go).
const (
	frameHeaderSize    = 16
	frameVersion       = 1
	magicOffsetIndex   = "SIDX"
	magicTimeIndex     = "STIX"
	indexEntrySize     = 8
	timeIndexEntrySize = 12
	// maxIndexObject bounds the index objects the reader accepts: a 2 GiB
	// segment indexed every batch of 61 bytes stays far below it.
	maxIndexObject = 512 << 20
)

// indexEntry maps a batch's base offset, relative to the segment's base
// offset, to the batch's position in the .log object.
type indexEntry struct {
	rel uint32
	pos uint32
}

// timeEntry says that every batch up to and including the one at relative
// offset rel has a max timestamp <= ts, and that the batch at rel holds ts.
type timeEntry struct {
	ts  int64
	rel uint32
}

func beginFrame(dst []byte, magic string) []byte {
	var h [frameHeaderSize]byte
	copy(h[:4], magic)
	binary.BigEndian.PutUint16(h[4:], frameVersion)
	return append(dst, h[:]...)
}

func finishFrame(f []byte) {
	binary.BigEndian.PutUint32(f[8:], uint32(len(f)-frameHeaderSize))
	binary.BigEndian.PutUint32(f[12:], frameCRC(f))
}

func frameCRC(f []byte) uint32 {
	c := crc32.Checksum(f[:12], castagnoli)
	return crc32.Update(c, castagnoli, f[frameHeaderSize:])
}

// decodeFrame checks a whole frame and returns its payload.
func decodeFrame(b []byte, magic string) ([]byte, error) {
	switch {
	case len(b) < frameHeaderSize:
		return nil, fmt.Errorf("%w: %d-byte index object, shorter than a frame header", ErrCorrupt, len(b))
	case string(b[:4]) != magic:
		return nil, fmt.Errorf("%w: index object magic %q, want %q", ErrCorrupt, b[:4], magic)
	case binary.BigEndian.Uint16(b[4:]) != frameVersion || binary.BigEndian.Uint16(b[6:]) != 0:
		return nil, fmt.Errorf("%w: index object version %d.%d, want %d.0", ErrCorrupt, binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:]), frameVersion)
	case int64(binary.BigEndian.Uint32(b[8:])) != int64(len(b)-frameHeaderSize):
		return nil, fmt.Errorf("%w: index object payload length %d, object holds %d", ErrCorrupt, binary.BigEndian.Uint32(b[8:]), len(b)-frameHeaderSize)
	case frameCRC(b) != binary.BigEndian.Uint32(b[12:]):
		return nil, fmt.Errorf("%w: index object CRC mismatch", ErrCorrupt)
	}
	return b[frameHeaderSize:], nil
}

func encodeOffsetIndex(entries []indexEntry) []byte {
	b := beginFrame(make([]byte, 0, frameHeaderSize+len(entries)*indexEntrySize), magicOffsetIndex)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint32(b, e.rel)
		b = binary.BigEndian.AppendUint32(b, e.pos)
	}
	finishFrame(b)
	return b
}

// decodeOffsetIndex parses an .index object; entries must increase
// strictly in both fields.
func decodeOffsetIndex(b []byte) ([]indexEntry, error) {
	p, err := decodeFrame(b, magicOffsetIndex)
	if err != nil {
		return nil, err
	}
	if len(p)%indexEntrySize != 0 {
		return nil, fmt.Errorf("%w: offset index payload of %d bytes", ErrCorrupt, len(p))
	}
	entries := make([]indexEntry, len(p)/indexEntrySize)
	for i := range entries {
		e := indexEntry{rel: binary.BigEndian.Uint32(p[i*indexEntrySize:]), pos: binary.BigEndian.Uint32(p[i*indexEntrySize+4:])}
		if i > 0 && (e.rel <= entries[i-1].rel || e.pos <= entries[i-1].pos) {
			return nil, fmt.Errorf("%w: offset index entry %d (%d@%d) does not follow %d@%d", ErrCorrupt, i, e.rel, e.pos, entries[i-1].rel, entries[i-1].pos)
		}
		entries[i] = e
	}
	return entries, nil
}

func encodeTimeIndex(entries []timeEntry) []byte {
	b := beginFrame(make([]byte, 0, frameHeaderSize+len(entries)*timeIndexEntrySize), magicTimeIndex)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
		b = binary.BigEndian.AppendUint32(b, e.rel)
	}
	finishFrame(b)
	return b
}

// decodeTimeIndex parses a .timeindex object; entries must increase
// strictly in both fields.
func decodeTimeIndex(b []byte) ([]timeEntry, error) {
	p, err := decodeFrame(b, magicTimeIndex)
	if err != nil {
		return nil, err
	}
	if len(p)%timeIndexEntrySize != 0 {
		return nil, fmt.Errorf("%w: time index payload of %d bytes", ErrCorrupt, len(p))
	}
	entries := make([]timeEntry, len(p)/timeIndexEntrySize)
	for i := range entries {
		e := timeEntry{ts: int64(binary.BigEndian.Uint64(p[i*timeIndexEntrySize:])), rel: binary.BigEndian.Uint32(p[i*timeIndexEntrySize+8:])}
		if i > 0 && (e.ts <= entries[i-1].ts || e.rel <= entries[i-1].rel) {
			return nil, fmt.Errorf("%w: time index entry %d (%d@%d) does not follow %d@%d", ErrCorrupt, i, e.ts, e.rel, entries[i-1].ts, entries[i-1].rel)
		}
		entries[i] = e
	}
	return entries, nil
}

// lookupPosition returns the position of the last indexed batch whose
// relative base offset is <= rel, or 0 (the segment's first batch).
func lookupPosition(entries []indexEntry, rel uint32) int64 {
	i, j := 0, len(entries)
	for i < j {
		h := int(uint(i+j) >> 1)
		if entries[h].rel > rel {
			j = h
		} else {
			i = h + 1
		}
	}
	if i == 0 {
		return 0
	}
	return int64(entries[i-1].pos)
}

// lookupTime returns the relative offset from which a scan for the first
// batch with max timestamp >= ts may start: the batch of the last entry
// whose timestamp is below ts, or 0.
func lookupTime(entries []timeEntry, ts int64) uint32 {
	i, j := 0, len(entries)
	for i < j {
		h := int(uint(i+j) >> 1)
		if entries[h].ts >= ts {
			j = h
		} else {
			i = h + 1
		}
	}
	if i == 0 {
		return 0
	}
	return entries[i-1].rel
}

// relOffset returns offset relative to base for an index lookup, clamped
// to the uint32 range.
func relOffset(offset, base int64) uint32 {
	switch d := offset - base; {
	case d <= 0:
		return 0
	case d >= math.MaxUint32:
		return math.MaxUint32
	default:
		return uint32(d)
	}
}
