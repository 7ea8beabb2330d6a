package tests

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// loadRun produces numbered records with acks=all (idempotent) and reads
// the topic concurrently, remembering what was acknowledged and what a
// consumer saw, so that a test can check both against the final log.
type loadRun struct {
	topic string
	stop  context.CancelFunc
	wg    sync.WaitGroup

	mu    sync.Mutex
	acked map[string]string // "partition/offset" -> value; guarded by mu
	seen  map[string]string // what the concurrent consumer read; guarded by mu
	errs  []error           // guarded by mu
	n     atomic.Int64      // acknowledged so far
}

func startLoad(t *testing.T, c *testCluster, topic string) *loadRun {
	ctx, cancel := context.WithCancel(context.Background())
	r := &loadRun{topic: topic, stop: cancel, acked: map[string]string{}, seen: map[string]string{}}
	prod := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...), kgo.ProducerLinger(2*time.Millisecond),
		kgo.RecordDeliveryTimeout(60*time.Second), kgo.MaxBufferedRecords(2000))
	r.wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			v := fmt.Sprintf("v%06d", i)
			prod.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}, func(rec *kgo.Record, err error) {
				r.mu.Lock()
				defer r.mu.Unlock()
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						r.errs = append(r.errs, err)
					}
					return
				}
				r.acked[fmt.Sprintf("%d/%d", rec.Partition, rec.Offset)] = string(rec.Value)
				r.n.Add(1)
			})
		}
	})
	cons := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	r.wg.Go(func() {
		for ctx.Err() == nil {
			fs := cons.PollFetches(ctx)
			r.mu.Lock()
			for _, rec := range fs.Records() {
				r.seen[fmt.Sprintf("%d/%d", rec.Partition, rec.Offset)] = string(rec.Value)
			}
			r.mu.Unlock()
		}
	})
	return r
}

// waitAcked waits until n more records were acknowledged.
func (r *loadRun) waitAcked(t *testing.T, n int64, timeout time.Duration) {
	t.Helper()
	want := r.n.Load() + n
	checkFor(t, timeout, func() error {
		if got := r.n.Load(); got < want {
			return fmt.Errorf("%d of %d records acknowledged", got, want)
		}
		return nil
	})
}

// finish stops the load and checks the final log: every acknowledged
// record is there once, at its offset; offsets are dense; and everything
// the concurrent consumer saw is still there (nothing seen was lost).
func (r *loadRun) finish(t *testing.T, c *testCluster) {
	t.Helper()
	r.stop()
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.errs {
		t.Logf("produce error (the client retried or gave up): %v", err)
	}
	adm := kadm.NewClient(newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...)))
	ends, err := adm.ListEndOffsets(testCtx(t, 20*time.Second), r.topic)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	ends.Each(func(o kadm.ListedOffset) { total += int(o.Offset) })
	cons := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...), kgo.ConsumeTopics(r.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	final := map[string]string{}
	values := map[string]string{}
	next := map[int32]int64{}
	for _, rec := range consumeN(t, cons, total, 60*time.Second) {
		if rec.Offset != next[rec.Partition] {
			t.Fatalf("partition %d: offset %d after %d", rec.Partition, rec.Offset, next[rec.Partition]-1)
		}
		next[rec.Partition]++
		key := fmt.Sprintf("%d/%d", rec.Partition, rec.Offset)
		final[key] = string(rec.Value)
		if prev, dup := values[string(rec.Value)]; dup {
			t.Fatalf("record %s stored twice: at %s and %s", rec.Value, prev, key)
		}
		values[string(rec.Value)] = key
	}
	for k, v := range r.acked {
		if final[k] != v {
			t.Fatalf("acknowledged record %s at %s: final log has %q", v, k, final[k])
		}
	}
	for k, v := range r.seen {
		if final[k] != v {
			t.Fatalf("a consumer saw %s at %s, but the final log has %q there", v, k, final[k])
		}
	}
	t.Logf("%d records acknowledged, %d in the log, %d seen live", len(r.acked), len(final), len(r.seen))
}

