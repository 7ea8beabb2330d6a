package log

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
)

// AppendOptions control one Append.
type AppendOptions struct {
	// LeaderEpoch is written into each batch's partitionLeaderEpoch and
	// recorded in the leader epoch cache. A negative value keeps each
	// batch's own epoch (replicated appends).
	LeaderEpoch int32
	// LogAppendTime, if > 0, switches every batch to LogAppendTime: the
	// timestamp-type attribute bit is set, maxTimestamp becomes this value
	// (milliseconds) and the CRC is recomputed, as Kafka does
	// (baseTimestamp is left alone; consumers use maxTimestamp for every
	// record of such a batch). 0 keeps CreateTime.
	LogAppendTime int64
	// SkipProducerChecks accepts the batches without idempotence checks
	// (and without requiring recordsCount == lastOffsetDelta+1), still
	// updating producer state: for replicated appends from a leader.
	SkipProducerChecks bool
}

// AppendResult describes a successful Append.
type AppendResult struct {
	BaseOffset, LastOffset int64 // offsets assigned, or the original batch's for a duplicate
	LogAppendTime          int64 // -1 unless AppendOptions.LogAppendTime was used
	LogStartOffset         int64
	Duplicate              bool // an idempotent retry: nothing was written
}

// pendingBatch is one batch of an Append request.
type pendingBatch struct {
	pos int // position in the request
	h   batchHeader
}

// syncTarget is a segment to fsync up to at least size bytes; the caller
// holds a reference on s.
type syncTarget struct {
	s    *segment
	size int64
}

// appendOutcome is the work Append does after releasing mu.
type appendOutcome struct {
	rolled  *segment
	sync    bool
	records int64 // appended-record count to mark synced
	targets []syncTarget
}

// Append writes records, one or more complete magic-v2 record batches that
// the caller already CRC-checked, at the log end. It assigns offsets,
// stamps each batch's base offset and leader epoch (and LogAppendTime) in
// place (records then belongs to the log), applies Kafka's idempotent
// producer rules to every batch before writing any, rolls the active
// segment if needed, and writes the whole request with one write(2). With
// FlushMessages reached it fsyncs before returning.
//
// A write error leaves the log unchanged (the partial write is truncated);
// if even that fails, or an fsync fails, the log refuses further appends and
// must be reopened.
func (l *Log) Append(records []byte, opts AppendOptions) (AppendResult, error) {
	l.mu.Lock()
	res, out, err := l.appendLocked(records, opts)
	l.mu.Unlock()
	if err == nil && out.sync {
		if err = l.syncSegments(out.targets, out.records); err != nil {
			res = AppendResult{BaseOffset: -1, LastOffset: -1, LogAppendTime: -1}
		}
	}
	if out.rolled != nil {
		l.notifyRoll(out.rolled)
	}
	return res, err
}

func (l *Log) appendLocked(records []byte, opts AppendOptions) (AppendResult, appendOutcome, error) {
	res := AppendResult{BaseOffset: -1, LastOffset: -1, LogAppendTime: -1}
	var out appendOutcome
	if l.closed {
		return res, out, ErrClosed
	}
	if l.failed != nil {
		return res, out, l.failed
	}
	batches, count, err := l.parseBatches(records, opts)
	if err != nil {
		return res, out, err
	}
	res.LogStartOffset = l.view.Load().logStart
	if !opts.SkipProducerChecks {
		orig, dup, err := l.producers.validate(batches)
		if err != nil {
			return res, out, err
		}
		if dup {
			res.BaseOffset, res.LastOffset, res.Duplicate = orig.firstOffset, orig.lastOffset, true
			// The original may still be waiting for its fsync: a retry
			// must not be acknowledged before it is durable.
			if appended := l.appended.Load(); l.cfg.FlushMessages > 0 && appended > l.syncedRecords.Load() {
				out.sync, out.records, out.targets = true, appended, l.collectSyncTargets(nil)
			}
			return res, out, nil
		}
	}
	if err := l.checkEpochs(batches, opts); err != nil {
		return res, out, err
	}
	now := l.o.now()
	base := l.leo.Load()
	if l.shouldRoll(int64(len(records)), base+count-1, now) {
		if out.rolled, err = l.rollLocked(now); err != nil {
			return res, out, err
		}
	}
	next := stampBatches(records, batches, base, opts)
	if err := l.assignEpochs(batches, opts); err != nil {
		return res, out, err
	}
	if err := l.writeLocked(records, batches, next, now); err != nil {
		return res, out, err
	}
	res.BaseOffset, res.LastOffset = base, next-1
	if opts.LogAppendTime > 0 {
		res.LogAppendTime = opts.LogAppendTime
	}
	appended := l.appended.Add(count)
	if fm := l.cfg.FlushMessages; fm > 0 && appended-l.syncedRecords.Load() >= fm {
		// Allocates, but only on the fsync path, which costs far more.
		out.sync, out.records, out.targets = true, appended, l.collectSyncTargets(nil)
	}
	return res, out, nil
}

