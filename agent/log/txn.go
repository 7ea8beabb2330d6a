package log

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Transactions, following Kafka's ProducerStateManager: a transactional
// batch opens its producer's transaction at the batch's first offset (if
// none is open); a control batch (a commit or abort marker, written by the
// transaction coordinator through the partition's leader) closes it. An
// aborted transaction is remembered as an AbortedTxn until retention passes
// it, so read_committed fetches can tell consumers which records to skip.
// The last stable offset is the first offset of the oldest open
// transaction (or the high watermark when none is open): read_committed
// consumers read only below it. Open transactions and the aborted list are
// part of producer-state snapshots and are rebuilt like the rest of the
// producer state after a restart or a truncation.

func (h *batchHeader) isTransactional() bool { return h.Attributes&attrTransactional != 0 }
func (h *batchHeader) isControl() bool       { return h.Attributes&attrControl != 0 }

// AbortedTxn is an aborted transaction of one producer: its records lie in
// [FirstOffset, LastOffset], LastOffset being the abort marker.
type AbortedTxn struct {
	ProducerID              int64
	FirstOffset, LastOffset int64
}

// controlMarker is the content of a control batch.
type controlMarker struct {
	commit           bool
	coordinatorEpoch int32
}

// parseControl reads the marker of a control batch: its one record's key
// is [version int16][type int16] (0 abort, 1 commit) and its value
// [version int16][coordinator epoch int32].
func parseControl(raw []byte) (controlMarker, error) {
	var m controlMarker
	if len(raw) <= batchHeaderSize {
		return m, fmt.Errorf("%w: control batch without a record", ErrInvalidBatch)
	}
	p := raw[batchHeaderSize:]
	next := func() (int64, bool) {
		v, n := binary.Varint(p)
		if n <= 0 {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	if _, ok := next(); !ok { // record length
		return m, fmt.Errorf("%w: control record length", ErrInvalidBatch)
	}
	if len(p) < 1 {
		return m, fmt.Errorf("%w: control record truncated", ErrInvalidBatch)
	}
	p = p[1:] // attributes
	if _, ok := next(); !ok {
		return m, fmt.Errorf("%w: control record timestamp", ErrInvalidBatch)
	}
	if _, ok := next(); !ok {
		return m, fmt.Errorf("%w: control record offset", ErrInvalidBatch)
	}
	keyLen, ok := next()
	if !ok || keyLen < 4 || int64(len(p)) < keyLen {
		return m, fmt.Errorf("%w: control record key", ErrInvalidBatch)
	}
	key := p[:keyLen]
	p = p[keyLen:]
	switch typ := int16(binary.BigEndian.Uint16(key[2:])); typ {
	case 0:
	case 1:
		m.commit = true
	default:
		return m, fmt.Errorf("%w: control record type %d", ErrInvalidBatch, typ)
	}
	valLen, ok := next()
	if !ok || valLen < 6 || int64(len(p)) < valLen {
		return m, fmt.Errorf("%w: control record value", ErrInvalidBatch)
	}
	m.coordinatorEpoch = int32(binary.BigEndian.Uint32(p[2:]))
	return m, nil
}

// applyTxn updates st's transaction state for a batch already recorded by
// apply. raw is the whole batch.
func (m *producerStateManager) applyTxn(id int64, st *producerState, h *batchHeader, raw []byte) {
	if h.isControl() {
		mk, err := parseControl(raw)
		if err != nil {
			return // validated on the way in; a replica keeps what it has
		}
		if st.currentTxnFirstOffset >= 0 && !mk.commit {
			m.aborted = append(m.aborted, AbortedTxn{ProducerID: id, FirstOffset: st.currentTxnFirstOffset, LastOffset: h.BaseOffset})
		}
		st.currentTxnFirstOffset = -1
		st.coordinatorEpoch = mk.coordinatorEpoch
		delete(m.ongoing, id)
		return
	}
	if h.isTransactional() && st.currentTxnFirstOffset < 0 {
		st.currentTxnFirstOffset = h.BaseOffset
		m.ongoing[id] = h.BaseOffset
	}
}

// firstUnstableOffset is the first offset of the oldest open transaction,
// -1 when none is open.
func (m *producerStateManager) firstUnstableOffset() int64 {
	first := int64(-1)
	for _, off := range m.ongoing {
		if first < 0 || off < first {
			first = off
		}
	}
	return first
}

// trimAborted forgets aborted transactions wholly below logStart.
func (m *producerStateManager) trimAborted(logStart int64) {
	i := 0
	for i < len(m.aborted) && m.aborted[i].LastOffset < logStart {
		i++
	}
	if i > 0 {
		m.aborted = slices.Delete(m.aborted, 0, i)
	}
}

// LastStableOffset returns the offset below which every transaction is
// decided, given the high watermark hw: the first offset of the oldest open
// transaction if it is below hw, else hw.
func (l *Log) LastStableOffset(hw int64) int64 {
	l.mu.Lock()
	first := l.producers.firstUnstableOffset()
	l.mu.Unlock()
	if first >= 0 && first < hw {
		return first
	}
	return hw
}

// AbortedTxns lists the aborted transactions with records in [from, to):
// what a read_committed fetch of that range must tell the consumer to
// skip, ordered by first offset.
func (l *Log) AbortedTxns(from, to int64) []AbortedTxn {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []AbortedTxn
	for _, a := range l.producers.aborted {
		if a.LastOffset >= from && a.FirstOffset < to {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y AbortedTxn) int {
		switch {
		case x.FirstOffset < y.FirstOffset:
			return -1
		case x.FirstOffset > y.FirstOffset:
			return 1
		}
		return 0
	})
	return out
}

// HasOngoingTxn reports whether producer id has an open transaction here.
func (l *Log) HasOngoingTxn(id int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.producers.ongoing[id]
	return ok
}
