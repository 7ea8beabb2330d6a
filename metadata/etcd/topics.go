package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-io/strata/metadata"
)

// CreateTopic implements metadata.Topics: one transaction that requires
// both the name and the id to be free and writes the topic, its id key and
// every partition state.
func (s *Store) CreateTopic(ctx context.Context, t metadata.Topic, states []metadata.PartitionState) (int64, error) {
	if err := metadata.ValidateCreate(&t, states); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	topicKey, idKey := s.keys.topic(t.Name), s.keys.topicID(t.ID)
	ops := make([]clientv3.Op, 0, len(states)+2)
	ops = append(ops, clientv3.OpPut(topicKey, encodeTopic(t)), clientv3.OpPut(idKey, encodeTopicID(t.Name)))
	ops = append(ops, s.putPartitions(t.ID, 0, states)...)
	txn, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(topicKey), "=", 0),
			clientv3.Compare(clientv3.CreateRevision(idKey), "=", 0)).
		Then(ops...).
		Else(clientv3.OpGet(topicKey, clientv3.WithCountOnly()), clientv3.OpGet(idKey)).
		Commit()
	if err != nil {
		if isTooManyOps(err) {
			return 0, fmt.Errorf("create topic %q: %w: %d partitions need %d operations in one transaction, more than etcd's --max-txn-ops", t.Name, metadata.ErrInvalid, len(states), len(ops))
		}
		return 0, unavailable(fmt.Sprintf("create topic %q", t.Name), err)
	}
	if txn.Succeeded {
		return txn.Header.Revision, nil
	}
	if txn.Responses[0].GetResponseRange().Count > 0 {
		return 0, fmt.Errorf("create topic %q: %w", t.Name, metadata.ErrTopicExists)
	}
	holder := "another topic"
	if kvs := txn.Responses[1].GetResponseRange().Kvs; len(kvs) == 1 {
		if name, err := decodeTopicID(kvs[0].Value); err == nil {
			holder = fmt.Sprintf("topic %q", name)
		}
	}
	return 0, fmt.Errorf("create topic %q: %w: id %s is taken by %s", t.Name, metadata.ErrTopicExists, t.ID, holder)
}

// putPartitions returns puts of states for partitions first, first+1, ….
func (s *Store) putPartitions(id metadata.TopicID, first int, states []metadata.PartitionState) []clientv3.Op {
	ops := make([]clientv3.Op, len(states))
	for i, st := range states {
		ops[i] = clientv3.OpPut(s.keys.partition(id, int32(first+i)), encodePartition(st))
	}
	return ops
}

// getTopic reads one topic; ErrUnknownTopic if it does not exist.
func (s *Store) getTopic(ctx context.Context, op, name string) (metadata.Topic, error) {
	resp, err := s.client.Get(ctx, s.keys.topic(name))
	if err != nil {
		return metadata.Topic{}, unavailable(fmt.Sprintf("%s %q", op, name), err)
	}
	if len(resp.Kvs) == 0 {
		return metadata.Topic{}, fmt.Errorf("%s %q: %w", op, name, metadata.ErrUnknownTopic)
	}
	return decodeTopic(name, resp.Kvs[0].Value, resp.Kvs[0].ModRevision)
}

// DeleteTopic implements metadata.Topics: one transaction deletes the
// topic, its id key and its partition states, provided the topic did not
// change since it was read (else it reads again).
func (s *Store) DeleteTopic(ctx context.Context, name string) (int64, error) {
	if err := metadata.ValidateTopicName(name); err != nil {
		return 0, fmt.Errorf("delete topic %q: %w", name, metadata.ErrUnknownTopic)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	topicKey := s.keys.topic(name)
	for {
		t, err := s.getTopic(ctx, "delete topic", name)
		if err != nil {
			return 0, err
		}
		txn, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(topicKey), "=", t.Revision)).
			Then(clientv3.OpDelete(topicKey),
				clientv3.OpDelete(s.keys.topicID(t.ID)),
				clientv3.OpDelete(s.keys.partitions(t.ID), clientv3.WithPrefix())).
			Commit()
		if err != nil {
			return 0, unavailable(fmt.Sprintf("delete topic %q", name), err)
		}
		if txn.Succeeded {
			return txn.Header.Revision, nil
		}
	}
}

// Topic implements metadata.Topics.
func (s *Store) Topic(ctx context.Context, name string) (metadata.Topic, error) {
	if err := metadata.ValidateTopicName(name); err != nil {
		return metadata.Topic{}, fmt.Errorf("topic %q: %w", name, metadata.ErrUnknownTopic)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return metadata.Topic{}, err
	}
	defer cancel()
	return s.getTopic(ctx, "topic", name)
}

