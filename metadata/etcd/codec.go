package etcd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/strata-io/strata/metadata"
)

// valueVersion is the "v" field of every JSON value this build writes.
// Readers reject larger versions with ErrVersion rather than misread them.
const valueVersion = 1

type clusterIDValue struct {
	V  int    `json:"v"`
	ID string `json:"id"`
}

type topicValue struct {
	V int `json:"v"`
	metadata.Topic
}

type topicIDValue struct {
	V    int    `json:"v"`
	Name string `json:"name"`
}

type partitionValue struct {
	V int `json:"v"`
	metadata.PartitionState
}

type agentValue struct {
	V int `json:"v"`
	metadata.Agent
}

// mustJSON encodes v, which is always one of the value types above: they
// hold only strings, numbers, slices, maps of strings and times, which
// always encode.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("metadata/etcd: encode %T: %v", v, err))
	}
	return string(b)
}

func encodeClusterID(id string) string { return mustJSON(clusterIDValue{V: valueVersion, ID: id}) }
func encodeTopic(t metadata.Topic) string {
	return mustJSON(topicValue{V: valueVersion, Topic: t})
}
func encodeTopicID(name string) string { return mustJSON(topicIDValue{V: valueVersion, Name: name}) }
func encodePartition(s metadata.PartitionState) string {
	return mustJSON(partitionValue{V: valueVersion, PartitionState: s})
}
func encodeAgent(a metadata.Agent) string { return mustJSON(agentValue{V: valueVersion, Agent: a}) }
func encodeProducerIDs(next int64) string { return strconv.FormatInt(next, 10) }

// unmarshal decodes a versioned JSON value into v, whose version field
// *ver points to.
func unmarshal(what string, b []byte, v any, ver *int) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, what, err)
	}
	switch {
	case *ver > valueVersion:
		return fmt.Errorf("%w: %s has version %d, this build reads up to %d", ErrVersion, what, *ver, valueVersion)
	case *ver < 1:
		return fmt.Errorf("%w: %s has no version", ErrCorrupt, what)
	}
	return nil
}

func decodeClusterID(b []byte) (string, error) {
	var v clusterIDValue
	if err := unmarshal("cluster id", b, &v, &v.V); err != nil {
		return "", err
	}
	if raw, err := base64.RawURLEncoding.DecodeString(v.ID); err != nil || len(raw) != 16 {
		return "", fmt.Errorf("%w: cluster id %q", ErrCorrupt, v.ID)
	}
	return v.ID, nil
}

// decodeTopic decodes the value of key topics/<name>.
func decodeTopic(name string, b []byte, rev int64) (metadata.Topic, error) {
	var v topicValue
	if err := unmarshal("topic "+strconv.Quote(name), b, &v, &v.V); err != nil {
		return metadata.Topic{}, err
	}
	if err := v.Topic.Validate(); err != nil {
		return metadata.Topic{}, fmt.Errorf("%w: topic %q: %w", ErrCorrupt, name, err)
	}
	if v.Name != name {
		return metadata.Topic{}, fmt.Errorf("%w: key of topic %q holds topic %q", ErrCorrupt, name, v.Name)
	}
	v.Topic.Revision = rev
	return v.Topic, nil
}

func decodeTopicID(b []byte) (string, error) {
	var v topicIDValue
	if err := unmarshal("topic id", b, &v, &v.V); err != nil {
		return "", err
	}
	if err := metadata.ValidateTopicName(v.Name); err != nil {
		return "", fmt.Errorf("%w: topic id: %w", ErrCorrupt, err)
	}
	return v.Name, nil
}