// parseBatches splits records into batches (reusing l.scratch) and returns
// them with the number of offsets they take.
func (l *Log) parseBatches(records []byte, opts AppendOptions) ([]pendingBatch, int64, error) {
	batches := l.scratch[:0]
	var count int64
	for off := 0; off < len(records); {
		h, err := parseBatchHeader(records[off:])
		if err != nil {
			return nil, 0, fmt.Errorf("batch at byte %d: %w", off, err)
		}
		if h.size() > int64(len(records)-off) {
			return nil, 0, fmt.Errorf("%w: batch at byte %d is %d bytes, only %d remain", ErrInvalidBatch, off, h.size(), len(records)-off)
		}
		if !opts.SkipProducerChecks && int64(h.RecordsCount) != int64(h.LastOffsetDelta)+1 {
			return nil, 0, fmt.Errorf("%w: batch at byte %d has %d records but last offset delta %d", ErrInvalidBatch, off, h.RecordsCount, h.LastOffsetDelta)
		}
		batches = append(batches, pendingBatch{pos: off, h: h})
		count += int64(h.LastOffsetDelta) + 1
		off += int(h.size())
	}
	l.scratch = batches
	if len(batches) == 0 {
		return nil, 0, fmt.Errorf("%w: no record batch", ErrInvalidBatch)
	}
	return batches, count, nil
}

// checkEpochs rejects leader epochs older than the log's latest.
func (l *Log) checkEpochs(batches []pendingBatch, opts AppendOptions) error {
	latest := l.epochs.latest()
	if opts.LeaderEpoch >= 0 {
		if opts.LeaderEpoch < latest {
			return fmt.Errorf("%w: append in epoch %d, log has %d", ErrFencedLeaderEpoch, opts.LeaderEpoch, latest)
		}
		return nil
	}
	for i := range batches {
		if e := batches[i].h.LeaderEpoch; e >= 0 {
			if e < latest {
				return fmt.Errorf("%w: batch in epoch %d after epoch %d", ErrFencedLeaderEpoch, e, latest)
			}
			latest = e
		}
	}
	return nil
}

// assignEpochs records new leader epochs of the request in the cache and
// persists it before the data is written.
func (l *Log) assignEpochs(batches []pendingBatch, opts AppendOptions) error {
	changed := false
	if opts.LeaderEpoch >= 0 {
		if opts.LeaderEpoch > l.epochs.latest() {
			changed = l.epochs.assign(opts.LeaderEpoch, batches[0].h.BaseOffset)
		}
	} else {
		for i := range batches {
			if h := &batches[i].h; h.LeaderEpoch >= 0 && h.LeaderEpoch > l.epochs.latest() {
				changed = l.epochs.assign(h.LeaderEpoch, h.BaseOffset) || changed
			}
		}
	}
	if !changed {
		return nil
	}
	return l.persistEpochs()
}

// stampBatches assigns offsets from base and applies opts to each batch in
// place, returning the next offset.
func stampBatches(records []byte, batches []pendingBatch, base int64, opts AppendOptions) int64 {
	be := binary.BigEndian
	next := base
	for i := range batches {
		b := &batches[i]
		raw := records[b.pos : b.pos+int(b.h.size())]
		be.PutUint64(raw[offBaseOffset:], uint64(next))
		b.h.BaseOffset = next
		if opts.LeaderEpoch >= 0 {
			be.PutUint32(raw[offLeaderEpoch:], uint32(opts.LeaderEpoch))
			b.h.LeaderEpoch = opts.LeaderEpoch
		}
		if opts.LogAppendTime > 0 {
			b.h.Attributes |= attrTimestampType
			b.h.MaxTimestamp = opts.LogAppendTime
			be.PutUint16(raw[offAttributes:], uint16(b.h.Attributes))
			be.PutUint64(raw[offMaxTimestamp:], uint64(opts.LogAppendTime))
			be.PutUint32(raw[offCRC:], batchCRC(raw))
		}
		next = b.h.lastOffset() + 1
	}
	return next
}

