package log

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// scanBufferSize is the read size used while scanning segments at Open.
const scanBufferSize = 1 << 20

// dirListing is what Open found in the directory.
type dirListing struct {
	bases     []int64 // .log files, ascending
	snapshots []int64 // .snapshot files, ascending
}

// load reads the directory, recovers the segments, the leader epoch cache
// and producer state, and publishes the first view. Called by Open only; on
// error the segments it opened are released here or, once published, by
// Open's abandon.
func (l *Log) load() (err error) {
	ls, err := l.listDir()
	if err != nil {
		return err
	}
	cp, err := l.readLogCheckpoint()
	if err != nil {
		return err
	}
	if err := l.readEpochCheckpoint(); err != nil {
		return err
	}
	loadedEpochs := slices.Clone(l.epochs.entries)
	l.snapshots = ls.snapshots
	segs, err := l.openSegments(ls.bases)
	defer func() {
		// Once install published them, Open's abandon releases them.
		if err != nil && l.view.Load() == nil {
			for _, s := range segs {
				s.drop()
			}
		}
	}()
	if err != nil {
		return err
	}
	if segs, err = l.recoverSegments(segs, cp); err != nil {
		return err
	}
	logStart := cp.logStartOffset
	if len(segs) > 0 {
		logStart = max(logStart, segs[0].base)
	}
	if segs, err = l.settleLogStart(segs, logStart); err != nil {
		return err
	}
	leo := segs[len(segs)-1].next.Load()
	// An epoch starting exactly at the log end (assigned on becoming leader
	// before any append) stays; later ones lost their data in a crash.
	l.epochs.truncateFromEnd(leo + 1)
	l.epochs.truncateFromStart(logStart)
	if err := l.rebuildProducers(segs, leo); err != nil {
		return err
	}
	l.producers.expire(l.o.now(), l.cfg.ProducerIDExpiration)
	l.install(segs, logStart)
	// Closed segments always have index files on disk (tiering uploads
	// them); recovered ones get theirs now, fsynced by the flusher.
	for _, s := range l.pendingClosed {
		if !s.sealed {
			if err := s.seal(l.fs); err != nil {
				return err
			}
		}
	}
	if !slices.Equal(loadedEpochs, l.epochs.entries) {
		if err := l.persistEpochs(); err != nil {
			return err
		}
	}
	l.mu.Lock()
	rp := l.recoveryPointLocked()
	l.mu.Unlock()
	return l.writeCheckpoint(logCheckpoint{logStartOffset: logStart, recoveryPoint: rp})
}

// listDir classifies the directory's files, removing leftovers: temporary
// files of interrupted atomic writes and index files without a segment.
func (l *Log) listDir() (dirListing, error) {
	var ls dirListing
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return ls, fmt.Errorf("list %s: %w", l.dir, err)
	}
	logs := make(map[int64]bool)
	for _, n := range names {
		if base, ok := parseOffsetFileName(n, logSuffix); ok {
			logs[base] = true
			ls.bases = append(ls.bases, base)
		} else if off, ok := parseOffsetFileName(n, snapshotSuffix); ok {
			ls.snapshots = append(ls.snapshots, off)
		}
	}
	for _, n := range names {
		base, isIndex := parseOffsetFileName(n, indexSuffix)
		if !isIndex {
			base, isIndex = parseOffsetFileName(n, timeIndexSuffix)
		}
		if strings.HasSuffix(n, tmpSuffix) || (isIndex && !logs[base]) {
			if err := l.fs.Remove(filepath.Join(l.dir, n)); err != nil {
				return ls, fmt.Errorf("remove leftover %s: %w", n, err)
			}
		}
	}
	slices.Sort(ls.bases)
	slices.Sort(ls.snapshots)
	return ls, nil
}

// openSegments opens the segment files. On error the returned segments are
// the ones opened so far.
func (l *Log) openSegments(bases []int64) ([]*segment, error) {
	segs := make([]*segment, 0, len(bases))
	for _, base := range bases {
		path := filepath.Join(l.dir, offsetFileName(base, logSuffix))
		f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o644)
		if err != nil {
			return segs, fmt.Errorf("open segment %s: %w", path, err)
		}
		s := newSegment(l.dir, base, f, l.logger)
		segs = append(segs, s)
		st, err := f.Stat()
		if err != nil {
			return segs, fmt.Errorf("stat segment %s: %w", path, err)
		}
		s.size.Store(st.Size())
	}
	return segs, nil
}

