package remote

import (
	"context"
	"time"

	"github.com/strata-io/strata/metadata"
)

// RetentionPolicy holds a partition's total-retention settings and the
// local figures remote retention needs.
type RetentionPolicy struct {
	// RetentionMS is retention.ms: a remote segment whose MaxTimestamp
	// (UploadedAt if it has none) is older than this is deleted.
	// Negative means unlimited.
	RetentionMS time.Duration
	// RetentionBytes is retention.bytes: the oldest remote segments are
	// deleted while the partition's total size without them stays at
	// least this. Negative means unlimited.
	RetentionBytes int64
	// LocalOnlyBytes is the size of the partition's local segments that
	// are not in the remote tier — those whose base offset is at or above
	// the remote end (UploadedUpTo), the active one included. With the
	// remote segments it makes the total that RetentionBytes limits (as
	// Kafka counts it: remote bytes plus local-only bytes).
	LocalOnlyBytes int64
	// LogStartOffset, when positive, is the partition's log start offset
	// (moved by DeleteRecords): remote segments entirely below it are
	// deleted whatever the retention settings.
	LogStartOffset int64
}

// RetentionResult says what ApplyRetention did.
type RetentionResult struct {
	// Deleted and DeletedBytes count the remote segments deleted.
	Deleted      int
	DeletedBytes int64
	// DeletedUpTo is the end (last offset + 1) of the last segment
	// deleted, -1 if none was: no offset below it is readable any more,
	// so the agent raises the partition's log start offset to at least
	// this.
	DeletedUpTo int64
	// RemoteLogStart is the base offset of the first remaining remote
	// segment, -1 when none remains.
	RemoteLogStart int64
}

// ApplyRetention deletes tp's oldest remote segments while one of them is
// below pol.LogStartOffset, past pol.RetentionMS, or not needed to keep
// pol.RetentionBytes, stopping at the first that is none of these. For
// each it deletes the catalogue entry first, then the objects (invariant
// 4): an object that fails to delete is left as an orphan for a sweep
// (and logged); a catalogue failure stops retention and is returned with
// what was done so far. The partition's leader calls it periodically,
// with the same clock as local retention.
func (u *Uploader) ApplyRetention(ctx context.Context, tp metadata.TopicPartition, now time.Time, pol RetentionPolicy) (RetentionResult, error) {
	res := RetentionResult{DeletedUpTo: -1, RemoteLogStart: -1}
	segs, err := u.RemoteSegments(ctx, tp)
	if err != nil {
		return res, err
	}
	total := pol.LocalOnlyBytes
	for _, s := range segs {
		total += s.Size
	}
	for _, s := range segs {
		byStart := pol.LogStartOffset > 0 && s.LastOffset < pol.LogStartOffset
		byTime := pol.RetentionMS >= 0 && now.UnixMilli()-segmentTime(&s) > pol.RetentionMS.Milliseconds()
		bySize := pol.RetentionBytes >= 0 && total-s.Size >= pol.RetentionBytes
		if !byStart && !byTime && !bySize {
			res.RemoteLogStart = s.BaseOffset
			break
		}
		if err := u.cfg.Catalogue.DeleteRemoteSegment(ctx, tp, s.BaseOffset); err != nil {
			res.RemoteLogStart = s.BaseOffset
			return res, err
		}
		u.removed(tp, s.BaseOffset)
		total -= s.Size
		res.Deleted++
		res.DeletedBytes += s.Size
		res.DeletedUpTo = s.LastOffset + 1
		u.stats.retentionSegments.Add(1)
		u.stats.retentionBytes.Add(s.Size)
		u.deleteObjects(ctx, tp, &s)
	}
	return res, nil
}

// segmentTime is the time retention.ms compares, in milliseconds.
func segmentTime(s *metadata.RemoteSegment) int64 {
	if s.MaxTimestamp >= 0 {
		return s.MaxTimestamp
	}
	return s.UploadedAt.UnixMilli()
}

// removed drops the entry at base from tp's catalogue copy.
func (u *Uploader) removed(tp metadata.TopicPartition, base int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p := u.parts[tp]
	if p == nil || !p.loaded {
		return
	}
	for i := range p.segs {
		if p.segs[i].BaseOffset == base {
			segs := make([]metadata.RemoteSegment, 0, len(p.segs)-1)
			p.publish(append(append(segs, p.segs[:i]...), p.segs[i+1:]...))
			return
		}
	}
}

// deleteObjects deletes the objects of a segment whose catalogue entry is
// gone. Failures leave orphans for a sweep; they are logged, not returned.
func (u *Uploader) deleteObjects(ctx context.Context, tp metadata.TopicPartition, s *metadata.RemoteSegment) {
	for _, key := range []string{s.LogKey, s.IndexKey, s.TimeIndexKey} {
		if err := u.cfg.Store.Delete(ctx, key); err != nil {
			u.logger.Warn("could not delete a remote segment's object; a sweep will", "topic_id", tp.TopicID.String(), "partition", tp.Partition, "key", key, "error", err)
		}
	}
}
