package tests

// The transaction coordinator against real agent processes: franz-go
// transactional producers committing and aborting, a second producer of a
// transactional id fencing the first, a transaction aborted by its
// timeout, and Kafka's error codes for transactional requests that make
// no sense.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnProducer returns a transactional producer of id writing to topic,
// partition by partition.
func txnProducer(t *testing.T, addr, id, topic string, timeout time.Duration) *kgo.Client {
	t.Helper()
	return newClient(t, addr, kgo.TransactionalID(id), kgo.TransactionTimeout(timeout),
		kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
}

// txnRecord is a record with a value for partition p.
func txnRecord(p int32, value string) *kgo.Record {
	return &kgo.Record{Partition: p, Value: []byte(value)}
}

// readUntil consumes topic from the start at the isolation level until it
// has seen every value of want, and returns every value it saw in order
// (values arrive in log order per partition, so a value absent by then
// that precedes one of want in its partition was not delivered).
func readUntil(t *testing.T, addr, topic string, level kgo.IsolationLevel, want ...string) []string {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	var got []string
	missing := func() []string {
		var m []string
		for _, w := range want {
			if !slices.Contains(got, w) {
				m = append(m, w)
			}
		}
		return m
	}
	for len(missing()) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: still missing %q after 45s; read %q", topic, missing(), got)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

// describeTxn returns what the coordinator says about a transactional id.
func describeTxn(t *testing.T, addr, id string) kadm.DescribedTransaction {
	t.Helper()
	adm := kadm.NewClient(newClient(t, addr))
	ds, err := adm.DescribeTransactions(testCtx(t, 20*time.Second), id)
	if err != nil {
		t.Fatalf("describe transaction %q: %v", id, err)
	}
	d, ok := ds[id]
	if !ok || d.Err != nil {
		t.Fatalf("describe transaction %q: %+v", id, d)
	}
	return d
}

// waitTxnState polls until the transactional id is in state.
func waitTxnState(t *testing.T, addr, id, state string) kadm.DescribedTransaction {
	t.Helper()
	var d kadm.DescribedTransaction
	checkFor(t, 30*time.Second, func() error {
		if d = describeTxn(t, addr, id); d.State != state {
			return fmt.Errorf("transaction %q is %s, want %s", id, d.State, state)
		}
		return nil
	})
	return d
}

// TestTxnCommitAbort: a transactional producer commits a transaction over
// two partitions, aborts the next, and commits a third; read_committed
// consumers see exactly the committed records, read_uncommitted ones all.
func TestTxnCommitAbort(t *testing.T) {
	a := startAgent(t)
	const topic, id = "txn-commit-abort", "txn-commit-abort-producer"
	createTopic(t, a.addr, topic, 2, nil)
	p := txnProducer(t, a.addr, id, topic, time.Minute)
	ctx := testCtx(t, time.Minute)
	run := func(commit kgo.TransactionEndTry, recs ...*kgo.Record) {
		t.Helper()
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		produceSync(t, p, recs...)
		if err := p.EndTransaction(ctx, commit); err != nil {
			t.Fatalf("end transaction (commit %v): %v", commit, err)
		}
	}
	run(kgo.TryCommit, txnRecord(0, "c0"), txnRecord(1, "c1"), txnRecord(0, "c2"))
	d := waitTxnState(t, a.addr, id, "CompleteCommit")
	if len(d.Topics) != 0 {
		t.Errorf("a completed transaction lists partitions %v", d.Topics)
	}
	run(kgo.TryAbort, txnRecord(0, "a0"), txnRecord(1, "a1"))
	waitTxnState(t, a.addr, id, "CompleteAbort")
	run(kgo.TryCommit, txnRecord(0, "c3"), txnRecord(1, "c4"))

	committed := readUntil(t, a.addr, topic, kgo.ReadCommitted(), "c0", "c1", "c2", "c3", "c4")
	if slices.ContainsFunc(committed, func(v string) bool { return strings.HasPrefix(v, "a") }) {
		t.Errorf("read_committed saw aborted records: %q", committed)
	}
	readUntil(t, a.addr, topic, kgo.ReadUncommitted(), "c0", "c1", "c2", "a0", "a1", "c3", "c4")
	if d := waitTxnState(t, a.addr, id, "CompleteCommit"); d.ProducerEpoch != 0 {
		t.Errorf("the producer's epoch moved to %d without a new producer", d.ProducerEpoch)
	}
}

// TestTxnZombieFencing: a second producer with the same transactional id
// fences the first: the first's open transaction is aborted, its commit
// fails with a fatal fencing error, and its records never become visible.
func TestTxnZombieFencing(t *testing.T) {
	a := startAgent(t)
	const topic, id = "txn-zombie", "txn-zombie-producer"
	createTopic(t, a.addr, topic, 1, nil)
	ctx := testCtx(t, time.Minute)
	zombie := txnProducer(t, a.addr, id, topic, time.Minute)
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceSync(t, zombie, txnRecord(0, "zombie-1"))
	first := describeTxn(t, a.addr, id)

	fresh := txnProducer(t, a.addr, id, topic, time.Minute)
	if err := fresh.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceSync(t, fresh, txnRecord(0, "fresh-1")) // initializes, fencing the zombie
	if d := describeTxn(t, a.addr, id); d.ProducerID != first.ProducerID || d.ProducerEpoch != first.ProducerEpoch+2 {
		t.Errorf("after fencing: producer %d epoch %d, want %d epoch %d (one bump to abort, one for the new producer)",
			d.ProducerID, d.ProducerEpoch, first.ProducerID, first.ProducerEpoch+2)
	}

	// The zombie cannot write or commit any more.
	perr := zombie.ProduceSync(ctx, txnRecord(0, "zombie-2")).FirstErr()
	cerr := zombie.EndTransaction(ctx, kgo.TryCommit)
	if cerr == nil {
		t.Fatalf("the fenced producer committed (its produce: %v)", perr)
	}
	fenced := func(err error) bool {
		return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch)
	}
	if !fenced(perr) && !fenced(cerr) {
		t.Errorf("fenced producer: produce %v, commit %v; want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", perr, cerr)
	}
	if err := fresh.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("the new producer's commit: %v", err)
	}
	if got := readUntil(t, a.addr, topic, kgo.ReadCommitted(), "fresh-1"); slices.ContainsFunc(got, func(v string) bool {
		return strings.HasPrefix(v, "zombie")
	}) {
		t.Errorf("read_committed saw the fenced producer's records: %q", got)
	}
}