// recoverSegments loads trusted segments from their indexes and scans the
// others (see doc.go, Recovery). A torn segment is truncated and every
// later one deleted.
func (l *Log) recoverSegments(segs []*segment, cp logCheckpoint) ([]*segment, error) {
	buf := make([]byte, scanBufferSize)
	firstScan := len(segs)
	if !cp.clean {
		for i := range segs {
			if i == len(segs)-1 || segs[i+1].base > cp.recoveryPoint {
				firstScan = i
				break
			}
		}
	}
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		if i < firstScan {
			if err := l.loadTrusted(s, buf); err != nil {
				return segs, err
			}
		} else {
			truncated, err := l.scanSegment(s, false, buf)
			if err != nil {
				return segs, err
			}
			s.sealed, s.flushed = false, false
			if truncated && i < len(segs)-1 {
				rest := segs[i+1:]
				l.logger.Warn("deleting segments after a torn segment", "segment", s.logPath, "deleted", len(rest))
				segs = segs[:i+1]
				if err := l.deleteSegmentFiles(rest); err != nil {
					return segs, err
				}
			}
		}
		if i > 0 && s.base != segs[i-1].next.Load() {
			return segs, fmt.Errorf("%w: segment %s starts at offset %d but the previous segment ends at %d", ErrCorrupt, s.logPath, s.base, segs[i-1].next.Load())
		}
	}
	return segs, nil
}

// loadTrusted loads a durable segment: its indexes from disk, verifying
// only the batches after the last offset index entry. Missing or damaged
// indexes are rebuilt by a strict scan.
func (l *Log) loadTrusted(s *segment, buf []byte) error {
	idx, tidx, err := l.readIndexes(s)
	if err == nil {
		err = l.verifyTail(s, idx, tidx, buf)
	}
	if err != nil {
		l.logger.Info("rebuilding segment indexes", "segment", s.logPath, "reason", err)
		if _, err := l.scanSegment(s, true, buf); err != nil {
			return err
		}
		s.sealed, s.flushed = false, true
	} else {
		s.sealed, s.flushed = true, true
	}
	s.syncedSize.Store(s.size.Load())
	s.dirSynced = true
	return nil
}

// readIndexes reads and decodes the segment's index files.
func (l *Log) readIndexes(s *segment) ([]indexEntry, []timeEntry, error) {
	b, err := readWholeFile(l.fs, s.indexPath)
	if err != nil {
		return nil, nil, err
	}
	idx, err := decodeOffsetIndex(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.indexPath, err)
	}
	if b, err = readWholeFile(l.fs, s.timeIndexPath); err != nil {
		return nil, nil, err
	}
	tidx, err := decodeTimeIndex(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.timeIndexPath, err)
	}
	return idx, tidx, nil
}

// verifyTail installs loaded indexes and checks the batches after the last
// offset index entry, which also yields the segment's next offset.
func (l *Log) verifyTail(s *segment, idx []indexEntry, tidx []timeEntry, buf []byte) error {
	size := s.size.Load()
	pos, expected := int64(0), s.base
	if n := len(idx); n > 0 {
		pos, expected = int64(idx[n-1].pos), s.base+int64(idx[n-1].rel)
	}
	if pos > size {
		return fmt.Errorf("offset index points at %d past the end %d", pos, size)
	}
	maxTS, maxTSOffset := int64(-1), int64(-1)
	if n := len(tidx); n > 0 {
		maxTS, maxTSOffset = tidx[n-1].ts, s.base+int64(tidx[n-1].rel)
	}
	sc := newBatchScanner(s.file, pos, size, buf)
	for {
		at := sc.pos
		h, _, st, err := sc.next(true)
		if err != nil {
			return err
		}
		if st == scanEOF {
			break
		}
		if st != scanOK || h.BaseOffset != expected || h.lastOffset()-s.base > math.MaxUint32 {
			return fmt.Errorf("batch at %d: %v, offsets %d-%d, want base %d", at, st, h.BaseOffset, h.lastOffset(), expected)
		}
		if h.MaxTimestamp > maxTS {
			maxTS, maxTSOffset = h.MaxTimestamp, h.BaseOffset
		}
		expected = h.lastOffset() + 1
	}
	if maxTSOffset >= expected {
		return fmt.Errorf("time index points at offset %d past the end %d", maxTSOffset, expected)
	}
	s.mu.Lock()
	s.idx, s.tidx, s.maxTS, s.maxTSOffset = idx, tidx, maxTS, maxTSOffset
	s.mu.Unlock()
	s.next.Store(expected)
	s.bytesSinceIndex = size - pos
	return nil
}

