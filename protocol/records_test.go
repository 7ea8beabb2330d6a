package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

// encRecord hand-encodes one record. fields is everything after the length
// prefix; lengthAdjust skews the length prefix to build corrupt records.
func encRecord(fields []byte, lengthAdjust int) []byte {
	out := binary.AppendVarint(nil, int64(len(fields)+lengthAdjust))
	return append(out, fields...)
}

// recFields encodes a record's fields: attributes, timestamp delta, offset
// delta, key, value, and the given already-encoded header section.
func recFields(tsDelta int64, offsetDelta int64, key, value []byte, headers []byte) []byte {
	b := []byte{0}
	b = binary.AppendVarint(b, tsDelta)
	b = binary.AppendVarint(b, offsetDelta)
	b = appendBytes(b, key)
	b = appendBytes(b, value)
	if headers == nil {
		headers = []byte{0}
	}
	return append(b, headers...)
}

// rawBatch wraps an encoded records section in a valid batch header.
func rawBatch(payload []byte, numRecords, lastOffsetDelta int32, attrs int16) Batch {
	raw := make([]byte, RecordBatchOverhead, RecordBatchOverhead+len(payload))
	raw = append(raw, payload...)
	h := BatchHeader{
		BaseOffset: 100, BatchLength: int32(len(raw) - offPartitionLeaderEpoch), Magic: 2,
		Attributes: attrs, LastOffsetDelta: lastOffsetDelta, FirstTimestamp: 5000, MaxTimestamp: 5000,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: numRecords,
	}
	putBatchHeader(raw, &h)
	h.CRC = crc32.Checksum(raw[offAttributes:], castagnoli)
	binary.BigEndian.PutUint32(raw[offCRC:], h.CRC)
	return Batch{Header: h, Raw: raw}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestRecordsFraming(t *testing.T) {
	good := encRecord(recFields(1, 0, []byte("k"), []byte("v"), nil), 0)
	second := encRecord(recFields(2, 1, nil, []byte("w"), nil), 0)
	header := func(key []byte, value []byte) []byte {
		b := binary.AppendVarint(nil, 1)
		b = appendBytes(b, key)
		return appendBytes(b, value)
	}
	overflow := binary.AppendUvarint(nil, 1<<40) // fits no int32
	tests := []struct {
		name        string
		payload     []byte
		n, lastDelt int32
		wantErr     error
	}{
		{"one record", good, 1, 0, nil},
		{"two records", cat(good, second), 2, 1, nil},
		{"header with null value", encRecord(recFields(0, 0, nil, nil, header([]byte("h"), nil)), 0), 1, 0, nil},
		{"compacted gap", cat(good, encRecord(recFields(0, 2, nil, nil, nil), 0)), 2, 2, nil},
		{"empty payload", nil, 1, 0, ErrCorruptRecord},
		{"truncated length", []byte{0x80}, 1, 0, ErrCorruptRecord},
		{"negative length", binary.AppendVarint(nil, -2), 1, 0, ErrCorruptRecord},
		{"length past end", encRecord(recFields(0, 0, nil, nil, nil), 1), 1, 0, ErrCorruptRecord},
		{"length past fields", cat(encRecord(append(recFields(0, 0, nil, nil, nil), 9), 0)), 1, 0, ErrCorruptRecord},
		{"length short of fields", encRecord(recFields(0, 0, []byte("key"), nil, nil), -2), 1, 0, ErrCorruptRecord},
		{"no attributes", encRecord(nil, 0), 1, 0, ErrCorruptRecord},
		{"key length -2", encRecord(append([]byte{0, 0, 0}, binary.AppendVarint(nil, -2)...), 0), 1, 0, ErrCorruptRecord},
		{"key past record", encRecord(append([]byte{0, 0, 0}, binary.AppendVarint(nil, 50)...), 0), 1, 0, ErrCorruptRecord},
		{"offset delta overflow", encRecord(cat([]byte{0, 0}, overflow, []byte{1, 1, 0}), 0), 1, 0, ErrCorruptRecord},
		{"negative header count", encRecord(recFields(0, 0, nil, nil, binary.AppendVarint(nil, -1)), 0), 1, 0, ErrCorruptRecord},
		{"header count past end", encRecord(recFields(0, 0, nil, nil, binary.AppendVarint(nil, 1000)), 0), 1, 0, ErrCorruptRecord},
		{"null header key", encRecord(recFields(0, 0, nil, nil, header(nil, []byte("v"))), 0), 1, 0, ErrCorruptRecord},
		{"fewer records than declared", good, 2, 1, ErrCorruptRecord},
		{"more records than declared", cat(good, second), 1, 0, ErrCorruptRecord},
		{"trailing garbage", cat(good, []byte{1}), 1, 0, ErrCorruptRecord},
		{"repeated offset delta", cat(good, good), 2, 1, ErrCorruptRecord},
		{"decreasing offset delta", cat(second, good), 2, 1, ErrCorruptRecord},
		{"offset delta past last", encRecord(recFields(0, 1, nil, nil, nil), 0), 1, 0, ErrCorruptRecord},
		{"negative offset delta", encRecord(recFields(0, -1, nil, nil, nil), 0), 1, 0, ErrCorruptRecord},
		{"negative record count", good, -1, 0, ErrCorruptRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := rawBatch(tc.payload, tc.n, tc.lastDelt, 0)
			verr := ValidateRecords(b)
			recs, rerr := Records(b)
			if !errors.Is(verr, tc.wantErr) || !errors.Is(rerr, tc.wantErr) || (tc.wantErr == nil) != (verr == nil) {
				t.Fatalf("ValidateRecords: %v, Records: %v, want %v", verr, rerr, tc.wantErr)
			}
			if tc.wantErr == nil && len(recs) != int(tc.n) {
				t.Fatalf("%d records", len(recs))
			}
		})
	}
}

