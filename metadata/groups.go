package metadata

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// CoordinatorKind names a coordinator whose work is split into shards, as
// Kafka splits group and transaction coordination over the partitions of
// __consumer_offsets and __transaction_state.
type CoordinatorKind string

const (
	// CoordinatorGroup is the consumer-group coordinator.
	CoordinatorGroup CoordinatorKind = "group"
	// CoordinatorTransaction is reserved for the transaction coordinator.
	CoordinatorTransaction CoordinatorKind = "transaction"
	// CoordinatorController is the cluster controller: one shard (0), held
	// by the agent that currently elects partition leaders.
	CoordinatorController CoordinatorKind = "controller"
)

// MaxCoordinatorShards bounds a coordinator's shard count (shard indexes
// are 0 to MaxCoordinatorShards-1).
const MaxCoordinatorShards = 10000

// CoordinatorShard names one shard of a coordinator.
type CoordinatorShard struct {
	Kind  CoordinatorKind
	Index int32
}

// Validate checks that the kind is known and the index in range.
func (s CoordinatorShard) Validate() error {
	if s.Kind != CoordinatorGroup && s.Kind != CoordinatorTransaction && s.Kind != CoordinatorController {
		return fmt.Errorf("%w: coordinator kind %q", ErrInvalid, s.Kind)
	}
	if s.Index < 0 || s.Index >= MaxCoordinatorShards {
		return fmt.Errorf("%w: coordinator shard %d", ErrInvalid, s.Index)
	}
	return nil
}

func (s CoordinatorShard) String() string { return fmt.Sprintf("%s/%d", s.Kind, s.Index) }

// CoordinatorClaim records that an agent owns a coordinator shard. A claim
// lives under the owner's agent registration: it vanishes when the
// registration ends (the agent stops or its lease expires), so at most one
// live agent owns a shard at a time. Every write a coordinator makes for a
// shard is fenced by its claim: it fails with ErrFenced once the claim is
// gone, even if the same agent has claimed the shard again since.
type CoordinatorClaim struct {
	Shard CoordinatorShard
	// Agent is the owning agent's id.
	Agent int32
	// Revision is the store revision at which the claim was made. It tells
	// this claim apart from every earlier or later claim of the shard.
	Revision int64
}

// Coordinators records which agent owns each coordinator shard.
type Coordinators interface {
	// ClaimCoordinator makes the agent of reg (a registration made by this
	// store) the owner of shard, unless another registration owns it. It
	// returns the shard's current claim and whether it belongs to reg: a
	// claim reg already holds is returned as it is, one held by another
	// registration with ours false.
	ClaimCoordinator(ctx context.Context, reg Registration, shard CoordinatorShard) (claim CoordinatorClaim, ours bool, err error)
	// ReleaseCoordinator removes claim if it is still current, so that
	// another agent may claim the shard at once; otherwise it does nothing.
	ReleaseCoordinator(ctx context.Context, claim CoordinatorClaim) error
	// ListCoordinators returns the current claims of kind, sorted by shard.
	ListCoordinators(ctx context.Context, kind CoordinatorKind) ([]CoordinatorClaim, error)
}

// MaxGroupNameLen bounds a group id's length in bytes. Kafka sets no limit;
// this one keeps keys of the metadata store reasonable.
const MaxGroupNameLen = 1024

// ValidateGroupName checks a group id: 1 to MaxGroupNameLen bytes. Any
// bytes are allowed; stores escape them in keys.
func ValidateGroupName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty group id", ErrInvalid)
	case len(name) > MaxGroupNameLen:
		return fmt.Errorf("%w: group id is %d bytes, longer than %d", ErrInvalid, len(name), MaxGroupNameLen)
	}
	return nil
}

