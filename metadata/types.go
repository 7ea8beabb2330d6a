package metadata

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"
)

// TopicID is a topic's 16-byte UUID, as Kafka's Metadata v10+ carries it.
// The zero value means "no id".
type TopicID [16]byte

// NewTopicID returns a random (version 4) topic id that is never zero.
func NewTopicID() TopicID {
	var id TopicID
	for id == (TopicID{}) {
		_, _ = rand.Read(id[:])
		id[6] = id[6]&0x0f | 0x40
		id[8] = id[8]&0x3f | 0x80
	}
	return id
}

// String formats the id as 32 lowercase hex digits (used in etcd keys and
// object keys).
func (id TopicID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero id.
func (id TopicID) IsZero() bool { return id == TopicID{} }

// ParseTopicID parses the form String produces.
func ParseTopicID(s string) (TopicID, error) {
	var id TopicID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, ErrInvalid
	}
	copy(id[:], b)
	return id, nil
}

// MarshalText encodes the id as String does, so JSON carries it as a hex
// string.
func (id TopicID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the form MarshalText produces.
func (id *TopicID) UnmarshalText(b []byte) error {
	v, err := ParseTopicID(string(b))
	if err != nil {
		return fmt.Errorf("%w: topic id %q", ErrInvalid, b)
	}
	*id = v
	return nil
}

// NewClusterID returns a random cluster id in Kafka's form: a version 4
// UUID as 22 characters of unpadded base64url.
func NewClusterID() string {
	id := NewTopicID()
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// Topic is a topic's durable definition. Partition p's replicas are
// Replicas[p]; the first replica is the preferred leader.
type Topic struct {
	Name string  `json:"name"`
	ID   TopicID `json:"id"`
	// Replicas lists, per partition, the agent ids holding a replica.
	Replicas [][]int32 `json:"replicas"`
	// Configs holds only the topic-level overrides (Kafka's "dynamic topic
	// configs"); defaults live in the agent.
	Configs map[string]string `json:"configs,omitempty"`
	// Reassignments holds the partitions being moved to other agents, by
	// partition. While one is in progress, Replicas[p] is the union of the
	// original replicas and the target ones.
	Reassignments map[int32]Reassignment `json:"reassignments,omitempty"`
	CreatedAt     time.Time              `json:"created_at"`
	// Revision is the store revision this value was read at (not stored).
	Revision int64 `json:"-"`
}

// Reassignment is an in-progress move of a partition's replicas.
type Reassignment struct {
	// Target is the replica set the partition moves to (preferred leader
	// first).
	Target []int32 `json:"target"`
	// Original is the replica set before the move; cancelling goes back
	// to it.
	Original []int32 `json:"original"`
}

// Partitions is the topic's partition count.
func (t *Topic) Partitions() int { return len(t.Replicas) }

// PartitionState is the mutable leadership state of one partition. Every
// change goes through a compare-and-swap on Revision and, when the leader
// changes, bumps LeaderEpoch.
type PartitionState struct {
	Leader      int32   `json:"leader"` // -1 when no leader is available
	LeaderEpoch int32   `json:"leader_epoch"`
	ISR         []int32 `json:"isr"`
	// Revision is the store revision this value was read at (not stored);
	// pass it back to CompareAndSwapPartition.
	Revision int64 `json:"-"`
}

// Agent is one registered, live agent (a Kafka "broker").
type Agent struct {
	ID   int32  `json:"id"`
	Host string `json:"host"`
	Port int32  `json:"port"`
	Rack string `json:"rack,omitempty"`
	// DirID identifies the agent's data directory (a random id stored in
	// it). Only one process can hold a data directory, so a registration
	// left behind by a crashed process with the same DirID may be taken
	// over at once instead of waiting for its lease to expire.
	DirID string `json:"dir_id,omitempty"`
}

// TopicPartition names a partition by topic id and index.
type TopicPartition struct {
	TopicID   TopicID
	Partition int32
}

// MaxTopicNameLen is Kafka's limit on a topic name's length.
const MaxTopicNameLen = 249

// ValidateTopicName checks name against Kafka's rules: 1 to 249 ASCII
// letters, digits, '.', '_' or '-', and not "." or "..". Every name that
// passes is safe to use in an etcd key or an object key.
func ValidateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty topic name", ErrInvalid)
	case len(name) > MaxTopicNameLen:
		return fmt.Errorf("%w: topic name is %d bytes, longer than %d", ErrInvalid, len(name), MaxTopicNameLen)
	case name == "." || name == "..":
		return fmt.Errorf("%w: topic name %q is not allowed", ErrInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: topic name %q contains %q; only ASCII letters, digits, '.', '_' and '-' are allowed", ErrInvalid, name, c)
		}
	}
	return nil
}