// shouldRoll reports whether the active segment must be closed before
// appending n bytes whose last offset is lastOffset.
func (l *Log) shouldRoll(n, lastOffset int64, now time.Time) bool {
	s := l.active
	size := s.size.Load()
	if size == 0 {
		return false
	}
	return size+n > l.cfg.SegmentBytes ||
		now.Sub(s.rollBase) >= l.cfg.SegmentMS ||
		lastOffset-s.base > math.MaxUint32
}

// writeLocked writes the stamped request to the active segment and
// publishes it to readers.
func (l *Log) writeLocked(records []byte, batches []pendingBatch, next int64, now time.Time) error {
	s := l.active
	pos := s.size.Load()
	if pos == 0 {
		s.rollBase = now
	}
	if _, err := s.file.Write(records); err != nil {
		err = fmt.Errorf("append to %s: %w", s.logPath, err)
		if terr := s.file.Truncate(pos); terr != nil {
			l.failed = fmt.Errorf("%w (and truncating the partial write failed: %v)", err, terr)
		}
		return err
	}
	interval := int64(l.cfg.IndexIntervalBytes)
	s.mu.Lock()
	p := pos
	for i := range batches {
		s.observe(&batches[i].h, p, interval)
		p += batches[i].h.size()
	}
	s.mu.Unlock()
	for i := range batches {
		b := &batches[i]
		l.producers.apply(&b.h, records[b.pos:b.pos+int(b.h.size())])
	}
	s.size.Store(pos + int64(len(records)))
	s.next.Store(next)
	l.leo.Store(next)
	return nil
}

// collectSyncTargets lists, with references, every segment that may hold
// unsynced data. The caller holds mu.
func (l *Log) collectSyncTargets(dst []syncTarget) []syncTarget {
	for _, s := range l.pendingClosed {
		if size := s.size.Load(); s.syncedSize.Load() < size && s.acquire() {
			dst = append(dst, syncTarget{s: s, size: size})
		}
	}
	if a := l.active; a.acquire() {
		dst = append(dst, syncTarget{s: a, size: a.size.Load()})
	}
	return dst
}

// rollLocked closes the active segment if it holds data and starts a new
// one at the log end. It writes the closed segment's index files and a
// producer snapshot; fsyncing them is left to the flusher. The caller holds
// mu.
func (l *Log) rollLocked(now time.Time) (*segment, error) {
	old := l.active
	if old.size.Load() == 0 {
		return nil, nil
	}
	base := l.leo.Load()
	s, err := l.createSegment(base)
	if err != nil {
		return nil, err
	}
	if err := old.seal(l.fs); err != nil {
		old.closeIndexFiles()
		s.drop()
		_ = l.fs.Remove(s.logPath) // best effort; Open would find an empty last segment
		return nil, fmt.Errorf("roll %s: %w", old.logPath, err)
	}
	s.rollBase = now
	old.closed.Store(true)
	l.pendingClosed = append(l.pendingClosed, old)
	l.active = s
	v := l.view.Load()
	l.publish(append(slices.Clip(v.segs), s), v.logStart)
	if err := l.writeSnapshotLocked(base, false); err != nil {
		// Only recovery speed depends on it: recovery falls back to an
		// older snapshot and replays more batches.
		l.logger.Warn("producer snapshot at roll failed", "dir", l.dir, "offset", base, "err", err)
	}
	return old, nil
}

// Roll closes the active segment now if it holds data.
func (l *Log) Roll() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	rolled, err := l.rollLocked(l.o.now())
	l.mu.Unlock()
	if rolled != nil {
		l.notifyRoll(rolled)
	}
	return err
}

// MaybeRoll closes the active segment if it holds data and its first batch
// was appended SegmentMS or longer before now, so an idle partition's last
// data still reaches a closed segment (and tiering). It reports whether it
// rolled.
func (l *Log) MaybeRoll(now time.Time) (bool, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false, ErrClosed
	}
	var rolled *segment
	var err error
	if a := l.active; a.size.Load() > 0 && now.Sub(a.rollBase) >= l.cfg.SegmentMS {
		rolled, err = l.rollLocked(now)
	}
	l.mu.Unlock()
	if rolled != nil {
		l.notifyRoll(rolled)
	}
	return rolled != nil, err
}

func (l *Log) notifyRoll(s *segment) {
	if l.o.onRoll != nil {
		l.o.onRoll(s.info())
	}
}

func timeFromMillis(ms int64) time.Time { return time.UnixMilli(ms) }
