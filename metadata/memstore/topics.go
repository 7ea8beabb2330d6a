package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-io/strata/metadata"
)

// CreateTopic implements metadata.Topics.
func (s *Store) CreateTopic(ctx context.Context, t metadata.Topic, states []metadata.PartitionState) (int64, error) {
	if err := metadata.ValidateCreate(&t, states); err != nil {
		return 0, err
	}
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.topics[t.Name]; ok {
		return 0, fmt.Errorf("create topic %q: %w", t.Name, metadata.ErrTopicExists)
	}
	if name, ok := d.ids[t.ID]; ok {
		return 0, fmt.Errorf("create topic %q: %w: id %s is taken by topic %q", t.Name, metadata.ErrTopicExists, t.ID, name)
	}
	events := []metadata.Event{topicEvent(t)}
	events = append(events, partitionEvents(t.ID, 0, states)...)
	rev := d.commit(events...)
	t = t.Clone()
	t.Revision = rev
	d.topics[t.Name] = t
	d.ids[t.ID] = t.Name
	d.putPartitions(t.ID, 0, states, rev)
	return rev, nil
}

func topicEvent(t metadata.Topic) metadata.Event {
	return metadata.Event{Kind: metadata.EventTopic, Name: t.Name, Topic: t.Clone()}
}

// partitionEvents returns events for states of partitions first, first+1, ….
func partitionEvents(id metadata.TopicID, first int, states []metadata.PartitionState) []metadata.Event {
	events := make([]metadata.Event, len(states))
	for i, st := range states {
		events[i] = metadata.Event{Kind: metadata.EventPartition, TopicID: id, Partition: int32(first + i), State: st.Clone()}
	}
	return events
}

// putPartitions stores states for partitions first, first+1, … at rev.
// d.mu must be held.
func (d *data) putPartitions(id metadata.TopicID, first int, states []metadata.PartitionState, rev int64) {
	for i, st := range states {
		st = st.Clone()
		st.Revision = rev
		d.parts[metadata.TopicPartition{TopicID: id, Partition: int32(first + i)}] = st
	}
}

// DeleteTopic implements metadata.Topics.
func (s *Store) DeleteTopic(ctx context.Context, name string) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.topics[name]
	if !ok {
		return 0, fmt.Errorf("delete topic %q: %w", name, metadata.ErrUnknownTopic)
	}
	events := []metadata.Event{{Kind: metadata.EventTopic, Name: name, Deleted: true, Topic: metadata.Topic{Name: name}}}
	for p := range t.Partitions() {
		tp := metadata.TopicPartition{TopicID: t.ID, Partition: int32(p)}
		if _, ok := d.parts[tp]; ok {
			events = append(events, metadata.Event{Kind: metadata.EventPartition, Deleted: true, TopicID: t.ID, Partition: int32(p)})
			delete(d.parts, tp)
		}
	}
	delete(d.topics, name)
	delete(d.ids, t.ID)
	return d.commit(events...), nil
}

// Topic implements metadata.Topics.
func (s *Store) Topic(ctx context.Context, name string) (metadata.Topic, error) {
	if err := s.check(ctx); err != nil {
		return metadata.Topic{}, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	t, ok := s.d.topics[name]
	if !ok {
		return metadata.Topic{}, fmt.Errorf("topic %q: %w", name, metadata.ErrUnknownTopic)
	}
	return t.Clone(), nil
}

// ListTopics implements metadata.Topics.
func (s *Store) ListTopics(ctx context.Context) ([]metadata.Topic, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.d.sortedTopics(), nil
}

// sortedTopics returns clones of all topics sorted by name. d.mu must be
// held.
func (d *data) sortedTopics() []metadata.Topic {
	ts := make([]metadata.Topic, 0, len(d.topics))
	for _, t := range d.topics {
		ts = append(ts, t.Clone())
	}
	slices.SortFunc(ts, func(a, b metadata.Topic) int { return strings.Compare(a.Name, b.Name) })
	return ts
}

// UpdateTopic implements metadata.Topics.
func (s *Store) UpdateTopic(ctx context.Context, t metadata.Topic, newStates []metadata.PartitionState) (int64, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, ok := d.topics[t.Name]
	if !ok {
		return 0, fmt.Errorf("update topic %q: %w", t.Name, metadata.ErrUnknownTopic)
	}
	if cur.Revision != t.Revision {
		return 0, fmt.Errorf("update topic %q at revision %d (stored %d): %w", t.Name, t.Revision, cur.Revision, metadata.ErrConflict)
	}
	if err := metadata.ValidateUpdate(&cur, &t, newStates); err != nil {
		return 0, err
	}
	t = t.Clone()
	t.CreatedAt = cur.CreatedAt
	events := []metadata.Event{topicEvent(t)}
	events = append(events, partitionEvents(t.ID, cur.Partitions(), newStates)...)
	rev := d.commit(events...)
	t.Revision = rev
	d.topics[t.Name] = t
	d.putPartitions(t.ID, cur.Partitions(), newStates, rev)
	return rev, nil
}

// Partition implements metadata.Topics.
func (s *Store) Partition(ctx context.Context, id metadata.TopicID, partition int32) (metadata.PartitionState, error) {
	if err := s.check(ctx); err != nil {
		return metadata.PartitionState{}, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	st, err := s.d.partition(id, partition)
	return st.Clone(), err
}

// partition returns the stored state or the error that says why there is
// none. d.mu must be held.
func (d *data) partition(id metadata.TopicID, partition int32) (metadata.PartitionState, error) {
	st, ok := d.parts[metadata.TopicPartition{TopicID: id, Partition: partition}]
	if ok {
		return st, nil
	}
	if _, ok := d.ids[id]; !ok {
		return st, fmt.Errorf("topic id %s: %w", id, metadata.ErrUnknownTopic)
	}
	return st, fmt.Errorf("topic id %s partition %d: %w", id, partition, metadata.ErrUnknownPartition)
}

// CompareAndSwapPartition implements metadata.Topics.
func (s *Store) CompareAndSwapPartition(ctx context.Context, id metadata.TopicID, partition int32, st metadata.PartitionState) (int64, error) {
	if err := st.Validate(); err != nil {
		return 0, err
	}
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, err := d.partition(id, partition)
	if err != nil {
		return 0, err
	}
	if cur.Revision != st.Revision {
		return 0, fmt.Errorf("topic id %s partition %d at revision %d (stored %d): %w", id, partition, st.Revision, cur.Revision, metadata.ErrConflict)
	}
	rev := d.commit(partitionEvents(id, int(partition), []metadata.PartitionState{st})...)
	d.putPartitions(id, int(partition), []metadata.PartitionState{st}, rev)
	return rev, nil
}