// Group is the durable snapshot of a consumer group's membership: what a
// coordinator needs to restore a group after it restarts or moves, so that
// members keep their ids and assignments (static members rejoin without a
// rebalance). It is written when a generation completes and when the group
// empties, as Kafka writes its group metadata record.
type Group struct {
	Name string
	// ProtocolType is the members' protocol type ("consumer" for Kafka
	// consumers); empty for a group that only ever stored offsets.
	ProtocolType string
	Generation   int32
	// Protocol is the protocol (assignor) selected for Generation; empty
	// when the group has no members.
	Protocol string
	// Leader is the leader's member id; empty when there are no members.
	Leader string
	// StateTimestamp is when the group entered its current state (Kafka's
	// currentStateTimestamp). For an empty group it starts the offsets
	// retention clock.
	StateTimestamp time.Time
	Members        []GroupMember
}

// GroupMember is one member of a group snapshot.
type GroupMember struct {
	MemberID string
	// InstanceID is the group.instance.id of a static member; empty for a
	// dynamic member.
	InstanceID       string
	ClientID         string
	ClientHost       string
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	// Metadata is the member's protocol metadata for the group's Protocol.
	Metadata []byte
	// Assignment is what the leader assigned the member.
	Assignment []byte
}

// Validate checks a group snapshot before it is written: a valid name,
// member ids that are set and unique, instance ids unique, a leader that is
// a member, and a protocol exactly when there are members.
func (g *Group) Validate() error {
	if err := ValidateGroupName(g.Name); err != nil {
		return err
	}
	if g.Generation < 0 {
		return fmt.Errorf("%w: group %q generation %d", ErrInvalid, g.Name, g.Generation)
	}
	if (len(g.Members) > 0) != (g.Protocol != "") || (g.Leader == "") != (len(g.Members) == 0) {
		return fmt.Errorf("%w: group %q with %d members has protocol %q and leader %q", ErrInvalid, g.Name, len(g.Members), g.Protocol, g.Leader)
	}
	leader := false
	for i, m := range g.Members {
		if m.MemberID == "" {
			return fmt.Errorf("%w: group %q member %d has no id", ErrInvalid, g.Name, i)
		}
		for _, o := range g.Members[:i] {
			if o.MemberID == m.MemberID || (m.InstanceID != "" && o.InstanceID == m.InstanceID) {
				return fmt.Errorf("%w: group %q lists member %q (instance %q) twice", ErrInvalid, g.Name, m.MemberID, m.InstanceID)
			}
		}
		if m.SessionTimeout <= 0 || m.RebalanceTimeout <= 0 {
			return fmt.Errorf("%w: group %q member %q timeouts %v/%v", ErrInvalid, g.Name, m.MemberID, m.SessionTimeout, m.RebalanceTimeout)
		}
		leader = leader || m.MemberID == g.Leader
	}
	if len(g.Members) > 0 && !leader {
		return fmt.Errorf("%w: group %q leader %q is not a member", ErrInvalid, g.Name, g.Leader)
	}
	return nil
}

// Clone returns a deep copy of g.
func (g Group) Clone() Group {
	g.Members = slices.Clone(g.Members)
	for i := range g.Members {
		m := &g.Members[i]
		m.Metadata = slices.Clone(m.Metadata)
		m.Assignment = slices.Clone(m.Assignment)
	}
	return g
}

// CommittedOffset is a group's committed offset for one partition.
type CommittedOffset struct {
	Topic string
	// TopicID is the topic's id when the offset was committed: an offset
	// whose topic was deleted and re-created under the same name does not
	// apply to the new topic.
	TopicID     TopicID
	Partition   int32
	Offset      int64
	LeaderEpoch int32 // -1 when unknown
	Metadata    string
	CommitTime  time.Time
}

// Validate checks an offset before it is written.
func (o *CommittedOffset) Validate() error {
	if err := ValidateTopicName(o.Topic); err != nil {
		return err
	}
	switch {
	case o.TopicID.IsZero():
		return fmt.Errorf("%w: offset of %s-%d has no topic id", ErrInvalid, o.Topic, o.Partition)
	case o.Partition < 0:
		return fmt.Errorf("%w: offset of partition %s-%d", ErrInvalid, o.Topic, o.Partition)
	case o.LeaderEpoch < -1:
		return fmt.Errorf("%w: offset of %s-%d has leader epoch %d", ErrInvalid, o.Topic, o.Partition, o.LeaderEpoch)
	}
	return nil
}

