package remote

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/tiering"
)

// Defaults of NewUploaderConfig.
const (
	DefaultUploadConcurrency  = 2
	DefaultMinBackoff         = 200 * time.Millisecond
	DefaultMaxBackoff         = 30 * time.Second
	DefaultAttemptTimeout     = 10 * time.Minute
	DefaultIndexIntervalBytes = 64 << 10
	DefaultCommitPoll         = 100 * time.Millisecond
)

// UploaderConfig configures an Uploader. Build one with NewUploaderConfig
// and set Store, Catalogue and ClusterID.
type UploaderConfig struct {
	// Store receives the segments' objects.
	Store tiering.ObjectStore
	// Catalogue records them.
	Catalogue metadata.Catalogue
	// ClusterID is the first segment of every object key (see
	// tiering.NewSegmentKeys).
	ClusterID string
	// AgentID is recorded as RemoteSegment.UploadedBy; -1 when unknown.
	AgentID int32
	// Concurrency is how many segments upload at once (of different
	// partitions: a partition's segments upload one at a time, in offset
	// order).
	Concurrency int
	// MinBackoff and MaxBackoff bound the wait before a failed upload is
	// tried again: it doubles from MinBackoff with each failure up to
	// MaxBackoff, and each wait is drawn at random from its upper half.
	MinBackoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one attempt (the PUTs and the catalogue
	// write). Every attempt puts the objects again, so no object waits
	// for its catalogue entry longer than this: a sweep's grace period
	// must be longer (Sweep refuses a shorter one).
	AttemptTimeout time.Duration
	// IndexIntervalBytes is how many bytes of batches lie between entries
	// of the offset index the uploader builds for each remote segment.
	IndexIntervalBytes int64
	// Committed, if set, returns a partition's high watermark: a segment
	// waits in the queue until its last offset is below it, so that only
	// committed data (which no leader change truncates) is offloaded. It
	// is called with the Uploader's lock held: it must be fast (an atomic
	// load) and must not call the Uploader. Nil means every enqueued
	// segment is committed.
	Committed func(metadata.TopicPartition) int64
	// CommitPoll is how often a segment waiting for Committed is checked.
	CommitPoll time.Duration
	// Logger receives one line per dropped segment, retry streak and
	// retention or sweep deletion; nil means slog.Default().
	Logger *slog.Logger
	// Now is the wall clock for UploadedAt, queue ages and sweep grace
	// periods; nil means time.Now. Retry waits use real time.
	Now func() time.Time
}

// NewUploaderConfig returns a config with the defaults: 2 uploads at a
// time, backoff from 200 ms to 30 s, 10-minute attempts, an index entry
// every 64 KiB, and no high-watermark gate.
func NewUploaderConfig() UploaderConfig {
	return UploaderConfig{
		AgentID:            -1,
		Concurrency:        DefaultUploadConcurrency,
		MinBackoff:         DefaultMinBackoff,
		MaxBackoff:         DefaultMaxBackoff,
		AttemptTimeout:     DefaultAttemptTimeout,
		IndexIntervalBytes: DefaultIndexIntervalBytes,
		CommitPoll:         DefaultCommitPoll,
	}
}

// Validate reports the first problem with c, wrapping ErrInvalidConfig.
func (c *UploaderConfig) Validate() error {
	switch {
	case c.Store == nil || c.Catalogue == nil:
		return fmt.Errorf("%w: an uploader needs a Store and a Catalogue", ErrInvalidConfig)
	case c.Concurrency < 1:
		return fmt.Errorf("%w: Concurrency %d", ErrInvalidConfig, c.Concurrency)
	case c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff:
		return fmt.Errorf("%w: backoff from %v to %v", ErrInvalidConfig, c.MinBackoff, c.MaxBackoff)
	case c.AttemptTimeout <= 0 || c.CommitPoll <= 0:
		return fmt.Errorf("%w: AttemptTimeout %v, CommitPoll %v", ErrInvalidConfig, c.AttemptTimeout, c.CommitPoll)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("%w: IndexIntervalBytes %d", ErrInvalidConfig, c.IndexIntervalBytes)
	case c.AgentID < -1:
		return fmt.Errorf("%w: AgentID %d", ErrInvalidConfig, c.AgentID)
	}
	if _, err := tiering.NewSegmentKeys(c.ClusterID, metadata.TopicPartition{TopicID: metadata.TopicID{1}}, 0, 0); err != nil {
		return fmt.Errorf("%w: cluster id %q cannot start an object key", ErrInvalidConfig, c.ClusterID)
	}
	return nil
}

// Segment describes a closed local segment to offload. The agent builds
// it from the log's SegmentInfo; the uploader reads everything else
// (timestamps, epochs, indexes) from the segment's bytes.
type Segment struct {
	metadata.TopicPartition
	// Topic is the topic's name, for log lines.
	Topic string
	// BaseOffset and LastOffset are the offsets of the segment's first
	// and last records.
	BaseOffset, LastOffset int64
	// Size is the length of the .log file, which must not change.
	Size int64
	// LogPath is the .log file. Only it is read: the uploader builds the
	// remote indexes itself while streaming the file.
	LogPath string
	// LeaderEpoch is the uploading leader's current epoch; it goes into
	// the object keys, so a later leader never overwrites these objects.
	LeaderEpoch int32
	// AbortedTxns are the log's aborted transactions whose marker lies in
	// the segment; those within the uploaded range go into its entry.
	AbortedTxns []metadata.AbortedTxn
}

func (s *Segment) validate() error {
	switch {
	case metadata.ValidateTopicPartition(s.TopicPartition) != nil:
		return fmt.Errorf("%w: partition %s-%d", ErrInvalidSegment, s.TopicID, s.Partition)
	case s.BaseOffset < 0 || s.LastOffset < s.BaseOffset:
		return fmt.Errorf("%w: offsets %d to %d", ErrInvalidSegment, s.BaseOffset, s.LastOffset)
	case s.Size < batchHeaderSize:
		return fmt.Errorf("%w: segment %d has %d bytes", ErrInvalidSegment, s.BaseOffset, s.Size)
	case s.LogPath == "":
		return fmt.Errorf("%w: segment %d has no path", ErrInvalidSegment, s.BaseOffset)
	case s.LeaderEpoch < 0:
		return fmt.Errorf("%w: segment %d has leader epoch %d", ErrInvalidSegment, s.BaseOffset, s.LeaderEpoch)
	}
	return nil
}

// queued is a segment waiting for upload.
type queued struct {
	seg Segment
	at  time.Time // when it was first enqueued
}

// partition is the Uploader's state of one partition led here. tp never
// changes; every other field is guarded by Uploader.mu.
type partition struct {
	tp    metadata.TopicPartition
	topic string

	// The catalogue copy: segs is immutable once published (readers get
	// it without copying); seq counts changes, so a read of the store
	// that raced with a change is not published over it.
	loaded bool
	segs   []metadata.RemoteSegment
	seq    uint64

	pending  []queued // sorted by base offset, one per base
	busy     bool     // a worker is uploading pending[0]
	sweeping bool     // SweepPartition runs: no upload may start
	cancel   context.CancelFunc
	failures int // consecutive failed attempts
	retryAt  time.Time
}

// publish replaces the catalogue copy. u.mu must be held.
func (p *partition) publish(segs []metadata.RemoteSegment) {
	p.segs, p.loaded = segs, true
	p.seq++
}

// Uploader offloads closed local segments of the partitions this agent
// leads: it puts each segment's objects, then records it in the
// catalogue, retrying with backoff while either is unavailable. It also
// keeps each such partition's catalogue in memory (RemoteSegments), says
// which offsets are safely offloaded (UploadedUpTo), applies remote
// retention and sweeps orphans. It is safe for concurrent use.
//
// Run starts its workers; Close stops them. Nothing is persisted: after a
// restart the agent enqueues its closed segments again, and segments
// already in the catalogue are recognised without uploading.
type Uploader struct {
	cfg    UploaderConfig
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	parts   map[metadata.TopicPartition]*partition // guarded by mu
	queue   map[*partition]struct{}                // guarded by mu; partitions with pending segments
	notify  chan struct{}                          // guarded by mu; closed and replaced on every change
	closed  bool                                   // guarded by mu
	running bool                                   // guarded by mu
	stopRun context.CancelFunc                     // guarded by mu
	runDone chan struct{}                          // closed when Run returns

	stats uploaderCounters
}

// NewUploader returns an Uploader; call Run to start uploading.
func NewUploader(cfg UploaderConfig) (*Uploader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u := &Uploader{
		cfg:     cfg,
		logger:  cfg.Logger,
		now:     cfg.Now,
		parts:   make(map[metadata.TopicPartition]*partition),
		queue:   make(map[*partition]struct{}),
		notify:  make(chan struct{}),
		runDone: make(chan struct{}),
	}
	if u.logger == nil {
		u.logger = slog.Default()
	}
	if u.now == nil {
		u.now = time.Now
	}
	return u, nil
}

// changedLocked wakes everyone waiting for a change. u.mu must be held.
func (u *Uploader) changedLocked() {
	close(u.notify)
	u.notify = make(chan struct{})
}

// Run uploads until ctx ends or Close is called, with cfg.Concurrency
// workers, and returns once they have stopped. It may be called once;
// later calls, and calls after Close, return ErrClosed at once.
func (u *Uploader) Run(ctx context.Context) error {
	u.mu.Lock()
	if u.closed || u.running {
		u.mu.Unlock()
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	u.running, u.stopRun = true, cancel
	u.mu.Unlock()
	defer close(u.runDone)
	defer cancel()
	var wg sync.WaitGroup
	for range u.cfg.Concurrency {
		wg.Go(func() { u.work(ctx) })
	}
	wg.Wait()
	return nil
}

// Close stops the workers, cancelling uploads in flight, and waits for
// Run to return. Segments still queued are dropped; the objects of an
// interrupted upload are orphans that a sweep removes. Close is
// idempotent.
func (u *Uploader) Close() {
	u.mu.Lock()
	u.closed = true
	running := u.running
	if u.stopRun != nil {
		u.stopRun()
	}
	u.changedLocked()
	u.mu.Unlock()
	if running {
		<-u.runDone
	}
}

// Enqueue queues a closed local segment of a partition this agent leads
// for upload. It does not block. A segment whose base offset is already
// queued replaces the queued description (so enqueueing again after a
// leader-epoch change is harmless); a segment the catalogue already
// covers completes at once. Segments of a partition upload in offset
// order. Only the partition's leader may enqueue its segments, and only
// after it holds a leader epoch for them.
func (u *Uploader) Enqueue(seg Segment) error {
	if err := seg.validate(); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return ErrClosed
	}
	p := u.partitionLocked(seg.TopicPartition)
	if seg.Topic != "" {
		p.topic = seg.Topic
	}
	if p.loaded && coveredEnd(p.segs, seg.BaseOffset) > seg.LastOffset {
		return nil
	}
	i, found := slices.BinarySearchFunc(p.pending, seg.BaseOffset, func(q queued, base int64) int {
		return cmp.Compare(q.seg.BaseOffset, base)
	})
	if found {
		p.pending[i].seg = seg
	} else {
		p.pending = slices.Insert(p.pending, i, queued{seg: seg, at: u.now()})
	}
	u.queue[p] = struct{}{}
	u.changedLocked()
	return nil
}

// partitionLocked returns tp's state, creating it. u.mu must be held.
func (u *Uploader) partitionLocked(tp metadata.TopicPartition) *partition {
	p := u.parts[tp]
	if p == nil {
		p = &partition{tp: tp}
		u.parts[tp] = p
	}
	return p
}

// Forget drops everything the Uploader holds for tp: queued segments, the
// catalogue copy, and an upload in flight, which is cancelled (its
// objects may stay behind as orphans for a sweep). The agent calls it
// when it stops leading tp, before the log may be truncated.
func (u *Uploader) Forget(tp metadata.TopicPartition) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if p := u.parts[tp]; p != nil {
		u.forgetLocked(p)
	}
}

