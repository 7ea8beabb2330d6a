package log

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// Idempotent-producer state, following Kafka's ProducerStateManager.
//
// Transactions are not implemented yet; the state is laid out so they can be
// added without a rewrite: producerState already carries the coordinator
// epoch and the first offset of the ongoing transaction (both persisted in
// snapshots), apply is the single place a batch changes a producer's state
// (where transactional batches would open a transaction and control batches
// would close it, feeding an aborted-transaction index), and
// producerStateManager is the one owner of all producers (where a list of
// ongoing transactions for the last stable offset would live).

// maxBatchesPerProducer is how many recent batches per producer are kept
// for de-duplicating retries (Kafka's NUM_BATCHES_TO_RETAIN; a producer has
// at most 5 requests in flight).
const maxBatchesPerProducer = 5

// batchMetadata identifies one appended batch of a producer.
type batchMetadata struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
	timestamp               int64 // the batch's MaxTimestamp
}

// producerState is what the log knows about one producer id.
type producerState struct {
	epoch                 int16
	batches               [maxBatchesPerProducer]batchMetadata // ring buffer, oldest at head
	head, n               int
	coordinatorEpoch      int32 // -1 until transactions are implemented
	currentTxnFirstOffset int64 // -1: no ongoing transaction
	lastTimestamp         int64
}

func newProducerState(epoch int16) *producerState {
	return &producerState{epoch: epoch, coordinatorEpoch: -1, currentTxnFirstOffset: -1, lastTimestamp: -1}
}

// batch returns the i-th retained batch, oldest first.
func (p *producerState) batch(i int) *batchMetadata {
	return &p.batches[(p.head+i)%maxBatchesPerProducer]
}

func (p *producerState) push(m batchMetadata) {
	if p.n < maxBatchesPerProducer {
		*p.batch(p.n) = m
		p.n++
		return
	}
	p.batches[p.head] = m
	p.head = (p.head + 1) % maxBatchesPerProducer
}

// lastSeq is the last sequence appended in the current epoch, -1 if none.
func (p *producerState) lastSeq() int32 {
	if p.n == 0 {
		return -1
	}
	return p.batch(p.n - 1).lastSeq
}

// findDuplicate returns the retained batch a retry duplicates.
func (p *producerState) findDuplicate(epoch int16, firstSeq, lastSeq int32) (batchMetadata, bool) {
	if epoch != p.epoch {
		return batchMetadata{}, false
	}
	for i := range p.n {
		if b := p.batch(i); b.firstSeq == firstSeq && b.lastSeq == lastSeq {
			return *b, true
		}
	}
	return batchMetadata{}, false
}

// ProducerEntry describes one idempotent producer, as DescribeProducers
// reports it.
type ProducerEntry struct {
	ProducerID            int64
	ProducerEpoch         int16
	LastSequence          int32
	LastTimestamp         int64
	CoordinatorEpoch      int32 // -1: no transaction coordinator yet
	CurrentTxnStartOffset int64 // -1: no ongoing transaction
}

// producerStateManager holds all producers of a log. It is guarded by
// Log.mu.
type producerStateManager struct {
	producers map[int64]*producerState
	// ongoing maps producers with an open transaction to its first offset.
	ongoing map[int64]int64
	// aborted lists aborted transactions in marker order (see txn.go).
	aborted []AbortedTxn
}

func newProducerStateManager() *producerStateManager {
	return &producerStateManager{producers: make(map[int64]*producerState), ongoing: make(map[int64]int64)}
}

