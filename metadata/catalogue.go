package metadata

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// EpochStart records that leader epoch Epoch starts at StartOffset: the
// batches from StartOffset on (up to the next entry) were written by the
// leader of Epoch. It is one entry of Kafka's leader-epoch cache.
type EpochStart struct {
	Epoch       int32 `json:"epoch"`
	StartOffset int64 `json:"start_offset"`
}

// RemoteSegment describes one log segment offloaded to the object store:
// an entry of a partition's catalogue. The segment's objects hold the
// batches with offsets BaseOffset to LastOffset, byte for byte as the local
// segment held them, plus an offset index and a time index (package
// tiering/remote documents the objects). Entries are immutable once
// written; they are deleted by remote retention or with their topic.
type RemoteSegment struct {
	// BaseOffset is the offset of the segment's first batch, and the
	// entry's identity within the partition.
	BaseOffset int64
	// LastOffset is the last offset of the segment's last batch.
	LastOffset int64
	// BaseTimestamp is the first batch's base timestamp (milliseconds), -1
	// when it has none.
	BaseTimestamp int64
	// MaxTimestamp is the largest batch MaxTimestamp in the segment, -1
	// when no batch has one. Remote retention.ms compares it, and a
	// timestamp lookup picks the first segment whose MaxTimestamp reaches
	// the wanted time.
	MaxTimestamp int64
	// Size is the length of the .log object in bytes.
	Size int64
	// LeaderEpoch is the epoch of the leader that uploaded the segment
	// (part of its object keys).
	LeaderEpoch int32
	// EpochStarts are the leader-epoch changes inside the segment, in
	// increasing order of both fields: the first entry is the epoch of the
	// batch at BaseOffset, at BaseOffset (unless that batch carries no
	// epoch); each further entry is the first batch of a newer epoch. OffsetForLeaderEpoch answers from them for
	// offsets that are only in the object store.
	EpochStarts []EpochStart
	// AbortedTxns are the aborted transactions whose abort marker lies in
	// the segment (LastOffset within it), for read_committed fetches of
	// offloaded data.
	AbortedTxns []AbortedTxn
	// CRC32C is the CRC-32C (Castagnoli) of the whole .log object.
	CRC32C uint32
	// LogKey, IndexKey and TimeIndexKey are the object keys of the
	// segment's data, offset index and time index.
	LogKey, IndexKey, TimeIndexKey string
	// UploadedAt is when the upload finished; UploadedBy is the uploading
	// agent's id (-1 when unknown).
	UploadedAt time.Time
	UploadedBy int32
}

// Validate checks an entry before it is written: offsets, size and epochs
// in range, epoch starts inside the segment and increasing, and all three
// object keys set.
func (s *RemoteSegment) Validate() error {
	switch {
	case s.BaseOffset < 0 || s.LastOffset < s.BaseOffset:
		return fmt.Errorf("%w: remote segment offsets %d to %d", ErrInvalid, s.BaseOffset, s.LastOffset)
	case s.Size <= 0:
		return fmt.Errorf("%w: remote segment at %d has size %d", ErrInvalid, s.BaseOffset, s.Size)
	case s.LeaderEpoch < 0:
		return fmt.Errorf("%w: remote segment at %d has leader epoch %d", ErrInvalid, s.BaseOffset, s.LeaderEpoch)
	case s.BaseTimestamp < -1 || s.MaxTimestamp < -1:
		return fmt.Errorf("%w: remote segment at %d has timestamps %d, %d", ErrInvalid, s.BaseOffset, s.BaseTimestamp, s.MaxTimestamp)
	case s.LogKey == "" || s.IndexKey == "" || s.TimeIndexKey == "":
		return fmt.Errorf("%w: remote segment at %d lacks an object key", ErrInvalid, s.BaseOffset)
	case s.UploadedBy < -1:
		return fmt.Errorf("%w: remote segment at %d uploaded by agent %d", ErrInvalid, s.BaseOffset, s.UploadedBy)
	case s.UploadedAt.UTC().Year() < 0 || s.UploadedAt.UTC().Year() > 9999:
		// RFC 3339, which stores encode times in, has four-digit years.
		return fmt.Errorf("%w: remote segment at %d uploaded at %v", ErrInvalid, s.BaseOffset, s.UploadedAt)
	}
	for _, a := range s.AbortedTxns {
		if a.ProducerID < 0 || a.FirstOffset < 0 || a.FirstOffset > a.LastOffset || a.LastOffset < s.BaseOffset || a.LastOffset > s.LastOffset {
			return fmt.Errorf("%w: remote segment at %d has aborted transaction %+v", ErrInvalid, s.BaseOffset, a)
		}
	}
	for i, e := range s.EpochStarts {
		bad := e.Epoch < 0 || e.StartOffset < s.BaseOffset || e.StartOffset > s.LastOffset ||
			(i > 0 && (e.Epoch <= s.EpochStarts[i-1].Epoch || e.StartOffset <= s.EpochStarts[i-1].StartOffset))
		if bad {
			return fmt.Errorf("%w: remote segment at %d has epoch starts %v", ErrInvalid, s.BaseOffset, s.EpochStarts)
		}
	}
	return nil
}

