package etcd

import (
	"fmt"
	"net/url"
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
	dirCoordinator = "coordinators/"
	dirGroups      = "groups/"
	dirCatalogue   = "catalogue/"
	dirTxn         = "txn/"
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

// coordinators is the directory of one coordinator kind's shard claims.
func (k keys) coordinators(kind metadata.CoordinatorKind) string {
	return k.prefix + dirCoordinator + string(kind) + "/"
}

func (k keys) coordinator(sh metadata.CoordinatorShard) string {
	return fmt.Sprintf("%s%04d", k.coordinators(sh.Kind), sh.Index)
}

func (k keys) allGroups() string { return k.prefix + dirGroups }

// groupShard is the directory of one group-coordinator shard's groups.
func (k keys) groupShard(shard int32) string {
	return fmt.Sprintf("%s%04d/", k.allGroups(), shard)
}

// group is the directory of one group: its snapshot and its offsets. Group
// ids may hold any bytes, so they are path-escaped (which escapes '/').
func (k keys) group(shard int32, name string) string {
	return k.groupShard(shard) + url.PathEscape(name) + "/"
}

func (k keys) groupMeta(shard int32, name string) string { return k.group(shard, name) + "meta" }
func (k keys) groupOffsets(shard int32, name string) string {
	return k.group(shard, name) + "offsets/"
}

func (k keys) groupOffset(shard int32, name string, p metadata.GroupPartition) string {
	return fmt.Sprintf("%s%s/%010d", k.groupOffsets(shard, name), p.Topic, p.Partition)
}

// groupTxnOffsets is the directory of one producer's pending
// transactional offsets in a group; the producer id is zero-padded to 20
// digits so keys sort by it.
func (k keys) groupTxnOffsets(shard int32, name string, producerID int64) string {
	return fmt.Sprintf("%stxn-offsets/%020d/", k.group(shard, name), producerID)
}

func (k keys) groupTxnOffset(shard int32, name string, producerID int64, p metadata.GroupPartition) string {
	return fmt.Sprintf("%s%s/%010d", k.groupTxnOffsets(shard, name, producerID), p.Topic, p.Partition)
}

// groupKey is a key under groups/ split into its parts.
type groupKey struct {
	shard     int32
	name      string
	meta      bool                    // the group's snapshot
	partition metadata.GroupPartition // an offset, when !meta
	// txn is set for a pending transactional offset of producerID.
	txn        bool
	producerID int64
}

// parseGroupKey splits a key under groups/; one that does not parse is
// ErrCorrupt.
func (k keys) parseGroupKey(key string) (groupKey, error) {
	bad := func() (groupKey, error) { return groupKey{}, fmt.Errorf("%w: group key %q", ErrCorrupt, key) }
	rest, ok := strings.CutPrefix(key, k.allGroups())
	if !ok {
		return bad()
	}
	num, rest, ok := strings.Cut(rest, "/")
	shard, err := strconv.ParseInt(num, 10, 32)
	if !ok || err != nil || len(num) != 4 || shard < 0 {
		return bad()
	}
	esc, rest, ok := strings.Cut(rest, "/")
	name, err := url.PathUnescape(esc)
	if !ok || err != nil || url.PathEscape(name) != esc || metadata.ValidateGroupName(name) != nil {
		return bad()
	}
	gk := groupKey{shard: int32(shard), name: name}
	if rest == "meta" {
		gk.meta = true
		return gk, nil
	}
	if txnRest, isTxn := strings.CutPrefix(rest, "txn-offsets/"); isTxn {
		pid, after, ok := strings.Cut(txnRest, "/")
		id, err := strconv.ParseInt(pid, 10, 64)
		if !ok || err != nil || len(pid) != 20 || id < 0 {
			return bad()
		}
		gk.txn, gk.producerID, rest = true, id, "offsets/"+after
	}
	rest, ok = strings.CutPrefix(rest, "offsets/")
	topic, num, ok2 := strings.Cut(rest, "/")
	p, err := strconv.ParseInt(num, 10, 32)
	if !ok || !ok2 || err != nil || len(num) != 10 || p < 0 || metadata.ValidateTopicName(topic) != nil {
		return bad()
	}
	gk.partition = metadata.GroupPartition{Topic: topic, Partition: int32(p)}
	return gk, nil
}

// txnShard is the directory of one transaction-coordinator shard.
func (k keys) txnShard(shard int32) string {
	return fmt.Sprintf("%s%s%04d/", k.prefix, dirTxn, shard)
}

// txnIDs is the directory of a shard's transactional ids.
func (k keys) txnIDs(shard int32) string { return k.txnShard(shard) + "ids/" }

// txnID is the key of one transactional id, path-escaped like group ids.
func (k keys) txnID(shard int32, id string) string { return k.txnIDs(shard) + url.PathEscape(id) }

// txnEpoch is the key of a shard's coordinator epoch.
func (k keys) txnEpoch(shard int32) string { return k.txnShard(shard) + "epoch" }

// parseTxnID returns the transactional id of a key under txnIDs(shard);
// one that does not parse is ErrCorrupt.
func (k keys) parseTxnID(shard int32, key string) (string, error) {
	esc, ok := strings.CutPrefix(key, k.txnIDs(shard))
	id, err := url.PathUnescape(esc)
	if !ok || err != nil || url.PathEscape(id) != esc || metadata.ValidateTransactionalID(id) != nil {
		return "", fmt.Errorf("%w: transaction key %q", ErrCorrupt, key)
	}
	return id, nil
}

// catalogueTopic is the directory of one topic's remote segments.
func (k keys) catalogueTopic(id metadata.TopicID) string {
	return k.prefix + dirCatalogue + id.String() + "/"
}

// cataloguePartition is the directory of one partition's remote segments.
func (k keys) cataloguePartition(tp metadata.TopicPartition) string {
	return fmt.Sprintf("%s%010d/", k.catalogueTopic(tp.TopicID), tp.Partition)
}

// catalogueSegment is the key of the remote segment at base; the offset is
// zero-padded to 20 digits so keys sort by offset.
func (k keys) catalogueSegment(tp metadata.TopicPartition, base int64) string {
	return fmt.Sprintf("%s%020d", k.cataloguePartition(tp), base)
}

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
