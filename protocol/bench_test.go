package protocol

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// benchBatch builds one batch of n records with values of valueSize bytes.
func benchBatch(b *testing.B, codec Codec, n, valueSize int) []byte {
	b.Helper()
	records := make([]Record, n)
	for i := range records {
		v := bytes.Repeat([]byte{byte('a' + i%26)}, valueSize)
		records[i] = Record{Timestamp: 1700000000000 + int64(i), Key: []byte("key"), Value: v}
	}
	raw, err := AppendBatch(nil, BatchHeader{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, codec, records)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkSplitBatches16KiB measures framing plus CRC32-C of a 16 KiB
// batch.
func BenchmarkSplitBatches16KiB(b *testing.B) {
	raw := benchBatch(b, CodecNone, 16, 1000)
	dst := make([]Batch, 0, 1)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = SplitBatches(dst[:0], raw, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateRecords1KiB validates an uncompressed batch of 1 KiB
// records.
func BenchmarkValidateRecords1KiB(b *testing.B) {
	batches, err := SplitBatches(nil, benchBatch(b, CodecNone, 64, 1<<10), 0)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(batches[0].Raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateRecords(batches[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateRecordsCompressed validates 64 KiB of 1 KiB records per
// codec; bytes are the uncompressed size.
func BenchmarkValidateRecordsCompressed(b *testing.B) {
	for _, codec := range allCodecs[1:] {
		b.Run(codec.String(), func(b *testing.B) {
			batches, err := SplitBatches(nil, benchBatch(b, codec, 64, 1<<10), 0)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(64 << 10)
			b.ReportAllocs()
			for b.Loop() {
				if err := ValidateRecords(batches[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseRequestProduce1MiB parses a Produce request carrying a
// 1 MiB batch. The records must alias the frame, so allocations stay flat
// regardless of the batch size.
func BenchmarkParseRequestProduce1MiB(b *testing.B) {
	req := kmsg.NewPtrProduceRequest()
	req.Version = 11
	req.Acks = -1
	topic := kmsg.NewProduceRequestTopic()
	topic.Topic = "bench"
	part := kmsg.NewProduceRequestTopicPartition()
	part.Records = benchBatch(b, CodecNone, 1024, 1<<10)
	topic.Partitions = append(topic.Partitions, part)
	req.Topics = append(req.Topics, topic)
	frame := requestFrame(b, req, 1, kmsg.StringPtr("bench"))

	parsed, err := ParseRequest(frame)
	if err != nil {
		b.Fatal(err)
	}
	if !within(parsed.Body.(*kmsg.ProduceRequest).Topics[0].Partitions[0].Records, frame) {
		b.Fatal("records copied out of the frame")
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendResponse encodes a small flexible response.
func BenchmarkAppendResponse(b *testing.B) {
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = 11
	topic := kmsg.NewProduceResponseTopic()
	topic.Topic = "bench"
	topic.Partitions = append(topic.Partitions, kmsg.NewProduceResponseTopicPartition())
	resp.Topics = append(resp.Topics, topic)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResponse(buf[:0], 1, resp)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkCodecs compresses and decompresses 64 KiB of record-like data.
func BenchmarkCodecs(b *testing.B) {
	src := bytes.Repeat([]byte(`{"user":"alice","action":"click","n":12345} `), 1500)[:64<<10]
	for _, codec := range allCodecs[1:] {
		compressed, err := Compress(nil, codec, src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("compress/"+codec.String(), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				if dst, err = Compress(dst[:0], codec, src); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decompress/"+codec.String(), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				if dst, err = Decompress(dst[:0], codec, compressed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
