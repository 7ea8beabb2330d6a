package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
	kafkago "github.com/segmentio/kafka-go/compress"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testPayloads returns inputs of sizes around the codecs' block boundaries
// (32 KiB xerial blocks, 64 KiB lz4 blocks), both compressible and not.
func testPayloads() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	text := bytes.Repeat([]byte(`{"user":"alice","action":"click","n":12345} `), 6000)
	return map[string][]byte{
		"empty":          {},
		"one byte":       {42},
		"small text":     text[:100],
		"32KiB+1 text":   text[:32<<10+1],
		"200KiB text":    text[:200<<10],
		"random 100KiB":  random(100 << 10),
		"random 32KiB-1": random(32<<10 - 1),
	}
}

func TestCompressRoundTrip(t *testing.T) {
	for _, codec := range allCodecs {
		for name, src := range testPayloads() {
			compressed, err := Compress([]byte("pre"), codec, src)
			if err != nil {
				t.Fatalf("%v %s: %v", codec, name, err)
			}
			if string(compressed[:3]) != "pre" {
				t.Fatalf("%v %s: dst prefix clobbered", codec, name)
			}
			got, err := Decompress([]byte("xyz"), codec, compressed[3:])
			if err != nil {
				t.Fatalf("%v %s: %v", codec, name, err)
			}
			if string(got[:3]) != "xyz" || !bytes.Equal(got[3:], src) {
				t.Fatalf("%v %s: round trip differs", codec, name)
			}
		}
	}
}

func TestCompressFormats(t *testing.T) {
	magic := map[Codec][]byte{
		CodecGzip:   {0x1f, 0x8b},
		CodecSnappy: xerialHeader,
		CodecLZ4:    {0x04, 0x22, 0x4d, 0x18},
		CodecZstd:   {0x28, 0xb5, 0x2f, 0xfd},
	}
	for codec, want := range magic {
		for _, src := range [][]byte{nil, []byte("hello")} {
			want := want
			if codec == CodecSnappy && len(src) == 0 {
				want = []byte{0} // an empty raw block, readable by every client
			}
			out, err := Compress(nil, codec, src)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out, want) {
				t.Fatalf("%v output starts %x, want %x", codec, out[:min(len(out), 16)], want)
			}
		}
	}
}

// TestFranzGoCompat exchanges compressed payloads with franz-go's own
// compressor and decompressor (which use raw snappy blocks when not
// streaming, xerial when streaming, lz4 frames, zstd frames).
func TestFranzGoCompat(t *testing.T) {
	kgoCodecs := map[Codec]kgo.CompressionCodec{
		CodecGzip: kgo.GzipCompression(), CodecSnappy: kgo.SnappyCompression(),
		CodecLZ4: kgo.Lz4Compression(), CodecZstd: kgo.ZstdCompression(),
	}
	dec := kgo.DefaultDecompressor()
	for codec, kc := range kgoCodecs {
		comp, err := kgo.DefaultCompressor(kc)
		if err != nil {
			t.Fatal(err)
		}
		for name, src := range testPayloads() {
			theirs, _ := comp.Compress(new(bytes.Buffer), src)
			got, err := Decompress(nil, codec, theirs)
			if err != nil || !bytes.Equal(got, src) {
				t.Fatalf("%v %s: decoding franz-go output: %v", codec, name, err)
			}
			ours, err := Compress(nil, codec, src)
			if err != nil {
				t.Fatal(err)
			}
			back, err := dec.Decompress(ours, kgo.CompressionCodecType(codec))
			if err != nil || !bytes.Equal(back, src) {
				t.Fatalf("%v %s: franz-go decoding ours: %v", codec, name, err)
			}
		}
	}
}

// TestKafkaGoCompat exchanges payloads with segmentio/kafka-go's codecs,
// an independent implementation (its snappy writer frames with xerial by
// default and can write raw blocks).
func TestKafkaGoCompat(t *testing.T) {
	for _, codec := range allCodecs[1:] {
		kc := kafkago.Compression(codec).Codec()
		for name, src := range testPayloads() {
			var buf bytes.Buffer
			w := kc.NewWriter(&buf)
			if _, err := w.Write(src); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := Decompress(nil, codec, buf.Bytes())
			if err != nil || !bytes.Equal(got, src) {
				t.Fatalf("%v %s: decoding kafka-go output: %v", codec, name, err)
			}
			ours, err := Compress(nil, codec, src)
			if err != nil {
				t.Fatal(err)
			}
			r := kc.NewReader(bytes.NewReader(ours))
			back, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(back, src) {
				t.Fatalf("%v %s: kafka-go decoding ours: %v", codec, name, err)
			}
		}
	}
}

