package log

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"math"
	"slices"
	"time"
)

// ApplyRetention deletes the oldest closed segments while one of them is
// past RetentionMS (by its newest batch timestamp, or its file's
// modification time if it has none) or the log would stay at least
// RetentionBytes without it, stopping at the first segment that is
// neither, at the active segment, and at the first segment whose last
// offset is not below WithDeletableUpTo's limit. It also expires idle
// producers. It returns the number of segments deleted; the owner calls it
// periodically.
func (l *Log) ApplyRetention(now time.Time) (int, error) {
	limit := int64(math.MaxInt64)
	if l.o.deletableUpTo != nil {
		limit = l.o.deletableUpTo()
	}
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	cfg := l.cfg
	l.producers.expire(now, cfg.ProducerIDExpiration)
	v := l.view.Load()
	var total int64
	for _, s := range v.segs {
		total += s.size.Load()
	}
	n := 0
	for ; n < len(v.segs)-1; n++ {
		s := v.segs[n]
		if s.next.Load()-1 >= limit {
			break
		}
		byTime := cfg.RetentionMS >= 0 && now.UnixMilli()-l.segmentTime(s) > cfg.RetentionMS.Milliseconds()
		bySize := cfg.RetentionBytes >= 0 && total-s.size.Load() >= cfg.RetentionBytes
		if !byTime && !bySize {
			break
		}
		total -= s.size.Load()
	}
	if n == 0 {
		l.mu.Unlock()
		return 0, nil
	}
	victims := slices.Clone(v.segs[:n])
	err := l.dropSegmentsLocked(n, max(v.logStart, v.segs[n].base))
	l.mu.Unlock()
	return n, errors.Join(err, l.deleteSegmentFiles(victims))
}

// segmentTime is the time retention.ms compares: the segment's newest
// batch timestamp, else its file's modification time.
func (l *Log) segmentTime(s *segment) int64 {
	s.mu.RLock()
	ts := s.maxTS
	s.mu.RUnlock()
	if ts >= 0 {
		return ts
	}
	st, err := s.file.Stat()
	if err != nil {
		return math.MaxInt64 // unknown: keep it
	}
	return st.ModTime().UnixMilli()
}

// dropSegmentsLocked removes the first n segments from the view and sets
// the log start offset. The caller holds maintMu and mu and deletes the
// files afterwards.
func (l *Log) dropSegmentsLocked(n int, logStart int64) error {
	v := l.view.Load()
	gone := v.segs[:n]
	l.pendingClosed = slices.DeleteFunc(l.pendingClosed, func(s *segment) bool { return slices.Contains(gone, s) })
	l.publish(slices.Clone(v.segs[n:]), logStart)
	l.producers.trimAborted(logStart)
	if l.epochs.truncateFromStart(logStart) {
		return l.persistEpochs()
	}
	return nil
}

// DeleteRecordsBefore advances the log start offset to offset (Kafka
// DeleteRecords). The new start is persisted before anything is deleted;
// closed segments entirely below it are deleted (whatever
// WithDeletableUpTo says: the records are deleted by request); a segment
// straddling it stays, but reads below it fail with ErrOffsetOutOfRange.
// offset must not exceed LogEndOffset; an offset at or below the current
// start changes nothing.
func (l *Log) DeleteRecordsBefore(offset int64) error {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.mu.Lock()
	closed, leo, start := l.closed, l.leo.Load(), l.view.Load().logStart
	l.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case offset > leo:
		return fmt.Errorf("%w: delete records before %d past the log end %d", ErrOffsetOutOfRange, offset, leo)
	case offset <= start:
		return nil
	}
	cp := l.checkpoint
	cp.logStartOffset = offset
	if err := l.writeCheckpoint(cp); err != nil {
		return err
	}
	l.mu.Lock()
	v := l.view.Load()
	n := 0
	for n < len(v.segs)-1 && v.segs[n].next.Load() <= offset {
		n++
	}
	victims := slices.Clone(v.segs[:n])
	err := l.dropSegmentsLocked(n, offset)
	l.mu.Unlock()
	return errors.Join(err, l.deleteSegmentFiles(victims))
}

// TruncateTo removes every batch whose last offset is >= offset, so the log
// ends at the base offset of the batch holding offset (follower
// truncation). An offset at or below LogStartOffset empties the log and
// restarts it at offset. Producer state and the leader epoch cache are
// rolled back with the data. The truncation is durable when TruncateTo
// returns.
func (l *Log) TruncateTo(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: truncate to negative offset %d", ErrOffsetOutOfRange, offset)
	}
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if offset >= l.leo.Load() {
		return nil
	}
	v := l.view.Load()
	if offset <= v.logStart {
		return l.truncateFullyLocked(offset)
	}
	i := v.segmentFor(offset)
	s := v.segs[i]
	var hb [batchHeaderSize]byte
	pos, h, found, err := s.locate(offset, s.size.Load(), hb[:])
	if err != nil {
		return err
	}
	if !found {
		return s.corrupt(pos, fmt.Errorf("no batch holds offset %d below the log end", offset))
	}
	if l.checkpoint.recoveryPoint > s.base {
		cp := l.checkpoint
		cp.recoveryPoint = s.base
		if err := l.writeCheckpoint(cp); err != nil {
			return err
		}
	}
	later := slices.Clone(v.segs[i+1:])
	l.pendingClosed = slices.DeleteFunc(l.pendingClosed, func(p *segment) bool { return p.base >= s.base })
	l.publish(slices.Clone(v.segs[:i+1]), v.logStart)
	if err := l.deleteSegmentFiles(later); err != nil {
		l.failed = fmt.Errorf("log: truncation left segments behind: %w", err)
		return err
	}
	return l.truncateSegmentLocked(s, pos, h.BaseOffset)
}

