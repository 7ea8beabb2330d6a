package protocol

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var allCodecs = []Codec{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd}

// brokerBatches are the record batches of a Fetch response captured from a
// real Kafka broker: a gzip batch, an uncompressed batch and another gzip
// batch holding six records. Source: segmentio/kafka-go (MIT),
// fixtures/v2c-v2-v2c.hex, Fetch v7 response, topic test-natty.
const brokerBatches = "00000000000000000000007900000000025da9bf740001000000010000017c4f1eea730000017c4f1eea8dffffffffff" +
	"ffffffffffffffffff000000021f8b08000000000000008b606060e04acc29c84874aa564ace2fcd2b51b232d0514acb" +
	"ccc9492d52b2524a8403a55a86300613268ea4d4121c6a93e000a8160053856227590000000000000000000002000000" +
	"8c0000000002f53e2b600000000000010000017c4f1f1a600000017c4f1f1c65ffffffffffffffffffffffffffff0000" +
	"0002580000000a67616d6d61427b22636f756e74223a302c2266696c6c6572223a2263636363636363636363227d005a" +
	"008a08020a64656c7461427b22636f756e74223a302c2266696c6c6572223a2264646464646464646464227d00000000" +
	"00000000040000007d000000000268a8ca640001000000010000017c4f1f49f90000017c4f1f4db4ffffffffffffffff" +
	"ffffffffffff000000021f8b08000000000000008b616060e04b2d28ceccc9cf73aa564ace2fcd2b51b232d0514acbcc" +
	"c9492d52b2524a8503a55a8608866f7c4c1c55a92589d815a7c101503100ebf4f0655c000000"

func TestSplitBatchesRealBroker(t *testing.T) {
	raw, err := hex.DecodeString(brokerBatches)
	if err != nil {
		t.Fatal(err)
	}
	batches, err := SplitBatches(nil, raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantCodecs := []Codec{CodecGzip, CodecNone, CodecGzip}
	if len(batches) != len(wantCodecs) {
		t.Fatalf("%d batches", len(batches))
	}
	keys := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}
	var got []Record
	for i, b := range batches {
		if b.Header.Codec() != wantCodecs[i] {
			t.Fatalf("batch %d codec %v", i, b.Header.Codec())
		}
		if err := ValidateRecords(b); err != nil {
			t.Fatal(err)
		}
		recs, err := Records(b)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, recs...)
	}
	if len(got) != len(keys) {
		t.Fatalf("%d records", len(got))
	}
	for i, r := range got {
		value := fmt.Sprintf(`{"count":0,"filler":"%s"}`, strings.Repeat(string(rune('a'+i)), 10))
		if r.Offset != int64(i) || string(r.Key) != keys[i] || string(r.Value) != value || r.Headers != nil {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	if got[0].Timestamp != 1633414998643 || got[5].Timestamp != 1633415024052 {
		t.Fatalf("timestamps %d %d", got[0].Timestamp, got[5].Timestamp)
	}
}

func sampleRecords() []Record {
	return []Record{
		{Timestamp: 1700000000000, Key: []byte("k0"), Value: []byte("v0")},
		{Timestamp: 1699999999000, Key: nil, Value: []byte("an earlier timestamp")},
		{Timestamp: 1700000005000, Key: []byte{}, Value: nil, Headers: []RecordHeader{
			{Key: "h1", Value: []byte("x")}, {Key: "", Value: nil}, {Key: "h3", Value: []byte{}},
		}},
		{Timestamp: 1700000001000, Key: bytes.Repeat([]byte("key"), 100), Value: bytes.Repeat([]byte("value "), 2000)},
	}
}

func sampleHeader() BatchHeader {
	return BatchHeader{
		BaseOffset: 1000, PartitionLeaderEpoch: 7, ProducerID: 12345, ProducerEpoch: 3, BaseSequence: 99,
		Attributes: attrTransactional,
	}
}

// checkRecords compares decoded records against what was appended at
// baseOffset.
func checkRecords(t *testing.T, got, want []Record, baseOffset int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Offset != baseOffset+int64(i) || g.Timestamp != w.Timestamp {
			t.Fatalf("record %d: offset %d timestamp %d, want %d %d", i, g.Offset, g.Timestamp, baseOffset+int64(i), w.Timestamp)
		}
		if err := sameBytes(g.Key, w.Key); err != nil {
			t.Fatalf("record %d key: %v", i, err)
		}
		if err := sameBytes(g.Value, w.Value); err != nil {
			t.Fatalf("record %d value: %v", i, err)
		}
		if len(g.Headers) != len(w.Headers) {
			t.Fatalf("record %d: %d headers, want %d", i, len(g.Headers), len(w.Headers))
		}
		for j := range w.Headers {
			if g.Headers[j].Key != w.Headers[j].Key {
				t.Fatalf("record %d header %d key %q", i, j, g.Headers[j].Key)
			}
			if err := sameBytes(g.Headers[j].Value, w.Headers[j].Value); err != nil {
				t.Fatalf("record %d header %d value: %v", i, j, err)
			}
		}
	}
}

