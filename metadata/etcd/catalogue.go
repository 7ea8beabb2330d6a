package etcd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-io/strata/metadata"
)

// remoteSegmentValue is a catalogue entry, as stored under
// catalogue/<topic id>/<partition>/<base offset>.
type remoteSegmentValue struct {
	V             int                   `json:"v"`
	BaseOffset    int64                 `json:"base_offset"`
	LastOffset    int64                 `json:"last_offset"`
	BaseTimestamp int64                 `json:"base_timestamp"`
	MaxTimestamp  int64                 `json:"max_timestamp"`
	Size          int64                 `json:"size"`
	LeaderEpoch   int32                 `json:"leader_epoch"`
	EpochStarts   []metadata.EpochStart `json:"epoch_starts,omitempty"`
	AbortedTxns   []metadata.AbortedTxn `json:"aborted_txns,omitempty"`
	CRC32C        uint32                `json:"crc32c"`
	LogKey        string                `json:"log_key"`
	IndexKey      string                `json:"index_key"`
	TimeIndexKey  string                `json:"time_index_key"`
	UploadedAt    time.Time             `json:"uploaded_at"`
	UploadedBy    int32                 `json:"uploaded_by"`
}

func encodeRemoteSegment(s metadata.RemoteSegment) string {
	return mustJSON(remoteSegmentValue{
		V:             valueVersion,
		BaseOffset:    s.BaseOffset,
		LastOffset:    s.LastOffset,
		BaseTimestamp: s.BaseTimestamp,
		MaxTimestamp:  s.MaxTimestamp,
		Size:          s.Size,
		LeaderEpoch:   s.LeaderEpoch,
		EpochStarts:   s.EpochStarts,
		AbortedTxns:   s.AbortedTxns,
		CRC32C:        s.CRC32C,
		LogKey:        s.LogKey,
		IndexKey:      s.IndexKey,
		TimeIndexKey:  s.TimeIndexKey,
		UploadedAt:    s.UploadedAt.UTC(),
		UploadedBy:    s.UploadedBy,
	})
}

// decodeRemoteSegment decodes the entry stored under key, whose base offset
// is base.
func decodeRemoteSegment(key string, base int64, b []byte) (metadata.RemoteSegment, error) {
	var v remoteSegmentValue
	if err := unmarshal("remote segment "+strconv.Quote(key), b, &v, &v.V); err != nil {
		return metadata.RemoteSegment{}, err
	}
	s := metadata.RemoteSegment{
		BaseOffset:    v.BaseOffset,
		LastOffset:    v.LastOffset,
		BaseTimestamp: v.BaseTimestamp,
		MaxTimestamp:  v.MaxTimestamp,
		Size:          v.Size,
		LeaderEpoch:   v.LeaderEpoch,
		EpochStarts:   v.EpochStarts,
		AbortedTxns:   v.AbortedTxns,
		CRC32C:        v.CRC32C,
		LogKey:        v.LogKey,
		IndexKey:      v.IndexKey,
		TimeIndexKey:  v.TimeIndexKey,
		UploadedAt:    v.UploadedAt,
		UploadedBy:    v.UploadedBy,
	}
	if err := s.Validate(); err != nil {
		return metadata.RemoteSegment{}, fmt.Errorf("%w: key %q: %w", ErrCorrupt, key, err)
	}
	if s.BaseOffset != base {
		return metadata.RemoteSegment{}, fmt.Errorf("%w: key %q holds the remote segment at %d", ErrCorrupt, key, s.BaseOffset)
	}
	return s, nil
}

// parseCatalogueBase returns the base offset of a key in dir, a
// partition's catalogue directory.
func parseCatalogueBase(dir, key string) (int64, error) {
	num, ok := strings.CutPrefix(key, dir)
	base, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || len(num) != 20 || base < 0 {
		return 0, fmt.Errorf("%w: catalogue key %q", ErrCorrupt, key)
	}
	return base, nil
}

// decodeCatalogueKV decodes one entry of partition directory dir.
func decodeCatalogueKV(dir string, kv *mvccpb.KeyValue) (metadata.RemoteSegment, error) {
	base, err := parseCatalogueBase(dir, string(kv.Key))
	if err != nil {
		return metadata.RemoteSegment{}, err
	}
	return decodeRemoteSegment(string(kv.Key), base, kv.Value)
}