// TestTxnTimeoutAborts: a transaction left open past its timeout is
// aborted by the coordinator, which unblocks read_committed consumers
// (the last stable offset moves past it) and fences its producer.
func TestTxnTimeoutAborts(t *testing.T) {
	a := startAgent(t, "--transaction-abort-interval", "100ms")
	const topic, id = "txn-timeout", "txn-timeout-producer"
	createTopic(t, a.addr, topic, 1, nil)
	abandoned := txnProducer(t, a.addr, id, topic, 2*time.Second)
	if err := abandoned.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceSync(t, abandoned, txnRecord(0, "abandoned"))
	before := describeTxn(t, a.addr, id)
	if before.State != "Ongoing" || before.TimeoutMillis != 2000 {
		t.Fatalf("open transaction = %+v", before)
	}
	plain := newClient(t, a.addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produceSync(t, plain, txnRecord(0, "after"))

	got := readUntil(t, a.addr, topic, kgo.ReadCommitted(), "after")
	if slices.Contains(got, "abandoned") {
		t.Errorf("read_committed saw the timed-out transaction's record: %q", got)
	}
	after := waitTxnState(t, a.addr, id, "CompleteAbort")
	if after.ProducerEpoch != before.ProducerEpoch+1 {
		t.Errorf("epoch after the timeout %d, want %d", after.ProducerEpoch, before.ProducerEpoch+1)
	}
	if err := abandoned.EndTransaction(testCtx(t, 30*time.Second), kgo.TryCommit); err == nil {
		t.Error("the timed-out producer committed")
	}
}

// txnRaw sends transactional requests at exact versions to one agent.
type txnRaw struct {
	t     *testing.T
	addr  string
	id    string
	pid   int64
	epoch int16
}

// retriable reports whether a coordinator error means "try again".
func retriable(code int16) bool {
	switch kerr.ErrorForCode(code) {
	case kerr.NotCoordinator, kerr.CoordinatorLoadInProgress, kerr.CoordinatorNotAvailable, kerr.ConcurrentTransactions:
		return true
	}
	return false
}

func (r *txnRaw) init(timeout int32) int16 {
	r.t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.SetVersion(4)
	req.TransactionalID, req.TransactionTimeoutMillis = &r.id, timeout
	var resp *kmsg.InitProducerIDResponse
	checkFor(r.t, 20*time.Second, func() error {
		resp = rawRequest(r.t, r.addr, req).(*kmsg.InitProducerIDResponse)
		if retriable(resp.ErrorCode) {
			return kerr.ErrorForCode(resp.ErrorCode)
		}
		return nil
	})
	if resp.ErrorCode == 0 {
		r.pid, r.epoch = resp.ProducerID, resp.ProducerEpoch
	}
	return resp.ErrorCode
}

func (r *txnRaw) addPartitions(version int16, pid int64, epoch int16, topic string) int16 {
	r.t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.SetVersion(version)
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = r.id, pid, epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{0}
	req.Topics = append(req.Topics, rt)
	return rawRequest(r.t, r.addr, req).(*kmsg.AddPartitionsToTxnResponse).Topics[0].Partitions[0].ErrorCode
}

func (r *txnRaw) endTxn(commit bool) int16 {
	r.t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.SetVersion(3)
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = r.id, r.pid, r.epoch, commit
	return rawRequest(r.t, r.addr, req).(*kmsg.EndTxnResponse).ErrorCode
}

func (r *txnRaw) addOffsets(group string) int16 {
	r.t.Helper()
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.SetVersion(3)
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = r.id, r.pid, r.epoch, group
	return rawRequest(r.t, r.addr, req).(*kmsg.AddOffsetsToTxnResponse).ErrorCode
}

func (r *txnRaw) txnOffsetCommit(version int16, group, topic string, offset int64) int16 {
	r.t.Helper()
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.SetVersion(version)
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = r.id, group, r.pid, r.epoch
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	var code int16
	checkFor(r.t, 20*time.Second, func() error {
		code = rawRequest(r.t, r.addr, req).(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
		if err := kerr.ErrorForCode(code); err == kerr.NotCoordinator || err == kerr.CoordinatorLoadInProgress {
			return err
		}
		return nil
	})
	return code
}

// findCoordinators makes the agent claim the coordinator shards of a
// transactional id and a group (a client's FindCoordinator does that).
func findCoordinators(t *testing.T, addr, txnID, group string) {
	t.Helper()
	for typ, key := range map[int8]string{0: group, 1: txnID} {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.SetVersion(3)
		req.CoordinatorType, req.CoordinatorKey = typ, key
		checkFor(t, 20*time.Second, func() error {
			return kerr.ErrorForCode(rawRequest(t, addr, req).(*kmsg.FindCoordinatorResponse).ErrorCode)
		})
	}
}

func checkCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	var w int16
	if want != nil {
		w = want.Code
	}
	if got != w {
		t.Errorf("%s: %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

// TestTxnBadInput: transactional requests that make no sense get Kafka's
// error codes, at the versions clients send them.
func TestTxnBadInput(t *testing.T) {
	a := startAgent(t, "--transaction-max-timeout", "1m")
	const topic, group = "txn-bad-input", "txn-bad-input-group"
	createTopic(t, a.addr, topic, 1, nil)
	r := &txnRaw{t: t, addr: a.addr, id: "txn-bad-input-producer"}
	findCoordinators(t, a.addr, r.id, group)

	checkCode(t, "InitProducerId with a timeout above the maximum", r.init(120000), kerr.InvalidTransactionTimeout)
	checkCode(t, "InitProducerId", r.init(60000), nil)
	checkCode(t, "InitProducerId again", r.init(60000), nil) // epoch 1: epoch 0 is stale now
	checkCode(t, "EndTxn without a transaction", r.endTxn(true), kerr.InvalidTxnState)
	checkCode(t, "AddPartitionsToTxn v3 with a stale epoch", r.addPartitions(3, r.pid, r.epoch-1, topic), kerr.ProducerFenced)
	checkCode(t, "AddPartitionsToTxn v1 with a stale epoch", r.addPartitions(1, r.pid, r.epoch-1, topic), kerr.InvalidProducerEpoch)
	checkCode(t, "AddPartitionsToTxn with another producer id", r.addPartitions(3, r.pid+1, r.epoch, topic), kerr.InvalidProducerIDMapping)
	checkCode(t, "AddPartitionsToTxn of an unknown topic", r.addPartitions(3, r.pid, r.epoch, "no-such-topic"), kerr.UnknownTopicOrPartition)
	checkCode(t, "AddPartitionsToTxn", r.addPartitions(3, r.pid, r.epoch, topic), nil)
	checkCode(t, "TxnOffsetCommit v3 for a group the producer did not add", r.txnOffsetCommit(3, group, topic, 1), kerr.InvalidTxnState)
	checkCode(t, "TxnOffsetCommit v4 for a group the producer did not add", r.txnOffsetCommit(4, group, topic, 1), kerr.TransactionAbortable)
	checkCode(t, "EndTxn abort", r.endTxn(false), nil)
	// While the abort completes the answer may be CONCURRENT_TRANSACTIONS,
	// as in Kafka; then the state decides.
	var code int16
	checkFor(t, 20*time.Second, func() error {
		if code = r.endTxn(true); code == kerr.ConcurrentTransactions.Code {
			return kerr.ConcurrentTransactions
		}
		return nil
	})
	checkCode(t, "EndTxn commit of the aborted transaction", code, kerr.InvalidTxnState)
}

// TestTxnOffsetCommit: offsets a transaction commits to a group stay
// pending (UNSTABLE_OFFSET_COMMIT for require_stable fetches, invisible
// otherwise) until the transaction commits, and survive an agent restart
// in between.
func TestTxnOffsetCommit(t *testing.T) {
	a := startAgent(t)
	const topic, group = "txn-offsets", "txn-offsets-group"
	createTopic(t, a.addr, topic, 1, nil)
	r := &txnRaw{t: t, addr: a.addr, id: "txn-offsets-producer"}
	findCoordinators(t, a.addr, r.id, group)
	checkCode(t, "InitProducerId", r.init(60000), nil)
	checkCode(t, "AddOffsetsToTxn", r.addOffsets(group), nil)
	checkCode(t, "TxnOffsetCommit", r.txnOffsetCommit(4, group, topic, 42), nil)
	fetch := func(stable bool) kmsg.OffsetFetchResponseTopicPartition {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.SetVersion(7)
		req.Group, req.RequireStable = group, stable
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = topic, []int32{0}
		req.Topics = append(req.Topics, rt)
		var p kmsg.OffsetFetchResponseTopicPartition
		checkFor(t, 20*time.Second, func() error {
			resp := rawRequest(t, a.addr, req).(*kmsg.OffsetFetchResponse)
			if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
				return err
			}
			p = resp.Topics[0].Partitions[0]
			return nil
		})
		return p
	}
	if p := fetch(true); p.ErrorCode != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("require_stable fetch of a pending offset = %+v", p)
	}
	a.stop()
	a.restart()
	findCoordinators(t, a.addr, r.id, group)
	if p := fetch(false); p.ErrorCode != 0 || p.Offset != -1 {
		t.Fatalf("fetch of a pending offset after a restart = %+v", p)
	}
	if p := fetch(true); p.ErrorCode != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("require_stable fetch of a pending offset after a restart = %+v", p)
	}
	checkFor(t, 20*time.Second, func() error { return kerr.ErrorForCode(r.endTxn(true)) })
	checkFor(t, 20*time.Second, func() error {
		if p := fetch(true); p.ErrorCode != 0 || p.Offset != 42 {
			return fmt.Errorf("offset %d, %v", p.Offset, kerr.ErrorForCode(p.ErrorCode))
		}
		return nil
	})
	waitTxnState(t, a.addr, r.id, "CompleteCommit")
}

// TestTxnCoordinatorMoves: when the agent coordinating a transactional id
// dies, another agent takes its shard over (from etcd) and the producer
// carries on with it: the next transaction commits, and read_committed
// consumers see both transactions' records.
func TestTxnCoordinatorMoves(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, false)
	const topic, id = "txn-moves", "txn-moves-producer"
	createReplicated(t, c, topic, 3, "2")
	p := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...), kgo.TransactionalID(id),
		kgo.TransactionTimeout(time.Minute), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := testCtx(t, 2*time.Minute)
	commit := func(prefix string) {
		t.Helper()
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for part := range int32(3) {
			if err := p.ProduceSync(ctx, txnRecord(part, fmt.Sprintf("%s-%d", prefix, part))).FirstErr(); err != nil {
				t.Fatalf("produce %s: %v", prefix, err)
			}
		}
		if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatalf("commit %s: %v", prefix, err)
		}
	}
	commit("first")
	before := waitTxnState(t, c.bootstrap()[0], id, "CompleteCommit")
	c.agents[before.Coordinator].kill()
	var survivor string
	for nid, a := range c.agents {
		if nid != before.Coordinator {
			survivor = a.addr
		}
	}
	commit("second")
	after := waitTxnState(t, survivor, id, "CompleteCommit")
	if after.Coordinator == before.Coordinator || after.ProducerID != before.ProducerID || after.ProducerEpoch != before.ProducerEpoch {
		t.Errorf("after the move: %+v; before: %+v", after, before)
	}
	readUntil(t, survivor, topic, kgo.ReadCommitted(), "first-0", "first-1", "first-2", "second-0", "second-1", "second-2")
}
