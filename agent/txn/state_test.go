package txn

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

// TestInitProducerID: a new id gets a fresh producer id and epoch 0; every
// later InitProducerId bumps the epoch and fences the previous producer.
func TestInitProducerID(t *testing.T) {
	h := newHarness(t)
	first := h.mustInit("t")
	if first != (ProducerIDAndEpoch{1000, 0}) {
		t.Fatalf("first init = %+v", first)
	}
	h.checkState("t", metadata.TxnEmpty)
	second := h.mustInit("t")
	if second != (ProducerIDAndEpoch{1000, 1}) {
		t.Fatalf("second init = %+v", second)
	}
	if m := h.meta("t"); m.LastProducerEpoch != -1 || m.LastProducerID != -1 {
		t.Errorf("last producer after a plain init = %d/%d", m.LastProducerID, m.LastProducerEpoch)
	}
	checkErr(t, "add with the fenced epoch", h.add("t", first, []TopicPartition{tp("a", 0)}), ErrProducerFenced)
	checkErr(t, "add with the new epoch", h.add("t", second, []TopicPartition{tp("a", 0)}), nil)
	if other := h.mustInit("u"); other.ProducerID != 1001 || other.ProducerEpoch != 0 {
		t.Errorf("another id = %+v", other)
	}
	// The initialization is stored before it is answered.
	last := h.fx.written[len(h.fx.written)-1]
	if last.put == nil || last.put.TransactionalID != "u" || last.put.ProducerEpoch != 0 || last.put.State != metadata.TxnEmpty {
		t.Errorf("last write = %+v", last.put)
	}
}

// TestInitProducerIDRecovery walks KIP-360: a producer that names its
// producer id and epoch continues after an error, a retry of a bump gets
// the same answer, and anyone else is fenced.
func TestInitProducerIDRecovery(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pid       int64 // -2 means the id's current producer id
		epoch     int16
		want      error
		wantEpoch int16
	}{
		{"current epoch bumps", -2, 3, nil, 4},
		{"retry of the last bump", -2, 2, nil, 3},
		{"older epoch", -2, 1, ErrProducerFenced, 0},
		{"newer epoch", -2, 9, ErrProducerFenced, 0},
		{"another producer id", 5, 3, ErrProducerFenced, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.mustInit("t")
			pe, err := h.init("t", 1000, 0) // epoch 0 → 1, last 0
			if err != nil || pe.ProducerEpoch != 1 {
				t.Fatalf("recovery init = %+v, %v", pe, err)
			}
			for range 2 { // epoch 1 → 2 → 3, last 2
				if pe, err = h.init("t", 1000, pe.ProducerEpoch); err != nil {
					t.Fatal(err)
				}
			}
			if m := h.meta("t"); m.ProducerEpoch != 3 || m.LastProducerEpoch != 2 {
				t.Fatalf("epochs = %d/%d", m.ProducerEpoch, m.LastProducerEpoch)
			}
			pid := tc.pid
			if pid == -2 {
				pid = 1000
			}
			got, err := h.init("t", pid, tc.epoch)
			checkErr(t, "init", err, tc.want)
			if tc.want == nil && got != (ProducerIDAndEpoch{1000, tc.wantEpoch}) {
				t.Errorf("init = %+v, want epoch %d", got, tc.wantEpoch)
			}
		})
	}
}

// TestInitProducerIDRotation: an exhausted epoch gets a new producer id,
// and a retry of that rotation, naming the old id, gets the same answer.
func TestInitProducerIDRotation(t *testing.T) {
	h := newHarness(t)
	h.mustInit("t")
	h.meta("t").ProducerEpoch = math.MaxInt16 - 1
	rotated, err := h.init("t", 1000, math.MaxInt16-1)
	if err != nil || rotated != (ProducerIDAndEpoch{1001, 0}) {
		t.Fatalf("init with an exhausted epoch = %+v, %v", rotated, err)
	}
	if m := h.meta("t"); m.LastProducerID != 1000 || m.LastProducerEpoch != math.MaxInt16-1 {
		t.Errorf("last producer = %d/%d", m.LastProducerID, m.LastProducerEpoch)
	}
	again, err := h.init("t", 1000, math.MaxInt16-1)
	if err != nil || again != rotated {
		t.Errorf("retry of the rotation = %+v, %v; want %+v", again, err, rotated)
	}
	// Without an expected epoch, exhaustion rotates too.
	h.meta("t").ProducerEpoch = math.MaxInt16 - 1
	if pe := h.mustInit("t"); pe != (ProducerIDAndEpoch{1002, 0}) {
		t.Errorf("plain init with an exhausted epoch = %+v", pe)
	}
}

