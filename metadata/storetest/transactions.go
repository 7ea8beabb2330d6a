package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

func txnShard(i int32) metadata.CoordinatorShard {
	return metadata.CoordinatorShard{Kind: metadata.CoordinatorTransaction, Index: i}
}

// testGroupsTxnOffsets: pending transactional offsets are kept per
// producer apart from committed ones; completing a producer's transaction
// commits or drops them; a group with only pending offsets is a stored
// group; everything survives a restart.
func testGroupsTxnOffsets(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r := register(t, ctx, s, 1)
	c := mustClaim(t, ctx, s, r, groupShard(3))
	id := metadata.NewTopicID()
	committed := sampleOffsets("t", id, 3)
	const name = "txn/group%"
	if err := s.CommitOffsets(ctx, c, name, committed); err != nil {
		t.Fatal(err)
	}
	p7 := sampleOffsets("t", id, 2)
	p7[0].Offset, p7[1].Offset = 500, 501
	p9 := sampleOffsets("u", id, 1)
	for _, w := range []struct {
		pid   int64
		epoch int16
		offs  []metadata.CommittedOffset
	}{{9, 0, p9}, {7, 2, p7[:1]}, {7, 3, p7[1:]}} {
		if err := s.CommitTxnOffsets(ctx, c, name, w.pid, w.epoch, w.offs); err != nil {
			t.Fatalf("CommitTxnOffsets(producer %d): %v", w.pid, err)
		}
	}
	if err := s.CommitTxnOffsets(ctx, c, "pending-only", 9, 1, p9); err != nil {
		t.Fatal(err)
	}
	want := []metadata.StoredGroup{
		{Name: "pending-only", TxnOffsets: []metadata.TxnOffsets{{ProducerID: 9, ProducerEpoch: 1, Offsets: p9}}},
		{Name: name, Offsets: committed, TxnOffsets: []metadata.TxnOffsets{
			{ProducerID: 7, ProducerEpoch: 3, Offsets: p7},
			{ProducerID: 9, ProducerEpoch: 0, Offsets: p9},
		}},
	}
	got, err := s.LoadGroups(ctx, groupShard(3))
	if err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "LoadGroups with pending offsets", got, want)
	if names, err := s.ListGroups(ctx); err != nil || !reflect.DeepEqual(names, []string{"pending-only", name}) {
		t.Errorf("ListGroups = %q, %v", names, err)
	}
	// Producer 7 commits (the first partition's offset only, as a
	// coordinator would when a later plain commit superseded the other);
	// producer 9 aborts in both groups.
	if err := s.CompleteTxnOffsets(ctx, c, name, 7, p7[:1]); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{name, "pending-only", "never-seen"} {
		if err := s.CompleteTxnOffsets(ctx, c, g, 9, nil); err != nil {
			t.Fatalf("CompleteTxnOffsets(%q, abort): %v", g, err)
		}
	}
	after := append([]metadata.CommittedOffset{p7[0]}, committed[1:]...)
	want = []metadata.StoredGroup{{Name: name, Offsets: after}}
	if got, err = s.LoadGroups(ctx, groupShard(3)); err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "LoadGroups after completing", got, want)
	if err := s.CommitTxnOffsets(ctx, c, name, 11, 0, p9); err != nil {
		t.Fatal(err)
	}
	want[0].TxnOffsets = []metadata.TxnOffsets{{ProducerID: 11, Offsets: p9}}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = newStore(t)
	if got, err = s.LoadGroups(ctx, groupShard(3)); err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "LoadGroups after reopening", got, want)
	c = mustClaim(t, ctx, s, register(t, ctx, s, 1), groupShard(3))
	if err := s.DeleteGroup(ctx, c, name); err != nil {
		t.Fatal(err)
	}
	if got, err = s.LoadGroups(ctx, groupShard(3)); err != nil || len(got) != 0 {
		t.Errorf("LoadGroups after DeleteGroup = %+v, %v", got, err)
	}
	for what, err := range map[string]error{
		"negative producer id":    s.CommitTxnOffsets(ctx, c, "g", -1, 0, p9),
		"negative producer epoch": s.CommitTxnOffsets(ctx, c, "g", 1, -1, p9),
		"complete of producer -1": s.CompleteTxnOffsets(ctx, c, "g", -1, nil),
		"empty group":             s.CommitTxnOffsets(ctx, c, "", 1, 0, p9),
		"transaction claim":       s.CommitTxnOffsets(ctx, mustClaim(t, ctx, s, register(t, ctx, s, 2), txnShard(3)), "g", 1, 0, p9),
	} {
		checkErr(t, what, err, metadata.ErrInvalid)
	}
}

