package bench

import (
	"bytes"
	"compress/gzip"
	"testing"
)

func TestPayloadPoolShape(t *testing.T) {
	for _, size := range []int{MinRecordSize, 100, 1024, 65536, MaxRecordSize} {
		for _, text := range []bool{false, true} {
			p := newPayloadPool(size, text)
			if p.n < minPayloads || p.n > maxPayloads {
				t.Fatalf("size %d: %d payloads", size, p.n)
			}
			if p.n < maxPayloads && p.n*size < payloadPoolBytes {
				t.Fatalf("size %d: pool of %d bytes is smaller than %d", size, p.n*size, payloadPoolBytes)
			}
			for _, i := range []int64{0, 1, int64(p.n) - 1, int64(p.n), 3*int64(p.n) + 2} {
				v := p.value(i)
				if len(v) != size || cap(v) != size {
					t.Fatalf("size %d: value %d has len %d cap %d", size, i, len(v), cap(v))
				}
				if !bytes.Equal(v, p.value(i+int64(p.n))) {
					t.Fatalf("size %d: value %d does not repeat after %d", size, i, p.n)
				}
			}
			if bytes.Equal(p.value(0), p.value(1)) {
				t.Fatalf("size %d text=%t: consecutive payloads are equal", size, text)
			}
		}
	}
}

func TestPayloadPoolIsDeterministic(t *testing.T) {
	for _, text := range []bool{false, true} {
		a, b := newPayloadPool(1000, text), newPayloadPool(1000, text)
		if !bytes.Equal(a.buf, b.buf) {
			t.Fatalf("text=%t: two pools differ", text)
		}
	}
}

func TestPayloadCompressibility(t *testing.T) {
	ratio := func(b []byte) float64 {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return float64(buf.Len()) / float64(len(b))
	}
	random := newPayloadPool(1024, false).buf[:1<<20]
	if r := ratio(random); r < 0.99 {
		t.Errorf("random payload compresses to %.2f, want incompressible", r)
	}
	text := newPayloadPool(1024, true).buf
	if r := ratio(text[:1<<20]); r > 0.6 || r < 0.15 {
		t.Errorf("text payload compresses to %.2f, want log-like 0.15..0.6", r)
	}
	for i, c := range text {
		if c != ' ' && c != '\n' && !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') {
			t.Fatalf("text payload byte %d is %q", i, c)
		}
	}
}
