package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// frameChunk is how much of a large frame ReadFrame allocates ahead of the
// bytes that have actually arrived. A peer that announces a frame of up to
// the maximum size but then sends nothing holds at most this much memory
// (plus what it really sent), not the announced size. Frames up to this
// size — every produce request of a client with default batch sizes — are
// read into one exact allocation.
const frameChunk = 4 << 20

// ReadFrame reads one int32-size-prefixed frame from r and returns its body
// (without the prefix).
//
// If the size exceeds maxSize, ReadFrame returns ErrFrameTooLarge without
// reading or allocating the body; a negative size is ErrMalformedFrame. The
// body is read into buf when cap(buf) is large enough, otherwise into a new
// slice; frames larger than 1 MiB grow their buffer as bytes arrive rather
// than trusting the prefix up front.
//
// A clean end of stream before the first byte of the prefix returns io.EOF;
// an end of stream inside a frame returns io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, maxSize int32, buf []byte) ([]byte, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(prefix[:]))
	switch {
	case size < 0:
		return nil, fmt.Errorf("%w: negative frame size %d", ErrMalformedFrame, size)
	case size > maxSize:
		return nil, fmt.Errorf("%w: frame size %d exceeds limit %d", ErrFrameTooLarge, size, maxSize)
	}
	n := int(size)
	if cap(buf) >= n {
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, unexpectedEOF(err)
		}
		return buf, nil
	}
	if n <= frameChunk {
		buf = make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, unexpectedEOF(err)
		}
		return buf, nil
	}
	return readGrowing(r, n)
}

// readGrowing reads exactly n bytes, doubling its buffer as data arrives so
// memory tracks what the peer sent rather than what it announced.
func readGrowing(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, frameChunk)
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(4*cap(buf), n))
			copy(grown, buf)
			buf = grown
		}
		end := min(cap(buf), n)
		m, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, unexpectedEOF(err)
		}
	}
	return buf, nil
}

// unexpectedEOF turns an io.EOF met inside a frame into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