// testGroupsTxnOffsetsFenced: pending-offset writes are fenced by the claim.
func testGroupsTxnOffsetsFenced(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r := register(t, ctx, s, 1)
	old := mustClaim(t, ctx, s, r, groupShard(1))
	offs := sampleOffsets("t", metadata.NewTopicID(), 1)
	if err := s.CommitTxnOffsets(ctx, old, "g", 5, 0, offs); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseCoordinator(ctx, old); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, ctx, s, r, groupShard(1))
	checkErr(t, "CommitTxnOffsets under an old claim", s.CommitTxnOffsets(ctx, old, "g", 5, 0, offs), metadata.ErrFenced)
	checkErr(t, "CompleteTxnOffsets under an old claim", s.CompleteTxnOffsets(ctx, old, "g", 5, offs), metadata.ErrFenced)
	got, err := s.LoadGroups(ctx, groupShard(1))
	if err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "group after fenced writes", got, []metadata.StoredGroup{{Name: "g", TxnOffsets: []metadata.TxnOffsets{{ProducerID: 5, Offsets: offs}}}})
}

// testGroupsTxnOffsetsLarge: a transaction over many partitions commits
// whatever the store's per-write limits.
func testGroupsTxnOffsetsLarge(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	c := mustClaim(t, ctx, s, register(t, ctx, s, 1), groupShard(2))
	offs := sampleOffsets("big", metadata.NewTopicID(), 300)
	if err := s.CommitTxnOffsets(ctx, c, "g", 1, 0, offs); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteTxnOffsets(ctx, c, "g", 1, offs); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadGroups(ctx, groupShard(2))
	if err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "300 committed transactional offsets", got, []metadata.StoredGroup{{Name: "g", Offsets: offs}})
}

// sampleTransaction returns an ongoing transaction over three partitions
// of two topics and two groups.
func sampleTransaction(id string) metadata.Transaction {
	return metadata.Transaction{
		TransactionalID:   id,
		ProducerID:        42,
		ProducerEpoch:     3,
		LastProducerID:    -1,
		LastProducerEpoch: 2,
		Timeout:           time.Minute,
		State:             metadata.TxnOngoing,
		Partitions:        []metadata.TxnPartition{{Topic: "a", Partition: 0}, {Topic: "a", Partition: 2}, {Topic: "b", Partition: 1}},
		Groups:            []string{"g1", "g2/x"},
		StartTime:         time.Date(2025, 7, 1, 2, 3, 4, 5000000, time.UTC),
		LastUpdate:        time.Date(2025, 7, 1, 2, 3, 5, 0, time.UTC),
	}
}

// checkTransactions fails unless got equals want, comparing times as
// instants.
func checkTransactions(t *testing.T, what string, got, want []metadata.Transaction) {
	t.Helper()
	norm := func(ts []metadata.Transaction) string {
		var b []byte
		for _, x := range ts {
			b = fmt.Appendf(b, "%q pid %d/%d last %d/%d %v %s %v %q start %d update %d\n", x.TransactionalID,
				x.ProducerID, x.ProducerEpoch, x.LastProducerID, x.LastProducerEpoch, x.Timeout, x.State,
				x.Partitions, x.Groups, x.StartTime.UnixNano(), x.LastUpdate.UnixNano())
		}
		return string(b)
	}
	if g, w := norm(got), norm(want); g != w {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", what, g, w)
	}
}

// testTransactions: transactions are stored per shard, replaced by later
// puts, removed by deletes, and survive a restart.
func testTransactions(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r := register(t, ctx, s, 1)
	c := mustClaim(t, ctx, s, r, txnShard(3))
	other := mustClaim(t, ctx, s, r, txnShard(4))
	var want []metadata.Transaction
	for _, id := range []string{"a/b", "a", "a b%2F", "grüße ☃", "a-"} {
		x := sampleTransaction(id)
		if err := s.PutTransaction(ctx, c, x); err != nil {
			t.Fatalf("PutTransaction(%q): %v", id, err)
		}
		want = append(want, x)
	}
	empty := metadata.Transaction{TransactionalID: "fresh", ProducerID: 0, ProducerEpoch: 0, LastProducerID: -1,
		LastProducerEpoch: -1, Timeout: time.Second, State: metadata.TxnEmpty, LastUpdate: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.PutTransaction(ctx, c, empty); err != nil {
		t.Fatal(err)
	}
	want = append(want, empty)
	if err := s.PutTransaction(ctx, other, sampleTransaction("elsewhere")); err != nil {
		t.Fatal(err)
	}
	sortTxns(want)
	got, err := s.LoadTransactions(ctx, txnShard(3))
	if err != nil {
		t.Fatal(err)
	}
	checkTransactions(t, "LoadTransactions", got, want)
	// Replace one, delete two (one of them twice, one never stored).
	done := sampleTransaction("a")
	done.State, done.Partitions, done.Groups, done.ProducerEpoch = metadata.TxnCompleteCommit, nil, nil, 4
	if err := s.PutTransaction(ctx, c, done); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a-", "a-", "never"} {
		if err := s.DeleteTransaction(ctx, c, id); err != nil {
			t.Fatalf("DeleteTransaction(%q): %v", id, err)
		}
	}
	var kept []metadata.Transaction
	for _, x := range want {
		switch x.TransactionalID {
		case "a":
			x = done
		case "a-":
			continue
		}
		kept = append(kept, x)
	}
	if got, err = s.LoadTransactions(ctx, txnShard(3)); err != nil {
		t.Fatal(err)
	}
	checkTransactions(t, "LoadTransactions after changes", got, kept)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = newStore(t)
	if got, err = s.LoadTransactions(ctx, txnShard(3)); err != nil {
		t.Fatal(err)
	}
	checkTransactions(t, "LoadTransactions after reopening", got, kept)
	_, err = s.LoadTransactions(ctx, groupShard(3))
	checkErr(t, "LoadTransactions of a group shard", err, metadata.ErrInvalid)
}

