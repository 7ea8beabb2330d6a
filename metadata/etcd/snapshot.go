package etcd

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-io/strata/metadata"
)

// decodeTopics decodes topic keys and values.
func (s *Store) decodeTopics(kvs []*mvccpb.KeyValue) ([]metadata.Topic, error) {
	topics := make([]metadata.Topic, 0, len(kvs))
	for _, kv := range kvs {
		k, err := s.keys.parse(string(kv.Key))
		if err != nil {
			return nil, err
		}
		t, err := decodeTopic(k.name, kv.Value, kv.ModRevision)
		if err != nil {
			return nil, err
		}
		topics = append(topics, t)
	}
	return topics, nil
}

// Snapshot implements metadata.Store: one read-only transaction reads all
// topics, partition states and agents at one revision.
func (s *Store) Snapshot(ctx context.Context) (metadata.Snapshot, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return metadata.Snapshot{}, err
	}
	defer cancel()
	txn, err := s.client.Txn(ctx).
		Then(clientv3.OpGet(s.keys.topics(), clientv3.WithPrefix()),
			clientv3.OpGet(s.keys.allPartitions(), clientv3.WithPrefix()),
			clientv3.OpGet(s.keys.agents(), clientv3.WithPrefix())).
		Commit()
	if err != nil {
		return metadata.Snapshot{}, unavailable("read snapshot", err)
	}
	snap := metadata.Snapshot{Revision: txn.Header.Revision}
	if snap.Topics, err = s.decodeTopics(txn.Responses[0].GetResponseRange().Kvs); err != nil {
		return metadata.Snapshot{}, err
	}
	if snap.Partitions, err = s.decodePartitions(snap.Topics, txn.Responses[1].GetResponseRange().Kvs); err != nil {
		return metadata.Snapshot{}, err
	}
	if snap.Agents, err = s.decodeAgents(txn.Responses[2].GetResponseRange().Kvs); err != nil {
		return metadata.Snapshot{}, err
	}
	return snap, nil
}

// decodePartitions decodes partition keys and values into per-topic
// slices sized by the topics' partition counts. States of topics or
// partitions that topics does not list cannot exist (they are written and
// deleted together with their topic); if some do, they are skipped and
// logged.
func (s *Store) decodePartitions(topics []metadata.Topic, kvs []*mvccpb.KeyValue) (map[metadata.TopicID][]metadata.PartitionState, error) {
	parts := make(map[metadata.TopicID][]metadata.PartitionState, len(topics))
	for _, t := range topics {
		parts[t.ID] = make([]metadata.PartitionState, t.Partitions())
	}
	for _, kv := range kvs {
		k, err := s.keys.parse(string(kv.Key))
		if err != nil {
			return nil, err
		}
		ps, ok := parts[k.id]
		if !ok || int(k.partition) >= len(ps) {
			s.logger.Warn("skipping orphan partition state", "key", string(kv.Key))
			continue
		}
		if ps[k.partition], err = decodePartition(kv.Value, kv.ModRevision); err != nil {
			return nil, fmt.Errorf("key %q: %w", kv.Key, err)
		}
	}
	return parts, nil
}

// decodeAgents decodes agent keys and values, sorted by id.
func (s *Store) decodeAgents(kvs []*mvccpb.KeyValue) ([]metadata.Agent, error) {
	agents := make([]metadata.Agent, 0, len(kvs))
	for _, kv := range kvs {
		k, err := s.keys.parse(string(kv.Key))
		if err != nil {
			return nil, err
		}
		a, err := decodeAgent(k.agent, kv.Value)
		if err != nil {
			return nil, err
		}
		agents = append(agents, a)
	}
	slices.SortFunc(agents, func(a, b metadata.Agent) int { return cmp.Compare(a.ID, b.ID) })
	return agents, nil
}
