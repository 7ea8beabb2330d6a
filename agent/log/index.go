package log

import (
	"encoding/binary"
	"fmt"
)

// indexEntry maps a batch's base offset, relative to its segment's base
// offset, to the batch's byte position in the segment.
type indexEntry struct {
	rel uint32
	pos uint32
}

// timeEntry records that every batch up to and including the one at
// relative offset rel has a max timestamp <= ts, and that the batch at rel
// holds ts.
type timeEntry struct {
	ts  int64
	rel uint32
}

const (
	indexEntrySize     = 8
	timeIndexEntrySize = 12
)

// encodeOffsetIndex returns the .index file for entries.
func encodeOffsetIndex(entries []indexEntry) []byte {
	b := beginFrame(make([]byte, 0, frameHeaderSize+len(entries)*indexEntrySize), magicOffsetIndex)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint32(b, e.rel)
		b = binary.BigEndian.AppendUint32(b, e.pos)
	}
	finishFrame(b, 0)
	return b
}

// decodeOffsetIndex parses a .index file. Entries must be strictly
// increasing in both fields; every failure wraps ErrCorrupt.
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
		e := indexEntry{
			rel: binary.BigEndian.Uint32(p[i*indexEntrySize:]),
			pos: binary.BigEndian.Uint32(p[i*indexEntrySize+4:]),
		}
		if i > 0 && (e.rel <= entries[i-1].rel || e.pos <= entries[i-1].pos) {
			return nil, fmt.Errorf("%w: offset index entry %d (%d@%d) does not follow %d@%d", ErrCorrupt, i, e.rel, e.pos, entries[i-1].rel, entries[i-1].pos)
		}
		entries[i] = e
	}
	return entries, nil
}

// encodeTimeIndex returns the .timeindex file for entries.
func encodeTimeIndex(entries []timeEntry) []byte {
	b := beginFrame(make([]byte, 0, frameHeaderSize+len(entries)*timeIndexEntrySize), magicTimeIndex)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
		b = binary.BigEndian.AppendUint32(b, e.rel)
	}
	finishFrame(b, 0)
	return b
}

// decodeTimeIndex parses a .timeindex file. Entries must be strictly
// increasing in both fields; every failure wraps ErrCorrupt.
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
		e := timeEntry{
			ts:  int64(binary.BigEndian.Uint64(p[i*timeIndexEntrySize:])),
			rel: binary.BigEndian.Uint32(p[i*timeIndexEntrySize+8:]),
		}
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
	// Binary search for the first entry with rel > rel.
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
// batch with max timestamp >= ts may start: the batch of the last entry whose
// timestamp is below ts (every earlier batch is below ts too), or 0.
func lookupTime(entries []timeEntry, ts int64) uint32 {
	// Binary search for the first entry with ts >= ts.
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