// TestInitFencesOngoing: a new producer of an id with an ongoing
// transaction aborts it with a bumped epoch and is told to retry; the
// retry, once the abort completed, gets the epoch after that.
func TestInitFencesOngoing(t *testing.T) {
	h := newHarness(t)
	old := h.mustInit("t")
	parts := []TopicPartition{tp("b", 1), tp("a", 0)}
	if err := h.add("t", old, parts, "g"); err != nil {
		t.Fatal(err)
	}
	_, err := h.init("t", -1, -1)
	checkErr(t, "init during an ongoing transaction", err, ErrConcurrentTransactions)
	h.checkState("t", metadata.TxnPrepareAbort)
	if len(h.fx.completions) != 1 {
		t.Fatalf("completions = %+v", h.fx.completions)
	}
	c := h.fx.completions[0]
	want := Marker{TransactionalID: "t", ProducerID: 1000, ProducerEpoch: 1, CoordinatorEpoch: 7, Commit: false,
		Partitions: []TopicPartition{tp("a", 0), tp("b", 1)}}
	if !slices.Equal(c.marker.Partitions, want.Partitions) || c.marker.ProducerEpoch != 1 || c.marker.Commit ||
		c.marker.CoordinatorEpoch != 7 || !slices.Equal(c.groups, []string{"g"}) {
		t.Fatalf("completion = %+v, want %+v with group g", c, want)
	}
	_, err = h.init("t", -1, -1)
	checkErr(t, "init while the abort completes", err, ErrConcurrentTransactions)
	checkErr(t, "the fenced producer's commit", h.end("t", old, true), ErrProducerFenced)
	h.finishAll()
	h.checkState("t", metadata.TxnCompleteAbort)
	if m := h.meta("t"); len(m.Partitions) != 0 || len(m.Groups) != 0 {
		t.Errorf("completed transaction kept %v %v", m.Partitions, m.Groups)
	}
	if pe := h.mustInit("t"); pe != (ProducerIDAndEpoch{1000, 2}) {
		t.Errorf("init after the abort = %+v", pe)
	}
}

