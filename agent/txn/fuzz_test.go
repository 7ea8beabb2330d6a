package txn

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

// checkTxnInvariants fails the test if a transactional id's bookkeeping
// disagrees with its state.
func checkTxnInvariants(t *testing.T, s *state, completions []completion) {
	t.Helper()
	for id, m := range s.txns {
		if m.TransactionalID != id {
			t.Fatalf("%q filed under %q", m.TransactionalID, id)
		}
		if !inTransaction(m.State) && (len(m.Partitions) > 0 || len(m.Groups) > 0) {
			t.Fatalf("%q is %s with partitions %v groups %v", id, m.State, m.Partitions, m.Groups)
		}
		if !slices.IsSortedFunc(m.Partitions, metadata.CompareTxnPartitions) || !slices.IsSorted(m.Groups) {
			t.Fatalf("%q: unsorted partitions %v or groups %v", id, m.Partitions, m.Groups)
		}
		if m.State == metadata.TxnOngoing && m.StartTime.IsZero() {
			t.Fatalf("%q is Ongoing without a start time", id)
		}
		prepared := m.State == metadata.TxnPrepareCommit || m.State == metadata.TxnPrepareAbort
		if prepared != m.completing {
			t.Fatalf("%q is %s, completing %v", id, m.State, m.completing)
		}
		if prepared && !slices.ContainsFunc(completions, func(c completion) bool {
			return c.marker.TransactionalID == id && c.marker.ProducerEpoch == m.ProducerEpoch
		}) {
			t.Fatalf("%q is %s at epoch %d without a completion", id, m.State, m.ProducerEpoch)
		}
	}
}

// FuzzStateMachine drives two transactional ids with arbitrary sequences
// of InitProducerId (with and without KIP-360's producer id and epoch),
// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, verifications, store
// results (some failing), completions, timeouts and expirations, checking
// after every step that nothing panics, no request is answered twice (the
// harness fails on that), every stored state is valid (flush checks it)
// and the bookkeeping holds.
func FuzzStateMachine(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 9, 0, 4, 0, 9, 0, 8, 0, 9, 0})
	f.Add([]byte{0, 1, 9, 1, 1, 1, 9, 0, 0, 1, 9, 0, 8, 0, 9, 0, 0, 1, 9, 0})
	f.Add([]byte{0, 0, 9, 0, 2, 0, 9, 0, 10, 200, 9, 0, 8, 0, 9, 0, 11, 255, 9, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		h := newHarness(t)
		var pending []completion // started, not yet finished
		epochs := map[string]ProducerIDAndEpoch{}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%12, ops[i+1]
			id := fmt.Sprint("t", arg%2)
			pe := epochs[id]
			if arg%5 == 0 { // sometimes a stale epoch
				pe.ProducerEpoch--
			}
			switch op {
			case 0: // InitProducerId, the KIP-360 form for odd args
				req := InitRequest{TransactionalID: id, Timeout: time.Duration(1+arg%3) * time.Second, ProducerID: -1, ProducerEpoch: -1}
				if arg%2 == 1 && pe.ProducerID >= 0 {
					req.ProducerID, req.ProducerEpoch = pe.ProducerID, max(pe.ProducerEpoch, 0)
				}
				h.s.initProducerID(h.now, req, h.pid, func(r initResult) {
					if r.err == nil && !r.needID {
						epochs[id] = r.ProducerIDAndEpoch
					}
				})
				h.pid++
			case 1, 2: // add partitions or a group
				req := AddRequest{TransactionalID: id, ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch}
				if op == 1 {
					req.Partitions = []TopicPartition{tp(fmt.Sprint("p", arg%3), int32(arg%4))}
				} else {
					req.Groups = []string{fmt.Sprint("g", arg%3)}
				}
				h.s.add(h.now, req, func(error) {})
			case 3, 4:
				h.s.end(h.now, EndRequest{TransactionalID: id, ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Commit: op == 4}, func(error) {})
			case 5:
				_, _ = h.s.verify(AddRequest{TransactionalID: id, ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch,
					Partitions: []TopicPartition{tp("p0", int32(arg%4)), tp(OffsetsTopic, int32(arg)%shards.Count)}})
			case 6, 7: // store writes complete, some failing
				if op == 7 {
					h.fx.fail = []error{metadata.ErrUnavailable, metadata.ErrFenced, metadata.ErrInvalid}[arg%3]
				}
				h.flush()
				h.fx.fail = nil
			case 8: // a completion finishes (markers and offsets written)
				pending = append(pending, h.fx.completions...)
				h.fx.completions = nil
				if len(pending) > 0 {
					k := int(arg) % len(pending)
					c := pending[k]
					h.s.finish(h.now, c.marker, func(err error) {
						if err == nil {
							pending = slices.DeleteFunc(pending, func(p completion) bool {
								return p.marker.TransactionalID == c.marker.TransactionalID && p.marker.ProducerEpoch == c.marker.ProducerEpoch
							})
						}
					})
				}
			case 9:
				h.flush()
			case 10:
				h.now = h.now.Add(time.Duration(arg) * 20 * time.Millisecond)
				h.s.abortTimedOut(h.now)
			case 11:
				h.now = h.now.Add(time.Duration(arg) * h.s.cfg.IDExpiration / 128)
				h.s.expire(h.now)
			}
			checkTxnInvariants(t, h.s, append(slices.Clone(pending), h.fx.completions...))
		}
	})
}
