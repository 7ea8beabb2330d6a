package protocol

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"
)

// FileSection is a byte range of a file that a response carries as is. When
// File is an *os.File (anything implementing syscall.Conn) and the
// connection is TCP, ServeConn sends it with sendfile(2), so the bytes never
// pass through user space; otherwise it copies them with ReadAt. The file's
// position is never used, so one file may back many sections at once.
type FileSection struct {
	File   io.ReaderAt
	Offset int64
	Length int64
}

// Piece is one part of a streamed response body: Bytes, or when Bytes is
// nil, Section.
type Piece struct {
	Bytes   []byte
	Section FileSection
}

func (p Piece) len() int64 {
	if p.Bytes != nil {
		return int64(len(p.Bytes))
	}
	return p.Section.Length
}

// StreamedResponse is a response whose body is sent as a sequence of pieces,
// some of them straight from files. ServeConn sets its version, writes the
// response header, then the pieces in order, and then calls Release — also
// when the connection ends before the response could be written.
type StreamedResponse interface {
	kmsg.Response
	// BodyPieces returns the encoded body (everything after the response
	// header). It is called once, after SetVersion.
	BodyPieces() []Piece
	// Release frees what backs the file sections.
	Release()
}

// sentWithSendfile counts bytes sent with sendfile (for tests).
var sentWithSendfile atomic.Int64

// errShortSection reports a file that ended inside a section: the frame
// already announced its length, so the connection cannot continue.
var errShortSection = errors.New("protocol: file ended inside a response section")

// writeStreamed writes a complete response frame for sr to bw and conn.
func writeStreamed(bw *bufio.Writer, conn net.Conn, correlationID int32, sr StreamedResponse) error {
	pieces := sr.BodyPieces()
	var header [9]byte
	h := binary.BigEndian.AppendUint32(header[:4], uint32(correlationID))
	if sr.IsFlexible() && sr.Key() != int16(kmsg.ApiVersions) {
		h = append(h, 0) // no header tags
	}
	size := int64(len(h) - 4)
	for _, p := range pieces {
		size += p.len()
	}
	if size > 1<<31-1 {
		return fmt.Errorf("protocol: streamed response of %d bytes is too large", size)
	}
	binary.BigEndian.PutUint32(h, uint32(size))
	if _, err := bw.Write(h); err != nil {
		return err
	}
	for _, p := range pieces {
		if p.Bytes != nil {
			if _, err := bw.Write(p.Bytes); err != nil {
				return err
			}
			continue
		}
		if err := writeSection(bw, conn, p.Section); err != nil {
			return err
		}
	}
	return nil
}

// writeSection sends s with sendfile when both ends allow it, else copies.
func writeSection(bw *bufio.Writer, conn net.Conn, s FileSection) error {
	if s.Length == 0 {
		return nil
	}
	src, srcOK := s.File.(syscall.Conn)
	dst, dstOK := conn.(syscall.Conn)
	if srcOK && dstOK {
		if err := bw.Flush(); err != nil {
			return err
		}
		done, err := sendfile(dst, src, s.Offset, s.Length)
		if done || err != nil {
			return err
		}
	}
	n, err := io.Copy(bw, io.NewSectionReader(s.File, s.Offset, s.Length))
	if err != nil {
		return err
	}
	if n != s.Length {
		return errShortSection
	}
	return nil
}

// sendfile copies n bytes of src at off to dst with sendfile(2) and an
// explicit offset (src's file position is untouched), waiting for dst to be
// writable through the runtime poller, so dst's write deadline applies.
// done=false with a nil error means sendfile is not usable here and nothing
// was sent.
func sendfile(dst, src syscall.Conn, off, n int64) (done bool, err error) {
	srcRaw, err := src.SyscallConn()
	if err != nil {
		return false, nil
	}
	dstRaw, err := dst.SyscallConn()
	if err != nil {
		return false, nil
	}
	var srcFD int
	if err := srcRaw.Control(func(fd uintptr) { srcFD = int(fd) }); err != nil {
		return false, nil
	}
	remaining, sent := n, int64(0)
	var opErr error
	err = dstRaw.Write(func(fd uintptr) bool {
		for remaining > 0 {
			w, err := unix.Sendfile(int(fd), srcFD, &off, int(min(remaining, 1<<30)))
			if w > 0 {
				remaining -= int64(w)
				sent += int64(w)
			}
			switch {
			case err == unix.EAGAIN:
				return false // wait until writable
			case err == unix.EINTR:
				continue
			case err != nil:
				opErr = err
				return true
			case w == 0:
				opErr = errShortSection
				return true
			}
		}
		return true
	})
	if opErr == unix.EINVAL || opErr == unix.ENOSYS {
		if sent == 0 {
			return false, nil // this file or socket cannot sendfile
		}
	}
	if err == nil {
		err = opErr
	}
	sentWithSendfile.Add(sent)
	if err != nil {
		return true, fmt.Errorf("protocol: sendfile: %w", err)
	}
	return true, nil
}