// TestAdd walks AddPartitionsToTxn's checks and its effect.
func TestAdd(t *testing.T) {
	h := newHarness(t)
	pe := h.mustInit("t")
	h.now = h.now.Add(time.Second)
	if err := h.add("t", pe, []TopicPartition{tp("b", 0), tp("a", 2), tp("a", 1), tp("a", 2)}); err != nil {
		t.Fatal(err)
	}
	m := h.meta("t")
	if m.State != metadata.TxnOngoing || !m.StartTime.Equal(h.now) ||
		!slices.Equal(m.Partitions, []TopicPartition{tp("a", 1), tp("a", 2), tp("b", 0)}) {
		t.Fatalf("after add: %+v", m.Transaction)
	}
	start := m.StartTime
	h.now = h.now.Add(time.Second)
	writes := len(h.fx.written)
	if err := h.add("t", pe, []TopicPartition{tp("a", 1)}); err != nil || len(h.fx.written) != writes {
		t.Fatalf("adding a partition already in = %v with %d writes", err, len(h.fx.written)-writes)
	}
	if err := h.add("t", pe, nil, "g2", "g1"); err != nil {
		t.Fatal(err)
	}
	if m := h.meta("t"); !slices.Equal(m.Groups, []string{"g1", "g2"}) || !m.StartTime.Equal(start) || !m.LastUpdate.Equal(h.now) {
		t.Fatalf("after adding groups: %+v", m.Transaction)
	}
	for _, tc := range []struct {
		name string
		id   string
		pe   ProducerIDAndEpoch
		want error
	}{
		{"unknown transactional id", "nope", pe, ErrInvalidProducerIDMapping},
		{"another producer id", "t", ProducerIDAndEpoch{999, 0}, ErrInvalidProducerIDMapping},
		{"older epoch", "t", ProducerIDAndEpoch{pe.ProducerID, pe.ProducerEpoch - 1}, ErrProducerFenced},
		{"newer epoch", "t", ProducerIDAndEpoch{pe.ProducerID, pe.ProducerEpoch + 1}, ErrProducerFenced},
	} {
		checkErr(t, tc.name, h.add(tc.id, tc.pe, []TopicPartition{tp("c", 0)}), tc.want)
	}
	// While a write is in flight, and while the transaction completes,
	// CONCURRENT_TRANSACTIONS.
	p := &pending[error]{}
	h.s.add(h.now, AddRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Partitions: []TopicPartition{tp("c", 0)}}, answer(t, p))
	checkErr(t, "add while a write is in flight", h.add("t", pe, []TopicPartition{tp("d", 0)}), ErrConcurrentTransactions)
	h.flush()
	checkErr(t, "the first add", p.get(t), nil)
	if err := h.end("t", pe, true); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "add while committing", h.add("t", pe, []TopicPartition{tp("d", 0)}), ErrConcurrentTransactions)
	h.finishAll()
	h.now = h.now.Add(time.Second)
	if err := h.add("t", pe, []TopicPartition{tp("d", 0)}); err != nil {
		t.Fatal(err)
	}
	if m := h.meta("t"); !slices.Equal(m.Partitions, []TopicPartition{tp("d", 0)}) || len(m.Groups) != 0 || !m.StartTime.Equal(h.now) {
		t.Errorf("next transaction: %+v", m.Transaction)
	}
}

// TestEnd walks EndTxn in every state, for both outcomes.
func TestEnd(t *testing.T) {
	type step int
	const (
		empty step = iota
		ongoing
		prepared
		completed
	)
	for _, tc := range []struct {
		name   string
		at     step
		commit bool // the outcome the transaction was ended with (prepared, completed)
		ask    bool // the outcome EndTxn asks for
		want   error
	}{
		{"commit without a transaction", empty, false, true, ErrInvalidTxnState},
		{"abort without a transaction", empty, false, false, ErrInvalidTxnState},
		{"commit", ongoing, false, true, nil},
		{"abort", ongoing, false, false, nil},
		{"commit retried while committing", prepared, true, true, ErrConcurrentTransactions},
		{"abort while committing", prepared, true, false, ErrInvalidTxnState},
		{"abort retried while aborting", prepared, false, false, ErrConcurrentTransactions},
		{"commit while aborting", prepared, false, true, ErrInvalidTxnState},
		{"commit retried after it completed", completed, true, true, nil},
		{"abort after a commit", completed, true, false, ErrInvalidTxnState},
		{"abort retried after it completed", completed, false, false, nil},
		{"commit after an abort", completed, false, true, ErrInvalidTxnState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			pe := h.mustInit("t")
			if tc.at >= ongoing {
				if err := h.add("t", pe, []TopicPartition{tp("a", 0)}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.at >= prepared {
				if err := h.end("t", pe, tc.commit); err != nil {
					t.Fatal(err)
				}
			}
			if tc.at >= completed {
				h.finishAll()
			}
			before := h.meta("t").State
			err := h.end("t", pe, tc.ask)
			checkErr(t, "end", err, tc.want)
			after := h.meta("t").State
			switch {
			case tc.at == ongoing && tc.ask:
				if after != metadata.TxnPrepareCommit || len(h.fx.completions) != 1 || !h.fx.completions[0].marker.Commit {
					t.Errorf("after commit: %s, completions %+v", after, h.fx.completions)
				}
			case tc.at == ongoing:
				if after != metadata.TxnPrepareAbort || len(h.fx.completions) != 1 || h.fx.completions[0].marker.Commit {
					t.Errorf("after abort: %s, completions %+v", after, h.fx.completions)
				}
			case after != before:
				t.Errorf("state changed from %s to %s", before, after)
			}
		})
	}
}

// TestEndChecks: EndTxn's producer checks.
func TestEndChecks(t *testing.T) {
	h := newHarness(t)
	pe := h.mustInit("t")
	if err := h.add("t", pe, []TopicPartition{tp("a", 0)}); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "unknown id", h.end("x", pe, true), ErrInvalidProducerIDMapping)
	checkErr(t, "wrong producer id", h.end("t", ProducerIDAndEpoch{1, pe.ProducerEpoch}, true), ErrInvalidProducerIDMapping)
	checkErr(t, "stale epoch", h.end("t", ProducerIDAndEpoch{pe.ProducerID, pe.ProducerEpoch - 1}, true), ErrProducerFenced)
	h.checkState("t", metadata.TxnOngoing)
}

