package remote

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/tiering"
)

// maxConflicts bounds how often one attempt re-plans after the catalogue
// refused its entry; each refusal reveals an entry that the next plan
// leaves out, so more than a few means something else is wrong.
const maxConflicts = 8

// errVanished marks a segment whose file is gone (retention, topic
// deletion): there is nothing left to upload.
var errVanished = errors.New("remote: local segment file is gone")

// work is one worker: it takes the next partition with an uploadable
// segment and uploads it, until ctx ends.
func (u *Uploader) work(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		p, seg, wait, notify := u.take()
		if p != nil {
			u.process(ctx, p, seg)
			continue
		}
		var tick <-chan time.Time
		if wait > 0 {
			timer.Reset(wait) // since Go 1.23 no stale tick survives Reset
			tick = timer.C
		}
		select {
		case <-notify:
		case <-tick:
		case <-ctx.Done():
		}
	}
}

// take claims the partition whose head segment has waited longest among
// those ready to upload (not in flight, not backing off, committed). If
// none is ready it returns how long until one may be (0: until
// something changes) and the channel that signals a change.
func (u *Uploader) take() (*partition, Segment, time.Duration, <-chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	var best *partition
	var wait time.Duration
	soonest := func(d time.Duration) {
		if wait == 0 || d < wait {
			wait = d
		}
	}
	for p := range u.queue {
		switch {
		case p.busy, p.sweeping:
			continue
		case now.Before(p.retryAt):
			soonest(p.retryAt.Sub(now))
			continue
		case u.cfg.Committed != nil && p.pending[0].seg.LastOffset >= u.cfg.Committed(p.tp):
			soonest(u.cfg.CommitPoll)
			continue
		}
		if best == nil || p.pending[0].at.Before(best.pending[0].at) {
			best = p
		}
	}
	if best == nil {
		return nil, Segment{}, wait, u.notify
	}
	best.busy = true
	return best, best.pending[0].seg, 0, nil
}

// process runs one upload attempt of seg, the head of p's queue, and
// records its outcome.
func (u *Uploader) process(ctx context.Context, p *partition, seg Segment) {
	actx, cancel := context.WithTimeout(ctx, u.cfg.AttemptTimeout)
	u.mu.Lock()
	p.cancel = cancel
	if u.parts[p.tp] != p {
		cancel() // forgotten since take
	}
	u.mu.Unlock()
	err := u.upload(actx, p, seg)
	cancel()
	u.finish(ctx, p, seg, err)
}

// finish records the outcome of an attempt: done or dropped segments
// leave the queue, failed ones back off. Counts change before anyone is
// woken, so Drain's callers see them.
func (u *Uploader) finish(ctx context.Context, p *partition, seg Segment, err error) {
	corrupt := errors.Is(err, ErrCorrupt)
	drop := corrupt || errors.Is(err, errVanished) || errors.Is(err, errChanged)
	u.mu.Lock()
	p.busy, p.cancel = false, nil
	if u.parts[p.tp] != p || ctx.Err() != nil {
		// Forgotten, or the uploader is stopping: nothing to record.
		u.changedLocked()
		u.mu.Unlock()
		return
	}
	topic := p.topic
	var backoff time.Duration
	switch {
	case err == nil || drop:
		if len(p.pending) > 0 && p.pending[0].seg.same(&seg) {
			p.pending = slices.Delete(p.pending, 0, 1)
		}
		if len(p.pending) == 0 {
			delete(u.queue, p)
		}
		p.failures, p.retryAt = 0, time.Time{}
		if drop {
			u.stats.dropped.Add(1)
		}
		if corrupt {
			u.stats.corrupt.Add(1)
		}
	default:
		p.failures++
		backoff = u.backoff(p.failures)
		p.retryAt = time.Now().Add(backoff)
		u.stats.failures.Add(1)
	}
	failures := p.failures
	u.changedLocked()
	u.mu.Unlock()

	attrs := []any{"topic", topic, "topic_id", p.tp.TopicID.String(), "partition", p.tp.Partition, "base_offset", seg.BaseOffset, "path", seg.LogPath, "error", err}
	switch {
	case err == nil:
	case corrupt:
		u.logger.Error("not offloading a corrupt local segment; it stays on local disk", attrs...)
	case drop:
		u.logger.Info("dropping upload of a local segment that is gone or changed", attrs...)
	case failures&(failures-1) == 0:
		// A streak of failures logs at its start and then at powers of
		// two, not once per retry.
		u.logger.Warn("segment upload failed; retrying", append(attrs, "attempts", failures, "retry_in", backoff)...)
	}
}

// backoff returns the wait after the n-th consecutive failure: doubling
// from MinBackoff, capped at MaxBackoff, drawn from its upper half.
func (u *Uploader) backoff(n int) time.Duration {
	d := u.cfg.MaxBackoff
	if n < 63 {
		if s := u.cfg.MinBackoff << (n - 1); s > 0 && s < d {
			d = s
		}
	}
	return d/2 + rand.N(d/2+1)
}

