package log

import (
	"fmt"
	"slices"
	"time"
)

// Sync makes everything appended so far durable: closed segments with their
// index files (advancing the recovery point) and the active segment's data.
// The active segment's index files are not synced: after a crash they are
// rebuilt from its data.
func (l *Log) Sync() error {
	if err := l.flushClosed(); err != nil {
		return err
	}
	return l.syncData()
}

// MaybeFlush does the log's periodic durability work; the owner calls it
// regularly (e.g. every second). It always flushes closed segments (their
// data, index files and the recovery point, as Kafka flushes a rolled
// segment in the background) and, if FlushInterval > 0 and data has been
// unsynced for FlushInterval since the last fsync, fsyncs the active
// segment. It also prunes old producer snapshots.
func (l *Log) MaybeFlush(now time.Time) error {
	if err := l.flushClosed(); err != nil {
		return err
	}
	l.mu.Lock()
	interval := l.cfg.FlushInterval
	l.mu.Unlock()
	if interval <= 0 || l.UnflushedMessages() == 0 {
		return nil
	}
	if now.Sub(time.Unix(0, l.lastSync.Load())) < interval {
		return nil
	}
	return l.syncData()
}

// syncData fsyncs every segment that may hold unsynced data.
func (l *Log) syncData() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	targets := l.collectSyncTargets(nil)
	records := l.appended.Load()
	l.mu.Unlock()
	return l.syncSegments(targets, records)
}

// syncSegments fsyncs the targets (and, for segments whose directory entry
// is not yet durable, the directory), releases their references and, on
// success, marks records appended records as synced (records < 0: data of
// closed segments only, which leaves the active segment's counters alone). Concurrent callers
// share fsyncs: a target already synced past its size is skipped. An fsync
// failure makes the log refuse further appends (the kernel may have dropped
// the dirty pages). The caller must not hold mu.
func (l *Log) syncSegments(targets []syncTarget, records int64) error {
	l.syncMu.Lock()
	var err error
	for _, t := range targets {
		if err == nil {
			err = l.syncSegmentLocked(t)
		}
		t.s.release()
	}
	if err == nil && records >= 0 {
		for {
			cur := l.syncedRecords.Load()
			if cur >= records || l.syncedRecords.CompareAndSwap(cur, records) {
				break
			}
		}
		l.lastSync.Store(l.o.now().UnixNano())
	}
	l.syncMu.Unlock()
	if err != nil {
		l.mu.Lock()
		if l.failed == nil {
			l.failed = fmt.Errorf("log: refusing appends after a failed fsync: %w", err)
		}
		l.mu.Unlock()
	}
	return err
}

// syncSegmentLocked fsyncs one segment. The caller holds syncMu.
func (l *Log) syncSegmentLocked(t syncTarget) error {
	s := t.s
	if s.syncedSize.Load() >= t.size && s.dirSynced {
		return nil
	}
	size := s.size.Load()
	if err := s.file.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.logPath, err)
	}
	if !s.dirSynced {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return fmt.Errorf("sync dir %s: %w", l.dir, err)
		}
		s.dirSynced = true
	}
	if size > s.syncedSize.Load() {
		s.syncedSize.Store(size)
	}
	return nil
}

// flushClosed makes closed segments durable with their index files and
// advances the persisted recovery point past them.
func (l *Log) flushClosed() error {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if err := l.flushClosedLocked(); err != nil {
		return err
	}
	return l.pruneSnapshots()
}

// flushClosedLocked does flushClosed's work. The caller holds maintMu.
func (l *Log) flushClosedLocked() error {
	l.mu.Lock()
	pending := slices.Clone(l.pendingClosed)
	for _, s := range pending {
		s.acquire() // cannot fail: deletion needs maintMu
	}
	l.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	err := l.flushSegments(pending)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.pendingClosed = slices.Delete(l.pendingClosed, 0, len(pending))
	rp := l.recoveryPointLocked()
	l.mu.Unlock()
	if rp <= l.checkpoint.recoveryPoint {
		return nil
	}
	cp := l.checkpoint
	cp.recoveryPoint = rp
	return l.writeCheckpoint(cp)
}

// flushSegments seals (if needed) and fsyncs closed segments, then the
// directory, and releases the references the caller took.
func (l *Log) flushSegments(segs []*segment) error {
	var err error
	for _, s := range segs {
		if err == nil && !s.sealed {
			err = s.seal(l.fs)
		}
		if err == nil {
			s.acquire()
			err = l.syncSegments([]syncTarget{{s: s, size: s.size.Load()}}, -1)
		}
		if err == nil {
			err = s.flushIndexFiles()
		}
		s.release()
	}
	if err == nil {
		if err = l.fs.SyncDir(l.dir); err != nil {
			err = fmt.Errorf("sync dir %s: %w", l.dir, err)
		}
	}
	if err == nil {
		for _, s := range segs {
			s.flushed = true
		}
	}
	return err
}