// GroupPartition names a partition by topic name, as group offsets do.
type GroupPartition struct {
	Topic     string
	Partition int32
}

// TxnOffsets are the offsets one transactional producer committed to a
// group with TxnOffsetCommit in its ongoing transaction. They stay pending,
// apart from the group's committed offsets, until the transaction ends:
// a commit makes them committed offsets, an abort drops them.
type TxnOffsets struct {
	ProducerID int64
	// ProducerEpoch is the highest epoch among the pending offsets.
	ProducerEpoch int16
	// Offsets are sorted by topic and partition.
	Offsets []CommittedOffset
}

// StoredGroup is one group as a coordinator loads it.
type StoredGroup struct {
	Name string
	// Group is the latest snapshot, or nil when the group only ever stored
	// offsets (a consumer that commits without joining).
	Group *Group
	// Offsets are the committed offsets sorted by topic and partition.
	Offsets []CommittedOffset
	// TxnOffsets are the pending transactional offsets, by producer id.
	TxnOffsets []TxnOffsets
}

// Groups persists consumer groups: membership snapshots and committed
// offsets. Groups are stored per shard of the group coordinator; every
// write is fenced by the writer's claim on that shard (ErrFenced once it
// is gone) and must name a claim of kind CoordinatorGroup.
type Groups interface {
	// LoadGroups returns every group stored in shard, sorted by name.
	LoadGroups(ctx context.Context, shard CoordinatorShard) ([]StoredGroup, error)
	// ListGroups returns the names of all stored groups, sorted.
	ListGroups(ctx context.Context) ([]string, error)
	// PutGroup replaces the snapshot of group g.Name.
	PutGroup(ctx context.Context, claim CoordinatorClaim, g Group) error
	// CommitOffsets stores offsets of group, replacing earlier ones of the
	// same partitions. A commit of many partitions may be applied in
	// several steps; a failure can leave some of them stored.
	CommitOffsets(ctx context.Context, claim CoordinatorClaim, group string, offsets []CommittedOffset) error
	// DeleteOffsets removes group's offsets of partitions; missing ones are
	// ignored.
	DeleteOffsets(ctx context.Context, claim CoordinatorClaim, group string, partitions []GroupPartition) error
	// DeleteGroup removes group's snapshot and all its offsets, pending
	// transactional ones included.
	DeleteGroup(ctx context.Context, claim CoordinatorClaim, group string) error
	// CommitTxnOffsets stores offsets a transactional producer committed
	// to group in its ongoing transaction (TxnOffsetCommit). They stay
	// pending, apart from the committed offsets, replacing earlier pending
	// offsets of the same producer and partitions. Many partitions may be
	// applied in several steps, as with CommitOffsets.
	CommitTxnOffsets(ctx context.Context, claim CoordinatorClaim, group string, producerID int64, producerEpoch int16, offsets []CommittedOffset) error
	// CompleteTxnOffsets ends producerID's transaction in group: it stores
	// commit as committed offsets (none when the transaction aborted),
	// then removes every pending offset of the producer. It may be applied
	// in several steps; applying it again after a failure finishes it.
	CompleteTxnOffsets(ctx context.Context, claim CoordinatorClaim, group string, producerID int64, commit []CommittedOffset) error
}

// ValidateProducerID checks the producer id and epoch of a transactional
// offset commit.
func ValidateProducerID(producerID int64, producerEpoch int16) error {
	if producerID < 0 || producerEpoch < 0 {
		return fmt.Errorf("%w: producer id %d epoch %d", ErrInvalid, producerID, producerEpoch)
	}
	return nil
}

// ValidateGroupWrite checks the arguments every Groups write shares.
func ValidateGroupWrite(claim CoordinatorClaim, group string) error {
	if err := claim.Shard.Validate(); err != nil {
		return err
	}
	if claim.Shard.Kind != CoordinatorGroup {
		return fmt.Errorf("%w: group write under a %s claim", ErrInvalid, claim.Shard.Kind)
	}
	if claim.Revision <= 0 {
		return fmt.Errorf("%w: claim of %s has no revision", ErrInvalid, claim.Shard)
	}
	return ValidateGroupName(group)
}
