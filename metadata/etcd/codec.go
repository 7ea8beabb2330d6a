package etcd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

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
