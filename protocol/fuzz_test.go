package protocol

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func FuzzParseRequest(f *testing.F) {
	for _, req := range sampleRequests(f) {
		f.Add(requestFrame(f, req, 1, kmsg.StringPtr("fuzz")))
	}
	for key, r := range APIs() {
		for _, v := range []int16{r.Min, r.Max} {
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			f.Add(requestFrame(f, req, 2, nil))
		}
	}
	tooNew := kmsg.NewPtrApiVersionsRequest()
	tooNew.Version = 5
	f.Add(requestFrame(f, tooNew, 3, nil))
	f.Add(appendHeader(nil, 18, 3, 4, kmsg.StringPtr("id"), [][2][]byte{{{1}, []byte("tag")}}, true))

	f.Fuzz(func(t *testing.T, frame []byte) {
		req, err := ParseRequest(frame)
		if err != nil {
			if req != nil && req.Body != nil {
				t.Fatalf("body returned with error %v", err)
			}
			return
		}
		if !Supported(req.Header.APIKey, req.Header.APIVersion) || req.Body == nil {
			t.Fatalf("accepted %+v", req.Header)
		}
		if req.Body.Key() != req.Header.APIKey || req.Body.GetVersion() != req.Header.APIVersion {
			t.Fatalf("body %s v%d for header %+v", kmsg.NameForKey(req.Body.Key()), req.Body.GetVersion(), req.Header)
		}
		// A decoded body can always be encoded again (what a proxying
		// or logging caller would do).
		_ = req.Body.AppendTo(nil)
	})
}

// smallRecords are sampleRecords without the large one: the fuzzer
// mutates and minimizes small inputs far faster.
func smallRecords() []Record { return sampleRecords()[:3] }

func batchSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	raw, err := hex.DecodeString(brokerBatches)
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, raw, messageSet(0), messageSet(1))
	for _, codec := range allCodecs {
		b, err := AppendBatch(nil, sampleHeader(), codec, smallRecords())
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

func FuzzSplitBatches(f *testing.F) {
	for _, seed := range batchSeeds(f) {
		f.Add(seed, 0)
		f.Add(seed, len(seed)/2)
	}
	f.Fuzz(func(t *testing.T, records []byte, maxBatchBytes int) {
		batches, err := SplitBatches(nil, records, maxBatchBytes)
		if err != nil {
			return
		}
		total := 0
		for _, b := range batches {
			total += len(b.Raw)
			if b.Header.Magic != 2 || b.Header.Size() != len(b.Raw) || (maxBatchBytes > 0 && len(b.Raw) > maxBatchBytes) {
				t.Fatalf("accepted batch %+v of %d bytes", b.Header, len(b.Raw))
			}
			verr := ValidateRecords(b)
			recs, rerr := Records(b)
			if (verr == nil) != (rerr == nil) {
				t.Fatalf("ValidateRecords %v, Records %v", verr, rerr)
			}
			if rerr == nil && len(recs) != int(b.Header.NumRecords) {
				t.Fatalf("%d records, header says %d", len(recs), b.Header.NumRecords)
			}
		}
		if total != len(records) {
			t.Fatalf("batches cover %d of %d bytes", total, len(records))
		}
	})
}

// FuzzRecords fuzzes the records section of a batch whose header and CRC
// are made valid around it. The fuzzed bytes are the uncompressed records;
// for compressed codecs they are compressed here, so decoding exercises the
// codec path without the fuzzer spending its time inflating bombs (those
// are FuzzDecompress's job).
func FuzzRecords(f *testing.F) {
	for _, r := range [][]Record{smallRecords(), smallRecords()[:1]} {
		payload := appendRecords(nil, r[0].Timestamp, r)
		for _, codec := range allCodecs {
			f.Add(payload, int32(len(r)), int32(len(r)-1), uint8(codec))
		}
	}
	f.Add([]byte{0x80}, int32(1), int32(0), uint8(0))
	f.Fuzz(func(t *testing.T, payload []byte, n, lastDelta int32, codec uint8) {
		c := Codec(codec % 5)
		body, err := Compress(nil, c, payload)
		if err != nil {
			t.Fatal(err)
		}
		b := rawBatch(body, n, lastDelta, int16(c))
		verr := ValidateRecords(b)
		recs, rerr := Records(b)
		if (verr == nil) != (rerr == nil) {
			t.Fatalf("ValidateRecords %v, Records %v", verr, rerr)
		}
		if rerr != nil {
			if !errors.Is(rerr, ErrCorruptRecord) {
				t.Fatalf("unexpected error class: %v", rerr)
			}
			return
		}
		if len(recs) != int(n) {
			t.Fatalf("%d records, header says %d", len(recs), n)
		}
		for i, r := range recs {
			d := r.Offset - b.Header.BaseOffset
			if d < 0 || d > int64(lastDelta) || (i > 0 && r.Offset <= recs[i-1].Offset) {
				t.Fatalf("record %d offset %d", i, r.Offset)
			}
		}
		// Re-encoding what was decoded yields a batch that decodes to
		// the same keys, values and headers.
		if b.Header.LogAppendTime() || lastDelta != n-1 {
			return
		}
		again, err := AppendBatch(nil, b.Header, c, recs)
		if err != nil {
			t.Fatal(err)
		}
		batches, err := SplitBatches(nil, again, 0)
		if err != nil {
			t.Fatal(err)
		}
		recs2, err := Records(batches[0])
		if err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			if !bytes.Equal(recs[i].Key, recs2[i].Key) || !bytes.Equal(recs[i].Value, recs2[i].Value) ||
				(recs[i].Key == nil) != (recs2[i].Key == nil) || len(recs[i].Headers) != len(recs2[i].Headers) {
				t.Fatalf("record %d changed in re-encoding", i)
			}
		}
	})
}

func FuzzDecompress(f *testing.F) {
	text := bytes.Repeat([]byte("kafka record payload "), 20)
	for _, codec := range allCodecs {
		out, err := Compress(nil, codec, text)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(codec), out)
	}
	for _, kc := range []kgo.CompressionCodec{kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression(), kgo.GzipCompression()} {
		comp, err := kgo.DefaultCompressor(kc)
		if err != nil {
			f.Fatal(err)
		}
		out, codec := comp.Compress(new(bytes.Buffer), text)
		f.Add(uint8(codec), bytes.Clone(out))
	}
	f.Add(uint8(CodecSnappy), bytes.Clone(xerialHeader))
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, codec uint8, data []byte) {
		c := Codec(codec % 6) // 5 is unknown
		out, err := DecompressLimit(nil, c, data, limit)
		if err == nil && len(out) > limit {
			t.Fatalf("%v: %d bytes past the %d limit", c, len(out), limit)
		}
		if c == 5 {
			if !errors.Is(err, ErrUnknownCodec) {
				t.Fatalf("codec 5: %v", err)
			}
			return
		}
		if err != nil && !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("%v: unexpected error class %v", c, err)
		}
		// And the data itself round-trips.
		compressed, err := Compress(nil, c, data)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decompress(nil, c, compressed)
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("%v: round trip: %v", c, err)
		}
	})
}
