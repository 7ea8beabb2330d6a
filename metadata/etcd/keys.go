package etcd

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-io/strata/metadata"
)

// Key layout under the prefix; see the package documentation.
const (
	keyClusterID   = "cluster/id"
	dirAgents      = "agents/"
	dirTopics      = "topics/"
	dirTopicIDs    = "topic-ids/"
	dirPartitions  = "partitions/"
	keyProducerIDs = "producer-ids/next"
)

// keys builds and parses keys under one prefix.
type keys struct{ prefix string }

func (k keys) clusterID() string                  { return k.prefix + keyClusterID }
func (k keys) agents() string                     { return k.prefix + dirAgents }
func (k keys) agent(id int32) string              { return k.agents() + strconv.FormatInt(int64(id), 10) }
func (k keys) topics() string                     { return k.prefix + dirTopics }
func (k keys) topic(name string) string           { return k.topics() + name }
func (k keys) topicID(id metadata.TopicID) string { return k.prefix + dirTopicIDs + id.String() }
func (k keys) allPartitions() string              { return k.prefix + dirPartitions }
func (k keys) producerIDs() string                { return k.prefix + keyProducerIDs }

// partitions is the directory of one topic's partition states.
func (k keys) partitions(id metadata.TopicID) string {
	return k.allPartitions() + id.String() + "/"
}

func (k keys) partition(id metadata.TopicID, p int32) string {
	return fmt.Sprintf("%s%010d", k.partitions(id), p)
}

// keyKind says what a key under the prefix holds.
type keyKind int

const (
	keyOther keyKind = iota
	keyTopic
	keyPartition
	keyAgent
)

// parsedKey is a key split into its parts.
type parsedKey struct {
	kind      keyKind
	name      string // keyTopic
	id        metadata.TopicID
	partition int32 // keyPartition
	agent     int32 // keyAgent
}

// parse splits a key under the prefix. Keys of the kinds it knows that do
// not parse are ErrCorrupt; keys it does not know are keyOther.
func (k keys) parse(key string) (parsedKey, error) {
	rest, ok := strings.CutPrefix(key, k.prefix)
	if !ok {
		return parsedKey{}, nil
	}
	bad := func() (parsedKey, error) { return parsedKey{}, fmt.Errorf("%w: key %q", ErrCorrupt, key) }
	switch {
	case strings.HasPrefix(rest, dirTopics):
		name := rest[len(dirTopics):]
		if metadata.ValidateTopicName(name) != nil {
			return bad()
		}
		return parsedKey{kind: keyTopic, name: name}, nil
	case strings.HasPrefix(rest, dirPartitions):
		hexID, num, ok := strings.Cut(rest[len(dirPartitions):], "/")
		id, err := metadata.ParseTopicID(hexID)
		if !ok || err != nil || len(num) != 10 {
			return bad()
		}
		p, err := strconv.ParseInt(num, 10, 32)
		if err != nil || p < 0 || fmt.Sprintf("%010d", p) != num {
			return bad()
		}
		return parsedKey{kind: keyPartition, id: id, partition: int32(p)}, nil
	case strings.HasPrefix(rest, dirAgents):
		num := rest[len(dirAgents):]
		id, err := strconv.ParseInt(num, 10, 32)
		if err != nil || id < 0 || strconv.FormatInt(id, 10) != num {
			return bad()
		}
		return parsedKey{kind: keyAgent, agent: int32(id)}, nil
	}
	return parsedKey{}, nil
}
