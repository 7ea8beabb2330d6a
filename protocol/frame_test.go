package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

func sizePrefixed(size int32, body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(size)), body...)
}

func TestReadFrame(t *testing.T) {
	body := []byte("hello kafka")
	tests := []struct {
		name  string
		input []byte
		max   int32
		want  []byte
		err   error
	}{
		{"exact", sizePrefixed(11, body), 11, body, nil},
		{"empty frame", sizePrefixed(0, nil), 10, []byte{}, nil},
		{"over max", sizePrefixed(12, append(body, '!')), 11, nil, ErrFrameTooLarge},
		{"negative", sizePrefixed(-1, body), 100, nil, ErrMalformedFrame},
		{"clean eof", nil, 100, nil, io.EOF},
		{"eof in prefix", []byte{0, 0}, 100, nil, io.ErrUnexpectedEOF},
		{"eof in body", sizePrefixed(20, body), 100, nil, io.ErrUnexpectedEOF},
		{"eof right after prefix", sizePrefixed(5, nil), 100, nil, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time, to exercise short reads everywhere.
			got, err := ReadFrame(iotest.OneByteReader(bytes.NewReader(tc.input)), tc.max, nil)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("frame %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadFrameReusesBuffer(t *testing.T) {
	buf := make([]byte, 0, 64)
	got, err := ReadFrame(bytes.NewReader(sizePrefixed(3, []byte("abc"))), 100, buf)
	if err != nil {
		t.Fatal(err)
	}
	if &got[:1][0] != &buf[:1][0] || string(got) != "abc" {
		t.Fatal("buffer with enough capacity was not reused")
	}
	got, err = ReadFrame(bytes.NewReader(sizePrefixed(65, make([]byte, 65))), 100, buf)
	if err != nil || len(got) != 65 {
		t.Fatalf("len %d err %v", len(got), err)
	}
}

// allocatedDuring returns how many bytes fn allocated on the heap.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestReadFrameTooLargeDoesNotAllocate(t *testing.T) {
	input := sizePrefixed(1<<31-1, []byte("only a few bytes"))
	var err error
	n := allocatedDuring(func() {
		_, err = ReadFrame(bytes.NewReader(input), 100<<20, nil)
	})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if n > 64<<10 {
		t.Fatalf("allocated %d bytes rejecting an oversized frame", n)
	}
}

// TestReadFrameAnnouncedButNotSent checks that a peer announcing a large
// frame it never sends costs about what it sent, not what it announced.
func TestReadFrameAnnouncedButNotSent(t *testing.T) {
	input := sizePrefixed(90<<20, make([]byte, 3<<20))
	var err error
	n := allocatedDuring(func() {
		_, err = ReadFrame(bytes.NewReader(input), 100<<20, nil)
	})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v", err)
	}
	if n > 16<<20 {
		t.Fatalf("allocated %d bytes for a 3 MiB partial frame announced as 90 MiB", n)
	}
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

func TestReadFrameLargeGrows(t *testing.T) {
	body := make([]byte, 5<<20+123)
	for i := range body {
		body[i] = byte(i * 7)
	}
	got, err := ReadFrame(chunkReader{bytes.NewReader(sizePrefixed(int32(len(body)), body)), 100 << 10}, 100<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatal("large frame corrupted")
	}
}