func decodePartition(b []byte, rev int64) (metadata.PartitionState, error) {
	var v partitionValue
	if err := unmarshal("partition state", b, &v, &v.V); err != nil {
		return metadata.PartitionState{}, err
	}
	if err := v.PartitionState.Validate(); err != nil {
		return metadata.PartitionState{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	v.PartitionState.Revision = rev
	return v.PartitionState, nil
}

// decodeAgent decodes the value of key agents/<id>.
func decodeAgent(id int32, b []byte) (metadata.Agent, error) {
	var v agentValue
	if err := unmarshal("agent "+strconv.Itoa(int(id)), b, &v, &v.V); err != nil {
		return metadata.Agent{}, err
	}
	if err := v.Agent.Validate(); err != nil {
		return metadata.Agent{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if v.ID != id {
		return metadata.Agent{}, fmt.Errorf("%w: key of agent %d holds agent %d", ErrCorrupt, id, v.ID)
	}
	return v.Agent, nil
}

func decodeProducerIDs(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: next producer id %q", ErrCorrupt, b)
	}
	return n, nil
}

type claimValue struct {
	V     int   `json:"v"`
	Agent int32 `json:"agent"`
}

// groupValue is a group snapshot; the group id is in its key. Timeouts are
// whole milliseconds, as Kafka carries them.
type groupValue struct {
	V              int                `json:"v"`
	ProtocolType   string             `json:"protocol_type,omitempty"`
	Generation     int32              `json:"generation"`
	Protocol       string             `json:"protocol,omitempty"`
	Leader         string             `json:"leader,omitempty"`
	StateTimestamp time.Time          `json:"state_timestamp"`
	Members        []groupMemberValue `json:"members"`
}

type groupMemberValue struct {
	MemberID           string `json:"member_id"`
	InstanceID         string `json:"instance_id,omitempty"`
	ClientID           string `json:"client_id"`
	ClientHost         string `json:"client_host"`
	SessionTimeoutMS   int64  `json:"session_timeout_ms"`
	RebalanceTimeoutMS int64  `json:"rebalance_timeout_ms"`
	Metadata           []byte `json:"metadata"`   // base64
	Assignment         []byte `json:"assignment"` // base64
}

// offsetValue is a committed offset; group, topic and partition are in its
// key.
type offsetValue struct {
	V           int              `json:"v"`
	TopicID     metadata.TopicID `json:"topic_id"`
	Offset      int64            `json:"offset"`
	LeaderEpoch int32            `json:"leader_epoch"`
	Metadata    string           `json:"metadata,omitempty"`
	CommitTime  time.Time        `json:"commit_time"`
}

func encodeClaim(agent int32) string { return mustJSON(claimValue{V: valueVersion, Agent: agent}) }

func decodeClaim(b []byte) (int32, error) {
	var v claimValue
	if err := unmarshal("coordinator claim", b, &v, &v.V); err != nil {
		return 0, err
	}
	if v.Agent < 0 {
		return 0, fmt.Errorf("%w: coordinator claim by agent %d", ErrCorrupt, v.Agent)
	}
	return v.Agent, nil
}

func encodeGroup(g metadata.Group) string {
	v := groupValue{
		V:              valueVersion,
		ProtocolType:   g.ProtocolType,
		Generation:     g.Generation,
		Protocol:       g.Protocol,
		Leader:         g.Leader,
		StateTimestamp: g.StateTimestamp.UTC(),
		Members:        make([]groupMemberValue, len(g.Members)),
	}
	for i, m := range g.Members {
		v.Members[i] = groupMemberValue{
			MemberID:           m.MemberID,
			InstanceID:         m.InstanceID,
			ClientID:           m.ClientID,
			ClientHost:         m.ClientHost,
			SessionTimeoutMS:   m.SessionTimeout.Milliseconds(),
			RebalanceTimeoutMS: m.RebalanceTimeout.Milliseconds(),
			Metadata:           m.Metadata,
			Assignment:         m.Assignment,
		}
	}
	return mustJSON(v)
}

// decodeGroup decodes the snapshot of group name.
func decodeGroup(name string, b []byte) (metadata.Group, error) {
	var v groupValue
	if err := unmarshal("group "+strconv.Quote(name), b, &v, &v.V); err != nil {
		return metadata.Group{}, err
	}
	g := metadata.Group{
		Name:           name,
		ProtocolType:   v.ProtocolType,
		Generation:     v.Generation,
		Protocol:       v.Protocol,
		Leader:         v.Leader,
		StateTimestamp: v.StateTimestamp,
		Members:        make([]metadata.GroupMember, len(v.Members)),
	}
	if !encodableTime(v.StateTimestamp) {
		return metadata.Group{}, fmt.Errorf("%w: group %q state time %v", ErrCorrupt, name, v.StateTimestamp)
	}
	for i, m := range v.Members {
		if m.SessionTimeoutMS <= 0 || m.SessionTimeoutMS > math.MaxInt32 || m.RebalanceTimeoutMS <= 0 || m.RebalanceTimeoutMS > math.MaxInt32 {
			return metadata.Group{}, fmt.Errorf("%w: group %q member %q timeouts %d/%d ms", ErrCorrupt, name, m.MemberID, m.SessionTimeoutMS, m.RebalanceTimeoutMS)
		}
		g.Members[i] = metadata.GroupMember{
			MemberID:         m.MemberID,
			InstanceID:       m.InstanceID,
			ClientID:         m.ClientID,
			ClientHost:       m.ClientHost,
			SessionTimeout:   time.Duration(m.SessionTimeoutMS) * time.Millisecond,
			RebalanceTimeout: time.Duration(m.RebalanceTimeoutMS) * time.Millisecond,
			Metadata:         m.Metadata,
			Assignment:       m.Assignment,
		}
	}
	if err := g.Validate(); err != nil {
		return metadata.Group{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return g, nil
}

func encodeOffset(o metadata.CommittedOffset) string {
	return mustJSON(offsetValue{
		V:           valueVersion,
		TopicID:     o.TopicID,
		Offset:      o.Offset,
		LeaderEpoch: o.LeaderEpoch,
		Metadata:    o.Metadata,
		CommitTime:  o.CommitTime.UTC(),
	})
}

// decodeOffset decodes the committed offset of partition p.
func decodeOffset(p metadata.GroupPartition, b []byte) (metadata.CommittedOffset, error) {
	var v offsetValue
	if err := unmarshal(fmt.Sprintf("offset of %s-%d", p.Topic, p.Partition), b, &v, &v.V); err != nil {
		return metadata.CommittedOffset{}, err
	}
	o := metadata.CommittedOffset{
		Topic:       p.Topic,
		TopicID:     v.TopicID,
		Partition:   p.Partition,
		Offset:      v.Offset,
		LeaderEpoch: v.LeaderEpoch,
		Metadata:    v.Metadata,
		CommitTime:  v.CommitTime,
	}
	if !encodableTime(o.CommitTime) {
		return metadata.CommittedOffset{}, fmt.Errorf("%w: offset of %s-%d commit time %v", ErrCorrupt, p.Topic, p.Partition, o.CommitTime)
	}
	if err := o.Validate(); err != nil {
		return metadata.CommittedOffset{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return o, nil
}
