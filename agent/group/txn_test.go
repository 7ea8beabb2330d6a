package group

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/memstore"
	"github.com/strata-io/strata/metadata/shards"
)

// txnCommit sends a TxnOffsetCommit and flushes the store.
func (h *harness) txnCommit(req TxnCommitRequest) []error {
	h.t.Helper()
	var out []error
	answered := false
	h.s.txnCommit(h.now, req, func(errs []error) { out, answered = errs, true })
	h.flush()
	if !answered {
		h.t.Fatal("TxnOffsetCommit not answered")
	}
	return out
}

// completeTxn ends a producer's transaction in the shard and flushes.
func (h *harness) completeTxn(pid int64, epoch int16, commit bool) error {
	h.t.Helper()
	var out error
	answered := false
	h.s.completeTxn(h.now, pid, epoch, commit, func(err error) { out, answered = err, true })
	h.flush()
	if !answered {
		h.t.Fatal("transaction completion not answered")
	}
	return out
}

func txnReq(group string, pid int64, epoch int16, offs []metadata.CommittedOffset) TxnCommitRequest {
	return TxnCommitRequest{Group: group, ProducerID: pid, ProducerEpoch: epoch, Generation: -1, Offsets: offs}
}

// TestTxnCommitValidation walks Kafka's rules for transactional commits,
// which differ from plain ones: no member id is needed while the group has
// members, and a group that does not exist is created.
func TestTxnCommitValidation(t *testing.T) {
	h := newHarness(t)
	offs := offsets(h, "t", 2)
	ids, gen := h.stableGroup("g", 2)
	instance := "i"
	for _, tc := range []struct {
		name string
		req  TxnCommitRequest
		want error
	}{
		{"member of the current generation (KIP-447)", TxnCommitRequest{Group: "g", Generation: gen, MemberID: ids[1]}, nil},
		{"no member id while the group has members", TxnCommitRequest{Group: "g", Generation: -1}, nil},
		{"group that does not exist", TxnCommitRequest{Group: "new", Generation: -1}, nil},
		{"unknown member", TxnCommitRequest{Group: "g", Generation: gen, MemberID: "x"}, ErrUnknownMemberID},
		{"stale generation", TxnCommitRequest{Group: "g", Generation: gen - 1, MemberID: ids[0]}, ErrIllegalGeneration},
		{"generation without a member id", TxnCommitRequest{Group: "g", Generation: gen}, ErrUnknownMemberID},
		{"unknown static member", TxnCommitRequest{Group: "g", Generation: gen, MemberID: ids[0], InstanceID: &instance}, ErrUnknownMemberID},
		{"member of a group that does not exist", TxnCommitRequest{Group: "other", Generation: 3, MemberID: "x"}, ErrUnknownMemberID},
	} {
		tc.req.ProducerID, tc.req.ProducerEpoch, tc.req.Offsets = 7, 0, offs
		for _, err := range h.txnCommit(tc.req) {
			checkErrOrNil(t, tc.name, err, tc.want)
		}
	}
	long := offsets(h, "t", 2)
	long[1].Metadata = strings.Repeat("x", 4097)
	errs := h.txnCommit(txnReq("g", 7, 0, long))
	if errs[0] != nil {
		t.Errorf("offset with short metadata: %v", errs[0])
	}
	checkErr(t, "metadata too large", errs[1], ErrOffsetMetadataTooLarge)
	h.checkState("g", stateStable)
}