// TestVerify: verify-only AddPartitionsToTxn answers per partition whether
// it is in the producer's ongoing transaction.
func TestVerify(t *testing.T) {
	h := newHarness(t)
	pe := h.mustInit("t")
	req := AddRequest{TransactionalID: "t", ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch,
		Partitions: []TopicPartition{tp("a", 0), tp("a", 1), tp(OffsetsTopic, shards.Of("g")), tp(OffsetsTopic, (shards.Of("g")+1)%shards.Count)}}
	errs, err := h.s.verify(req)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		checkErr(t, "verify before the transaction", e, ErrTransactionAbortable)
		_ = i
	}
	if err := h.add("t", pe, []TopicPartition{tp("a", 0)}, "g"); err != nil {
		t.Fatal(err)
	}
	errs, err = h.s.verify(req)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []error{nil, ErrTransactionAbortable, nil, ErrTransactionAbortable} {
		checkErr(t, "verify of partition "+req.Partitions[i].Topic, errs[i], want)
	}
	stale := req
	stale.ProducerEpoch--
	_, err = h.s.verify(stale)
	checkErr(t, "verify with a stale epoch", err, ErrProducerFenced)
	stale = req
	stale.ProducerID++
	_, err = h.s.verify(stale)
	checkErr(t, "verify with another producer id", err, ErrInvalidProducerIDMapping)
	if err := h.end("t", pe, true); err != nil {
		t.Fatal(err)
	}
	_, err = h.s.verify(req)
	checkErr(t, "verify while committing", err, ErrConcurrentTransactions)
	h.finishAll()
	errs, _ = h.s.verify(req)
	checkErr(t, "verify after the commit", errs[0], ErrTransactionAbortable)
}

// TestTimeout: a transaction older than its timeout is aborted with a
// bumped epoch at the next check, fencing its producer; a younger one is
// not.
func TestTimeout(t *testing.T) {
	h := newHarness(t)
	pe := h.mustInit("t")
	young := h.mustInit("u")
	if err := h.add("t", pe, []TopicPartition{tp("a", 0)}); err != nil {
		t.Fatal(err)
	}
	h.now = h.now.Add(30 * time.Second)
	if err := h.add("u", young, []TopicPartition{tp("a", 1)}); err != nil {
		t.Fatal(err)
	}
	h.now = h.now.Add(30 * time.Second) // t started exactly a timeout ago
	h.s.abortTimedOut(h.now)
	h.flush()
	h.checkState("t", metadata.TxnOngoing)
	h.now = h.now.Add(time.Millisecond)
	h.s.abortTimedOut(h.now)
	h.flush()
	h.checkState("t", metadata.TxnPrepareAbort)
	h.checkState("u", metadata.TxnOngoing)
	if m := h.meta("t"); m.ProducerEpoch != pe.ProducerEpoch+1 {
		t.Errorf("epoch after the timeout = %d", m.ProducerEpoch)
	}
	h.s.abortTimedOut(h.now) // no second abort while it completes
	h.flush()
	h.finishAll()
	h.checkState("t", metadata.TxnCompleteAbort)
	checkErr(t, "the timed-out producer's commit", h.end("t", pe, true), ErrProducerFenced)
	checkErr(t, "the timed-out producer's next transaction", h.add("t", pe, []TopicPartition{tp("a", 0)}), ErrProducerFenced)
	_, err := h.init("t", pe.ProducerID, pe.ProducerEpoch)
	checkErr(t, "the timed-out producer's recovery", err, ErrProducerFenced)
}

