package log

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strconv"
	"strings"
)

// File names in a partition directory (see doc.go).
const (
	logSuffix             = ".log"
	indexSuffix           = ".index"
	timeIndexSuffix       = ".timeindex"
	snapshotSuffix        = ".snapshot"
	tmpSuffix             = ".tmp"
	epochCheckpointName   = "leader-epoch-checkpoint"
	logCheckpointName     = "log-checkpoint"
	offsetNameDigits      = 20
	frameHeaderSize       = 16
	frameVersion          = 1
	magicOffsetIndex      = "SIDX"
	magicTimeIndex        = "STIX"
	magicSnapshot         = "SPST"
	magicEpochCheckpoint  = "SLEC"
	magicLogCheckpoint    = "SLCP"
	maxFramePayload       = 1 << 31
	frameOffMagic         = 0
	frameOffVersion       = 4
	frameOffPayloadLength = 8
	frameOffCRC           = 12
)

// offsetFileName is the %020d-named file of an offset with suffix.
func offsetFileName(offset int64, suffix string) string {
	return fmt.Sprintf("%0*d%s", offsetNameDigits, offset, suffix)
}

// parseOffsetFileName returns the offset of a %020d<suffix> name.
func parseOffsetFileName(name, suffix string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, suffix)
	if !ok || len(digits) != offsetNameDigits {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	return v, err == nil
}

// Every file the log writes besides .log segments is one frame:
//
//	[0,4)   magic (4 ASCII bytes naming the file type)
//	[4,6)   format version, uint16 (1)
//	[6,8)   reserved, zero
//	[8,12)  payload length N, uint32
//	[12,16) CRC32-C of bytes [0,12) followed by the payload
//	[16,16+N) payload
//
// beginFrame appends a frame header to dst; the caller appends the payload
// and calls finishFrame with the frame's start.
func beginFrame(dst []byte, magic string) []byte {
	var h [frameHeaderSize]byte
	copy(h[frameOffMagic:], magic)
	binary.BigEndian.PutUint16(h[frameOffVersion:], frameVersion)
	return append(dst, h[:]...)
}

func finishFrame(b []byte, start int) {
	f := b[start:]
	binary.BigEndian.PutUint32(f[frameOffPayloadLength:], uint32(len(f)-frameHeaderSize))
	binary.BigEndian.PutUint32(f[frameOffCRC:], frameCRC(f))
}

func frameCRC(f []byte) uint32 {
	c := crc32.Checksum(f[:frameOffCRC], castagnoli)
	return crc32.Update(c, castagnoli, f[frameHeaderSize:])
}

// decodeFrame checks a whole file's frame and returns its payload. Every
// failure wraps ErrCorrupt.
func decodeFrame(b []byte, magic string) ([]byte, error) {
	if len(b) < frameHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than a frame header", ErrCorrupt, len(b))
	}
	if string(b[frameOffMagic:frameOffMagic+4]) != magic {
		return nil, fmt.Errorf("%w: magic %q, want %q", ErrCorrupt, b[:4], magic)
	}
	if v := binary.BigEndian.Uint16(b[frameOffVersion:]); v != frameVersion {
		return nil, fmt.Errorf("%w: format version %d, want %d", ErrCorrupt, v, frameVersion)
	}
	if r := binary.BigEndian.Uint16(b[frameOffVersion+2:]); r != 0 {
		return nil, fmt.Errorf("%w: reserved bytes %#x", ErrCorrupt, r)
	}
	n := binary.BigEndian.Uint32(b[frameOffPayloadLength:])
	if int64(n) != int64(len(b)-frameHeaderSize) {
		return nil, fmt.Errorf("%w: payload length %d, file holds %d", ErrCorrupt, n, len(b)-frameHeaderSize)
	}
	if got, want := frameCRC(b), binary.BigEndian.Uint32(b[frameOffCRC:]); got != want {
		return nil, fmt.Errorf("%w: CRC %#08x, header says %#08x", ErrCorrupt, got, want)
	}
	return b[frameHeaderSize:], nil
}

// readWholeFile reads a small file completely.
func readWholeFile(fs FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxFramePayload {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrCorrupt, name, st.Size())
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		return b, nil
	}
	return nil, fmt.Errorf("read %s: %d of %d bytes: %w", name, n, len(b), err)
}

// writeFileAtomic replaces dir/name with data: write name.tmp, fsync it,
// rename it over name, fsync dir. Without durable the fsyncs are skipped: the
// file is then either absent, its old version, or the new one after a crash,
// or a torn copy that its frame CRC rejects.
func writeFileAtomic(fs FS, dir, name string, data []byte, durable bool) (err error) {
	final := filepath.Join(dir, name)
	tmp := final + tmpSuffix
	f, err := fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			_ = fs.Remove(tmp) // best effort: Open removes stray .tmp files
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync %s: %w", tmp, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := fs.Rename(tmp, final); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if durable {
		if err := fs.SyncDir(dir); err != nil {
			return fmt.Errorf("sync dir %s: %w", dir, err)
		}
	}
	return nil
}
