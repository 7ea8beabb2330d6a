package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Codec is a record batch compression codec, the low three bits of a batch's
// attributes.
type Codec int8

// The codecs Kafka defines.
const (
	CodecNone   Codec = 0
	CodecGzip   Codec = 1
	CodecSnappy Codec = 2
	CodecLZ4    Codec = 3
	CodecZstd   Codec = 4
)

// String returns Kafka's name for the codec (its compression.type value).
func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecGzip:
		return "gzip"
	case CodecSnappy:
		return "snappy"
	case CodecLZ4:
		return "lz4"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// MaxDecompressedBytes bounds what Decompress (and so Records and
// ValidateRecords) will inflate one compressed payload to. It protects the
// broker against decompression bombs: a 1 MiB zstd batch can legitimately
// claim gigabytes. 256 MiB is far above any batch a producer builds (Kafka
// clients cap batches at batch.size, 16 KiB–1 MiB by default, before
// compression) and well below what would hurt an agent. Use DecompressLimit
// for a different bound.
const MaxDecompressedBytes = 256 << 20

// xerialMagic opens a snappy payload framed the way the Java client's
// snappy-java SnappyOutputStream writes it.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// xerialHeader is xerialMagic followed by the stream version and the minimum
// compatible version, both 1 (snappy-java rejects a lower version).
var xerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}

// xerialBlockSize is how much uncompressed data each xerial block holds,
// as snappy-java and franz-go write it.
const xerialBlockSize = 32 << 10

// Compress appends src compressed with c to dst and returns the extended
// slice. The output is what the Java client and franz-go write, and every
// Kafka client can read it:
//
//   - gzip: one RFC 1952 member at the default level.
//   - snappy: xerial framing (the 16-byte header, then per 32 KiB of input
//     a big-endian int32 length and a raw snappy block); empty input is
//     one empty raw block.
//   - lz4: one LZ4 frame (64 KiB independent blocks, content checksum).
//   - zstd: one zstd frame, written even for empty input.
//
// Compress is safe for concurrent use; encoders are pooled.
func Compress(dst []byte, c Codec, src []byte) ([]byte, error) {
	switch c {
	case CodecNone:
		return append(dst, src...), nil
	case CodecGzip:
		gw := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(gw)
		return compressStream(dst, gw, src)
	case CodecSnappy:
		return appendXerial(dst, src), nil
	case CodecLZ4:
		lw := lz4Writers.Get().(*lz4.Writer)
		defer lz4Writers.Put(lw)
		return compressStream(dst, lw, src)
	case CodecZstd:
		enc := zstdEncoders.Get().(*zstd.Encoder)
		defer zstdEncoders.Put(enc)
		return enc.EncodeAll(src, dst), nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnknownCodec, int8(c))
}

// streamWriter is the shape shared by gzip.Writer and lz4.Writer.
type streamWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// compressStream runs src through a pooled stream encoder into dst.
func compressStream(dst []byte, w streamWriter, src []byte) ([]byte, error) {
	out := appendWriter{b: dst}
	w.Reset(&out)
	_, err := w.Write(src)
	if err == nil {
		err = w.Close()
	}
	w.Reset(nil) // drop the reference to dst before pooling w
	if err != nil {
		return nil, fmt.Errorf("protocol: compress: %w", err)
	}
	return out.b, nil
}

// appendWriter is an io.Writer that appends to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// appendXerial appends src as xerial-framed snappy. Empty input is written
// as an empty raw snappy block instead: a bare xerial header is not
// accepted by every reader (franz-go's among them), a raw block is.
func appendXerial(dst, src []byte) []byte {
	if len(src) == 0 {
		return append(dst, 0) // raw block: uvarint decoded length 0
	}
	dst = append(dst, xerialHeader...)
	for len(src) > 0 {
		n := min(len(src), xerialBlockSize)
		dst = slices.Grow(dst, 4+snappy.MaxEncodedLen(n))
		at := len(dst)
		block := snappy.Encode(dst[at+4:cap(dst)], src[:n])
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(block)))
		dst = dst[:at+4+len(block)] // block was encoded in place
		src = src[n:]
	}
	return dst
}

