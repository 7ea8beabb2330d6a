package log

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Log is one partition's local segmented log.
//
// Log is safe for concurrent use. Appends, rolls and truncation are
// serialized by mu, which is held across an append's single write(2) but
// never by readers: Read, FindByTimestamp and the offset accessors work on
// an immutable snapshot of the segment list (view) and the atomically
// published log end offset, with pread on reference-counted segment files.
// fsyncs run under syncMu without mu, so concurrent appenders with
// FlushMessages=1 share fsyncs (group commit). Maintenance (flushing closed
// segments, retention, truncation) is serialized by maintMu.
//
// Lock order: maintMu, then mu, then syncMu; segment.mu and epochCache.mu
// are leaves.
type Log struct {
	dir    string
	fs     FS
	logger *slog.Logger
	o      options

	mu            sync.Mutex
	cfg           Config                // guarded by mu
	active        *segment              // guarded by mu
	pendingClosed []*segment            // guarded by mu: closed, not yet flushed, oldest first
	producers     *producerStateManager // guarded by mu
	snapshots     []int64               // guarded by mu: offsets of snapshot files, ascending
	scratch       []pendingBatch        // guarded by mu: reused by Append
	closed        bool                  // guarded by mu
	failed        error                 // guarded by mu: refuse appends after an unrecoverable I/O error

	epochs epochCache

	view          atomic.Pointer[view]
	leo           atomic.Int64 // log end offset; written under mu
	isClosed      atomic.Bool
	appended      atomic.Int64 // records appended since Open; written under mu
	syncedRecords atomic.Int64 // value of appended covered by the last fsync
	lastSync      atomic.Int64 // unix nanoseconds of the last fsync (or Open)

	syncMu sync.Mutex // serializes fsyncs of segment data

	maintMu    sync.Mutex
	checkpoint logCheckpoint // guarded by maintMu: the log-checkpoint file's content
}

// view is an immutable snapshot of the segment list.
type view struct {
	segs     []*segment // ascending base offsets; the last one is active
	logStart int64
}

// segmentFor returns the index of the segment that holds offset (the last
// one whose base is <= offset), or -1.
func (v *view) segmentFor(offset int64) int {
	i, j := 0, len(v.segs)
	for i < j {
		h := int(uint(i+j) >> 1)
		if v.segs[h].base > offset {
			j = h
		} else {
			i = h + 1
		}
	}
	return i - 1
}

// publish replaces the view. The caller holds mu.
func (l *Log) publish(segs []*segment, logStart int64) {
	l.view.Store(&view{segs: segs, logStart: logStart})
}

// Open opens the log in dir, creating it if needed, and recovers it (see
// doc.go): after a clean shutdown segments and indexes are trusted; after an
// unclean one every segment from the recovery point on is scanned batch by
// batch, a torn tail is truncated, a bad batch followed by valid data fails
// with ErrCorrupt, and producer state is rebuilt from the newest snapshot
// plus the batches after it.
func Open(dir string, cfg Config, opts ...Option) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	l := &Log{dir: dir, fs: o.fs, logger: o.logger, o: o, cfg: cfg, producers: newProducerStateManager()}
	if err := l.fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create log dir %s: %w", dir, err)
	}
	if err := l.load(); err != nil {
		l.abandon()
		return nil, err
	}
	l.lastSync.Store(l.o.now().UnixNano())
	return l, nil
}

// SetConfig replaces the configuration; it applies to later appends, rolls,
// flushes and retention runs.
func (l *Log) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg
	return nil
}

// Config returns the current configuration.
func (l *Log) Config() Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// LogStartOffset returns the first offset that may be read.
func (l *Log) LogStartOffset() int64 { return l.view.Load().logStart }

// LogEndOffset returns the offset the next appended record gets.
func (l *Log) LogEndOffset() int64 { return l.leo.Load() }

// Size returns the bytes in the log's .log files.
func (l *Log) Size() int64 {
	var n int64
	for _, s := range l.view.Load().segs {
		n += s.size.Load()
	}
	return n
}

// Segments describes every segment, oldest first; the last is the active
// one.
func (l *Log) Segments() []SegmentInfo {
	v := l.view.Load()
	out := make([]SegmentInfo, len(v.segs))
	for i, s := range v.segs {
		out[i] = s.info()
	}
	return out
}

// LatestEpoch returns the newest leader epoch in the log, -1 if none.
func (l *Log) LatestEpoch() int32 { return l.epochs.latest() }

