package agent

// Tiered storage wiring (package tiering/remote does the work).
//
// The leader of a partition with remote.storage.enable uploads each
// segment once it closes (and, at a clean shutdown, the active one after
// rolling it); the uploader records it in the catalogue only after its
// objects are durable, and the local log deletes a segment (local
// retention) only once the uploader reports it offloaded — so while the
// object store is unreachable, local data stays, past local retention,
// until --disk-max-bytes turns further produces away. Fetches below the
// local log start are served from the object tier by the cached remote
// reader; the partition's log start offset is the first remote segment's
// base. Total retention (retention.ms/bytes) deletes remote segments,
// catalogue entry first. Followers never read the object tier: one behind
// the leader's local log start restarts there.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/tiering"
	"github.com/strata-io/strata/tiering/fsstore"
	"github.com/strata-io/strata/tiering/remote"
	"github.com/strata-io/strata/tiering/s3"
)

// TieringConfig configures the object tier.
type TieringConfig struct {
	// Enabled is the default of remote.storage.enable for topics.
	Enabled bool
	// Dir is the local-filesystem object store, used when S3 is not
	// configured (default <data-dir>/objects).
	Dir string
	// S3 configures an S3-compatible store; used when S3.Bucket is set.
	S3 s3.Config
	// LocalRetention and LocalRetentionBytes are the defaults of
	// local.retention.ms/bytes; negative means the same as the total.
	LocalRetention      time.Duration
	LocalRetentionBytes int64
	// CacheBytes bounds the remote reader's block cache.
	CacheBytes int64
	// UploadConcurrency is how many segments upload at once.
	UploadConcurrency int
	// DiskMaxBytes, when positive, refuses produces once the partitions'
	// local logs hold this many bytes (KAFKA_STORAGE_ERROR), instead of
	// filling the disk while uploads cannot proceed.
	DiskMaxBytes int64
	// SweepInterval is how often leaders sweep their partitions' orphan
	// objects; SweepGrace is how old an orphan must be to go.
	SweepInterval, SweepGrace time.Duration
}

// NewTieringConfig returns the defaults: tiering on, keeping an hour of
// data locally after upload.
func NewTieringConfig() TieringConfig {
	return TieringConfig{
		Enabled:             true,
		S3:                  s3.NewConfig(),
		LocalRetention:      time.Hour,
		LocalRetentionBytes: -2,
		CacheBytes:          64 << 20,
		UploadConcurrency:   2,
		SweepInterval:       time.Hour,
		SweepGrace:          time.Hour,
	}
}

