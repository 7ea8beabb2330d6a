package agent

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-io/strata/metadata"
)

// timedStore is the metadata store with the latency of its writes and
// frequent reads recorded in strata_metadata_request_duration_seconds{op}.
// Calls not overridden here go straight to the store.
type timedStore struct {
	metadata.Store
	ops *prometheus.HistogramVec
}

func (s timedStore) observe(op string, start time.Time) {
	s.ops.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (s timedStore) CreateTopic(ctx context.Context, t metadata.Topic, st []metadata.PartitionState) (int64, error) {
	defer s.observe("create_topic", time.Now())
	return s.Store.CreateTopic(ctx, t, st)
}

func (s timedStore) DeleteTopic(ctx context.Context, name string) (int64, error) {
	defer s.observe("delete_topic", time.Now())
	return s.Store.DeleteTopic(ctx, name)
}

func (s timedStore) UpdateTopic(ctx context.Context, t metadata.Topic, st []metadata.PartitionState) (int64, error) {
	defer s.observe("update_topic", time.Now())
	return s.Store.UpdateTopic(ctx, t, st)
}

func (s timedStore) CompareAndSwapPartition(ctx context.Context, id metadata.TopicID, p int32, st metadata.PartitionState) (int64, error) {
	defer s.observe("cas_partition", time.Now())
	return s.Store.CompareAndSwapPartition(ctx, id, p, st)
}

func (s timedStore) AllocateProducerIDs(ctx context.Context, n int64) (int64, error) {
	defer s.observe("allocate_producer_ids", time.Now())
	return s.Store.AllocateProducerIDs(ctx, n)
}

func (s timedStore) ClaimCoordinator(ctx context.Context, reg metadata.Registration, shard metadata.CoordinatorShard) (metadata.CoordinatorClaim, bool, error) {
	defer s.observe("claim_coordinator", time.Now())
	return s.Store.ClaimCoordinator(ctx, reg, shard)
}

func (s timedStore) CommitOffsets(ctx context.Context, claim metadata.CoordinatorClaim, group string, offsets []metadata.CommittedOffset) error {
	defer s.observe("commit_offsets", time.Now())
	return s.Store.CommitOffsets(ctx, claim, group, offsets)
}

func (s timedStore) PutGroup(ctx context.Context, claim metadata.CoordinatorClaim, g metadata.Group) error {
	defer s.observe("put_group", time.Now())
	return s.Store.PutGroup(ctx, claim, g)
}

func (s timedStore) AddRemoteSegment(ctx context.Context, tp metadata.TopicPartition, seg metadata.RemoteSegment) (int64, error) {
	defer s.observe("add_remote_segment", time.Now())
	return s.Store.AddRemoteSegment(ctx, tp, seg)
}

func (s timedStore) Revision(ctx context.Context) (int64, error) {
	defer s.observe("revision", time.Now())
	return s.Store.Revision(ctx)
}
