package metadata

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TxnState is a transaction's state, spelled as Kafka spells it (these are
// the names DescribeTransactions and ListTransactions report).
type TxnState string

// The states a stored transaction can be in. Kafka's Dead and
// PrepareEpochFence are never stored: a transactional id that expires is
// deleted, and an epoch fence is stored as the PrepareAbort it leads to.
const (
	TxnEmpty          TxnState = "Empty"
	TxnOngoing        TxnState = "Ongoing"
	TxnPrepareCommit  TxnState = "PrepareCommit"
	TxnPrepareAbort   TxnState = "PrepareAbort"
	TxnCompleteCommit TxnState = "CompleteCommit"
	TxnCompleteAbort  TxnState = "CompleteAbort"
)

// Valid reports whether s is one of the stored states.
func (s TxnState) Valid() bool {
	switch s {
	case TxnEmpty, TxnOngoing, TxnPrepareCommit, TxnPrepareAbort, TxnCompleteCommit, TxnCompleteAbort:
		return true
	}
	return false
}

// MaxTransactionalIDLen bounds a transactional id's length in bytes. Kafka
// sets no limit; this one keeps keys of the metadata store reasonable.
const MaxTransactionalIDLen = 1024

// ValidateTransactionalID checks a transactional id: 1 to
// MaxTransactionalIDLen bytes. Any bytes are allowed; stores escape them
// in keys.
func ValidateTransactionalID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty transactional id", ErrInvalid)
	case len(id) > MaxTransactionalIDLen:
		return fmt.Errorf("%w: transactional id is %d bytes, longer than %d", ErrInvalid, len(id), MaxTransactionalIDLen)
	}
	return nil
}

// TxnPartition names a partition of a transaction by topic name, as Kafka's
// transaction coordinator does.
type TxnPartition struct {
	Topic     string
	Partition int32
}

// CompareTxnPartitions orders partitions by topic, then partition.
func CompareTxnPartitions(a, b TxnPartition) int {
	return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// Transaction is the durable state of one transactional id: Kafka's
// TransactionMetadata as its transaction coordinator logs it. The
// coordinator writes it before every state change takes effect, so a
// coordinator that restarts or takes over the shard resumes from it.
type Transaction struct {
	TransactionalID string
	// ProducerID and ProducerEpoch are the producer the id is bound to.
	ProducerID    int64
	ProducerEpoch int16
	// LastProducerID and LastProducerEpoch (KIP-360) are the producer id
	// and epoch before the last bump or rotation, or -1: they let a
	// producer retry an InitProducerId whose answer it lost.
	LastProducerID    int64
	LastProducerEpoch int16
	// Timeout is the producer's transaction.timeout.ms.
	Timeout time.Duration
	State   TxnState
	// Partitions are the partitions of the ongoing or completing
	// transaction, sorted; Groups the consumer groups it commits offsets
	// to (AddOffsetsToTxn), sorted.
	Partitions []TxnPartition
	Groups     []string
	// StartTime is when the current (or last) transaction began; zero
	// before the first one.
	StartTime time.Time
	// LastUpdate is when the state last changed.
	LastUpdate time.Time
}

// Validate checks a transaction before it is written.
func (t *Transaction) Validate() error {
	if err := ValidateTransactionalID(t.TransactionalID); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: transaction %q: %s", ErrInvalid, t.TransactionalID, fmt.Sprintf(format, args...))
	}
	switch {
	case t.ProducerID < 0:
		return bad("producer id %d", t.ProducerID)
	case t.ProducerEpoch < 0:
		return bad("producer epoch %d", t.ProducerEpoch)
	case t.LastProducerID < -1 || t.LastProducerEpoch < -1:
		return bad("last producer id %d epoch %d", t.LastProducerID, t.LastProducerEpoch)
	case t.Timeout <= 0:
		return bad("timeout %v", t.Timeout)
	case !t.State.Valid():
		return bad("state %q", t.State)
	}
	inTxn := t.State == TxnOngoing || t.State == TxnPrepareCommit || t.State == TxnPrepareAbort
	if !inTxn && (len(t.Partitions) > 0 || len(t.Groups) > 0) {
		return bad("state %s with %d partitions and %d groups", t.State, len(t.Partitions), len(t.Groups))
	}
	for i, p := range t.Partitions {
		if err := ValidateTopicName(p.Topic); err != nil {
			return err
		}
		if p.Partition < 0 || (i > 0 && CompareTxnPartitions(t.Partitions[i-1], p) >= 0) {
			return bad("partitions not sorted and unique at %s-%d", p.Topic, p.Partition)
		}
	}
	for i, g := range t.Groups {
		if err := ValidateGroupName(g); err != nil {
			return err
		}
		if i > 0 && t.Groups[i-1] >= g {
			return bad("groups not sorted and unique at %q", g)
		}
	}
	return nil
}

// Clone returns a deep copy of t.
func (t Transaction) Clone() Transaction {
	t.Partitions = slices.Clone(t.Partitions)
	t.Groups = slices.Clone(t.Groups)
	return t
}

// Transactions persists the transaction coordinator's state. Transactions
// are stored per shard of the transaction coordinator; every write is
// fenced by the writer's claim on that shard (ErrFenced once it is gone)
// and must name a claim of kind CoordinatorTransaction.
type Transactions interface {
	// LoadTransactions returns every transaction stored in shard, sorted
	// by transactional id.
	LoadTransactions(ctx context.Context, shard CoordinatorShard) ([]Transaction, error)
	// PutTransaction replaces the state of t.TransactionalID.
	PutTransaction(ctx context.Context, claim CoordinatorClaim, t Transaction) error
	// DeleteTransaction removes a transactional id; a missing one is
	// ignored.
	DeleteTransaction(ctx context.Context, claim CoordinatorClaim, transactionalID string) error
	// BumpCoordinatorEpoch increments and returns the shard's coordinator
	// epoch (the first is 1). A coordinator bumps it when it takes the
	// shard, so the epoch its transaction markers carry grows every time
	// the shard changes owner, as a Kafka coordinator's epoch does.
	BumpCoordinatorEpoch(ctx context.Context, claim CoordinatorClaim) (int32, error)
}

// ValidateTransactionClaim checks the claim every Transactions write names.
func ValidateTransactionClaim(claim CoordinatorClaim) error {
	if err := claim.Shard.Validate(); err != nil {
		return err
	}
	if claim.Shard.Kind != CoordinatorTransaction {
		return fmt.Errorf("%w: transaction write under a %s claim", ErrInvalid, claim.Shard.Kind)
	}
	if claim.Revision <= 0 {
		return fmt.Errorf("%w: claim of %s has no revision", ErrInvalid, claim.Shard)
	}
	return nil
}