func (c *TieringConfig) validate() error {
	switch {
	case c.CacheBytes < 1<<20:
		return fmt.Errorf("remote cache %d bytes: must be at least 1 MiB", c.CacheBytes)
	case c.UploadConcurrency < 1:
		return fmt.Errorf("upload concurrency %d: must be >= 1", c.UploadConcurrency)
	case c.DiskMaxBytes < 0:
		return fmt.Errorf("disk max bytes %d: must be >= 0 (0: no limit)", c.DiskMaxBytes)
	case c.SweepInterval <= 0 || c.SweepGrace < 15*time.Minute:
		return fmt.Errorf("sweep interval %v and grace %v: the interval must be > 0 and the grace at least 15m", c.SweepInterval, c.SweepGrace)
	case c.LocalRetentionBytes < -2:
		return fmt.Errorf("local retention bytes %d: must be >= -2", c.LocalRetentionBytes)
	}
	if c.S3.Bucket != "" {
		if err := c.S3.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// tier is the running object tier.
type tier struct {
	store tiering.ObjectStore
	stats func() tiering.Stats
	close func()
	desc  string // where objects go, for logs and DescribeLogDirs
	up    *remote.Uploader
	rd    *remote.Reader
}

// errTierUnavailable is the fetch error for old offsets while the object
// store is not set up yet.
var errTierUnavailable = errors.New("agent: the object store is not available")

// startTiering opens the object store and starts the uploader and reader.
// An S3 store that cannot be reached yet is retried in the background;
// until then nothing is offloaded (and nothing deleted locally).
func (a *Agent) startTiering(ctx context.Context) error {
	cfg := a.cfg.Tiering
	if cfg.S3.Bucket == "" {
		dir := cfg.Dir
		if dir == "" {
			dir = filepath.Join(a.cfg.DataDir, "objects")
		}
		st, err := fsstore.Open(dir)
		if err != nil {
			return fmt.Errorf("object store %s: %w", dir, err)
		}
		return a.installTier(st, st.Stats, func() {}, "file://"+dir)
	}
	desc := fmt.Sprintf("s3://%s/%s (%s)", cfg.S3.Bucket, cfg.S3.Prefix, cfg.S3.Endpoint)
	st, err := s3.New(ctx, cfg.S3)
	if err == nil {
		return a.installTier(st, st.Stats, st.Close, desc)
	}
	if !errors.Is(err, tiering.ErrUnavailable) {
		return fmt.Errorf("object store %s: %w", desc, err)
	}
	a.logger.Warn("object store unreachable; retrying in the background (nothing is offloaded or deleted locally meanwhile)", "store", desc, "err", err)
	a.goRun(func(ctx context.Context) {
		for delay := time.Second; ; delay = min(2*delay, time.Minute) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			st, err := s3.New(ctx, cfg.S3)
			if err == nil {
				if err := a.installTier(st, st.Stats, st.Close, desc); err != nil {
					a.logger.Error("start tiering", "err", err)
				}
				return
			}
			a.logger.Warn("object store still unreachable", "store", desc, "err", err, "retry_in", delay)
		}
	})
	return nil
}

func (a *Agent) installTier(st tiering.ObjectStore, stats func() tiering.Stats, closeFn func(), desc string) error {
	ucfg := remote.NewUploaderConfig()
	ucfg.Store, ucfg.Catalogue, ucfg.ClusterID, ucfg.AgentID = st, a.store, a.clusterID, a.cfg.NodeID
	ucfg.Concurrency = a.cfg.Tiering.UploadConcurrency
	ucfg.Logger = a.logger.With("component", "uploader")
	ucfg.Committed = func(tp metadata.TopicPartition) int64 {
		if p := a.parts.get(tp.TopicID, tp.Partition); p != nil {
			return p.hw.Load()
		}
		return -1
	}
	up, err := remote.NewUploader(ucfg)
	if err != nil {
		return err
	}
	rcfg := remote.NewReaderConfig()
	rcfg.Store, rcfg.CacheBytes = st, a.cfg.Tiering.CacheBytes
	rcfg.Logger = a.logger.With("component", "remote_reader")
	rd, err := remote.NewReader(rcfg)
	if err != nil {
		up.Close()
		return err
	}
	t := &tier{store: st, stats: stats, close: closeFn, desc: desc, up: up, rd: rd}
	a.goRun(func(ctx context.Context) {
		if err := up.Run(ctx); err != nil && ctx.Err() == nil {
			a.logger.Error("uploader stopped", "err", err)
		}
	})
	a.tier.Store(t)
	a.logger.Info("object tier ready", "store", desc)
	// Offload what led partitions closed before the tier was ready.
	for _, p := range a.parts.all() {
		if p.isLeader() {
			a.tierLead(p)
		}
	}
	return nil
}

// flushTier is the clean shutdown's upload: it rolls the active segments of
// the partitions this agent leads (the roll hook enqueues them) and waits
// a few seconds for the uploads; what is left, the next leader uploads.
func (a *Agent) flushTier() {
	t := a.tier.Load()
	if t == nil {
		return
	}
	for _, p := range a.parts.all() {
		if p.isLeader() && p.cfg.Load().remote {
			if err := p.log.Roll(); err != nil {
				a.logger.Warn("roll before shutdown", "topic", p.topic, "partition", p.index, "err", err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	if err := t.up.Drain(ctx); err != nil {
		a.logger.Warn("uploads left for the next leader", "err", err)
	}
}

// closeTiering stops the tier (after every goroutine using it stopped).
func (a *Agent) closeTiering() {
	t := a.tier.Swap(nil)
	if t == nil {
		return
	}
	t.up.Close()
	t.rd.Close()
	t.close()
}

func tpOf(p *partition) metadata.TopicPartition {
	return metadata.TopicPartition{TopicID: p.topicID, Partition: p.index}
}

// onRoll is the log's roll hook: the leader offloads the closed segment.
func (a *Agent) onRoll(p *partition, seg log.SegmentInfo) {
	t := a.tier.Load()
	if t == nil || !p.isLeader() || !p.cfg.Load().remote {
		return
	}
	a.enqueue(t, p, seg)
}

func (a *Agent) enqueue(t *tier, p *partition, seg log.SegmentInfo) {
	var aborted []metadata.AbortedTxn
	for _, t := range p.log.AbortedTxns(seg.BaseOffset, seg.LastOffset+1) {
		if t.LastOffset <= seg.LastOffset {
			aborted = append(aborted, metadata.AbortedTxn{ProducerID: t.ProducerID, FirstOffset: t.FirstOffset, LastOffset: t.LastOffset})
		}
	}
	err := t.up.Enqueue(remote.Segment{
		TopicPartition: tpOf(p), Topic: p.topic,
		BaseOffset: seg.BaseOffset, LastOffset: seg.LastOffset, Size: seg.Size,
		LogPath: seg.LogPath, LeaderEpoch: p.leaderEpoch.Load(), AbortedTxns: aborted,
	})
	if err != nil {
		a.logger.Warn("enqueue segment for upload", "topic", p.topic, "partition", p.index, "base_offset", seg.BaseOffset, "err", err)
	}
}

// tierLead runs when this agent starts leading p: it loads p's catalogue
// and offloads the closed local segments not yet offloaded.
func (a *Agent) tierLead(p *partition) {
	t := a.tier.Load()
	if t == nil || !p.cfg.Load().remote {
		return
	}
	a.goRun(func(ctx context.Context) {
		if _, err := t.up.RemoteSegments(ctx, tpOf(p)); err != nil {
			a.logger.Warn("load remote catalogue", "topic", p.topic, "partition", p.index, "err", err)
			return
		}
		for _, seg := range p.log.Segments() {
			if seg.Closed && seg.LastOffset >= seg.BaseOffset {
				a.enqueue(t, p, seg)
			}
		}
	})
}

// tierForget runs when this agent stops leading p.
func (a *Agent) tierForget(p *partition) {
	if t := a.tier.Load(); t != nil {
		t.up.Forget(tpOf(p))
	}
}

// deletableUpTo is p's local log's WithDeletableUpTo hook: with remote
// storage, only offloaded segments may go. It must not call into the log,
// so it reads what the maintenance loop computed (tierRetention).
func (p *partition) deletableUpTo() int64 {
	if !p.cfg.Load().remote {
		return math.MaxInt64
	}
	return p.offloadedUpTo.Load()
}

// remoteSegments returns p's catalogue when p is led here with remote
// storage, nil otherwise.
func (a *Agent) remoteSegments(ctx context.Context, p *partition) []metadata.RemoteSegment {
	t := a.tier.Load()
	if t == nil || !p.cfg.Load().remote || !p.isLeader() {
		return nil
	}
	segs, err := t.up.RemoteSegments(ctx, tpOf(p))
	if err != nil {
		return nil
	}
	return segs
}

// logStartOffset is p's log start offset across both tiers.
func (a *Agent) logStartOffset(ctx context.Context, p *partition) int64 {
	local := p.log.LogStartOffset()
	if segs := a.remoteSegments(ctx, p); len(segs) > 0 && segs[0].BaseOffset < local {
		return max(segs[0].BaseOffset, p.remoteStart.Load())
	}
	return local
}

// readRemote serves a fetch below the local log start from the object tier.
func (a *Agent) readRemote(ctx context.Context, p *partition, offset int64, maxBytes int, maxOffset int64, minOne bool) ([]byte, error) {
	t := a.tier.Load()
	if t == nil {
		return nil, errTierUnavailable
	}
	segs := a.remoteSegments(ctx, p)
	if len(segs) == 0 || offset < max(segs[0].BaseOffset, p.remoteStart.Load()) {
		return nil, fmt.Errorf("%w: offset %d is below the log start", errOffsetOutOfRange, offset)
	}
	start := time.Now()
	data, err := t.rd.Read(ctx, segs, offset, maxBytes, maxOffset, minOne)
	a.metrics.remoteReadLatency.Observe(time.Since(start).Seconds())
	if errors.Is(err, remote.ErrOffsetOutOfRange) {
		return nil, fmt.Errorf("%w: %v", errOffsetOutOfRange, err)
	}
	return data, err
}

// tierRetention runs p's remote retention and refreshes how much of its
// local log is offloaded; the maintenance loop calls it before local
// retention.
func (a *Agent) tierRetention(ctx context.Context, p *partition, now time.Time, sweep bool) {
	t := a.tier.Load()
	tc := p.cfg.Load()
	if t == nil || !tc.remote || !p.isLeader() {
		p.offloadedUpTo.Store(p.log.LogStartOffset()) // nothing deletable
		return
	}
	tp := tpOf(p)
	localStart := p.log.LogStartOffset()
	upTo := t.up.UploadedUpTo(tp, localStart)
	p.offloadedUpTo.Store(upTo)
	var localOnly int64
	for _, seg := range p.log.Segments() {
		if seg.BaseOffset >= upTo {
			localOnly += seg.Size
		}
	}
	res, err := t.up.ApplyRetention(ctx, tp, now, remote.RetentionPolicy{
		RetentionMS: tc.retentionMS, RetentionBytes: tc.retentionBytes,
		LocalOnlyBytes: localOnly, LogStartOffset: p.remoteStart.Load(),
	})
	if err != nil {
		a.logger.Warn("remote retention", "topic", p.topic, "partition", p.index, "err", err)
	} else if res.Deleted > 0 {
		a.logger.Info("remote retention deleted segments", "topic", p.topic, "partition", p.index, "segments", res.Deleted, "bytes", res.DeletedBytes, "remote_log_start", res.RemoteLogStart)
		advance(&p.remoteStart, res.DeletedUpTo)
		if res.DeletedUpTo > localStart && res.DeletedUpTo <= p.log.LogEndOffset() {
			// Total retention passed data still on local disk too.
			if err := p.log.DeleteRecordsBefore(res.DeletedUpTo); err != nil {
				a.logger.Warn("advance log start", "topic", p.topic, "partition", p.index, "err", err)
			}
		}
	}
	if sweep {
		if _, err := t.up.SweepPartition(ctx, tp, a.cfg.Tiering.SweepGrace); err != nil {
			a.logger.Warn("sweep orphan objects", "topic", p.topic, "partition", p.index, "err", err)
		}
	}
}

// advance raises v to x.
func advance(v *atomic.Int64, x int64) {
	for {
		cur := v.Load()
		if x <= cur || v.CompareAndSwap(cur, x) {
			return
		}
	}
}

// diskFull reports whether the local logs hold more than DiskMaxBytes.
func (a *Agent) diskFull() error {
	limit := a.cfg.Tiering.DiskMaxBytes
	if limit <= 0 {
		return nil
	}
	var total int64
	for _, p := range a.parts.all() {
		total += p.log.Size()
	}
	if total < limit {
		return nil
	}
	return fmt.Errorf("%w: local logs hold %d bytes, the --disk-max-bytes limit is %d (uploads to the object store are behind: is it reachable?)", errDiskFull, total, limit)
}

var errDiskFull = errors.New("agent: local disk limit reached")

// deleteRemoteTopic removes a deleted topic's objects and catalogue
// entries in the background.
func (a *Agent) deleteRemoteTopic(id metadata.TopicID, name string) {
	t := a.tier.Load()
	if t == nil {
		return
	}
	a.goRun(func(ctx context.Context) {
		if _, err := t.up.DeleteTopic(ctx, id); err != nil && ctx.Err() == nil {
			a.logger.Warn("delete topic's remote data (the controller's sweep retries)", "topic", name, "err", err)
		}
	})
}

// sweepDeletedTopics is the controller's periodic clean-up of objects of
// topics that no longer exist.
func (a *Agent) sweepDeletedTopics(ctx context.Context) {
	t := a.tier.Load()
	if t == nil {
		return
	}
	exists := func(id metadata.TopicID) bool { _, ok := a.cache.TopicByID(id); return ok }
	if _, err := t.up.SweepDeletedTopics(ctx, a.cfg.Tiering.SweepGrace, exists); err != nil && ctx.Err() == nil {
		a.logger.Warn("sweep deleted topics' objects", "err", err)
	}
}