// sameBytes compares two nullable byte slices.
func sameBytes(got, want []byte) error {
	if (got == nil) != (want == nil) || !bytes.Equal(got, want) {
		return fmt.Errorf("got %q (nil %v), want %q (nil %v)", got, got == nil, want, want == nil)
	}
	return nil
}

func TestAppendBatchRoundTrip(t *testing.T) {
	for _, codec := range allCodecs {
		t.Run(codec.String(), func(t *testing.T) {
			want := sampleRecords()
			raw, err := AppendBatch([]byte("prefix"), sampleHeader(), codec, want)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw[:6]) != "prefix" {
				t.Fatal("dst prefix clobbered")
			}
			raw = raw[6:]
			batches, err := SplitBatches(nil, raw, 0)
			if err != nil {
				t.Fatal(err)
			}
			h := batches[0].Header
			if h.Codec() != codec || !h.IsTransactional() || h.IsControl() || h.LogAppendTime() ||
				h.BaseOffset != 1000 || h.LastOffset() != 1003 || h.NumRecords != 4 || h.PartitionLeaderEpoch != 7 ||
				h.ProducerID != 12345 || h.ProducerEpoch != 3 || h.BaseSequence != 99 ||
				h.FirstTimestamp != 1700000000000 || h.MaxTimestamp != 1700000005000 || h.Size() != len(raw) {
				t.Fatalf("header %+v", h)
			}
			if err := ValidateRecords(batches[0]); err != nil {
				t.Fatal(err)
			}
			got, err := Records(batches[0])
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, got, want, 1000)
			checkRecords(t, clientRecords(t, raw), want, 1000)
		})
	}
}

// clientRecords decodes batches the way franz-go's consumer does (CRC
// check, decompression, record parsing) and returns what it saw.
func clientRecords(t *testing.T, raw []byte) []Record {
	t.Helper()
	fp := kmsg.NewFetchResponseTopicPartition()
	fp.RecordBatches = raw
	fp.HighWatermark = math.MaxInt64
	part, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{KeepControlRecords: true, Topic: "t"},
		&fp, kgo.DefaultDecompressor(), nil)
	if part.Err != nil {
		t.Fatalf("franz-go rejects the batch: %v", part.Err)
	}
	var out []Record
	for _, r := range part.Records {
		rec := Record{Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			rec.Headers = append(rec.Headers, RecordHeader{Key: h.Key, Value: h.Value})
		}
		out = append(out, rec)
	}
	return out
}

