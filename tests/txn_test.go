package tests

// Exactly-once processing end to end: franz-go consume-transform-produce
// pipelines (GroupTransactSession) on a three-agent cluster survive
// workers dying mid-transaction and restarting and the group's coordinator
// agent being killed and restarted, with every input record in the output exactly once
// for read_committed readers; and librdkafka (confluent-kafka) producing
// and reading transactions side by side with franz-go.

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// eosWorker is one consume-transform-produce process: it copies records
// from the input topic to the output topic in transactions that also
// commit its group's offsets.
type eosWorker struct {
	name    string
	cancel  context.CancelFunc
	done    chan struct{}
	crashed atomic.Bool
	copied  atomic.Int64 // records produced in committed transactions
}

// eosConfig describes the pipeline the workers run.
type eosConfig struct {
	seeds    []string
	group    string
	in, out  string
	logf     func(format string, args ...any)
	errorf   func(format string, args ...any)
	sessionT time.Duration
}

// startEOSWorker starts a worker with transactional id txnID. With
// crashAfter > 0 the worker dies once it has copied that many records: in
// its next transaction it produces and flushes its records, then closes its
// client without ending the transaction, as a killed process leaves it.
func startEOSWorker(cfg eosConfig, txnID string, txnTimeout time.Duration, crashAfter int64) *eosWorker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &eosWorker{name: txnID, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil && !w.crashed.Load() {
			// A session whose End failed is finished (franz-go: "no
			// returned error is retryable"); a real worker starts over
			// with the same transactional id, fencing what was left.
			w.runSession(ctx, cfg, txnTimeout, crashAfter)
		}
	}()
	return w
}

func (w *eosWorker) runSession(ctx context.Context, cfg eosConfig, txnTimeout time.Duration, crashAfter int64) {
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(cfg.seeds...),
		kgo.TransactionalID(w.name),
		kgo.TransactionTimeout(txnTimeout),
		kgo.ConsumerGroup(cfg.group),
		kgo.ConsumeTopics(cfg.in),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.SessionTimeout(cfg.sessionT),
		kgo.DefaultProduceTopic(cfg.out),
		kgo.RetryTimeout(30*time.Second),
		kgo.MetadataMinAge(50*time.Millisecond),
	)
	if err != nil {
		cfg.errorf("%s: new session: %v", w.name, err)
		w.crashed.Store(true)
		return
	}
	for {
		fs := sess.PollFetches(ctx)
		if ctx.Err() != nil {
			sess.Close()
			return
		}
		fs.EachError(func(topic string, p int32, err error) { cfg.logf("%s: fetch %s-%d: %v", w.name, topic, p, err) })
		var recs []*kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			recs = append(recs, &kgo.Record{Key: r.Key, Value: r.Value})
		})
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			cfg.errorf("%s: begin: %v", w.name, err)
			sess.Close()
			return
		}
		failed := kgo.AbortingFirstErrPromise(sess.Client())
		for _, r := range recs {
			sess.Produce(ctx, r, failed.Promise())
		}
		if crashAfter > 0 && w.copied.Load() >= crashAfter {
			if err := sess.Client().Flush(ctx); err != nil {
				cfg.errorf("%s: flush before the crash: %v", w.name, err)
			}
			cfg.logf("%s: dying with %d records in an open transaction", w.name, len(recs))
			w.crashed.Store(true)
			sess.Client().Close()
			return
		}
		committed, err := sess.End(ctx, failed.Err() == nil)
		if err != nil {
			cfg.logf("%s: end: %v; starting a new session", w.name, err)
			sess.Close()
			return
		}
		if committed {
			w.copied.Add(int64(len(recs)))
		}
	}
}

// stop ends the worker between transactions and waits for it.
func (w *eosWorker) stop() {
	w.cancel()
	<-w.done
}