var (
	gzipWriters = sync.Pool{New: func() any {
		return gzip.NewWriter(nil)
	}}
	lz4Writers = sync.Pool{New: func() any {
		w := lz4.NewWriter(nil)
		// Only option values known to be valid are passed, so Apply
		// cannot fail.
		_ = w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.CompressionLevelOption(lz4.Fast))
		return w
	}}
	zstdEncoders = sync.Pool{New: func() any {
		// Options are constants known to be valid.
		enc, _ := zstd.NewWriter(nil,
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20),
			zstd.WithZeroFrames(true))
		return enc
	}}
	gzipReaders  = sync.Pool{New: func() any { return new(gzipReader) }}
	lz4Readers   = sync.Pool{New: func() any { return &lz4Reader{r: lz4.NewReader(nil)} }}
	zstdDecoders = sync.Pool{New: func() any {
		// Options are constants known to be valid.
		dec, _ := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(MaxDecompressedBytes))
		return &zstdDecoder{dec: dec, limit: MaxDecompressedBytes}
	}}
)

// gzipReader and lz4Reader are pooled with the bytes.Reader they read from
// so that a decompression allocates neither.
type gzipReader struct {
	r   gzip.Reader
	src bytes.Reader
}

type lz4Reader struct {
	r   *lz4.Reader
	src bytes.Reader
}

// zstdDecoder remembers the output bound its decoder was last set to, so a
// pooled decoder is only reconfigured when the bound changes.
type zstdDecoder struct {
	dec   *zstd.Decoder
	limit int
}

// Decompress appends src decompressed with c to dst, inflating at most
// MaxDecompressedBytes. See DecompressLimit.
func Decompress(dst []byte, c Codec, src []byte) ([]byte, error) {
	return DecompressLimit(dst, c, src, MaxDecompressedBytes)
}

// DecompressLimit appends src decompressed with c to dst and returns the
// extended slice. Input that is not valid for the codec, or that would
// inflate to more than limit bytes (not counting len(dst)), returns an error
// wrapping ErrCorruptRecord; output memory stays within about limit bytes
// (8 MiB for zstd when limit is smaller) even for hostile input. limit <= 0
// means MaxDecompressedBytes. Snappy input may be xerial-framed, a raw
// snappy block, or empty. It is safe for concurrent use; decoders are
// pooled.
func DecompressLimit(dst []byte, c Codec, src []byte, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = MaxDecompressedBytes
	}
	var (
		out []byte
		err error
	)
	switch c {
	case CodecNone:
		if len(src) > limit {
			return nil, fmt.Errorf("%w: %d bytes exceed the limit of %d", ErrCorruptRecord, len(src), limit)
		}
		return append(dst, src...), nil
	case CodecGzip:
		gr := gzipReaders.Get().(*gzipReader)
		defer gzipReaders.Put(gr)
		gr.src.Reset(src)
		if err = gr.r.Reset(&gr.src); err == nil {
			out, err = readLimited(dst, &gr.r, len(src), limit)
		}
		gr.src.Reset(nil)
	case CodecSnappy:
		out, err = decodeSnappy(dst, src, limit)
	case CodecLZ4:
		lr := lz4Readers.Get().(*lz4Reader)
		defer lz4Readers.Put(lr)
		lr.src.Reset(src)
		lr.r.Reset(&lr.src)
		out, err = readLimited(dst, lr.r, len(src), limit)
		lr.r.Reset(nil)
		lr.src.Reset(nil)
	case CodecZstd:
		out, err = decodeZstd(dst, src, limit)
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnknownCodec, int8(c))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptRecord, c, err)
	}
	return out, nil
}

var errDecompressLimit = errors.New("decompressed size exceeds the limit")

// readLimited appends everything r yields to dst, failing once it exceeds
// limit bytes. The buffer starts near a typical ratio and grows as data
// arrives, so hostile input costs only what it really inflates to.
func readLimited(dst []byte, r io.Reader, srcLen, limit int) ([]byte, error) {
	start := len(dst)
	dst = slices.Grow(dst, min(max(4*srcLen, 4<<10), limit+1))
	for empty := 0; ; {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, min(cap(dst)-start, limit+1-(len(dst)-start)))
		}
		end := min(cap(dst), start+limit+1)
		n, err := r.Read(dst[len(dst):end])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return nil, errDecompressLimit
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return nil, err
		}
		if n > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			return nil, io.ErrNoProgress
		}
	}
}

