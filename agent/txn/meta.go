package txn

import (
	"math"
	"slices"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

// noEpoch is RecordBatch.NO_PRODUCER_EPOCH; noProducerID is NO_PRODUCER_ID.
const (
	noEpoch      int16 = -1
	noProducerID int64 = -1
)

// txnMeta is one transactional id: its durable state (what the store
// holds, or will once a first write succeeds) and the coordinator's
// bookkeeping around it. Only its shard's loop touches it.
type txnMeta struct {
	metadata.Transaction
	// stored is set once the store holds the id.
	stored bool
	// pending is set while a write of a new state is in flight: Kafka's
	// pendingState. Requests meanwhile get CONCURRENT_TRANSACTIONS.
	pending bool
	// completing is set while the markers of a PrepareCommit or
	// PrepareAbort are being written; done is closed once the completion
	// is stored.
	completing bool
	done       chan struct{}
	// deleting is set while the expired id is being removed.
	deleting bool
	// failedEpochFence is set when writing an epoch fence failed: the
	// bumped epoch is kept (the write may have been applied) and the next
	// fence reuses it rather than bumping again (Kafka's
	// hasFailedEpochFence).
	failedEpochFence bool
}

// epochExhausted reports whether a producer epoch leaves no room for the
// bump that fencing needs: a new producer id is allocated instead.
func epochExhausted(epoch int16) bool { return epoch >= math.MaxInt16-1 }

// inTransaction reports whether s has a transaction in progress.
func inTransaction(s metadata.TxnState) bool {
	return s == metadata.TxnOngoing || s == metadata.TxnPrepareCommit || s == metadata.TxnPrepareAbort
}

// next returns a copy of m's durable state to change into a new state.
func (m *txnMeta) next(now time.Time) metadata.Transaction {
	t := m.Transaction.Clone()
	t.LastUpdate = now.Round(0).Truncate(time.Millisecond)
	return t
}

// validProducerID is Kafka's check of the producer id an InitProducerId
// names (KIP-360): the id was just created, or it is the current one, or
// the last one with an exhausted epoch (a retry after a rotation whose
// answer was lost).
func (m *txnMeta) validProducerID(pid int64, epoch int16) bool {
	return m.ProducerEpoch == noEpoch || pid == m.ProducerID ||
		(pid == m.LastProducerID && epochExhausted(epoch))
}

// incrementEpoch is Kafka's prepareIncrementProducerEpoch: the next
// Empty state after an InitProducerId. Without an expected epoch the epoch
// is bumped; with one (KIP-360), a producer continuing after an error
// bumps its own epoch, a retry of a bump that succeeded gets the same
// epoch again, and any other epoch is fenced.
func (m *txnMeta) incrementEpoch(now time.Time, timeout time.Duration, expected int16, hasExpected bool) (metadata.Transaction, bool) {
	t := m.next(now)
	bumped := m.ProducerEpoch + 1
	switch {
	case !hasExpected:
		t.ProducerEpoch, t.LastProducerEpoch = bumped, noEpoch
	case m.ProducerEpoch == noEpoch || expected == m.ProducerEpoch:
		t.ProducerEpoch, t.LastProducerEpoch = bumped, m.ProducerEpoch
	case expected == m.LastProducerEpoch:
		// The retry of a successful bump: nothing changes but the timeout.
	default:
		return t, false
	}
	t.Timeout, t.State = timeout, metadata.TxnEmpty
	t.Partitions, t.Groups, t.StartTime = nil, nil, time.Time{}
	return t, true
}

// rotate is Kafka's prepareProducerIdRotation: a new producer id with
// epoch 0 once the epoch is exhausted.
func (m *txnMeta) rotate(now time.Time, timeout time.Duration, pid int64, hasExpected bool) metadata.Transaction {
	t := m.next(now)
	t.LastProducerID, t.ProducerID, t.ProducerEpoch = m.ProducerID, pid, 0
	t.LastProducerEpoch = noEpoch
	if hasExpected {
		t.LastProducerEpoch = m.ProducerEpoch
	}
	t.Timeout, t.State = timeout, metadata.TxnEmpty
	t.Partitions, t.Groups, t.StartTime = nil, nil, time.Time{}
	return t
}

// add is Kafka's prepareAddPartitions: the transaction is Ongoing with the
// partitions and groups added; a new transaction starts now.
func (m *txnMeta) add(now time.Time, partitions []TopicPartition, groups []string) metadata.Transaction {
	t := m.next(now)
	if !inTransaction(m.State) {
		t.StartTime = t.LastUpdate
	}
	t.State = metadata.TxnOngoing
	t.Partitions = union(t.Partitions, partitions, metadata.CompareTxnPartitions)
	t.Groups = union(t.Groups, groups, func(a, b string) int {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	return t
}

// contains reports whether m's transaction holds every partition and
// group of the request.
func (m *txnMeta) contains(partitions []TopicPartition, groups []string) bool {
	for _, p := range partitions {
		if _, ok := slices.BinarySearchFunc(m.Partitions, p, metadata.CompareTxnPartitions); !ok {
			return false
		}
	}
	for _, g := range groups {
		if _, ok := slices.BinarySearch(m.Groups, g); !ok {
			return false
		}
	}
	return true
}

// hasGroupShard reports whether one of the transaction's groups maps to
// group-coordinator shard idx.
func (m *txnMeta) hasGroupShard(idx int32) bool {
	for _, g := range m.Groups {
		if shards.Of(g) == idx {
			return true
		}
	}
	return false
}

// union merges sorted, duplicate-free a with add (in any order) into a
// new sorted, duplicate-free slice.
func union[T any](a, add []T, cmp func(T, T) int) []T {
	out := slices.Clone(a)
	for _, x := range add {
		if i, ok := slices.BinarySearchFunc(out, x, cmp); !ok {
			out = slices.Insert(out, i, x)
		}
	}
	return out
}

// marker returns the marker completing m's PrepareCommit or PrepareAbort.
func (m *txnMeta) marker(coordinatorEpoch int32) Marker {
	return Marker{
		TransactionalID:  m.TransactionalID,
		ProducerID:       m.ProducerID,
		ProducerEpoch:    m.ProducerEpoch,
		CoordinatorEpoch: coordinatorEpoch,
		Commit:           m.State == metadata.TxnPrepareCommit,
		Partitions:       slices.Clone(m.Partitions),
	}
}