// Validate checks what a store requires of a topic before writing it: a
// legal name, a non-zero id, at least one partition and at least one
// replica per partition, with non-negative, distinct agent ids.
func (t *Topic) Validate() error {
	if err := ValidateTopicName(t.Name); err != nil {
		return err
	}
	if t.ID.IsZero() {
		return fmt.Errorf("%w: topic %q has no id", ErrInvalid, t.Name)
	}
	if len(t.Replicas) == 0 {
		return fmt.Errorf("%w: topic %q has no partitions", ErrInvalid, t.Name)
	}
	for p, rs := range t.Replicas {
		if len(rs) == 0 {
			return fmt.Errorf("%w: topic %q partition %d has no replicas", ErrInvalid, t.Name, p)
		}
		for i, r := range rs {
			if r < 0 {
				return fmt.Errorf("%w: topic %q partition %d has replica id %d", ErrInvalid, t.Name, p, r)
			}
			for _, q := range rs[:i] {
				if q == r {
					return fmt.Errorf("%w: topic %q partition %d lists replica %d twice", ErrInvalid, t.Name, p, r)
				}
			}
		}
	}
	for p, r := range t.Reassignments {
		if p < 0 || int(p) >= len(t.Replicas) || len(r.Target) == 0 || len(r.Original) == 0 {
			return fmt.Errorf("%w: topic %q has a malformed reassignment of partition %d", ErrInvalid, t.Name, p)
		}
		for _, id := range append(slices.Clone(r.Target), r.Original...) {
			if !slices.Contains(t.Replicas[p], id) {
				return fmt.Errorf("%w: topic %q partition %d is reassigned to or from agent %d, which is not among its replicas", ErrInvalid, t.Name, p, id)
			}
		}
	}
	return nil
}

// Clone returns a deep copy of t, sharing no slices or maps with it.
func (t Topic) Clone() Topic {
	if t.Replicas != nil {
		rs := make([][]int32, len(t.Replicas))
		for i, r := range t.Replicas {
			rs[i] = slices.Clone(r)
		}
		t.Replicas = rs
	}
	t.Configs = maps.Clone(t.Configs)
	if t.Reassignments != nil {
		rs := make(map[int32]Reassignment, len(t.Reassignments))
		for p, r := range t.Reassignments {
			rs[p] = Reassignment{Target: slices.Clone(r.Target), Original: slices.Clone(r.Original)}
		}
		t.Reassignments = rs
	}
	return t
}

// Validate checks a partition state before it is written: Leader is -1 or
// an agent id, LeaderEpoch is not negative, and ISR holds distinct,
// non-negative agent ids.
func (s *PartitionState) Validate() error {
	if s.Leader < -1 {
		return fmt.Errorf("%w: partition leader %d", ErrInvalid, s.Leader)
	}
	if s.LeaderEpoch < 0 {
		return fmt.Errorf("%w: partition leader epoch %d", ErrInvalid, s.LeaderEpoch)
	}
	for i, r := range s.ISR {
		if r < 0 || slices.Contains(s.ISR[:i], r) {
			return fmt.Errorf("%w: partition ISR %v", ErrInvalid, s.ISR)
		}
	}
	return nil
}

// Clone returns a deep copy of s.
func (s PartitionState) Clone() PartitionState {
	s.ISR = slices.Clone(s.ISR)
	return s
}

// Validate checks an agent before it is registered: a non-negative id, a
// host and a port in 1..65535.
func (a *Agent) Validate() error {
	switch {
	case a.ID < 0:
		return fmt.Errorf("%w: agent id %d", ErrInvalid, a.ID)
	case a.Host == "":
		return fmt.Errorf("%w: agent %d has no host", ErrInvalid, a.ID)
	case a.Port <= 0 || a.Port > 65535:
		return fmt.Errorf("%w: agent %d port %d", ErrInvalid, a.ID, a.Port)
	}
	return nil
}

// ValidateUpdate checks an update of topic cur to t with newStates for the
// added partitions: t must be valid and keep cur's id, may only add
// partitions, and newStates must hold exactly one valid state per added
// partition.
func ValidateUpdate(cur, t *Topic, newStates []PartitionState) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if t.ID != cur.ID {
		return fmt.Errorf("%w: topic %q id %s does not match stored id %s", ErrInvalid, t.Name, t.ID, cur.ID)
	}
	if t.Partitions() < cur.Partitions() {
		return fmt.Errorf("%w: topic %q cannot shrink from %d to %d partitions", ErrInvalid, t.Name, cur.Partitions(), t.Partitions())
	}
	if added := t.Partitions() - cur.Partitions(); len(newStates) != added {
		return fmt.Errorf("%w: topic %q adds %d partitions but has %d new states", ErrInvalid, t.Name, added, len(newStates))
	}
	for i := range newStates {
		if err := newStates[i].Validate(); err != nil {
			return fmt.Errorf("topic %q partition %d: %w", t.Name, cur.Partitions()+i, err)
		}
	}
	return nil
}

// ValidateCreate checks a new topic and its initial partition states: t
// must be valid and states must hold one valid state per partition.
func ValidateCreate(t *Topic, states []PartitionState) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if len(states) != t.Partitions() {
		return fmt.Errorf("%w: topic %q has %d partitions but %d states", ErrInvalid, t.Name, t.Partitions(), len(states))
	}
	for p := range states {
		if err := states[p].Validate(); err != nil {
			return fmt.Errorf("topic %q partition %d: %w", t.Name, p, err)
		}
	}
	return nil
}