// snappyDecodedLen returns the decoded length a snappy block declares,
// rejecting claims the block cannot satisfy: a standard snappy block
// expands at most about 21 times (a 3-byte copy yields 64 bytes), so a
// larger claim is a lie told to make us allocate.
func snappyDecodedLen(block []byte, limit int) (int, error) {
	n, err := snappy.DecodedLen(block)
	switch {
	case err != nil:
		return 0, err
	case n > limit:
		return 0, errDecompressLimit
	case n > 22*len(block)+64:
		return 0, fmt.Errorf("snappy block of %d bytes claims %d decoded bytes", len(block), n)
	}
	return n, nil
}

// decodeSnappyBlock decodes one standard snappy block of decoded length n
// into dst's spare capacity. The strict decoder rejects the s2 extensions
// that no Kafka client can read.
func decodeSnappyBlock(dst, block []byte, n int) ([]byte, error) {
	if _, err := snappy.DecodeStrict(dst[len(dst):len(dst)+n], block); err != nil {
		return nil, err
	}
	return dst[:len(dst)+n], nil
}

// decodeSnappy decodes xerial-framed or raw snappy, checking each block's
// declared length against limit before allocating for it.
func decodeSnappy(dst, src []byte, limit int) ([]byte, error) {
	if len(src) == 0 {
		return dst, nil // what snappy-java and kafka-go write for no input
	}
	if !bytes.HasPrefix(src, xerialMagic) {
		n, err := snappyDecodedLen(src, limit)
		if err != nil {
			return nil, err
		}
		return decodeSnappyBlock(slices.Grow(dst, n), src, n)
	}
	if len(src) < len(xerialHeader) {
		return nil, errors.New("truncated xerial header")
	}
	blocks := src[len(xerialHeader):]
	// Walk the block headers first so the total is bounded before any
	// allocation and dst grows once.
	total := 0
	for rem := blocks; len(rem) > 0; {
		block, next, err := xerialBlock(rem)
		if err != nil {
			return nil, err
		}
		n, err := snappyDecodedLen(block, limit)
		if err != nil {
			return nil, err
		}
		if total += n; total > limit {
			return nil, errDecompressLimit
		}
		rem = next
	}
	dst = slices.Grow(dst, total)
	for len(blocks) > 0 {
		block, next, _ := xerialBlock(blocks) // validated above
		n, _ := snappy.DecodedLen(block)
		var err error
		if dst, err = decodeSnappyBlock(dst, block, n); err != nil {
			return nil, err
		}
		blocks = next
	}
	return dst, nil
}

// xerialBlock splits the next length-prefixed block off b.
func xerialBlock(b []byte) (block, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, errors.New("truncated xerial block length")
	}
	n := int32(binary.BigEndian.Uint32(b))
	b = b[4:]
	if n < 0 || int(n) > len(b) {
		return nil, nil, fmt.Errorf("xerial block of %d bytes with %d left", n, len(b))
	}
	return b[:n], b[n:], nil
}

// zstdMinLimit is the least output bound a zstd decoder is configured
// with. The decoder also refuses frames whose window is larger than its
// bound, and encoders routinely declare windows of up to 8 MiB (the size
// RFC 8878 asks every decoder to support) even for small payloads, so a
// smaller bound would reject valid data. Smaller limits are enforced on the
// result instead, overshooting by at most this much memory.
const zstdMinLimit = 8 << 20

// decodeZstd decodes every zstd frame in src. The decoder enforces its
// bound both against declared frame sizes (before allocating) and while
// decoding.
func decodeZstd(dst, src []byte, limit int) ([]byte, error) {
	zd := zstdDecoders.Get().(*zstdDecoder)
	defer zstdDecoders.Put(zd)
	if bound := max(limit, zstdMinLimit); zd.limit != bound {
		if err := zd.dec.ResetWithOptions(nil, zstd.WithDecoderMaxMemory(uint64(bound))); err != nil {
			return nil, err
		}
		zd.limit = bound
	}
	start := len(dst)
	out, err := zd.dec.DecodeAll(src, dst)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || len(out)-start > limit {
		return nil, errDecompressLimit
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