func sortTxns(ts []metadata.Transaction) {
	for i := range ts {
		for j := i + 1; j < len(ts); j++ {
			if ts[j].TransactionalID < ts[i].TransactionalID {
				ts[i], ts[j] = ts[j], ts[i]
			}
		}
	}
}

// testTransactionsFenced: writes under a claim that is no longer current
// fail with ErrFenced and change nothing.
func testTransactionsFenced(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r1, r2 := register(t, ctx, s, 1), register(t, ctx, s, 2)
	old := mustClaim(t, ctx, s, r1, txnShard(0))
	x := sampleTransaction("t")
	if err := s.PutTransaction(ctx, old, x); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseCoordinator(ctx, old); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, ctx, s, r2, txnShard(0))
	later := x
	later.ProducerEpoch = 9
	checkErr(t, "PutTransaction under an old claim", s.PutTransaction(ctx, old, later), metadata.ErrFenced)
	checkErr(t, "DeleteTransaction under an old claim", s.DeleteTransaction(ctx, old, "t"), metadata.ErrFenced)
	_, err := s.BumpCoordinatorEpoch(ctx, old)
	checkErr(t, "BumpCoordinatorEpoch under an old claim", err, metadata.ErrFenced)
	got, err := s.LoadTransactions(ctx, txnShard(0))
	if err != nil {
		t.Fatal(err)
	}
	checkTransactions(t, "transactions after fenced writes", got, []metadata.Transaction{x})
}

// testTransactionsInvalid: bad arguments are ErrInvalid and store nothing.
func testTransactionsInvalid(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r := register(t, ctx, s, 1)
	c := mustClaim(t, ctx, s, r, txnShard(0))
	group := mustClaim(t, ctx, s, r, groupShard(0))
	bad := func(mod func(*metadata.Transaction)) metadata.Transaction {
		x := sampleTransaction("t")
		mod(&x)
		return x
	}
	long := make([]byte, metadata.MaxTransactionalIDLen+1)
	for i := range long {
		long[i] = 'x'
	}
	for what, err := range map[string]error{
		"empty id":             s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) { x.TransactionalID = "" })),
		"long id":              s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) { x.TransactionalID = string(long) })),
		"negative producer id": s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) { x.ProducerID = -1 })),
		"negative epoch":       s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) { x.ProducerEpoch = -1 })),
		"no timeout":           s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) { x.Timeout = 0 })),
		"unknown state":        s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) { x.State = "Dead" })),
		"partitions when empty": s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) {
			x.State = metadata.TxnEmpty
		})),
		"unsorted partitions": s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) {
			x.Partitions[0], x.Partitions[1] = x.Partitions[1], x.Partitions[0]
		})),
		"duplicate group":   s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) { x.Groups[1] = x.Groups[0] })),
		"bad topic":         s.PutTransaction(ctx, c, bad(func(x *metadata.Transaction) { x.Partitions[0].Topic = "a/b" })),
		"group claim":       s.PutTransaction(ctx, group, sampleTransaction("t")),
		"delete empty id":   s.DeleteTransaction(ctx, c, ""),
		"delete with group": s.DeleteTransaction(ctx, group, "t"),
	} {
		checkErr(t, what, err, metadata.ErrInvalid)
	}
	_, err := s.BumpCoordinatorEpoch(ctx, group)
	checkErr(t, "BumpCoordinatorEpoch under a group claim", err, metadata.ErrInvalid)
	if ts, err := s.LoadTransactions(ctx, txnShard(0)); err != nil || len(ts) != 0 {
		t.Errorf("invalid writes stored %+v, %v", ts, err)
	}
}

// testCoordinatorEpoch: each shard's coordinator epoch starts at 1 and
// grows with every bump, across claims and restarts.
func testCoordinatorEpoch(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r := register(t, ctx, s, 1)
	c := mustClaim(t, ctx, s, r, txnShard(7))
	bump := func(c metadata.CoordinatorClaim, want int32) {
		t.Helper()
		if got, err := s.BumpCoordinatorEpoch(ctx, c); err != nil || got != want {
			t.Fatalf("BumpCoordinatorEpoch(%v) = %d, %v; want %d", c.Shard, got, err, want)
		}
	}
	bump(c, 1)
	bump(c, 2)
	bump(mustClaim(t, ctx, s, r, txnShard(8)), 1)
	if err := s.ReleaseCoordinator(ctx, c); err != nil {
		t.Fatal(err)
	}
	bump(mustClaim(t, ctx, s, r, txnShard(7)), 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = newStore(t)
	bump(mustClaim(t, ctx, s, register(t, ctx, s, 2), txnShard(7)), 4)
}