// partitionState is one partition as Metadata describes it.
func partitionState(t *testing.T, c *testCluster, topic string, p int32) kadm.PartitionDetail {
	t.Helper()
	return partitionStateVia(t, c.bootstrap(), topic, p)
}

// partitionStateVia asks only the agents at seeds.
func partitionStateVia(t *testing.T, seeds []string, topic string, p int32) kadm.PartitionDetail {
	t.Helper()
	adm := kadm.NewClient(newClient(t, seeds[0], kgo.SeedBrokers(seeds...)))
	var pd kadm.PartitionDetail
	checkFor(t, 20*time.Second, func() error {
		m, err := adm.Metadata(testCtx(t, 5*time.Second), topic)
		if err != nil {
			return err
		}
		d, ok := m.Topics[topic].Partitions[p]
		if !ok {
			return fmt.Errorf("no partition %d", p)
		}
		pd = d
		return d.Err
	})
	return pd
}

// waitISR waits until every partition of topic has n in-sync replicas.
func waitISR(t *testing.T, c *testCluster, topic string, n int) {
	t.Helper()
	adm := kadm.NewClient(newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...)))
	checkFor(t, 60*time.Second, func() error {
		m, err := adm.Metadata(testCtx(t, 5*time.Second), topic)
		if err != nil {
			return err
		}
		for _, p := range m.Topics[topic].Partitions {
			if len(p.ISR) != n || p.Leader < 0 {
				return fmt.Errorf("partition %d: leader %d, ISR %v", p.Partition, p.Leader, p.ISR)
			}
		}
		return nil
	})
}

func createReplicated(t *testing.T, c *testCluster, topic string, partitions int32, minISR string) {
	t.Helper()
	adm := kadm.NewClient(newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...)))
	resp, err := adm.CreateTopic(testCtx(t, 20*time.Second), partitions, 3, map[string]*string{"min.insync.replicas": &minISR}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	waitISR(t, c, topic, 3)
}

// TestClusterFailoverLosesNothing kills partition leaders with SIGKILL under
// continuous acks=all produce, restarts them, and checks that nothing
// acknowledged or seen by a consumer is lost or duplicated.
func TestClusterFailoverLosesNothing(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, false)
	topic := "failover"
	createReplicated(t, c, topic, 3, "2")
	load := startLoad(t, c, topic)
	load.waitAcked(t, 2000, 30*time.Second)

	for round := range 2 {
		victim := c.agents[partitionState(t, c, topic, int32(round)).Leader]
		victim.kill()
		load.waitAcked(t, 2000, 30*time.Second) // progress without it
		victim.restart()
		waitISR(t, c, topic, 3)
		load.waitAcked(t, 1000, 30*time.Second)
	}
	load.finish(t, c)
}

// TestClusterRollingRestart restarts every agent in turn with SIGTERM
// (controlled shutdown) under load: nothing is lost.
func TestClusterRollingRestart(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, false)
	topic := "rolling"
	createReplicated(t, c, topic, 3, "2")
	load := startLoad(t, c, topic)
	load.waitAcked(t, 1000, 30*time.Second)
	for id := int32(1); id <= 3; id++ {
		c.agents[id].stop()
		load.waitAcked(t, 500, 30*time.Second)
		c.agents[id].restart()
		waitISR(t, c, topic, 3)
	}
	load.waitAcked(t, 1000, 30*time.Second)
	load.finish(t, c)
}

// produceOne sends one acks=all record to partition 0 through client cl
// and returns its error.
func produceOne(t *testing.T, cl *kgo.Client, topic string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("x")}).FirstErr()
}