// TestTxnOffsetsVisibility: pending offsets stay invisible (and make
// require_stable fetches unstable) until the transaction commits; an
// aborted transaction's offsets never appear.
func TestTxnOffsetsVisibility(t *testing.T) {
	h := newHarness(t)
	base := offsets(h, "t", 3)
	if errs := h.commit(CommitRequest{Group: "g", Generation: -1, Offsets: base[:1]}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	txn := offsets(h, "t", 2)
	txn[0].Offset, txn[1].Offset = 500, 600
	for _, err := range h.txnCommit(txnReq("g", 1, 2, txn)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	parts := []metadata.GroupPartition{{Topic: "t", Partition: 0}, {Topic: "t", Partition: 1}, {Topic: "t", Partition: 2}}
	got := h.s.fetch("g", parts)
	if got[0].Offset != 10 || got[1].Offset != -1 || got[2].Offset != -1 {
		t.Fatalf("fetch while pending = %+v", got)
	}
	stable := h.s.fetchStable("g", parts)
	for i, want := range []error{ErrUnstableOffsetCommit, ErrUnstableOffsetCommit, nil} {
		checkErrOrNil(t, "require_stable fetch of partition "+string(rune('0'+i)), stable[i].Err, want)
	}
	if stable[0].Offset != -1 {
		t.Errorf("unstable partition answered offset %d", stable[0].Offset)
	}
	if all := h.s.fetchStable("g", nil); len(all) != 1 || all[0].Err != nil {
		t.Errorf("require_stable fetch of all offsets = %+v", all)
	}
	if err := h.completeTxn(1, 2, true); err != nil {
		t.Fatal(err)
	}
	got = h.s.fetchStable("g", parts)
	if got[0].Offset != 500 || got[1].Offset != 600 || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("fetch after commit = %+v", got)
	}
	// An aborted transaction leaves the committed offsets alone.
	again := offsets(h, "t", 1)
	again[0].Offset = 999
	h.txnCommit(txnReq("g", 1, 2, again))
	if err := h.completeTxn(1, 2, false); err != nil {
		t.Fatal(err)
	}
	if got := h.s.fetchStable("g", parts[:1]); got[0].Offset != 500 || got[0].Err != nil {
		t.Fatalf("fetch after abort = %+v", got)
	}
	// Completing a producer with nothing pending is a no-op.
	n := len(h.store.written)
	if err := h.completeTxn(99, 0, true); err != nil || len(h.store.written) != n {
		t.Fatalf("completion of an unknown producer = %v, %d writes", err, len(h.store.written)-n)
	}
}

// TestTxnCompleteKeepsLaterCommit: a plain commit made after the
// transactional one wins over it when the transaction commits, as in
// Kafka where the later offset-commit record wins.
func TestTxnCompleteKeepsLaterCommit(t *testing.T) {
	h := newHarness(t)
	txn := offsets(h, "t", 2)
	h.txnCommit(txnReq("g", 1, 0, txn))
	h.now = h.now.Add(time.Second)
	plain := offsets(h, "t", 1)
	plain[0].Offset = 77
	if errs := h.commit(CommitRequest{Group: "g", Generation: -1, Offsets: plain}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if err := h.completeTxn(1, 0, true); err != nil {
		t.Fatal(err)
	}
	got := h.s.fetch("g", []metadata.GroupPartition{{Topic: "t", Partition: 0}, {Topic: "t", Partition: 1}})
	if got[0].Offset != 77 || got[1].Offset != txn[1].Offset {
		t.Fatalf("fetch = %+v", got)
	}
	last := h.store.written[len(h.store.written)-1]
	if last.kind != "txnComplete" || len(last.offs) != 1 || last.offs[0].Partition != 1 {
		t.Errorf("stored completion = %+v", last)
	}
}

// TestTxnFence: once a transaction of epoch e ended in the shard, commits
// of older epochs of the producer are refused; a commit stored after the
// transaction ended (a zombie's, verified before the fencing) does not
// linger in memory.
func TestTxnFence(t *testing.T) {
	h := newHarness(t)
	offs := offsets(h, "t", 1)
	var late []error
	h.s.txnCommit(h.now, txnReq("g", 1, 3, offs), func(errs []error) { late = errs })
	var completed error = errors.New("not answered")
	h.s.completeTxn(h.now, 1, 4, false, func(err error) { completed = err })
	h.flush()
	if late == nil || late[0] != nil || completed != nil {
		t.Fatalf("commit = %v, completion = %v", late, completed)
	}
	if kinds := []string{h.store.written[0].kind, h.store.written[1].kind}; kinds[0] != "txnCommit" || kinds[1] != "txnComplete" {
		t.Fatalf("writes = %v", kinds)
	}
	if g := h.s.group("g"); len(g.txnOffsets) != 0 {
		t.Errorf("pending offsets after the transaction ended: %+v", g.txnOffsets)
	}
	checkErr(t, "commit of a fenced epoch", h.txnCommit(txnReq("g", 1, 3, offs))[0], ErrInvalidProducerEpoch)
	if errs := h.txnCommit(txnReq("g", 1, 4, offs)); errs[0] != nil {
		t.Errorf("commit of the current epoch: %v", errs[0])
	}
	// Fences are forgotten after a sweep interval.
	h.now = h.now.Add(h.s.cfg.OffsetsRetentionCheckInterval)
	h.s.sweep(h.now)
	if errs := h.txnCommit(txnReq("g", 1, 3, offs)); errs[0] != nil {
		t.Errorf("commit after the fence was forgotten: %v", errs[0])
	}
}

// TestTxnOffsetsKeepGroup: a group whose only offsets are pending is not
// removed by the sweep; once its transaction aborts, it is.
func TestTxnOffsetsKeepGroup(t *testing.T) {
	h := newHarness(t)
	h.txnCommit(txnReq("g", 1, 0, offsets(h, "t", 1)))
	h.now = h.now.Add(30 * 24 * time.Hour)
	h.s.sweep(h.now)
	h.flush()
	h.checkState("g", stateEmpty)
	if err := h.completeTxn(1, 0, false); err != nil {
		t.Fatal(err)
	}
	h.s.sweep(h.now)
	h.flush()
	h.checkState("g", stateDead)
}

// TestTxnCompleteFailure: a completion that cannot be stored leaves the
// offsets pending; the retry completes them.
func TestTxnCompleteFailure(t *testing.T) {
	h := newHarness(t)
	h.txnCommit(txnReq("g", 1, 0, offsets(h, "t", 1)))
	h.store.fail = metadata.ErrUnavailable
	checkErr(t, "completion while the store fails", h.completeTxn(1, 0, true), ErrCoordinatorNotAvailable)
	part := []metadata.GroupPartition{{Topic: "t"}}
	if got := h.s.fetchStable("g", part); got[0].Err == nil {
		t.Fatalf("offsets settled after a failed completion: %+v", got)
	}
	h.store.fail = nil
	if err := h.completeTxn(1, 0, true); err != nil {
		t.Fatal(err)
	}
	if got := h.s.fetchStable("g", part); got[0].Err != nil || got[0].Offset != 10 {
		t.Fatalf("fetch after the retry = %+v", got)
	}
}

// TestTxnRestore: pending offsets survive a coordinator restart and are
// completed by the new one.
func TestTxnRestore(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	v := &view{topics: fakeTopics{}, agents: []metadata.Agent{{ID: 1}}}
	tp := v.topics.add("t", 2)
	c, reg := startCoordinator(t, s, 1, v)
	ctx := t.Context()
	off := metadata.CommittedOffset{Topic: "t", TopicID: tp.ID, Partition: 1, Offset: 42, LeaderEpoch: -1}
	eventually(t, "transactional commit", func() error {
		return c.TxnCommit(ctx, TxnCommitRequest{Group: "g", ProducerID: 5, ProducerEpoch: 1, Generation: -1, Offsets: []metadata.CommittedOffset{off}})[0]
	})
	c.Close()
	_ = reg.Close()

	c2, _ := startCoordinator(t, s, 1, v)
	part := []metadata.GroupPartition{{Topic: "t", Partition: 1}}
	eventually(t, "fetch after restart", func() error {
		got, err := c2.FetchStable(ctx, "g", part)
		if err == nil && !errors.Is(got[0].Err, ErrUnstableOffsetCommit) {
			t.Fatalf("fetch of a pending offset after restart = %+v", got)
		}
		return err
	})
	checkErr(t, "complete in a shard not owned", c2.CompleteTxn(ctx, shards.Count, 5, 1, true), ErrInvalidRequest)
	if err := c2.CompleteTxn(ctx, shards.Of("g"), 5, 1, true); err != nil {
		t.Fatal(err)
	}
	got, err := c2.FetchStable(ctx, "g", part)
	if err != nil || got[0].Err != nil || got[0].Offset != 42 {
		t.Fatalf("fetch after completion = %+v, %v", got, err)
	}
	stored, err := s.LoadGroups(ctx, metadata.CoordinatorShard{Kind: metadata.CoordinatorGroup, Index: shards.Of("g")})
	if err != nil || len(stored) != 1 || len(stored[0].TxnOffsets) != 0 || len(stored[0].Offsets) != 1 {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
}