// scanSegment rebuilds a segment's indexes by reading every batch and
// checking its CRC and offset. At the first bad batch: strict fails with
// ErrCorrupt; otherwise, if a valid batch follows it fails with ErrCorrupt
// too, else the file is truncated there (a torn tail) and truncated is true.
func (l *Log) scanSegment(s *segment, strict bool, buf []byte) (truncated bool, err error) {
	s.resetIndexes()
	size := s.size.Load()
	interval := int64(l.cfg.IndexIntervalBytes)
	sc := newBatchScanner(s.file, 0, size, buf)
	expected := s.base
	for {
		pos := sc.pos
		h, _, st, err := sc.next(true)
		if err != nil {
			return false, fmt.Errorf("scan %s: %w", s.logPath, err)
		}
		if st == scanEOF {
			break
		}
		if st == scanOK && h.BaseOffset != expected {
			return false, s.corrupt(pos, fmt.Errorf("batch base offset %d, want %d", h.BaseOffset, expected))
		}
		if st == scanOK && h.lastOffset()-s.base > math.MaxUint32 {
			return false, s.corrupt(pos, fmt.Errorf("batch ends at offset %d, beyond 2^32 offsets from the segment base", h.lastOffset()))
		}
		if st != scanOK {
			if strict {
				return false, s.corrupt(pos, errors.New(st.String()))
			}
			if l.validBatchFollows(s, pos, h.BatchLength, size) {
				return false, s.corrupt(pos, fmt.Errorf("%v followed by valid data", st))
			}
			l.logger.Warn("truncating torn segment tail", "segment", s.logPath, "position", pos, "bytes", size-pos, "reason", st.String())
			if err := s.file.Truncate(pos); err != nil {
				return false, fmt.Errorf("truncate %s: %w", s.logPath, err)
			}
			s.size.Store(pos)
			truncated = true
			break
		}
		s.mu.Lock()
		s.observe(&h, pos, interval)
		s.mu.Unlock()
		if h.LeaderEpoch >= 0 && h.LeaderEpoch > l.epochs.latest() {
			l.epochs.assign(h.LeaderEpoch, h.BaseOffset)
		}
		expected = h.lastOffset() + 1
	}
	s.next.Store(expected)
	return truncated, nil
}

// validBatchFollows reports whether a complete batch with a good CRC starts
// right after the bad batch at pos whose length field is length.
func (l *Log) validBatchFollows(s *segment, pos int64, length int32, size int64) bool {
	if length < minBatchLength {
		return false
	}
	at := pos + batchOverhead + int64(length)
	if at >= size {
		return false
	}
	_, _, st, err := newBatchScanner(s.file, at, size, make([]byte, 0, 64<<10)).next(true)
	return err == nil && st == scanOK
}

// settleLogStart makes the segments agree with the log start offset:
// segments wholly below it are deleted, and if it lies past the log end
// (data lost in a crash after DeleteRecords) the log restarts empty there.
func (l *Log) settleLogStart(segs []*segment, logStart int64) ([]*segment, error) {
	if len(segs) == 0 || segs[len(segs)-1].next.Load() < logStart {
		if len(segs) > 0 {
			l.logger.Warn("log start offset is past the recovered log end; starting empty", "dir", l.dir, "log_start_offset", logStart, "log_end_offset", segs[len(segs)-1].next.Load())
			if err := l.deleteSegmentFiles(segs); err != nil {
				return nil, err
			}
			l.epochs.reset()
		}
		s, err := l.createSegment(logStart)
		if err != nil {
			return nil, err
		}
		return []*segment{s}, nil
	}
	n := 0
	for n < len(segs)-1 && segs[n].next.Load() <= logStart {
		n++
	}
	if n > 0 {
		if err := l.deleteSegmentFiles(segs[:n]); err != nil {
			return segs[n:], err
		}
	}
	return segs[n:], nil
}

// install makes the recovered segments live: the last one becomes active,
// closed ones that still need their indexes written or fsynced wait for the
// flusher.
func (l *Log) install(segs []*segment, logStart int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last := len(segs) - 1
	for _, s := range segs[:last] {
		s.closed.Store(true)
		if !s.sealed || !s.flushed {
			l.pendingClosed = append(l.pendingClosed, s)
		}
	}
	a := segs[last]
	a.sealed, a.flushed = false, false
	a.rollBase = l.o.now()
	if a.size.Load() > 0 {
		var hb [batchHeaderSize]byte
		if h, err := a.readHeader(0, a.size.Load(), hb[:]); err == nil && h.MaxTimestamp >= 0 && h.MaxTimestamp < a.rollBase.UnixMilli() {
			a.rollBase = timeFromMillis(h.MaxTimestamp)
		}
	}
	l.active = a
	l.leo.Store(a.next.Load())
	l.publish(segs, logStart)
}

// deleteSegmentFiles removes the segments' files and gives up the log's
// references. Readers holding a reference finish on the unlinked files.
func (l *Log) deleteSegmentFiles(segs []*segment) error {
	var errs []error
	for _, s := range segs {
		s.drop()
		for _, p := range []string{s.logPath, s.indexPath, s.timeIndexPath} {
			if err := l.fs.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("delete %s: %w", p, err))
			}
		}
	}
	return errors.Join(errs...)
}