// EndOffsetForEpoch answers OffsetForLeaderEpoch as Kafka does: for the
// latest epoch, (epoch, LogEndOffset); otherwise the largest known epoch
// <= epoch and the start offset of the next known epoch; for an epoch
// older than every known one, (epoch, start of the first known epoch); and
// (-1, -1) for an epoch newer than the latest or an empty cache.
func (l *Log) EndOffsetForEpoch(epoch int32) (foundEpoch int32, endOffset int64) {
	return l.epochs.endOffsetFor(epoch, l.leo.Load())
}

// AssignLeaderEpoch records that epoch starts at the current log end offset
// (Kafka does this when a replica becomes leader), so EndOffsetForEpoch
// answers for it before its first append. It fails with
// ErrFencedLeaderEpoch if the log already holds a newer epoch.
func (l *Log) AssignLeaderEpoch(epoch int32) error {
	if epoch < 0 {
		return fmt.Errorf("log: negative leader epoch %d", epoch)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if latest := l.epochs.latest(); epoch < latest {
		return fmt.Errorf("%w: epoch %d, log has %d", ErrFencedLeaderEpoch, epoch, latest)
	}
	if !l.epochs.assign(epoch, l.leo.Load()) {
		return nil
	}
	return l.persistEpochs()
}

// Producers lists the idempotent producers the log knows, by id.
func (l *Log) Producers() []ProducerEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.producers.entries()
}

// ExpireProducers forgets producers idle for longer than
// ProducerIDExpiration at now; ApplyRetention calls it too. It returns how
// many were removed.
func (l *Log) ExpireProducers(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.producers.expire(now, l.cfg.ProducerIDExpiration)
}

// UnflushedMessages returns how many appended records are not yet known to
// be fsynced.
func (l *Log) UnflushedMessages() int64 { return l.appended.Load() - l.syncedRecords.Load() }

// Close fsyncs everything, writes the index files of the active segment, a
// producer snapshot and the clean-shutdown flag, and closes the files.
// In-flight reads complete; later calls return ErrClosed. If the log failed
// earlier (an I/O error), Close only releases the files so the next Open
// recovers.
func (l *Log) Close() error { return l.shutdown(true) }

// Delete closes the log without flushing and removes its directory (topic
// deletion).
func (l *Log) Delete() error {
	if err := l.shutdown(false); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	names, err := l.fs.ReadDir(l.dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete log %s: %w", l.dir, err)
	}
	var errs []error
	for _, n := range names {
		if err := l.fs.Remove(filepath.Join(l.dir, n)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := l.fs.Remove(l.dir); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (l *Log) shutdown(clean bool) error {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.isClosed.Store(true)
	failed := l.failed
	l.mu.Unlock()
	var err error
	if clean && failed == nil {
		err = l.closeCleanly()
	}
	for _, s := range l.view.Load().segs {
		s.drop()
	}
	return err
}

// closeCleanly makes the whole log durable and marks the shutdown clean.
// The caller holds maintMu and has set closed.
func (l *Log) closeCleanly() error {
	if err := l.flushClosedLocked(); err != nil {
		return err
	}
	a := l.active
	if err := a.seal(l.fs); err != nil {
		return err
	}
	if !a.acquire() {
		return ErrClosed
	}
	if err := l.syncSegments([]syncTarget{{s: a, size: a.size.Load()}}, l.appended.Load()); err != nil {
		return err
	}
	if err := a.flushIndexFiles(); err != nil {
		return err
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("sync dir %s: %w", l.dir, err)
	}
	l.mu.Lock()
	err := l.writeSnapshotLocked(l.leo.Load(), true)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	cp := logCheckpoint{logStartOffset: l.LogStartOffset(), recoveryPoint: a.base, clean: true}
	return l.writeCheckpoint(cp)
}

// abandon closes every file without writing anything, as if the process
// died (used when Open fails, and by tests).
func (l *Log) abandon() {
	l.mu.Lock()
	l.closed = true
	l.isClosed.Store(true)
	l.mu.Unlock()
	if v := l.view.Load(); v != nil {
		for _, s := range v.segs {
			s.drop()
		}
	}
}

// createSegment creates an empty segment file at base. The caller holds mu
// (or is Open).
func (l *Log) createSegment(base int64) (*segment, error) {
	path := filepath.Join(l.dir, offsetFileName(base, logSuffix))
	f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	return newSegment(l.dir, base, f, l.logger), nil
}

// recoveryPointLocked is the base of the first segment that is not flushed.
// The caller holds mu.
func (l *Log) recoveryPointLocked() int64 {
	if len(l.pendingClosed) > 0 {
		return l.pendingClosed[0].base
	}
	return l.active.base
}
