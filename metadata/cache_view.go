package metadata

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// cacheView is an immutable copy of the store at revision rev. Builders
// create new views; nothing modifies a published one.
type cacheView struct {
	rev    int64
	topics map[string]*cachedTopic
	byID   map[TopicID]*cachedTopic
	agents []Agent // sorted by ID

	sortOnce sync.Once
	sorted   []Topic // built on first use by sortedTopics
}

// cachedTopic is a topic with its partition states indexed by partition; a
// state with Revision 0 is one the cache has not seen.
type cachedTopic struct {
	topic Topic
	parts []PartitionState
}

func newCacheView(s Snapshot) *cacheView {
	v := &cacheView{
		rev:    s.Revision,
		topics: make(map[string]*cachedTopic, len(s.Topics)),
		byID:   make(map[TopicID]*cachedTopic, len(s.Topics)),
		agents: slices.Clone(s.Agents),
	}
	for _, t := range s.Topics {
		e := &cachedTopic{topic: t, parts: make([]PartitionState, t.Partitions())}
		copy(e.parts, s.Partitions[t.ID])
		v.topics[t.Name] = e
		v.byID[t.ID] = e
	}
	slices.SortFunc(v.agents, func(a, b Agent) int { return cmp.Compare(a.ID, b.ID) })
	return v
}

// sortedTopics returns the view's topics sorted by name; callers must not
// modify the slice.
func (v *cacheView) sortedTopics() []Topic {
	v.sortOnce.Do(func() {
		v.sorted = make([]Topic, 0, len(v.topics))
		for _, e := range v.topics {
			v.sorted = append(v.sorted, e.topic)
		}
		slices.SortFunc(v.sorted, func(a, b Topic) int { return strings.Compare(a.Name, b.Name) })
	})
	return v.sorted
}

// viewBuilder applies events to a copy of a view, copying on first write
// only what the events touch.
type viewBuilder struct {
	v     *cacheView
	fresh map[*cachedTopic]bool // entries created by this builder, safe to modify
	// changed is set once an event changed topics, partitions or agents
	// (not only the revision).
	changed bool
}

func newViewBuilder(base *cacheView) *viewBuilder {
	v := &cacheView{
		rev:    base.rev,
		topics: base.topics,
		byID:   base.byID,
		agents: base.agents,
	}
	return &viewBuilder{v: v}
}

// apply applies one event. Maps are copied on the first event that needs
// them; entries are copied on the first event that touches them.
func (b *viewBuilder) apply(ev Event) {
	switch ev.Kind {
	case EventTopic:
		b.changed = true
		b.applyTopic(ev)
	case EventPartition:
		b.changed = true
		b.applyPartition(ev)
	case EventAgent:
		b.changed = true
		b.applyAgent(ev)
	}
}

// cloneMaps gives the builder its own topic maps.
func (b *viewBuilder) cloneMaps() {
	if b.fresh != nil {
		return
	}
	b.fresh = make(map[*cachedTopic]bool)
	topics := make(map[string]*cachedTopic, len(b.v.topics)+1)
	for k, e := range b.v.topics {
		topics[k] = e
	}
	byID := make(map[TopicID]*cachedTopic, len(b.v.byID)+1)
	for k, e := range b.v.byID {
		byID[k] = e
	}
	b.v.topics, b.v.byID = topics, byID
}

func (b *viewBuilder) applyTopic(ev Event) {
	b.cloneMaps()
	old, had := b.v.topics[ev.Name]
	if had {
		delete(b.v.byID, old.topic.ID)
		delete(b.v.topics, ev.Name)
	}
	if ev.Deleted {
		return
	}
	e := &cachedTopic{topic: ev.Topic, parts: make([]PartitionState, ev.Topic.Partitions())}
	if had && old.topic.ID == ev.Topic.ID {
		copy(e.parts, old.parts)
	}
	b.fresh[e] = true
	b.v.topics[ev.Topic.Name] = e
	b.v.byID[ev.Topic.ID] = e
}

func (b *viewBuilder) applyPartition(ev Event) {
	b.cloneMaps()
	old, ok := b.v.byID[ev.TopicID]
	if !ok {
		return // its topic was deleted in this write, or never seen
	}
	e := old
	if !b.fresh[old] {
		e = &cachedTopic{topic: old.topic, parts: slices.Clone(old.parts)}
		b.fresh[e] = true
		b.v.topics[e.topic.Name] = e
		b.v.byID[e.topic.ID] = e
	}
	p := int(ev.Partition)
	if p < 0 || p >= len(e.parts) {
		return // not a partition of the topic as the cache knows it
	}
	if ev.Deleted {
		e.parts[p] = PartitionState{}
	} else {
		e.parts[p] = ev.State
	}
}

func (b *viewBuilder) applyAgent(ev Event) {
	agents := make([]Agent, 0, len(b.v.agents)+1)
	for _, a := range b.v.agents {
		if a.ID != ev.Agent.ID {
			agents = append(agents, a)
		}
	}
	if !ev.Deleted {
		i, _ := slices.BinarySearchFunc(agents, ev.Agent.ID, func(a Agent, id int32) int { return cmp.Compare(a.ID, id) })
		agents = slices.Insert(agents, i, ev.Agent)
	}
	b.v.agents = agents
}

// finish returns the built view at revision rev.
func (b *viewBuilder) finish(rev int64) *cacheView {
	b.v.rev = rev
	return b.v
}