func TestSnappyGoldenInputs(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		// snappy-java's SnappyOutputStream output for "PLAINDATA" (from
		// eapache/go-xerial-snappy's tests).
		{"xerial", []byte{130, 83, 78, 65, 80, 80, 89, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 11, 9, 32, 80, 76, 65, 73, 78, 68, 65, 84, 65}, "PLAINDATA"},
		{"xerial empty", xerialHeader, ""},
		{"raw block", []byte{12, 44, 82, 69, 65, 76, 76, 89, 32, 83, 72, 79, 82, 84}, "REALLY SHORT"},
		{"raw block with copy", []byte{36, 20, 82, 69, 80, 69, 65, 84, 118, 6, 0}, "REPEATREPEATREPEATREPEATREPEATREPEAT"},
	}
	for _, tc := range tests {
		got, err := Decompress(nil, CodecSnappy, tc.in)
		if err != nil || string(got) != tc.want {
			t.Fatalf("%s: %q, %v", tc.name, got, err)
		}
	}
	bad := [][]byte{
		xerialHeader[:10],
		append(bytes.Clone(xerialHeader), 0, 0, 0),          // truncated block length
		append(bytes.Clone(xerialHeader), 0, 0, 0, 9, 1, 2), // block past end
		append(bytes.Clone(xerialHeader), 0xff, 0xff, 0xff, 0xff),
		{0xff, 0xff, 0xff, 0xff, 0xff, 0x0f},           // raw block claiming 4 GiB
		append(binary.AppendUvarint(nil, 1<<20), 0, 0), // claims more than 3 bytes can hold
		// The s2 format's repeat codes are not snappy: no Kafka client
		// could read them back.
		s2.Encode(nil, bytes.Repeat([]byte("abcdefgh"), 10000)),
	}
	for i, in := range bad {
		if _, err := Decompress(nil, CodecSnappy, in); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("bad input %d: %v", i, err)
		}
	}
}

// TestDecompressLimit checks every codec against a decompression bomb: the
// limit holds and memory stays near it, not near the bomb's size.
func TestDecompressLimit(t *testing.T) {
	bomb := make([]byte, 32<<20)
	for _, codec := range allCodecs {
		compressed, err := Compress(nil, codec, bomb)
		if err != nil {
			t.Fatal(err)
		}
		const limit = 1 << 20
		var derr error
		n := allocatedDuring(func() { _, derr = DecompressLimit(nil, codec, compressed, limit) })
		if !errors.Is(derr, ErrCorruptRecord) {
			t.Fatalf("%v: %v", codec, derr)
		}
		if n > 16<<20 {
			t.Fatalf("%v: allocated %d bytes refusing a 32 MiB output with a 1 MiB limit", codec, n)
		}
		// Exactly at the limit is fine, one byte over is not.
		small, err := Compress(nil, codec, bomb[:limit])
		if err != nil {
			t.Fatal(err)
		}
		if out, err := DecompressLimit(nil, codec, small, limit); err != nil || len(out) != limit {
			t.Fatalf("%v at the limit: %d bytes, %v", codec, len(out), err)
		}
		if _, err := DecompressLimit(nil, codec, small, limit-1); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("%v one byte over: %v", codec, err)
		}
	}
	// A raw snappy block and xerial framing are both bounded before they
	// allocate.
	raw := snappy.Encode(nil, bomb)
	if _, err := DecompressLimit(nil, CodecSnappy, raw, 1<<20); !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("raw snappy: %v", err)
	}
}

func TestDecompressGarbage(t *testing.T) {
	garbage := []byte("this is not compressed by anything at all, honestly")
	for _, codec := range allCodecs[1:] {
		if _, err := Decompress(nil, codec, garbage); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("%v: %v", codec, err)
		}
		// Valid output with its tail cut off.
		out, err := Compress(nil, codec, bytes.Repeat([]byte("abc"), 1000))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decompress(nil, codec, out[:len(out)-3]); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("%v truncated: %v", codec, err)
		}
	}
}

func TestUnknownCodec(t *testing.T) {
	for _, c := range []Codec{-1, 5, 7} {
		if _, err := Compress(nil, c, []byte("x")); !errors.Is(err, ErrUnknownCodec) {
			t.Fatalf("Compress %v: %v", c, err)
		}
		if _, err := Decompress(nil, c, []byte("x")); !errors.Is(err, ErrUnknownCodec) {
			t.Fatalf("Decompress %v: %v", c, err)
		}
	}
	names := map[Codec]string{CodecNone: "none", CodecGzip: "gzip", CodecSnappy: "snappy", CodecLZ4: "lz4", CodecZstd: "zstd", 6: "codec(6)"}
	for c, want := range names {
		if c.String() != want {
			t.Fatalf("%d.String() = %q", c, c.String())
		}
	}
}

// TestCodecsConcurrent exercises the pooled encoders and decoders from many
// goroutines (meaningful under -race), with varying limits so pooled zstd
// decoders are reconfigured.
func TestCodecsConcurrent(t *testing.T) {
	payloads := testPayloads()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i, codec := range allCodecs {
				for _, src := range payloads {
					out, err := Compress(nil, codec, src)
					if err != nil {
						t.Error(err)
						return
					}
					limit := MaxDecompressedBytes
					if (g+i)%2 == 0 {
						limit = len(src) + 1
					}
					back, err := DecompressLimit(nil, codec, out, limit)
					if err != nil || !bytes.Equal(back, src) {
						t.Errorf("%v: %v", codec, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