// validate checks the producer rules for every batch of one request, each
// batch against the state as the request's earlier batches would leave it.
// If a batch is a retry of a retained batch it returns that batch's metadata
// and dup, and the request must not be written. It changes nothing.
func (m *producerStateManager) validate(batches []pendingBatch) (orig batchMetadata, dup bool, err error) {
	for i := range batches {
		h := &batches[i].h
		if h.ProducerID < 0 {
			continue
		}
		if h.isControl() {
			// A marker carries no sequence; it must not be from a fenced
			// epoch.
			if st := m.producers[h.ProducerID]; st != nil && h.ProducerEpoch < st.epoch {
				return orig, false, fmt.Errorf("%w: marker of producer %d epoch %d is older than %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, st.epoch)
			}
			continue
		}
		if h.ProducerEpoch < 0 || h.BaseSequence < 0 {
			return orig, false, fmt.Errorf("%w: producer %d with epoch %d and base sequence %d", ErrInvalidBatch, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		st := m.producers[h.ProducerID]
		if st != nil {
			if orig, dup = st.findDuplicate(h.ProducerEpoch, h.BaseSequence, h.lastSequence()); dup {
				return orig, true, nil
			}
		}
		epoch, lastSeq, known := int16(0), int32(-1), false
		if j := lastOfProducer(batches[:i], h.ProducerID); j >= 0 {
			epoch, lastSeq, known = batches[j].h.ProducerEpoch, batches[j].h.lastSequence(), true
		} else if st != nil {
			epoch, lastSeq, known = st.epoch, st.lastSeq(), true
		}
		if err := checkSequence(h, epoch, lastSeq, known); err != nil {
			return orig, false, err
		}
	}
	return orig, false, nil
}

func lastOfProducer(batches []pendingBatch, id int64) int {
	for j := len(batches) - 1; j >= 0; j-- {
		if batches[j].h.ProducerID == id {
			return j
		}
	}
	return -1
}

// checkSequence applies Kafka's epoch and sequence rules to h given the
// producer's current epoch and last sequence.
func checkSequence(h *batchHeader, epoch int16, lastSeq int32, known bool) error {
	switch {
	case !known:
		if h.BaseSequence != 0 {
			return fmt.Errorf("%w: unknown producer %d starts at sequence %d, want 0", ErrOutOfOrderSequence, h.ProducerID, h.BaseSequence)
		}
	case h.ProducerEpoch < epoch:
		return fmt.Errorf("%w: producer %d epoch %d is older than %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, epoch)
	case h.ProducerEpoch > epoch:
		if h.BaseSequence != 0 {
			return fmt.Errorf("%w: producer %d new epoch %d starts at sequence %d, want 0", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
	case !inSequence(lastSeq, h.BaseSequence):
		return fmt.Errorf("%w: producer %d epoch %d sequence %d after %d", ErrOutOfOrderSequence, h.ProducerID, epoch, h.BaseSequence, lastSeq)
	}
	return nil
}

func inSequence(lastSeq, nextSeq int32) bool {
	return nextSeq == lastSeq+1 || (lastSeq == math.MaxInt32 && nextSeq == 0)
}

// apply records an appended batch (offsets assigned; raw is the whole
// batch) in its producer's state, without checks: it also serves replicated
// appends and recovery. A batch of an older epoch than the producer's (only
// possible on replicated appends) leaves the state alone, as in Kafka.
func (m *producerStateManager) apply(h *batchHeader, raw []byte) {
	if h.ProducerID < 0 {
		return
	}
	if h.isControl() {
		st := m.producers[h.ProducerID]
		if st == nil {
			st = newProducerState(h.ProducerEpoch)
			m.producers[h.ProducerID] = st
		} else if h.ProducerEpoch > st.epoch {
			st.epoch, st.head, st.n = h.ProducerEpoch, 0, 0
		}
		m.applyTxn(h.ProducerID, st, h, raw)
		return
	}
	st := m.producers[h.ProducerID]
	switch {
	case st == nil:
		st = newProducerState(h.ProducerEpoch)
		m.producers[h.ProducerID] = st
	case h.ProducerEpoch > st.epoch:
		st.epoch, st.head, st.n = h.ProducerEpoch, 0, 0
	case h.ProducerEpoch < st.epoch:
		return
	}
	st.push(batchMetadata{
		firstSeq:    h.BaseSequence,
		lastSeq:     h.lastSequence(),
		firstOffset: h.BaseOffset,
		lastOffset:  h.lastOffset(),
		timestamp:   h.MaxTimestamp,
	})
	st.lastTimestamp = h.MaxTimestamp
	m.applyTxn(h.ProducerID, st, h, raw)
}

// expire forgets producers whose last batch is older than expiration at
// now and that have no ongoing transaction. It returns how many it removed.
func (m *producerStateManager) expire(now time.Time, expiration time.Duration) int {
	n := 0
	limit := now.UnixMilli() - expiration.Milliseconds()
	for id, st := range m.producers {
		if st.currentTxnFirstOffset < 0 && st.lastTimestamp <= limit {
			delete(m.producers, id)
			n++
		}
	}
	return n
}

func (m *producerStateManager) clear() {
	clear(m.producers)
	clear(m.ongoing)
	m.aborted = nil
}

// entries lists the producers in ascending id order.
func (m *producerStateManager) entries() []ProducerEntry {
	out := make([]ProducerEntry, 0, len(m.producers))
	for id, st := range m.producers {
		out = append(out, ProducerEntry{
			ProducerID:            id,
			ProducerEpoch:         st.epoch,
			LastSequence:          st.lastSeq(),
			LastTimestamp:         st.lastTimestamp,
			CoordinatorEpoch:      st.coordinatorEpoch,
			CurrentTxnStartOffset: st.currentTxnFirstOffset,
		})
	}
	slices.SortFunc(out, func(a, b ProducerEntry) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out
}
