package metadata

import (
	"context"
	"fmt"
	"time"
)

// Cluster identifies the cluster. ClusterID is created once, on first use,
// and never changes.
type Cluster interface {
	ClusterID(ctx context.Context) (string, error)
}

// Topics stores topic definitions and their partition states.
type Topics interface {
	// CreateTopic stores t and one PartitionState per partition atomically.
	// It fails with ErrTopicExists if the name is taken. It returns the
	// store revision of the write.
	CreateTopic(ctx context.Context, t Topic, states []PartitionState) (rev int64, err error)
	// DeleteTopic removes the topic and its partition states.
	DeleteTopic(ctx context.Context, name string) (rev int64, err error)
	// Topic returns one topic by name (ErrUnknownTopic).
	Topic(ctx context.Context, name string) (Topic, error)
	// ListTopics returns all topics sorted by name.
	ListTopics(ctx context.Context) ([]Topic, error)
	// UpdateTopic replaces a topic's Configs and Replicas if its revision is
	// still t.Revision (ErrConflict otherwise). Partitions may only be
	// added: newStates holds states for the added partitions, in order.
	UpdateTopic(ctx context.Context, t Topic, newStates []PartitionState) (rev int64, err error)

	// Partition returns one partition's state.
	Partition(ctx context.Context, id TopicID, partition int32) (PartitionState, error)
	// CompareAndSwapPartition writes s if the stored state's revision is
	// still s.Revision; it returns the new revision or ErrConflict.
	CompareAndSwapPartition(ctx context.Context, id TopicID, partition int32, s PartitionState) (rev int64, err error)
}

// Agents tracks live agents. A registration lives as long as the session
// that made it: when the agent stops or its lease expires it disappears.
type Agents interface {
	// RegisterAgent registers a under a lease that the store keeps alive
	// until ctx ends or Close is called on the returned Registration.
	RegisterAgent(ctx context.Context, a Agent) (Registration, error)
	ListAgents(ctx context.Context) ([]Agent, error)
}

// Registration is a live agent registration.
type Registration interface {
	// Done is closed when the registration is lost (lease expired, store
	// unreachable for longer than the lease TTL) or closed.
	Done() <-chan struct{}
	// ValidUntil is the time up to which the registration is known to be
	// alive: the store cannot have expired it before then, by this
	// process's clock. An agent stops acting as leader for anything once
	// it passes, which is what fences an agent cut off from the store
	// before another can be elected in its place. It moves forward with
	// every successful renewal and stays in the past once Done is closed.
	ValidUntil() time.Time
	Close() error
}

// ProducerIDs allocates idempotent-producer ids in blocks so that ids are
// unique across all agents and restarts.
type ProducerIDs interface {
	// AllocateProducerIDs reserves n consecutive ids and returns the first.
	AllocateProducerIDs(ctx context.Context, n int64) (first int64, err error)
}

// Event says that something under the store changed; Revision is the store
// revision after the change. Events carry the new value, so a watcher can
// apply them without reading the store again.
//
// One atomic write (say CreateTopic, which stores a topic and all its
// partition states) produces several events with the same Revision, sent
// consecutively; all but the last have More set. A watcher that keeps a
// consistent view applies events until More is false before publishing.
type Event struct {
	Kind     EventKind
	Name     string // topic name for EventTopic
	Revision int64
	// More is set when the next event has the same Revision (it belongs to
	// the same atomic write).
	More bool
	// Deleted is set when the topic, partition or agent was removed; the
	// value fields then hold only the identifying fields (Name, TopicID and
	// Partition, Agent.ID).
	Deleted bool
	// Topic is the new topic value (EventTopic), with Revision set.
	Topic Topic
	// TopicID and Partition name the partition of an EventPartition.
	TopicID   TopicID
	Partition int32
	// State is the new partition state (EventPartition), with Revision set.
	State PartitionState
	// Agent is the registered agent (EventAgent).
	Agent Agent
}

// EventKind says what an Event is about.
type EventKind int

// EventReload (the zero Kind) tells a watcher that it missed events (it
// fell behind a compaction of the store's history) and must reload
// everything, with Store.Snapshot, before applying further events.
const EventReload EventKind = 0

const (
	EventTopic EventKind = iota + 1
	EventPartition
	EventAgent
	// EventProgress reports only that the store reached Revision through
	// writes that no other kind describes (producer-id blocks, the cluster
	// id, coordinator claims, groups, transactions, the catalogue). It lets a
	// watcher wait for a revision.
	EventProgress
)

// String names the kind for logs and test failures.
func (k EventKind) String() string {
	switch k {
	case EventReload:
		return "reload"
	case EventTopic:
		return "topic"
	case EventPartition:
		return "partition"
	case EventAgent:
		return "agent"
	case EventProgress:
		return "progress"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Snapshot is a consistent copy of all topics, partition states and agents
// at one store Revision.
type Snapshot struct {
	Revision int64
	Topics   []Topic // sorted by name
	// Partitions holds each topic's partition states indexed by partition.
	Partitions map[TopicID][]PartitionState
	Agents     []Agent // sorted by ID
}

// Watcher streams change events.
type Watcher interface {
	// Watch sends events for changes after revision fromRev (0 = now), in
	// revision order, until ctx ends or the store is closed; the channel is
	// closed then. A watcher that falls too far behind (its next revision
	// was compacted away) gets an event with Kind 0 (EventReload), meaning
	// "reload everything": the stream then continues with the changes
	// after that event's Revision, so a watcher that reloads with Snapshot
	// skips the events at or below the snapshot's revision.
	//
	// Watch does not fail: while the store is unreachable it retries, and
	// the channel just stays quiet.
	Watch(ctx context.Context, fromRev int64) <-chan Event
}

// Store is everything the agent needs from the metadata service.
type Store interface {
	Cluster
	Topics
	Agents
	ProducerIDs
	Coordinators
	Groups
	Transactions
	Catalogue
	Watcher
	// Revision returns the store's current revision.
	Revision(ctx context.Context) (int64, error)
	// Snapshot reads all topics, partition states and agents at one
	// revision; a watcher reloads with it and then watches from
	// Snapshot.Revision.
	Snapshot(ctx context.Context) (Snapshot, error)
	Close() error
}
