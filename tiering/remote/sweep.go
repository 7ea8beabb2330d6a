package remote

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/tiering"
)

// SweepResult says what a sweep or DeleteTopic did.
type SweepResult struct {
	// Scanned counts the segment objects looked at.
	Scanned int
	// Deleted and DeletedBytes count the objects deleted.
	Deleted      int
	DeletedBytes int64
	// Young counts objects that no catalogue entry names but that were
	// kept because they are younger than the grace period: an upload
	// may be about to record them.
	Young int
}

// checkGrace refuses a grace period an upload attempt could outlast.
func (u *Uploader) checkGrace(grace time.Duration) error {
	if grace < u.cfg.AttemptTimeout {
		return fmt.Errorf("%w: sweep grace period %v is shorter than the upload AttemptTimeout %v", ErrInvalidConfig, grace, u.cfg.AttemptTimeout)
	}
	return nil
}

// SweepPartition deletes tp's orphans: objects under tp's prefix that no
// catalogue entry names and that are older than grace (by the store's
// modification time against cfg.Now). Orphans come from a crash or an
// outage between an upload's PUTs and its catalogue write, from a failed
// object deletion after retention, and from uploads of earlier leaders
// that lost a race. The partition's leader runs it (say hourly); while it
// runs, no upload of tp starts here, so an upload retrying the same keys
// cannot have its fresh objects deleted under it. grace must be at least
// cfg.AttemptTimeout.
func (u *Uploader) SweepPartition(ctx context.Context, tp metadata.TopicPartition, grace time.Duration) (SweepResult, error) {
	if err := u.checkGrace(grace); err != nil {
		return SweepResult{}, err
	}
	p, err := u.beginSweep(ctx, tp)
	if err != nil {
		return SweepResult{}, err
	}
	defer u.endSweep(p)
	segs, err := u.refresh(ctx, p)
	if err != nil {
		return SweepResult{}, err
	}
	named := make(map[string]bool, 3*len(segs))
	for _, s := range segs {
		named[s.LogKey], named[s.IndexKey], named[s.TimeIndexKey] = true, true, true
	}
	cutoff := u.now().Add(-grace)
	var res SweepResult
	var orphans []tiering.ObjectInfo
	err = u.cfg.Store.List(ctx, tiering.PartitionPrefix(u.cfg.ClusterID, tp), func(oi tiering.ObjectInfo) error {
		obj, err := tiering.ParseSegmentKey(oi.Key)
		if err != nil || obj.ClusterID != u.cfg.ClusterID || obj.TopicPartition != tp {
			return nil
		}
		res.Scanned++
		switch {
		case named[oi.Key]:
		case oi.ModTime.After(cutoff):
			res.Young++
		default:
			orphans = append(orphans, oi)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, u.deleteOrphans(ctx, &res, orphans)
}

// beginSweep marks tp as being swept once no upload of it is in flight.
func (u *Uploader) beginSweep(ctx context.Context, tp metadata.TopicPartition) (*partition, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for {
		if u.closed {
			return nil, ErrClosed
		}
		p := u.partitionLocked(tp)
		if !p.busy && !p.sweeping {
			p.sweeping = true
			return p, nil
		}
		ch := u.notify
		u.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			u.mu.Lock()
			return nil, ctx.Err()
		}
		u.mu.Lock()
	}
}

func (u *Uploader) endSweep(p *partition) {
	u.mu.Lock()
	p.sweeping = false
	u.changedLocked()
	u.mu.Unlock()
}

// deleteOrphans deletes objs, counting them in res.
func (u *Uploader) deleteOrphans(ctx context.Context, res *SweepResult, objs []tiering.ObjectInfo) error {
	for _, oi := range objs {
		if err := u.cfg.Store.Delete(ctx, oi.Key); err != nil {
			return err
		}
		res.Deleted++
		res.DeletedBytes += oi.Size
		u.stats.swept.Add(1)
		u.stats.sweptBytes.Add(oi.Size)
	}
	if len(objs) > 0 {
		u.logger.Info("deleted orphan objects", "objects", len(objs), "bytes", res.DeletedBytes)
	}
	return nil
}

// SweepDeletedTopics removes what deleted topics left in the object store
// and the catalogue: for every topic under the cluster's prefix for which
// exists returns false, and all of whose objects are older than grace (so
// a topic created after the caller's view of the topics is left alone),
// it deletes the topic's catalogue entries and then its objects. It
// finishes DeleteTopic calls a crash interrupted. One agent (the
// controller) runs it now and then; it lists every object of the cluster.
func (u *Uploader) SweepDeletedTopics(ctx context.Context, grace time.Duration, exists func(metadata.TopicID) bool) (SweepResult, error) {
	if err := u.checkGrace(grace); err != nil {
		return SweepResult{}, err
	}
	type topic struct {
		objs  []tiering.ObjectInfo
		young bool
	}
	cutoff := u.now().Add(-grace)
	gone := make(map[metadata.TopicID]*topic)
	var res SweepResult
	err := u.cfg.Store.List(ctx, tiering.ClusterPrefix(u.cfg.ClusterID), func(oi tiering.ObjectInfo) error {
		obj, err := tiering.ParseSegmentKey(oi.Key)
		if err != nil || obj.ClusterID != u.cfg.ClusterID || exists(obj.TopicID) {
			return nil
		}
		res.Scanned++
		t := gone[obj.TopicID]
		if t == nil {
			t = &topic{}
			gone[obj.TopicID] = t
		}
		if oi.ModTime.After(cutoff) {
			t.young = true
			res.Young++
		} else {
			t.objs = append(t.objs, oi)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, id := range slices.SortedFunc(maps.Keys(gone), func(a, b metadata.TopicID) int { return bytes.Compare(a[:], b[:]) }) {
		if gone[id].young {
			continue
		}
		if err := u.cfg.Catalogue.DeleteRemoteTopic(ctx, id); err != nil {
			return res, err
		}
		if err := u.deleteOrphans(ctx, &res, gone[id].objs); err != nil {
			return res, err
		}
	}
	return res, nil
}

// DeleteTopic removes a deleted topic's remote data: it forgets the
// topic's partitions here, deletes their catalogue entries, then every
// object under the topic's prefix, then the catalogue entries once more
// (an upload that was in flight elsewhere may have added one). The agent
// that deletes a topic calls it after the topic is gone from the
// metadata; a crash midway leaves work for SweepDeletedTopics.
func (u *Uploader) DeleteTopic(ctx context.Context, id metadata.TopicID) (SweepResult, error) {
	u.mu.Lock()
	for tp, p := range u.parts {
		if tp.TopicID == id {
			u.forgetLocked(p)
		}
	}
	u.mu.Unlock()
	var res SweepResult
	if err := u.cfg.Catalogue.DeleteRemoteTopic(ctx, id); err != nil {
		return res, err
	}
	var objs []tiering.ObjectInfo
	err := u.cfg.Store.List(ctx, tiering.TopicPrefix(u.cfg.ClusterID, id), func(oi tiering.ObjectInfo) error {
		res.Scanned++
		objs = append(objs, oi)
		return nil
	})
	if err != nil {
		return res, err
	}
	if err := u.deleteOrphans(ctx, &res, objs); err != nil {
		return res, err
	}
	return res, u.cfg.Catalogue.DeleteRemoteTopic(ctx, id)
}