// Clone returns a deep copy of s.
func (s RemoteSegment) Clone() RemoteSegment {
	s.EpochStarts = slices.Clone(s.EpochStarts)
	s.AbortedTxns = slices.Clone(s.AbortedTxns)
	return s
}

// AbortedTxn is an aborted transaction of one producer: its records lie in
// [FirstOffset, LastOffset], LastOffset being the abort marker.
type AbortedTxn struct {
	ProducerID  int64 `json:"producer_id"`
	FirstOffset int64 `json:"first_offset"`
	LastOffset  int64 `json:"last_offset"`
}

// Equal reports whether s and o describe the same upload, comparing
// UploadedAt as an instant.
func (s *RemoteSegment) Equal(o *RemoteSegment) bool {
	return s.BaseOffset == o.BaseOffset && s.LastOffset == o.LastOffset &&
		s.BaseTimestamp == o.BaseTimestamp && s.MaxTimestamp == o.MaxTimestamp &&
		s.Size == o.Size && s.LeaderEpoch == o.LeaderEpoch &&
		slices.Equal(s.EpochStarts, o.EpochStarts) && slices.Equal(s.AbortedTxns, o.AbortedTxns) && s.CRC32C == o.CRC32C &&
		s.LogKey == o.LogKey && s.IndexKey == o.IndexKey && s.TimeIndexKey == o.TimeIndexKey &&
		s.UploadedAt.Equal(o.UploadedAt) && s.UploadedBy == o.UploadedBy
}

// Overlaps reports whether s and o share an offset.
func (s *RemoteSegment) Overlaps(o *RemoteSegment) bool {
	return s.BaseOffset <= o.LastOffset && o.BaseOffset <= s.LastOffset
}

// ValidateTopicPartition checks that tp names a partition: a non-zero
// topic id and a non-negative index.
func ValidateTopicPartition(tp TopicPartition) error {
	if tp.TopicID.IsZero() || tp.Partition < 0 {
		return fmt.Errorf("%w: partition %s-%d", ErrInvalid, tp.TopicID, tp.Partition)
	}
	return nil
}

// Catalogue records, per partition, the segments offloaded to the object
// store. Entries are keyed by base offset and never overlap: the
// catalogue of a partition is a sorted list of disjoint offset ranges,
// possibly with gaps. The partition's leader adds entries as it uploads
// and removes them for remote retention; a catalogue entry is written only
// after its objects are durable, and removed before they are deleted, so
// an entry always names objects that exist.
type Catalogue interface {
	// AddRemoteSegment records s, create-if-absent by s.BaseOffset, and
	// returns the store revision of the write. If an entry equal to s (see
	// RemoteSegment.Equal) is already there it returns that entry's
	// revision and no error, so a retried add is harmless. If a different
	// entry has the same base offset, or any entry overlaps s's offsets,
	// it fails with ErrConflict and writes nothing.
	AddRemoteSegment(ctx context.Context, tp TopicPartition, s RemoteSegment) (rev int64, err error)
	// RemoteSegments returns the partition's entries sorted by base
	// offset; none is an empty list, not an error.
	RemoteSegments(ctx context.Context, tp TopicPartition) ([]RemoteSegment, error)
	// DeleteRemoteSegment removes the entry at base; a missing entry is
	// not an error.
	DeleteRemoteSegment(ctx context.Context, tp TopicPartition, base int64) error
	// DeleteRemoteTopic removes every entry of every partition of the
	// topic, in one atomic write. The topic's objects become orphans that
	// the caller (or the sweeper) deletes afterwards.
	DeleteRemoteTopic(ctx context.Context, id TopicID) error
}
