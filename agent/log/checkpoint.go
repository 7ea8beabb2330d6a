package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
)

// logCheckpoint is the content of the log-checkpoint file. Payload (inside
// the common frame, magic "SLCP"):
//
//	[0,8)   log start offset, int64
//	[8,16)  recovery point, int64: every segment below the one holding it
//	        is durable together with its index files
//	[16,20) flags, uint32: bit 0 = clean shutdown; other bits zero
type logCheckpoint struct {
	logStartOffset int64
	recoveryPoint  int64
	clean          bool
}

const (
	logCheckpointPayload = 20
	flagCleanShutdown    = 1
)

func (c logCheckpoint) encode() []byte {
	b := beginFrame(make([]byte, 0, frameHeaderSize+logCheckpointPayload), magicLogCheckpoint)
	b = binary.BigEndian.AppendUint64(b, uint64(c.logStartOffset))
	b = binary.BigEndian.AppendUint64(b, uint64(c.recoveryPoint))
	var flags uint32
	if c.clean {
		flags |= flagCleanShutdown
	}
	b = binary.BigEndian.AppendUint32(b, flags)
	finishFrame(b, 0)
	return b
}

// decodeLogCheckpoint parses a log-checkpoint file; failures wrap
// ErrCorrupt.
func decodeLogCheckpoint(b []byte) (logCheckpoint, error) {
	p, err := decodeFrame(b, magicLogCheckpoint)
	if err != nil {
		return logCheckpoint{}, err
	}
	if len(p) != logCheckpointPayload {
		return logCheckpoint{}, fmt.Errorf("%w: log checkpoint payload of %d bytes", ErrCorrupt, len(p))
	}
	c := logCheckpoint{
		logStartOffset: int64(binary.BigEndian.Uint64(p)),
		recoveryPoint:  int64(binary.BigEndian.Uint64(p[8:])),
	}
	flags := binary.BigEndian.Uint32(p[16:])
	if flags&^flagCleanShutdown != 0 || c.logStartOffset < 0 || c.recoveryPoint < 0 {
		return logCheckpoint{}, fmt.Errorf("%w: log checkpoint fields %d/%d/%#x", ErrCorrupt, c.logStartOffset, c.recoveryPoint, flags)
	}
	c.clean = flags&flagCleanShutdown != 0
	return c, nil
}

// readLogCheckpoint returns the checkpoint, or an unclean zero one if the
// file is missing or unreadable (then every segment is recovered).
func (l *Log) readLogCheckpoint() (logCheckpoint, error) {
	b, err := readWholeFile(l.fs, filepath.Join(l.dir, logCheckpointName))
	if errors.Is(err, iofs.ErrNotExist) {
		return logCheckpoint{}, nil
	}
	if err == nil {
		var cp logCheckpoint
		if cp, err = decodeLogCheckpoint(b); err == nil {
			return cp, nil
		}
	}
	if !errors.Is(err, ErrCorrupt) {
		return logCheckpoint{}, err
	}
	l.logger.Warn("ignoring damaged log checkpoint; recovering every segment", "dir", l.dir, "err", err)
	return logCheckpoint{}, nil
}

// writeCheckpoint durably replaces the log-checkpoint file. The caller
// holds maintMu.
func (l *Log) writeCheckpoint(cp logCheckpoint) error {
	if err := writeFileAtomic(l.fs, l.dir, logCheckpointName, cp.encode(), true); err != nil {
		return err
	}
	l.checkpoint = cp
	return nil
}

// readEpochCheckpoint loads the leader-epoch-checkpoint file into l.epochs;
// a damaged one is ignored (recovery re-learns epochs from batch headers).
func (l *Log) readEpochCheckpoint() error {
	b, err := readWholeFile(l.fs, filepath.Join(l.dir, epochCheckpointName))
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err == nil {
		var entries []epochEntry
		if entries, err = decodeEpochCheckpoint(b); err == nil {
			l.epochs.entries = entries
			return nil
		}
	}
	if !errors.Is(err, ErrCorrupt) {
		return err
	}
	l.logger.Warn("ignoring damaged leader epoch checkpoint", "dir", l.dir, "err", err)
	return nil
}

// persistEpochs durably writes the leader epoch cache. The caller holds mu.
func (l *Log) persistEpochs() error {
	return writeFileAtomic(l.fs, l.dir, epochCheckpointName, l.epochs.encode(), true)
}