// forgetLocked drops p, cancelling its upload in flight. u.mu must be
// held.
func (u *Uploader) forgetLocked(p *partition) {
	delete(u.parts, p.tp)
	delete(u.queue, p)
	if p.cancel != nil {
		p.cancel()
	}
	u.changedLocked()
}

// Drain waits until no segment is queued or uploading, or ctx ends. Use
// it on a clean shutdown (after the last roll) to let the queue empty, or
// in tests. Segments waiting for Committed keep it waiting.
func (u *Uploader) Drain(ctx context.Context) error {
	for {
		u.mu.Lock()
		idle, ch, closed := len(u.queue) == 0, u.notify, u.closed
		u.mu.Unlock()
		switch {
		case idle:
			return nil
		case closed:
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// UploadedUpTo returns the exclusive end of the offsets from `from` on
// that are durably offloaded: every offset in [from, end) lies in a
// segment whose objects and catalogue entry are durable. It returns from
// itself when from is not offloaded. The agent gives its local log start
// offset and may delete local segments whose last offset is below the
// result (log.WithDeletableUpTo): that is invariant 4's "only after its
// object and catalogue entry are durable". It answers from memory (the
// catalogue copy), and returns from until the copy is loaded.
func (u *Uploader) UploadedUpTo(tp metadata.TopicPartition, from int64) int64 {
	u.mu.Lock()
	p := u.parts[tp]
	var segs []metadata.RemoteSegment
	if p != nil && p.loaded {
		segs = p.segs
	}
	u.mu.Unlock()
	return coveredEnd(segs, from)
}

// RemoteSegments returns tp's catalogue, sorted by base offset: from
// memory once loaded, else read from the catalogue (and kept while tp is
// led here, until Forget). The slice is shared: do not modify it. The
// agent uses it for the log start offset (the first entry's BaseOffset
// when it is below the local log start), ListOffsets and Reader.Read.
func (u *Uploader) RemoteSegments(ctx context.Context, tp metadata.TopicPartition) ([]metadata.RemoteSegment, error) {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil, ErrClosed
	}
	p := u.partitionLocked(tp)
	if p.loaded {
		segs := p.segs
		u.mu.Unlock()
		return segs, nil
	}
	u.mu.Unlock()
	return u.refresh(ctx, p)
}

// refresh reads p's catalogue from the store and publishes it as the
// copy, unless the copy changed meanwhile (then that newer copy is
// returned) or p was forgotten.
func (u *Uploader) refresh(ctx context.Context, p *partition) ([]metadata.RemoteSegment, error) {
	u.mu.Lock()
	seq := p.seq
	u.mu.Unlock()
	segs, err := u.cfg.Catalogue.RemoteSegments(ctx, p.tp)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.parts[p.tp] == p {
		if p.seq == seq {
			p.publish(segs)
		} else if p.loaded {
			return p.segs, nil
		}
	}
	return segs, nil
}

// coveredEnd returns the exclusive end of the run of segs (sorted,
// disjoint) that covers from contiguously, or from if none covers it.
func coveredEnd(segs []metadata.RemoteSegment, from int64) int64 {
	i, _ := slices.BinarySearchFunc(segs, from, func(s metadata.RemoteSegment, off int64) int {
		return cmp.Compare(s.LastOffset, off)
	})
	end := from
	for ; i < len(segs) && segs[i].BaseOffset <= end; i++ {
		end = segs[i].LastOffset + 1
	}
	return end
}

// firstGap returns the first range [from, to] within [lo, hi] that segs
// do not cover, or ok=false if they cover all of it.
func firstGap(segs []metadata.RemoteSegment, lo, hi int64) (from, to int64, ok bool) {
	from = coveredEnd(segs, lo)
	if from > hi {
		return 0, 0, false
	}
	to = hi
	i, _ := slices.BinarySearchFunc(segs, from, func(s metadata.RemoteSegment, off int64) int {
		return cmp.Compare(s.LastOffset, off)
	})
	if i < len(segs) && segs[i].BaseOffset <= hi {
		to = segs[i].BaseOffset - 1
	}
	return from, to, true
}

// LeaderEpochs merges the epoch starts of segs (sorted by base offset)
// into one leader-epoch list, as a local log's epoch cache holds it: each
// epoch once, at its first offset. The agent appends the local log's
// epochs (newer) to answer OffsetForLeaderEpoch for offsets only in the
// object store.
func LeaderEpochs(segs []metadata.RemoteSegment) []metadata.EpochStart {
	var out []metadata.EpochStart
	for _, s := range segs {
		for _, e := range s.EpochStarts {
			if len(out) == 0 || e.Epoch > out[len(out)-1].Epoch {
				out = append(out, e)
			}
		}
	}
	return out
}

// uploaderCounters are the Uploader's monotonic counters.
type uploaderCounters struct {
	segments, bytes, failures, dropped, corrupt atomic.Int64
	retentionSegments, retentionBytes           atomic.Int64
	swept, sweptBytes                           atomic.Int64
}

// UploaderStats is a snapshot of an Uploader's progress, for metrics.
type UploaderStats struct {
	// SegmentsUploaded and BytesUploaded count catalogue entries added
	// and the bytes of their .log objects.
	SegmentsUploaded, BytesUploaded int64
	// Failures counts failed attempts (each is retried).
	Failures int64
	// Dropped counts segments given up: their file vanished or changed,
	// or it is corrupt (Corrupt counts those too).
	Dropped, Corrupt int64
	// Pending and PendingBytes are the segments queued or uploading and
	// their sizes; Partitions is how many partitions they belong to.
	Pending      int
	PendingBytes int64
	Partitions   int
	// OldestPending is the age of the longest-queued segment (upload
	// lag), 0 when none is queued.
	OldestPending time.Duration
	// RetentionSegments and RetentionBytes count remote segments deleted
	// by ApplyRetention; Swept and SweptBytes orphan objects deleted by
	// sweeps and DeleteTopic.
	RetentionSegments, RetentionBytes int64
	Swept, SweptBytes                 int64
}

// Stats returns a snapshot of the Uploader's counters and queue.
func (u *Uploader) Stats() UploaderStats {
	st := UploaderStats{
		SegmentsUploaded:  u.stats.segments.Load(),
		BytesUploaded:     u.stats.bytes.Load(),
		Failures:          u.stats.failures.Load(),
		Dropped:           u.stats.dropped.Load(),
		Corrupt:           u.stats.corrupt.Load(),
		RetentionSegments: u.stats.retentionSegments.Load(),
		RetentionBytes:    u.stats.retentionBytes.Load(),
		Swept:             u.stats.swept.Load(),
		SweptBytes:        u.stats.sweptBytes.Load(),
	}
	now := u.now()
	u.mu.Lock()
	defer u.mu.Unlock()
	st.Partitions = len(u.queue)
	for p := range u.queue {
		for _, q := range p.pending {
			st.Pending++
			st.PendingBytes += q.seg.Size
			st.OldestPending = max(st.OldestPending, now.Sub(q.at))
		}
	}
	return st
}