// TestClusterMinInsyncReplicas: with two of three agents down, acks=all
// writes to a topic with min.insync.replicas=2 fail with
// NOT_ENOUGH_REPLICAS; once one returns they succeed again.
func TestClusterMinInsyncReplicas(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, false)
	topic := "min-isr"
	createReplicated(t, c, topic, 1, "2")
	leader := partitionState(t, c, topic, 0).Leader
	var others []int32
	for id := range c.agents {
		if id != leader {
			others = append(others, id)
		}
	}
	slices.Sort(others)
	for _, id := range others {
		c.agents[id].kill()
	}
	cl := newClient(t, c.agents[leader].addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(0),
		kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.AllISRAcks()))
	checkFor(t, 30*time.Second, func() error {
		err := produceOne(t, cl, topic)
		if !errors.Is(err, kerr.NotEnoughReplicas) && !errors.Is(err, kerr.NotEnoughReplicasAfterAppend) {
			return fmt.Errorf("produce with one replica left: %v, want NOT_ENOUGH_REPLICAS", err)
		}
		return nil
	})
	c.agents[others[0]].restart()
	checkFor(t, 60*time.Second, func() error { return produceOne(t, cl, topic) })
}

// TestClusterPartitionedLeaderStopsFirst cuts the leader of a partition off
// etcd. It must stop acknowledging writes before another agent is elected
// leader and acknowledges its first write; after healing, it rejoins as a
// follower and every acks=all acknowledgement is in the log.
func TestClusterPartitionedLeaderStopsFirst(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, true)
	topic := "partitioned"
	createReplicated(t, c, topic, 1, "1")
	old := partitionState(t, c, topic, 0).Leader

	// Writes go straight to one agent each (raw requests, no client-side
	// routing): the old leader, and each of the others.
	var lastOldAck, firstNewAck atomic.Int64
	batch := testBatch(t, "x")
	tryProduce := func(addr string) bool {
		code, err := tryProduceRaw(addr, topic, 0, 1, append([]byte(nil), batch...))
		return err == nil && code == 0
	}
	if !tryProduce(c.agents[old].addr) {
		t.Fatal("the leader refused a write before the cut")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() {
		for ctx.Err() == nil {
			if tryProduce(c.agents[old].addr) {
				lastOldAck.Store(time.Now().UnixNano())
			}
		}
	})
	for id, a := range c.agents {
		if id == old {
			continue
		}
		wg.Go(func() {
			for ctx.Err() == nil && firstNewAck.Load() == 0 {
				if tryProduce(a.addr) {
					firstNewAck.CompareAndSwap(0, time.Now().UnixNano())
				}
			}
		})
	}
	cut := time.Now()
	c.etcdProxies[old].setCut(true)
	checkFor(t, 30*time.Second, func() error {
		if firstNewAck.Load() == 0 {
			return errors.New("no new leader accepted a write yet")
		}
		return nil
	})
	cancel()
	wg.Wait()
	last, first := time.Unix(0, lastOldAck.Load()), time.Unix(0, firstNewAck.Load())
	t.Logf("cut at 0; old leader's last ack at %v; new leader's first ack at %v", last.Sub(cut), first.Sub(cut))
	if !last.Before(first) {
		t.Fatalf("the old leader acknowledged a write at %v, after the new leader's first at %v", last.Sub(cut), first.Sub(cut))
	}
	var rest []string
	for id, a := range c.agents {
		if id != old {
			rest = append(rest, a.addr)
		}
	}
	if st := partitionStateVia(t, rest, topic, 0); st.Leader == old {
		t.Fatalf("leader is still %d", old)
	}

	// Heal: the old leader registers again and rejoins the ISR.
	c.etcdProxies[old].setCut(false)
	waitISR(t, c, topic, 3)
}

// TestClusterDescribe checks Metadata and DescribeCluster agree on the
// live agents and the controller.
func TestClusterDescribe(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, false)
	cl := newClient(t, c.bootstrap()[0])
	req := kmsg.NewPtrDescribeClusterRequest()
	checkFor(t, 10*time.Second, func() error {
		resp, err := req.RequestWith(testCtx(t, 5*time.Second), cl)
		if err != nil {
			return err
		}
		if len(resp.Brokers) != 3 || resp.ControllerID < 1 || resp.ControllerID > 3 {
			return fmt.Errorf("%d brokers, controller %d", len(resp.Brokers), resp.ControllerID)
		}
		return nil
	})
}