// truncateSegmentLocked cuts s at pos (where the batch at newEnd starts)
// and makes it the active segment. The caller holds maintMu and mu.
func (l *Log) truncateSegmentLocked(s *segment, pos, newEnd int64) error {
	if err := s.file.Truncate(pos); err != nil {
		l.failed = fmt.Errorf("log: truncating %s failed: %w", s.logPath, err)
		return l.failed
	}
	s.size.Store(pos)
	s.next.Store(newEnd)
	l.leo.Store(newEnd)
	// Under syncMu, so an fsync in flight cannot record a stale size.
	l.syncMu.Lock()
	if s.syncedSize.Load() > pos {
		s.syncedSize.Store(pos)
	}
	l.syncMu.Unlock()
	if err := l.trimIndexes(s, pos, newEnd); err != nil {
		l.failed = err
		return err
	}
	if s != l.active {
		s.closeIndexFiles()
		s.closed.Store(false)
		for _, p := range []string{s.indexPath, s.timeIndexPath} {
			if err := l.fs.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
				return fmt.Errorf("remove stale index %s: %w", p, err)
			}
		}
		l.active = s
	}
	s.sealed, s.flushed = false, false
	// Make the truncation durable, so a crash cannot bring back removed
	// batches or segments.
	if err := s.file.Sync(); err != nil {
		l.failed = fmt.Errorf("log: sync after truncating %s: %w", s.logPath, err)
		return l.failed
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("sync dir %s: %w", l.dir, err)
	}
	if l.epochs.truncateFromEnd(newEnd) {
		if err := l.persistEpochs(); err != nil {
			return err
		}
	}
	return l.rebuildProducers(l.view.Load().segs, newEnd)
}

// trimIndexes drops index entries at or past the cut and recomputes the
// segment's maximum timestamp from the last surviving time index entry on.
func (l *Log) trimIndexes(s *segment, pos, newEnd int64) error {
	s.mu.Lock()
	k := 0
	for k < len(s.idx) && int64(s.idx[k].pos) < pos {
		k++
	}
	s.idx = s.idx[:k]
	t := 0
	for t < len(s.tidx) && s.base+int64(s.tidx[t].rel) < newEnd {
		t++
	}
	s.tidx = s.tidx[:t]
	s.maxTS, s.maxTSOffset = -1, -1
	if t > 0 {
		s.maxTS, s.maxTSOffset = s.tidx[t-1].ts, s.base+int64(s.tidx[t-1].rel)
	}
	from := s.base
	if s.maxTSOffset >= 0 {
		from = s.maxTSOffset
	}
	lastIdx := int64(0)
	if k > 0 {
		lastIdx = int64(s.idx[k-1].pos)
	}
	s.mu.Unlock()
	s.bytesSinceIndex = pos - lastIdx
	sc := newBatchScanner(s.file, s.lookup(from), pos, make([]byte, 0, 64<<10))
	for {
		at := sc.pos
		h, _, st, err := sc.next(false)
		if err != nil {
			return fmt.Errorf("scan %s: %w", s.logPath, err)
		}
		if st == scanEOF {
			return nil
		}
		if st != scanOK {
			return s.corrupt(at, errors.New(st.String()))
		}
		s.mu.Lock()
		if h.MaxTimestamp > s.maxTS {
			s.maxTS, s.maxTSOffset = h.MaxTimestamp, h.BaseOffset
		}
		s.mu.Unlock()
	}
}

// truncateFullyLocked deletes every segment and restarts the log empty at
// offset, which becomes the log start offset. The caller holds maintMu and
// mu.
// ResetTo empties the log and restarts it at offset, which may lie beyond
// the current log end: a follower whose leader no longer has the records
// it lacks (they were deleted or moved to the object tier) starts over at
// the leader's log start. Durable when it returns.
func (l *Log) ResetTo(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: reset to negative offset %d", ErrOffsetOutOfRange, offset)
	}
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return l.truncateFullyLocked(offset)
}

func (l *Log) truncateFullyLocked(offset int64) error {
	if err := l.writeCheckpoint(logCheckpoint{logStartOffset: offset, recoveryPoint: offset}); err != nil {
		return err
	}
	old := l.view.Load().segs
	if err := l.deleteSegmentFiles(old); err != nil {
		l.failed = fmt.Errorf("log: full truncation left segments behind: %w", err)
		return err
	}
	s, err := l.createSegment(offset)
	if err != nil {
		l.failed = fmt.Errorf("log: no segment after full truncation: %w", err)
		return err
	}
	l.pendingClosed = nil
	l.active = s
	l.leo.Store(offset)
	l.publish([]*segment{s}, offset)
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("sync dir %s: %w", l.dir, err)
	}
	l.epochs.reset()
	l.producers = newProducerStateManager()
	for _, off := range l.snapshots {
		if err := l.removeSnapshotFile(off); err != nil {
			return err
		}
	}
	l.snapshots = nil
	return l.persistEpochs()
}