// AddRemoteSegment implements metadata.Catalogue. It reads what could
// conflict — the first entry in [base, last] and the predecessor — in one
// transaction, and writes the entry in a second one whose range compares
// prove that this is still all there is; if they fail it starts over.
func (s *Store) AddRemoteSegment(ctx context.Context, tp metadata.TopicPartition, seg metadata.RemoteSegment) (int64, error) {
	if err := metadata.ValidateTopicPartition(tp); err != nil {
		return 0, err
	}
	if err := seg.Validate(); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	what := fmt.Sprintf("add remote segment %d-%d of %s-%d", seg.BaseOffset, seg.LastOffset, tp.TopicID, tp.Partition)
	dir := s.keys.cataloguePartition(tp)
	key := s.keys.catalogueSegment(tp, seg.BaseOffset)
	end := s.keys.catalogueSegment(tp, seg.LastOffset) + "\x00" // [key, end) holds bases in [base, last]
	value := encodeRemoteSegment(seg)
	for {
		read, err := s.client.Txn(ctx).Then(
			clientv3.OpGet(key, clientv3.WithRange(end), clientv3.WithLimit(1)),
			clientv3.OpGet(dir, clientv3.WithRange(key), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(1)),
		).Commit()
		if err != nil {
			return 0, unavailable(what, err)
		}
		if kvs := read.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
			return s.existingRemoteSegment(dir, kvs[0], &seg, what)
		}
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0).WithRange(end)}
		if kvs := read.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
			prev, err := decodeCatalogueKV(dir, kvs[0])
			if err != nil {
				return 0, err
			}
			if prev.Overlaps(&seg) {
				return 0, fmt.Errorf("%s: %w: it overlaps the entry at %d-%d", what, metadata.ErrConflict, prev.BaseOffset, prev.LastOffset)
			}
			pk := string(kvs[0].Key)
			cmps = append(cmps,
				clientv3.Compare(clientv3.ModRevision(pk), "=", kvs[0].ModRevision),
				clientv3.Compare(clientv3.CreateRevision(pk+"\x00"), "=", 0).WithRange(key))
		} else {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(dir), "=", 0).WithRange(key))
		}
		txn, err := s.client.Txn(ctx).If(cmps...).Then(clientv3.OpPut(key, value)).Commit()
		if err != nil {
			return 0, unavailable(what, err)
		}
		if txn.Succeeded {
			return txn.Header.Revision, nil
		}
	}
}

// existingRemoteSegment answers an add that found kv, the first entry in
// the new entry's range: success if it is the same entry, else a conflict.
func (s *Store) existingRemoteSegment(dir string, kv *mvccpb.KeyValue, seg *metadata.RemoteSegment, what string) (int64, error) {
	have, err := decodeCatalogueKV(dir, kv)
	if err != nil {
		return 0, err
	}
	if have.Equal(seg) {
		return kv.ModRevision, nil
	}
	if have.BaseOffset == seg.BaseOffset {
		return 0, fmt.Errorf("%s: %w: another entry has that base offset", what, metadata.ErrConflict)
	}
	return 0, fmt.Errorf("%s: %w: it overlaps the entry at %d-%d", what, metadata.ErrConflict, have.BaseOffset, have.LastOffset)
}

// RemoteSegments implements metadata.Catalogue with a paged read of the
// partition's directory, whose keys sort by base offset.
func (s *Store) RemoteSegments(ctx context.Context, tp metadata.TopicPartition) ([]metadata.RemoteSegment, error) {
	if err := metadata.ValidateTopicPartition(tp); err != nil {
		return nil, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	dir := s.keys.cataloguePartition(tp)
	out := []metadata.RemoteSegment{}
	err = s.rangeAll(ctx, fmt.Sprintf("read remote segments of %s-%d", tp.TopicID, tp.Partition), dir, func(kv *mvccpb.KeyValue) error {
		seg, err := decodeCatalogueKV(dir, kv)
		if err != nil {
			return err
		}
		out = append(out, seg)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRemoteSegment implements metadata.Catalogue.
func (s *Store) DeleteRemoteSegment(ctx context.Context, tp metadata.TopicPartition, base int64) error {
	if err := metadata.ValidateTopicPartition(tp); err != nil {
		return err
	}
	if base < 0 {
		return fmt.Errorf("%w: remote segment base offset %d", metadata.ErrInvalid, base)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if _, err := s.client.Delete(ctx, s.keys.catalogueSegment(tp, base)); err != nil {
		return unavailable(fmt.Sprintf("delete remote segment %d of %s-%d", base, tp.TopicID, tp.Partition), err)
	}
	return nil
}

// DeleteRemoteTopic implements metadata.Catalogue with one range delete.
func (s *Store) DeleteRemoteTopic(ctx context.Context, id metadata.TopicID) error {
	if id.IsZero() {
		return fmt.Errorf("%w: delete the catalogue of the zero topic id", metadata.ErrInvalid)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if _, err := s.client.Delete(ctx, s.keys.catalogueTopic(id), clientv3.WithPrefix()); err != nil {
		return unavailable(fmt.Sprintf("delete remote segments of topic %s", id), err)
	}
	return nil
}