// kmsgBatch builds a batch with kmsg's own encoders and franz-go's own
// compressor, independently of AppendBatch.
func kmsgBatch(t *testing.T, codec Codec, base int64, records []Record) []byte {
	t.Helper()
	var payload []byte
	for i, r := range records {
		kr := kmsg.NewRecord()
		kr.TimestampDelta64 = r.Timestamp - records[0].Timestamp
		kr.OffsetDelta = int32(i)
		kr.Key, kr.Value = r.Key, r.Value
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		// Length counts the bytes after itself: encode once to learn it.
		kr.Length = int32(len(kr.AppendTo(nil)) - 1)
		payload = kr.AppendTo(payload)
	}
	if codec != CodecNone {
		kc := map[Codec]kgo.CompressionCodec{
			CodecGzip: kgo.GzipCompression(), CodecSnappy: kgo.SnappyCompression(),
			CodecLZ4: kgo.Lz4Compression(), CodecZstd: kgo.ZstdCompression(),
		}[codec]
		comp, err := kgo.DefaultCompressor(kc)
		if err != nil {
			t.Fatal(err)
		}
		out, used := comp.Compress(new(bytes.Buffer), payload)
		if int8(used) != int8(codec) {
			t.Fatalf("franz-go compressed with %v", used)
		}
		payload = bytes.Clone(out)
	}
	maxTS := records[0].Timestamp
	for _, r := range records {
		maxTS = max(maxTS, r.Timestamp)
	}
	kb := kmsg.RecordBatch{
		FirstOffset: base, Length: int32(len(payload) + 49), PartitionLeaderEpoch: -1, Magic: 2,
		Attributes: int16(codec), LastOffsetDelta: int32(len(records) - 1),
		FirstTimestamp: records[0].Timestamp, MaxTimestamp: maxTS,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(len(records)), Records: payload,
	}
	raw := kb.AppendTo(nil)
	kb.CRC = int32(crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return kb.AppendTo(nil)
}

// TestKmsgBuiltBatches decodes batches built by kmsg and franz-go, and
// checks that AppendBatch produces the same bytes kmsg does.
func TestKmsgBuiltBatches(t *testing.T) {
	for _, codec := range allCodecs {
		t.Run(codec.String(), func(t *testing.T) {
			want := sampleRecords()
			raw := kmsgBatch(t, codec, 500, want)
			batches, err := SplitBatches(nil, raw, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateRecords(batches[0]); err != nil {
				t.Fatal(err)
			}
			got, err := Records(batches[0])
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, got, want, 500)

			// And kmsg decodes ours to the same header fields.
			ours, err := AppendBatch(nil, BatchHeader{BaseOffset: 500, PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, codec, want)
			if err != nil {
				t.Fatal(err)
			}
			var kb kmsg.RecordBatch
			if err := kb.ReadFrom(ours); err != nil {
				t.Fatal(err)
			}
			if int(kb.Length)+12 != len(ours) || kb.Magic != 2 || uint32(kb.CRC) != crc32.Checksum(ours[21:], castagnoli) ||
				kb.NumRecords != 4 || kb.LastOffsetDelta != 3 || kb.Attributes != int16(codec) || kb.FirstSequence != -1 {
				t.Fatalf("kmsg reads our batch as %+v", kb)
			}
			if codec == CodecNone && !bytes.Equal(ours, raw) {
				t.Fatalf("AppendBatch differs from kmsg encoding:\n%x\n%x", ours, raw)
			}
		})
	}
}

func twoBatches(t *testing.T) ([]byte, int) {
	t.Helper()
	raw, err := AppendBatch(nil, sampleHeader(), CodecNone, sampleRecords())
	if err != nil {
		t.Fatal(err)
	}
	first := len(raw)
	h := sampleHeader()
	h.BaseOffset = 1004
	raw, err = AppendBatch(raw, h, CodecZstd, sampleRecords()[:2])
	if err != nil {
		t.Fatal(err)
	}
	return raw, first
}

func TestSplitBatchesBitFlips(t *testing.T) {
	raw, first := twoBatches(t)
	for pos := range raw {
		for bit := range 8 {
			flipped := bytes.Clone(raw)
			flipped[pos] ^= 1 << bit
			_, err := SplitBatches(nil, flipped, 0)
			inBatch := pos // position within its batch
			if pos >= first {
				inBatch = pos - first
			}
			uncovered := inBatch < offBatchLength || (inBatch >= offPartitionLeaderEpoch && inBatch < offMagic)
			switch {
			case uncovered && err != nil:
				t.Fatalf("flip at %d bit %d (base offset / leader epoch): %v", pos, bit, err)
			case !uncovered && err == nil:
				t.Fatalf("flip at %d bit %d accepted", pos, bit)
			case !uncovered && !errors.Is(err, ErrCorruptBatch) && !errors.Is(err, ErrUnsupportedMagic):
				t.Fatalf("flip at %d bit %d: %v", pos, bit, err)
			}
		}
	}
}

func TestSplitBatchesTruncated(t *testing.T) {
	raw, first := twoBatches(t)
	for n := range len(raw) {
		batches, err := SplitBatches(nil, raw[:n], 0)
		switch n {
		case 0:
			if err != nil || len(batches) != 0 {
				t.Fatalf("empty: %d batches, %v", len(batches), err)
			}
		case first:
			if err != nil || len(batches) != 1 {
				t.Fatalf("at boundary: %d batches, %v", len(batches), err)
			}
		default:
			if !errors.Is(err, ErrCorruptBatch) {
				t.Fatalf("%d of %d bytes: %v", n, len(raw), err)
			}
			if n > first && !strings.Contains(err.Error(), "batch 1 ") {
				t.Fatalf("error does not name batch 1: %v", err)
			}
		}
	}
}

// messageSet builds a one-message legacy (magic 0 or 1) message set.
func messageSet(magic int8) []byte {
	var msg []byte
	msg = append(msg, byte(magic), 0) // magic, attributes
	if magic == 1 {
		msg = binary.BigEndian.AppendUint64(msg, 1700000000000)
	}
	msg = binary.BigEndian.AppendUint32(msg, 0xffffffff) // null key
	msg = binary.BigEndian.AppendUint32(msg, 5)
	msg = append(msg, "hello"...)
	crc := crc32.ChecksumIEEE(msg)
	out := binary.BigEndian.AppendUint64(nil, 0)
	out = binary.BigEndian.AppendUint32(out, uint32(4+len(msg)))
	out = binary.BigEndian.AppendUint32(out, crc)
	return append(out, msg...)
}

func TestSplitBatchesRejectsOldMagic(t *testing.T) {
	for _, magic := range []int8{0, 1} {
		_, err := SplitBatches(nil, messageSet(magic), 0)
		if !errors.Is(err, ErrUnsupportedMagic) {
			t.Fatalf("magic %d: %v", magic, err)
		}
	}
	raw, _ := twoBatches(t)
	raw[offMagic] = 3
	if _, err := SplitBatches(nil, raw, 0); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("magic 3: %v", err)
	}
	// ParseBatchHeader agrees.
	if _, err := ParseBatchHeader(append(messageSet(1), make([]byte, 40)...)); !errors.Is(err, ErrUnsupportedMagic) {
		t.Fatalf("ParseBatchHeader magic 1: %v", err)
	}
}

// setHeaderField rewrites a 4-byte header field and fixes the CRC.
func setHeaderField(raw []byte, off int, v int32) {
	binary.BigEndian.PutUint32(raw[off:], uint32(v))
	binary.BigEndian.PutUint32(raw[offCRC:], crc32.Checksum(raw[offAttributes:], castagnoli))
}

func TestSplitBatchesHeaderConsistency(t *testing.T) {
	base, err := AppendBatch(nil, sampleHeader(), CodecNone, sampleRecords())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func([]byte)
		want error
	}{
		{"more records than deltas", func(b []byte) { setHeaderField(b, offNumRecords, 5) }, ErrCorruptBatch},
		{"fewer records than deltas", func(b []byte) { setHeaderField(b, offNumRecords, 3) }, ErrCorruptBatch},
		{"zero records", func(b []byte) { setHeaderField(b, offNumRecords, 0); setHeaderField(b, offLastOffsetDelta, -1) }, ErrCorruptBatch},
		{"negative records", func(b []byte) { setHeaderField(b, offNumRecords, -5); setHeaderField(b, offLastOffsetDelta, -6) }, ErrCorruptBatch},
		{"overflowing delta", func(b []byte) {
			setHeaderField(b, offNumRecords, math.MinInt32)
			setHeaderField(b, offLastOffsetDelta, math.MaxInt32)
		}, ErrCorruptBatch},
		{"length below header", func(b []byte) { binary.BigEndian.PutUint32(b[offBatchLength:], 48) }, ErrCorruptBatch},
		{"negative length", func(b []byte) { binary.BigEndian.PutUint32(b[offBatchLength:], 0x80000000) }, ErrCorruptBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := bytes.Clone(base)
			tc.edit(raw)
			if _, err := SplitBatches(nil, raw, 0); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSplitBatchesSizeLimit(t *testing.T) {
	raw, first := twoBatches(t)
	largest := max(first, len(raw)-first)
	if _, err := SplitBatches(nil, raw, largest); err != nil {
		t.Fatalf("largest batch exactly at the limit: %v", err)
	}
	if _, err := SplitBatches(nil, raw, largest-1); !errors.Is(err, ErrBatchTooLarge) {
		t.Fatalf("limit %d: %v", largest-1, err)
	}
	// The size is checked before the CRC, as Kafka does.
	corrupt := bytes.Clone(raw[:first])
	corrupt[len(corrupt)-1] ^= 1
	if _, err := SplitBatches(nil, corrupt, first-1); !errors.Is(err, ErrBatchTooLarge) {
		t.Fatalf("corrupt and too large: %v", err)
	}
	for _, limit := range []int{0, -1} {
		if _, err := SplitBatches(nil, raw, limit); err != nil {
			t.Fatalf("limit %d means none: %v", limit, err)
		}
	}
}

func TestSplitBatchesNoAllocs(t *testing.T) {
	raw, _ := twoBatches(t)
	dst := make([]Batch, 0, 4)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if dst, err = SplitBatches(dst[:0], raw, 0); err != nil || len(dst) != 2 {
			t.Fatalf("%d batches, %v", len(dst), err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per call", allocs)
	}
}

func TestSetBaseOffsetAndLeaderEpoch(t *testing.T) {
	raw, err := AppendBatch(nil, sampleHeader(), CodecLZ4, sampleRecords())
	if err != nil {
		t.Fatal(err)
	}
	SetBaseOffset(raw, 1<<40)
	SetPartitionLeaderEpoch(raw, 99)
	batches, err := SplitBatches(nil, raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := batches[0].Header
	if h.BaseOffset != 1<<40 || h.PartitionLeaderEpoch != 99 || h.LastOffset() != 1<<40+3 {
		t.Fatalf("header %+v", h)
	}
	got, err := Records(batches[0])
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, got, sampleRecords(), 1<<40)
}

func TestSetLogAppendTime(t *testing.T) {
	for _, codec := range []Codec{CodecNone, CodecSnappy} {
		raw, err := AppendBatch(nil, sampleHeader(), codec, sampleRecords())
		if err != nil {
			t.Fatal(err)
		}
		const ts = 1800000000000
		SetLogAppendTime(raw, ts)
		batches, err := SplitBatches(nil, raw, 0)
		if err != nil {
			t.Fatal(err)
		}
		h := batches[0].Header
		if !h.LogAppendTime() || h.MaxTimestamp != ts || h.FirstTimestamp != 1700000000000 || h.Codec() != codec || !h.IsTransactional() {
			t.Fatalf("header %+v", h)
		}
		want := sampleRecords()
		for i := range want {
			want[i].Timestamp = ts
		}
		got, err := Records(batches[0])
		if err != nil {
			t.Fatal(err)
		}
		checkRecords(t, got, want, 1000)
		// A real client reads the same timestamps.
		checkRecords(t, clientRecords(t, raw), want, 1000)
	}
}

func TestBatchHeaderFlags(t *testing.T) {
	h := BatchHeader{Attributes: attrControl | attrTransactional | int16(CodecZstd), BaseOffset: 10, LastOffsetDelta: 0}
	if !h.IsControl() || !h.IsTransactional() || h.LogAppendTime() || h.Codec() != CodecZstd || h.LastOffset() != 10 {
		t.Fatalf("flags of %+v", h)
	}
	if _, err := ParseBatchHeader(make([]byte, RecordBatchOverhead-1)); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("short header: %v", err)
	}
}