// upload offloads the parts of seg the catalogue does not cover yet, one
// range at a time. Each round reads the catalogue afresh, so the plan
// never rests on a stale copy, puts the range's objects, and adds its
// entry; an entry refused as conflicting sends it round again.
func (u *Uploader) upload(ctx context.Context, p *partition, seg Segment) error {
	for conflicts := 0; ; {
		segs, err := u.refresh(ctx, p)
		if err != nil {
			return err
		}
		from, to, ok := firstGap(segs, seg.BaseOffset, seg.LastOffset)
		if !ok {
			return nil
		}
		rs, err := u.put(ctx, p.tp, seg, from, to)
		if err != nil {
			return err
		}
		_, err = u.cfg.Catalogue.AddRemoteSegment(ctx, p.tp, rs)
		if errors.Is(err, metadata.ErrConflict) && conflicts < maxConflicts {
			conflicts++
			continue
		}
		if err != nil {
			return err
		}
		u.added(p, rs)
	}
}

// added inserts a new entry into p's catalogue copy and counts it.
func (u *Uploader) added(p *partition, rs metadata.RemoteSegment) {
	u.stats.segments.Add(1)
	u.stats.bytes.Add(rs.Size)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.parts[p.tp] != p || !p.loaded {
		return
	}
	i, _ := slices.BinarySearchFunc(p.segs, rs.BaseOffset, func(s metadata.RemoteSegment, base int64) int {
		return cmp.Compare(s.BaseOffset, base)
	})
	if i < len(p.segs) && p.segs[i].BaseOffset == rs.BaseOffset {
		return
	}
	p.publish(slices.Insert(slices.Clone(p.segs), i, rs))
}

// put uploads offsets [from, to] of the local segment seg — all of it,
// or the part a previous leader did not offload — and returns its
// catalogue entry. The .log object is streamed through a scanner that
// checks it and builds the indexes, which go up after it.
func (u *Uploader) put(ctx context.Context, tp metadata.TopicPartition, seg Segment, from, to int64) (metadata.RemoteSegment, error) {
	f, err := os.Open(seg.LogPath)
	if errors.Is(err, fs.ErrNotExist) {
		return metadata.RemoteSegment{}, fmt.Errorf("%w: %w", errVanished, err)
	}
	if err != nil {
		return metadata.RemoteSegment{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return metadata.RemoteSegment{}, err
	}
	if fi.Size() != seg.Size {
		return metadata.RemoteSegment{}, fmt.Errorf("%w: %s has %d bytes, closed with %d", errChanged, seg.LogPath, fi.Size(), seg.Size)
	}
	start, end := int64(0), seg.Size
	if from > seg.BaseOffset {
		if start, err = findBatch(f, seg.Size, seg.BaseOffset, from); err != nil {
			return metadata.RemoteSegment{}, fmt.Errorf("%s: %w", seg.LogPath, err)
		}
	}
	if to < seg.LastOffset {
		if end, err = findBatch(f, seg.Size, seg.BaseOffset, to+1); err != nil {
			return metadata.RemoteSegment{}, fmt.Errorf("%s: %w", seg.LogPath, err)
		}
	}
	keys, err := tiering.NewSegmentKeys(u.cfg.ClusterID, tp, from, seg.LeaderEpoch)
	if err != nil {
		return metadata.RemoteSegment{}, err
	}
	size := end - start
	sc := newScanner(io.NewSectionReader(f, start, size), size, from, to, u.cfg.IndexIntervalBytes)
	err = u.cfg.Store.Put(ctx, keys.Log, sc, size)
	if sc.err != nil {
		return metadata.RemoteSegment{}, fmt.Errorf("%s: %w", seg.LogPath, sc.err)
	}
	if err != nil {
		return metadata.RemoteSegment{}, err
	}
	if sc.pos != size {
		return metadata.RemoteSegment{}, fmt.Errorf("store took %d of %d bytes of %s", sc.pos, size, keys.Log)
	}
	for _, obj := range []struct {
		key  string
		data []byte
	}{{keys.Index, encodeOffsetIndex(sc.index)}, {keys.TimeIndex, encodeTimeIndex(sc.times)}} {
		if err := u.cfg.Store.Put(ctx, obj.key, bytes.NewReader(obj.data), int64(len(obj.data))); err != nil {
			return metadata.RemoteSegment{}, err
		}
	}
	return metadata.RemoteSegment{
		BaseOffset:    from,
		LastOffset:    to,
		BaseTimestamp: sc.baseTS,
		MaxTimestamp:  sc.maxTS,
		Size:          size,
		LeaderEpoch:   seg.LeaderEpoch,
		EpochStarts:   sc.epochs,
		AbortedTxns:   abortedWithin(seg.AbortedTxns, from, to),
		CRC32C:        sc.crc,
		LogKey:        keys.Log,
		IndexKey:      keys.Index,
		TimeIndexKey:  keys.TimeIndex,
		UploadedAt:    u.now(),
		UploadedBy:    u.cfg.AgentID,
	}, nil
}

// abortedWithin keeps the aborted transactions whose marker is in
// [from, to].
func abortedWithin(all []metadata.AbortedTxn, from, to int64) []metadata.AbortedTxn {
	var out []metadata.AbortedTxn
	for _, a := range all {
		if a.LastOffset >= from && a.LastOffset <= to {
			out = append(out, a)
		}
	}
	return out
}

// same reports whether s and o describe the same local segment upload
// (everything but the aborted-transaction list, which follows from it).
func (s *Segment) same(o *Segment) bool {
	return s.TopicPartition == o.TopicPartition && s.BaseOffset == o.BaseOffset && s.LastOffset == o.LastOffset &&
		s.Size == o.Size && s.LogPath == o.LogPath && s.LeaderEpoch == o.LeaderEpoch && s.Topic == o.Topic
}