func TestRecordsValues(t *testing.T) {
	payload := cat(
		encRecord(recFields(-5, 0, []byte("k"), []byte("v"), nil), 0),
		encRecord(recFields(7, 1, nil, []byte{}, []byte{4, 4, 'a', 'b', 2, 'x', 0, 1}), 0),
	)
	recs, err := Records(rawBatch(payload, 2, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{Offset: 100, Timestamp: 4995, Key: []byte("k"), Value: []byte("v")},
		{Offset: 101, Timestamp: 5007, Key: nil, Value: []byte{}, Headers: []RecordHeader{{Key: "ab", Value: []byte("x")}, {Key: "", Value: nil}}},
	}
	checkRecords(t, recs, want, 100)
}

func TestRecordsRejectsInconsistentBatch(t *testing.T) {
	b := rawBatch(encRecord(recFields(0, 0, nil, nil, nil), 0), 1, 0, 0)
	b.Raw = b.Raw[:len(b.Raw)-1]
	if _, err := Records(b); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("Records: %v", err)
	}
	if err := ValidateRecords(b); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("ValidateRecords: %v", err)
	}
}

func TestRecordsCompressedCorruption(t *testing.T) {
	for _, codec := range allCodecs[1:] {
		b := rawBatch([]byte("definitely not compressed data"), 1, 0, int16(codec))
		if err := ValidateRecords(b); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("%v: ValidateRecords: %v", codec, err)
		}
		if _, err := Records(b); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("%v: Records: %v", codec, err)
		}
	}
	// A valid compressed payload whose records are corrupt.
	inner := encRecord(recFields(0, 0, nil, nil, nil), 3)
	for _, codec := range allCodecs[1:] {
		payload, err := Compress(nil, codec, inner)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateRecords(rawBatch(payload, 1, 0, int16(codec))); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("%v: %v", codec, err)
		}
	}
	// Unknown codec bits.
	b := rawBatch(inner, 1, 0, 5)
	if _, err := SplitBatches(nil, b.Raw, 0); !errors.Is(err, ErrCorruptBatch) || !errors.Is(err, ErrUnknownCodec) {
		t.Fatalf("SplitBatches with codec 5: %v", err)
	}
	if err := ValidateRecords(b); !errors.Is(err, ErrUnknownCodec) {
		t.Fatalf("ValidateRecords with codec 5: %v", err)
	}
}

func TestValidateRecordsNoAllocs(t *testing.T) {
	raw, err := AppendBatch(nil, sampleHeader(), CodecNone, sampleRecords())
	if err != nil {
		t.Fatal(err)
	}
	batches, err := SplitBatches(nil, raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		if err := ValidateRecords(batches[0]); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Fatalf("%v allocations per uncompressed batch", allocs)
	}
}

func TestAppendBatchErrors(t *testing.T) {
	if _, err := AppendBatch(nil, BatchHeader{}, CodecNone, nil); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("no records: %v", err)
	}
	if _, err := AppendBatch(nil, BatchHeader{}, Codec(7), sampleRecords()); !errors.Is(err, ErrUnknownCodec) {
		t.Fatalf("codec 7: %v", err)
	}
	// Codec bits in h are replaced, other attribute bits kept.
	raw, err := AppendBatch(nil, BatchHeader{Attributes: attrControl | int16(CodecGzip)}, CodecNone, sampleRecords()[:1])
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseBatchHeader(raw)
	if err != nil || h.Codec() != CodecNone || !h.IsControl() {
		t.Fatalf("header %+v, %v", h, err)
	}
}