// TestExpire: ids without a transaction are forgotten after IDExpiration
// of inactivity; ongoing ones are kept.
func TestExpire(t *testing.T) {
	h := newHarness(t)
	h.mustInit("idle")
	pe := h.mustInit("busy")
	if err := h.add("busy", pe, []TopicPartition{tp("a", 0)}); err != nil {
		t.Fatal(err)
	}
	h.now = h.now.Add(h.s.cfg.IDExpiration - time.Millisecond)
	h.s.expire(h.now)
	h.flush()
	h.meta("idle")
	h.now = h.now.Add(time.Millisecond)
	h.fx.fail = metadata.ErrUnavailable
	h.s.expire(h.now)
	h.flush()
	h.meta("idle") // the failed removal kept it
	h.fx.fail = nil
	h.s.expire(h.now)
	h.flush()
	if _, ok := h.s.txns["idle"]; ok {
		t.Error("idle id not expired")
	}
	h.checkState("busy", metadata.TxnOngoing)
	if last := h.fx.written[len(h.fx.written)-1]; last.put != nil || last.id != "idle" {
		t.Errorf("last write = %+v", last)
	}
	_, err := h.s.describe("idle")
	checkErr(t, "describe of an expired id", err, ErrTransactionalIDNotFound)
	if pe := h.mustInit("idle"); pe.ProducerID != 1002 || pe.ProducerEpoch != 0 {
		t.Errorf("init of an expired id = %+v", pe)
	}
}

// TestStoreFailure: a write that fails changes nothing and is reported as
// Kafka reports failed transaction-log appends; a failed epoch fence is
// not bumped again by the retry.
func TestStoreFailure(t *testing.T) {
	h := newHarness(t)
	h.fx.fail = metadata.ErrUnavailable
	_, err := h.init("t", -1, -1)
	checkErr(t, "init while the store fails", err, ErrCoordinatorNotAvailable)
	if _, ok := h.s.txns["t"]; ok {
		t.Error("a never-stored id stayed")
	}
	h.fx.fail = nil
	pe := h.mustInit("t")
	if err := h.add("t", pe, []TopicPartition{tp("a", 0)}); err != nil {
		t.Fatal(err)
	}
	h.fx.fail = metadata.ErrFenced
	checkErr(t, "commit under a lost claim", h.end("t", pe, true), ErrNotCoordinator)
	h.fx.fail = metadata.ErrInvalid
	checkErr(t, "commit of an invalid value", h.end("t", pe, true), ErrUnknownServer)
	h.checkState("t", metadata.TxnOngoing)
	h.fx.fail = metadata.ErrUnavailable
	_, err = h.init("t", -1, -1)
	checkErr(t, "fence while the store fails", err, ErrCoordinatorNotAvailable)
	h.checkState("t", metadata.TxnOngoing)
	checkErr(t, "the old producer after a failed fence", h.end("t", pe, true), ErrProducerFenced)
	h.fx.fail = nil
	_, err = h.init("t", -1, -1)
	checkErr(t, "fence retried", err, ErrConcurrentTransactions)
	if m := h.meta("t"); m.ProducerEpoch != pe.ProducerEpoch+1 {
		t.Errorf("epoch after a failed and a successful fence = %d, want %d", m.ProducerEpoch, pe.ProducerEpoch+1)
	}
}

