package txn

import (
	"context"
	"time"

	"github.com/strata-io/strata/metadata"
)

// TopicPartition names a partition of a transaction by topic name.
type TopicPartition = metadata.TxnPartition

// OffsetsTopic is Kafka's __consumer_offsets. In verify-only
// AddPartitionsToTxn requests (VerifyPartitions) partition N of it stands
// for the consumer groups of group-coordinator shard N, as a group's
// __consumer_offsets partition does in Kafka: it is in a transaction when
// one of the transaction's groups (AddOffsetsToTxn) maps to that shard.
const OffsetsTopic = "__consumer_offsets"

// Marker is a commit or abort to write to every partition of a transaction.
type Marker struct {
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	// CoordinatorEpoch is the coordinator's epoch for the transaction's
	// shard: it grows every time the shard changes owner (see
	// metadata.Transactions.BumpCoordinatorEpoch), so partitions can tell
	// a stale coordinator's markers apart.
	CoordinatorEpoch int32
	Commit           bool
	// Partitions are sorted by topic and partition.
	Partitions []TopicPartition
}

// MarkerWriter writes markers to the partitions' leaders (locally or with
// WriteTxnMarkers to other agents) and returns once every marker is
// appended and committed (replicated to the ISR); partitions that no longer
// exist are skipped; an error means retry later. It must be safe for
// concurrent use: every completing transaction calls it from its own
// goroutine.
type MarkerWriter interface {
	WriteMarkers(ctx context.Context, m Marker) error
}

// GroupOffsets completes transactional offset commits: on commit, the
// pending offsets the producer committed to the group through
// TxnOffsetCommit become visible; on abort they are dropped. An error
// means retry later. It must be safe for concurrent use.
type GroupOffsets interface {
	CompleteTxnOffsets(ctx context.Context, group string, producerID int64, producerEpoch int16, commit bool) error
}

// InitRequest is an InitProducerId with a transactional id. ProducerID and
// ProducerEpoch (KIP-360, v3+) are the producer's current ones, or both -1.
type InitRequest struct {
	TransactionalID string
	Timeout         time.Duration
	ProducerID      int64
	ProducerEpoch   int16
}

// ProducerIDAndEpoch is the producer id and epoch InitProducerId returns.
type ProducerIDAndEpoch struct {
	ProducerID    int64
	ProducerEpoch int16
}

// AddRequest adds partitions (AddPartitionsToTxn) or consumer groups
// (AddOffsetsToTxn) to a producer's transaction, or, for
// VerifyPartitions, names the partitions to check.
type AddRequest struct {
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	Partitions      []TopicPartition
	Groups          []string
}

// EndRequest is an EndTxn.
type EndRequest struct {
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	Commit          bool
}

// Description is a transactional id as DescribeTransactions shows it.
type Description struct {
	TransactionalID string
	State           string
	ProducerID      int64
	ProducerEpoch   int16
	Timeout         time.Duration
	// StartTime is when the current (or last) transaction began; zero
	// before the first.
	StartTime time.Time
	// Partitions are those of the ongoing or completing transaction.
	Partitions []TopicPartition
}

// ListFilter selects transactions for ListTransactions; zero values select
// everything.
type ListFilter struct {
	// States are state names as Kafka spells them; unknown ones match
	// nothing.
	States []string
	// ProducerIDs keeps only transactions of these producer ids.
	ProducerIDs []int64
	// ByDuration keeps only transactions running longer than MinDuration
	// (ListTransactions v1+). As in Kafka, an id that has not started a
	// transaction yet counts as running since forever.
	ByDuration  bool
	MinDuration time.Duration
	// Match, when set, keeps only transactional ids it accepts
	// (ListTransactions v2+'s regular expression).
	Match func(id string) bool
}

// Listing is a transactional id as ListTransactions shows it.
type Listing struct {
	TransactionalID string
	ProducerID      int64
	State           string
}

// States are the state names Kafka defines, which ListTransactions
// filters accept. Dead and PrepareEpochFence are never reported here: an
// expired transactional id is removed, and a fenced epoch is stored as the
// PrepareAbort it leads to.
var States = []string{
	string(metadata.TxnEmpty), string(metadata.TxnOngoing), string(metadata.TxnPrepareCommit),
	string(metadata.TxnPrepareAbort), string(metadata.TxnCompleteCommit), string(metadata.TxnCompleteAbort),
	"Dead", "PrepareEpochFence",
}