// TestTxnExactlyOnce runs a consume-transform-produce pipeline on three
// agents while one worker is killed inside a transaction and restarted,
// twice, and the agent coordinating the group is killed and later
// restarted. Every input record must reach the output exactly once for
// read_committed readers, while read_uncommitted readers do see the
// aborted copies, which shows the faults really struck.
func TestTxnExactlyOnce(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, false, "--transaction-abort-interval", "200ms")
	const in, out, group, perPhase = "eos-in", "eos-out", "eos", 600
	createReplicated(t, c, in, 3, "2")
	createReplicated(t, c, out, 3, "2")
	var mu sync.Mutex // t's methods from worker goroutines after the test would panic
	finished := false
	cfg := eosConfig{
		seeds: c.bootstrap(), group: group, in: in, out: out, sessionT: 6 * time.Second,
		logf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if !finished {
				t.Logf(format, args...)
			}
		},
		errorf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if !finished {
				t.Errorf(format, args...)
			}
		},
	}
	t.Cleanup(func() { mu.Lock(); finished = true; mu.Unlock() })

	ctx := testCtx(t, 3*time.Minute)
	// Each check asks with a new client: franz-go keeps a coordinator it
	// cannot dial cached for admin requests, so an old client would keep
	// asking the killed agent.
	withAdmin := func(f func(*kadm.Client) error) error {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.bootstrap()...), kgo.RetryTimeout(5*time.Second))
		if err != nil {
			return err
		}
		defer cl.Close()
		return f(kadm.NewClient(cl))
	}
	members := func(n int) {
		t.Helper()
		checkFor(t, 60*time.Second, func() error {
			return withAdmin(func(admin *kadm.Client) error { return groupMembers(ctx, admin, group, n) })
		})
	}
	committed := func(atLeast int64) {
		t.Helper()
		checkFor(t, 90*time.Second, func() error {
			return withAdmin(func(admin *kadm.Client) error { return groupCommitted(ctx, admin, group, atLeast) })
		})
	}
	producer := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...), kgo.DefaultProduceTopic(in))
	next := 0
	feed := func(n int) {
		t.Helper()
		var recs []*kgo.Record
		for range n {
			v := fmt.Sprintf("v-%05d", next)
			recs = append(recs, &kgo.Record{Key: []byte(v), Value: []byte(v)})
			next++
		}
		produceSync(t, producer, recs...)
	}

	// feedUntilCrash feeds input in small chunks, each given a moment to be
	// processed, until worker w has died inside a transaction.
	feedUntilCrash := func(w *eosWorker) {
		t.Helper()
		for !w.crashed.Load() {
			if next > 20*perPhase {
				t.Fatalf("worker %s has not died after %d inputs (copied %d)", w.name, next, w.copied.Load())
			}
			before := w.copied.Load()
			feed(perPhase / 10)
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !w.crashed.Load() && w.copied.Load() == before; {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}

	// The pipeline "process" eos-doomed is killed inside a transaction and
	// restarted twice; its restart fences what the dead one left open.
	doomed := startEOSWorker(cfg, "eos-doomed", 20*time.Second, 50)
	workers := []*eosWorker{doomed, startEOSWorker(cfg, "eos-survivor", 20*time.Second, 0)}
	defer func() {
		for _, w := range workers {
			w.stop()
		}
	}()
	members(2)
	feed(perPhase)
	feedUntilCrash(doomed)
	doomed = startEOSWorker(cfg, "eos-doomed", 20*time.Second, 50)
	workers = append(workers, doomed)
	members(2)

	// The agent coordinating the group dies while the second incarnation
	// works, and comes back while the third does.
	var victim int32
	if err := withAdmin(func(admin *kadm.Client) error {
		gs, err := admin.DescribeGroups(ctx, group)
		victim = gs[group].Coordinator.NodeID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("killing agent %d, the group's coordinator", victim)
	c.agents[victim].kill()
	feed(perPhase)
	feedUntilCrash(doomed)
	workers = append(workers, startEOSWorker(cfg, "eos-doomed", 20*time.Second, 0))
	t.Logf("restarting agent %d", victim)
	c.agents[victim].restart()
	feed(perPhase)
	committed(int64(next))
	for _, w := range workers {
		w.stop()
	}
	workers = nil

	// Mark the end of each output partition with a record of its own: a
	// reader that has seen all of them has seen everything before them.
	marker := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...), kgo.DefaultProduceTopic(out),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var ends []string
	for p := range int32(3) {
		ends = append(ends, fmt.Sprintf("end-%d", p))
		produceSync(t, marker, txnRecord(p, ends[p]))
	}
	count := func(vals []string) map[string]int {
		n := make(map[string]int)
		for _, v := range vals {
			if strings.HasPrefix(v, "v-") {
				n[v]++
			}
		}
		return n
	}
	seen := count(readUntil(t, c.bootstrap()[0], out, kgo.ReadCommitted(), ends...))
	var missing, doubled []string
	for i := range next {
		v := fmt.Sprintf("v-%05d", i)
		switch seen[v] {
		case 0:
			missing = append(missing, v)
		case 1:
		default:
			doubled = append(doubled, fmt.Sprintf("%s×%d", v, seen[v]))
		}
	}
	if len(missing) > 0 || len(doubled) > 0 || len(seen) != next {
		t.Errorf("read_committed output of %d inputs: %d distinct, missing %d %q, duplicated %d %q",
			next, len(seen), len(missing), first(missing, 10), len(doubled), first(doubled, 10))
	}
	dups := 0
	for _, n := range count(readUntil(t, c.bootstrap()[0], out, kgo.ReadUncommitted(), ends...)) {
		dups += n - 1
	}
	if dups == 0 {
		t.Errorf("read_uncommitted output holds no aborted copies: no transaction was cut short")
	}
	t.Logf("%d inputs copied exactly once; %d aborted copies visible to read_uncommitted; agent %d killed and restarted",
		next, dups, victim)
}

// groupMembers checks that group is Stable with n members.
func groupMembers(ctx context.Context, admin *kadm.Client, group string, n int) error {
	gs, err := admin.DescribeGroups(ctx, group)
	if err != nil {
		return err
	}
	g := gs[group]
	if g.Err != nil {
		return g.Err
	}
	if g.State != "Stable" || len(g.Members) != n {
		return fmt.Errorf("group %s is %s with %d members, want Stable with %d", group, g.State, len(g.Members), n)
	}
	return nil
}

// groupCommitted checks that group's committed offsets add up to at least
// atLeast.
func groupCommitted(ctx context.Context, admin *kadm.Client, group string, atLeast int64) error {
	offs, err := admin.FetchOffsets(ctx, group)
	if err != nil {
		return err
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum < atLeast {
		return fmt.Errorf("group %s committed %d input records, want %d", group, sum, atLeast)
	}
	return nil
}

// first returns at most n elements of s.
func first(s []string, n int) []string { return s[:min(n, len(s))] }

// TestTxnConfluentKafka: librdkafka's transactional producer commits and
// aborts transactions that franz-go and librdkafka read_committed
// consumers tell apart, and librdkafka's read_committed consumer skips
// a transaction franz-go aborted.
func TestTxnConfluentKafka(t *testing.T) {
	compatRequirePython(t, "confluent_kafka", "python3-confluent-kafka")
	t.Parallel()
	a := startAgent(t)
	const script, topic = "confluent_kafka_client.py", "txn-librdkafka"
	createTopic(t, a.addr, topic, 2, nil)
	batch := func(prefix string) []compatRecord {
		var recs []compatRecord
		for i := range 6 {
			v := fmt.Sprintf("%s-%d", prefix, i)
			recs = append(recs, compatRecord{Partition: int32(i % 2), Key: []byte(v), Value: []byte(v)})
		}
		return recs
	}
	txnProduce := func(recs []compatRecord, abort bool) {
		t.Helper()
		args := []string{"txn-produce", "--transactional-id", "librdkafka-txn"}
		if abort {
			args = append(args, "--abort")
		}
		out, _ := compatRunPython(t, script, a.addr, topic, compatEncodeRecords(t, recs), args...)
		if !strings.Contains(string(out), fmt.Sprintf(`"committed": %v`, !abort)) {
			t.Fatalf("txn-produce %v printed %s", args, out)
		}
	}
	c1, aborted, c2 := batch("rk-commit1"), batch("rk-abort"), batch("rk-commit2")
	txnProduce(c1, false)
	txnProduce(aborted, true)
	txnProduce(c2, false)

	// franz-go aborts one transaction and commits another.
	p := txnProducer(t, a.addr, "franz-txn", topic, time.Minute)
	ctx := testCtx(t, time.Minute)
	for _, commit := range []kgo.TransactionEndTry{kgo.TryAbort, kgo.TryCommit} {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		prefix := map[kgo.TransactionEndTry]string{kgo.TryAbort: "fg-abort", kgo.TryCommit: "fg-commit"}[commit]
		produceSync(t, p, txnRecord(0, prefix+"-0"), txnRecord(1, prefix+"-1"))
		if err := p.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}

	var wantCommitted, wantAll []string
	for _, r := range slices.Concat(c1, aborted, c2) {
		wantAll = append(wantAll, string(r.Value))
		if !strings.HasPrefix(string(r.Value), "rk-abort") {
			wantCommitted = append(wantCommitted, string(r.Value))
		}
	}
	wantCommitted = append(wantCommitted, "fg-commit-0", "fg-commit-1")
	wantAll = append(wantAll, "fg-abort-0", "fg-abort-1", "fg-commit-0", "fg-commit-1")
	byPartition := func(vals []string, recs []compatRecord) {
		t.Helper()
		// read_committed must deliver exactly the committed records; with
		// aborted ones counted in, the first N would differ.
		var got []string
		for _, r := range recs {
			got = append(got, string(r.Value))
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(vals))
		if !slices.Equal(got, want) {
			t.Errorf("librdkafka read:\n got %q\nwant %q", got, want)
		}
	}
	committedRead := pythonConsume(t, script, a.addr, topic, "earliest", len(wantCommitted), 0, 1)
	byPartition(wantCommitted, committedRead)
	args := []string{"consume", "--offset", "earliest", "--count", fmt.Sprint(len(wantAll)),
		"--partition", "0", "--partition", "1", "--isolation", "read_uncommitted"}
	out, _ := compatRunPython(t, script, a.addr, topic, nil, args...)
	byPartition(wantAll, compatJSONLines[compatRecord](t, out))

	got := readUntil(t, a.addr, topic, kgo.ReadCommitted(), wantCommitted...)
	if i := slices.IndexFunc(got, func(v string) bool { return strings.Contains(v, "abort") }); i >= 0 {
		t.Errorf("franz-go read_committed saw aborted record %q", got[i])
	}
}

// TestTxnTieredReadCommitted: transactions whose segments were offloaded
// to the object store and deleted locally still read as committed-only:
// the aborted-transaction index travels with each segment.
func TestTxnTieredReadCommitted(t *testing.T) {
	t.Parallel()
	a := startAgent(t, tierFlags...)
	const topic = "txn-tiered"
	createTopic(t, a.addr, topic, 1, nil)
	p := txnProducer(t, a.addr, "txn-tiered-producer", topic, time.Minute)
	ctx := testCtx(t, time.Minute)
	pad := strings.Repeat("x", 200)
	var committed, all []string
	for i := range 30 {
		commit := kgo.TransactionEndTry(i%3 != 1)
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		var recs []*kgo.Record
		for j := range 10 {
			v := fmt.Sprintf("t%02d-%d-%v-%s", i, j, bool(commit), pad)
			recs = append(recs, txnRecord(0, v))
			all = append(all, v)
			if commit {
				committed = append(committed, v)
			}
		}
		produceSync(t, p, recs...)
		if err := p.EndTransaction(ctx, commit); err != nil {
			t.Fatalf("end transaction %d: %v", i, err)
		}
	}
	adm := kadm.NewClient(newClient(t, a.addr))
	_, _, txnEnd := offsets(t, adm, topic)
	// Plain records after the transactions let their segments close.
	plain := newClient(t, a.addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := range 100 {
		produceSync(t, plain, txnRecord(0, fmt.Sprintf("plain-%d-%s", i, pad)))
	}
	waitOffloaded(t, adm, topic, txnEnd)

	got := readUntil(t, a.addr, topic, kgo.ReadCommitted(), committed...)
	if i := slices.IndexFunc(got, func(v string) bool { return strings.Contains(v, "-false-") }); i >= 0 {
		t.Errorf("read_committed of offloaded segments saw aborted record %.12s", got[i])
	}
	readUntil(t, a.addr, topic, kgo.ReadUncommitted(), all...)
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Log("kcat not installed (make test-deps installs it); franz-go checked the offloaded transactions")
		return
	}
	// librdkafka reads read_committed by default.
	out, _ := kcat(t, a.addr, nil, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n")
	var rk []string
	for _, v := range strings.Fields(string(out)) {
		if strings.HasPrefix(v, "t") {
			rk = append(rk, v)
		}
	}
	if !slices.Equal(rk, committed) {
		t.Errorf("kcat read %d transactional records of offloaded segments, want the %d committed", len(rk), len(committed))
	}
}