// TestRestore: prepared transactions loaded from the store resume their
// completion with the new coordinator epoch.
func TestRestore(t *testing.T) {
	h := newHarness(t)
	base := metadata.Transaction{ProducerID: 5, ProducerEpoch: 2, LastProducerID: -1, LastProducerEpoch: -1,
		Timeout: time.Minute, LastUpdate: h.now}
	var stored []metadata.Transaction
	for id, st := range map[string]metadata.TxnState{"c": metadata.TxnPrepareCommit, "a": metadata.TxnPrepareAbort, "o": metadata.TxnOngoing, "e": metadata.TxnEmpty} {
		x := base
		x.TransactionalID, x.State = id, st
		if inTransaction(st) {
			x.Partitions, x.StartTime = []TopicPartition{tp("t", 0)}, h.now
		}
		stored = append(stored, x)
	}
	h.s.restore(stored, 12)
	if len(h.fx.completions) != 2 {
		t.Fatalf("completions = %+v", h.fx.completions)
	}
	for _, c := range h.fx.completions {
		if c.marker.CoordinatorEpoch != 12 || c.marker.Commit != (c.marker.TransactionalID == "c") || len(c.marker.Partitions) != 1 {
			t.Errorf("completion = %+v", c)
		}
	}
	h.finishAll()
	h.checkState("c", metadata.TxnCompleteCommit)
	h.checkState("a", metadata.TxnCompleteAbort)
	h.checkState("o", metadata.TxnOngoing)
	// A stale completion (the transaction moved on) does nothing.
	p := &pending[error]{}
	h.s.finish(h.now, Marker{TransactionalID: "c", ProducerID: 5, ProducerEpoch: 2, Commit: true}, answer(t, p))
	if err := p.get(t); err != nil || len(h.fx.queue) != 0 {
		t.Errorf("stale finish = %v with %d writes", err, len(h.fx.queue))
	}
}

// TestDescribeAndList: what DescribeTransactions and ListTransactions
// show, with ListTransactions' filters.
func TestDescribeAndList(t *testing.T) {
	h := newHarness(t)
	a := h.mustInit("a")
	h.mustInit("b")
	c := h.mustInit("c")
	if err := h.add("a", a, []TopicPartition{tp("x", 1), tp("x", 0)}); err != nil {
		t.Fatal(err)
	}
	start := h.now
	h.now = h.now.Add(time.Minute)
	if err := h.add("c", c, []TopicPartition{tp("y", 0)}); err != nil {
		t.Fatal(err)
	}
	d, err := h.s.describe("a")
	if err != nil || d.State != "Ongoing" || d.ProducerID != a.ProducerID || d.ProducerEpoch != a.ProducerEpoch ||
		d.Timeout != time.Minute || !d.StartTime.Equal(start) || !slices.Equal(d.Partitions, []TopicPartition{tp("x", 0), tp("x", 1)}) {
		t.Fatalf("describe = %+v, %v", d, err)
	}
	if d, _ := h.s.describe("b"); d.State != "Empty" || !d.StartTime.IsZero() || len(d.Partitions) != 0 {
		t.Errorf("describe of an idle id = %+v", d)
	}
	_, err = h.s.describe("nope")
	checkErr(t, "describe of an unknown id", err, ErrTransactionalIDNotFound)
	ids := func(ls []Listing) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.TransactionalID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    ListFilter
		want []string
	}{
		{"all", ListFilter{}, []string{"a", "b", "c"}},
		{"by state", ListFilter{States: []string{"Ongoing"}}, []string{"a", "c"}},
		{"by unknown state", ListFilter{States: []string{"Bogus"}}, nil},
		{"by producer id", ListFilter{ProducerIDs: []int64{c.ProducerID, 12345}}, []string{"c"}},
		{"running longer than 30s", ListFilter{ByDuration: true, MinDuration: 30 * time.Second}, []string{"a", "b"}},
		{"running longer than 0", ListFilter{ByDuration: true}, []string{"a", "b"}},
		{"by pattern", ListFilter{Match: func(id string) bool { return id != "b" }}, []string{"a", "c"}},
	} {
		if got := ids(h.s.list(h.now, tc.f)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