// ListTopics implements metadata.Topics. Keys sort by name, so the result
// does too.
func (s *Store) ListTopics(ctx context.Context) ([]metadata.Topic, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	resp, err := s.client.Get(ctx, s.keys.topics(), clientv3.WithPrefix())
	if err != nil {
		return nil, unavailable("list topics", err)
	}
	return s.decodeTopics(resp.Kvs)
}

// UpdateTopic implements metadata.Topics: a transaction that requires the
// topic key's revision to be t.Revision and writes the topic and the
// states of added partitions.
func (s *Store) UpdateTopic(ctx context.Context, t metadata.Topic, newStates []metadata.PartitionState) (int64, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	cur, err := s.getTopic(ctx, "update topic", t.Name)
	if err != nil {
		return 0, err
	}
	if cur.Revision != t.Revision {
		return 0, fmt.Errorf("update topic %q at revision %d (stored %d): %w", t.Name, t.Revision, cur.Revision, metadata.ErrConflict)
	}
	if err := metadata.ValidateUpdate(&cur, &t, newStates); err != nil {
		return 0, err
	}
	t.CreatedAt = cur.CreatedAt
	topicKey := s.keys.topic(t.Name)
	ops := append([]clientv3.Op{clientv3.OpPut(topicKey, encodeTopic(t))}, s.putPartitions(t.ID, cur.Partitions(), newStates)...)
	txn, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(topicKey), "=", t.Revision)).
		Then(ops...).
		Commit()
	if err != nil {
		if isTooManyOps(err) {
			return 0, fmt.Errorf("update topic %q: %w: adding %d partitions needs more operations in one transaction than etcd's --max-txn-ops", t.Name, metadata.ErrInvalid, len(newStates))
		}
		return 0, unavailable(fmt.Sprintf("update topic %q", t.Name), err)
	}
	if !txn.Succeeded {
		return 0, fmt.Errorf("update topic %q at revision %d: %w", t.Name, t.Revision, metadata.ErrConflict)
	}
	return txn.Header.Revision, nil
}

// Partition implements metadata.Topics. It reads the state and the topic's
// id key in one transaction, to tell an unknown topic from an unknown
// partition.
func (s *Store) Partition(ctx context.Context, id metadata.TopicID, partition int32) (metadata.PartitionState, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return metadata.PartitionState{}, err
	}
	defer cancel()
	txn, err := s.client.Txn(ctx).
		Then(clientv3.OpGet(s.keys.partition(id, partition)), clientv3.OpGet(s.keys.topicID(id), clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return metadata.PartitionState{}, unavailable(fmt.Sprintf("read topic id %s partition %d", id, partition), err)
	}
	if kvs := txn.Responses[0].GetResponseRange().Kvs; len(kvs) == 1 {
		return decodePartition(kvs[0].Value, kvs[0].ModRevision)
	}
	return metadata.PartitionState{}, missingPartition(id, partition, txn.Responses[1].GetResponseRange().Count > 0)
}

// missingPartition is the error for a partition key that does not exist.
func missingPartition(id metadata.TopicID, partition int32, topicExists bool) error {
	if !topicExists {
		return fmt.Errorf("topic id %s: %w", id, metadata.ErrUnknownTopic)
	}
	return fmt.Errorf("topic id %s partition %d: %w", id, partition, metadata.ErrUnknownPartition)
}

// CompareAndSwapPartition implements metadata.Topics: a transaction that
// requires the partition key to exist at revision st.Revision.
func (s *Store) CompareAndSwapPartition(ctx context.Context, id metadata.TopicID, partition int32, st metadata.PartitionState) (int64, error) {
	if err := st.Validate(); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	key := s.keys.partition(id, partition)
	txn, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), ">", 0),
			clientv3.Compare(clientv3.ModRevision(key), "=", st.Revision)).
		Then(clientv3.OpPut(key, encodePartition(st))).
		Else(clientv3.OpGet(key, clientv3.WithCountOnly()), clientv3.OpGet(s.keys.topicID(id), clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return 0, unavailable(fmt.Sprintf("update topic id %s partition %d", id, partition), err)
	}
	if txn.Succeeded {
		return txn.Header.Revision, nil
	}
	if txn.Responses[0].GetResponseRange().Count == 0 {
		return 0, missingPartition(id, partition, txn.Responses[1].GetResponseRange().Count > 0)
	}
	return 0, fmt.Errorf("topic id %s partition %d at revision %d: %w", id, partition, st.Revision, metadata.ErrConflict)
}
