package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The failover producers retry and refresh metadata every 100 ms, like the
// Java client's defaults (retry.backoff.ms=100), instead of franz-go's
// exponential backoff of up to 2.5 s and its 5 s minimum metadata age:
// those client-side waits would otherwise be charged to the broker's
// failover time.
const (
	failoverRetryBackoff   = 100 * time.Millisecond
	failoverMetadataMinAge = 100 * time.Millisecond
)

// leaderPollGrace is how long the failover scenario, once every partition
// has recovered, still waits for Metadata to name a new leader of
// partition 0.
const leaderPollGrace = 2 * time.Second

// failoverSettings describes the failover producers for the report header.
func (c Config) failoverSettings() *FailoverSettings {
	return &FailoverSettings{
		Warmup:         c.FailoverWarmup,
		Timeout:        c.FailoverTimeout,
		RetryBackoff:   failoverRetryBackoff,
		MetadataMinAge: failoverMetadataMinAge,
	}
}

// runFailover runs the failover scenario against t: records are sent at
// the latency rate on a fixed timeline, round-robin over the partitions,
// and after cfg.FailoverWarmup the agent leading partition 0 is killed.
// Sending goes on until the run has lasted cfg.Duration (or sent
// cfg.Records) and every partition has acknowledged a record sent after
// the kill; it fails with ErrNoFailover if that takes longer than
// cfg.FailoverTimeout after the kill.
func runFailover(ctx context.Context, cfg Config, adm admin, t topicInfo) (*Failover, error) {
	pool := newPayloadPool(cfg.RecordSize, cfg.compressible())
	clients, err := failoverClients(ctx, cfg, t.name, t.partitions, func() []byte { return pool.value(0) })
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()

	ctx, cancel := context.WithCancelCause(ctx)
	run := &failoverRun{cfg: cfg, pool: pool, clients: clients, partitions: t.partitions,
		tr: newFailoverTracker(t.partitions), start: time.Now()}
	var victim agentProcess
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		var err error
		if victim, err = killLeader(ctx, cfg, adm, t.name, run.start.Add(cfg.FailoverWarmup), run.tr); err != nil {
			cancel(err)
		}
	}()
	defer func() {
		cancel(nil)
		<-killerDone
	}()
	sent, lag, err := run.send(ctx)
	if err != nil {
		return nil, err
	}
	fctx, fcancel := context.WithTimeout(ctx, cfg.FailoverTimeout)
	defer fcancel()
	for _, cl := range clients {
		if err := cl.Flush(fctx); err != nil {
			return nil, fmt.Errorf("bench: failover flush: %w", errors.Join(context.Cause(ctx), err))
		}
	}
	// Every partition has recovered, so the killer has killed and is
	// polling for the new leader, which Metadata should name by now; if it
	// does not (the partition recovered on the old leader), stop waiting.
	select {
	case <-killerDone:
	case <-time.After(leaderPollGrace):
		cancel(nil)
		<-killerDone
	}
	return run.tr.result(t, run.rate(), victim, sent, lag), nil
}

// failoverClients returns the failover scenario's idempotent acks=all
// producers: one that serves partition 0 alone, so that nothing another
// partition does can hold up its recovery, and one for the other
// partitions, if any. Each is warmed up with one synchronous record per
// partition it serves, built by value.
func failoverClients(ctx context.Context, cfg Config, topic string, partitions int32, value func() []byte) ([]*kgo.Client, error) {
	all := cfg
	all.Acks = "all"
	opts := append(all.producerOpts(topic, kgo.ManualPartitioner()),
		kgo.RetryBackoffFn(func(int) time.Duration { return failoverRetryBackoff }),
		kgo.MetadataMinAge(failoverMetadataMinAge),
		kgo.RecordDeliveryTimeout(cfg.FailoverTimeout),
	)
	served := [][]int32{{0}}
	if partitions > 1 {
		rest := make([]int32, 0, partitions-1)
		for p := int32(1); p < partitions; p++ {
			rest = append(rest, p)
		}
		served = append(served, rest)
	}
	var clients []*kgo.Client
	for _, ps := range served {
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			closeAll(clients)
			return nil, fmt.Errorf("bench: failover producer: %w", err)
		}
		clients = append(clients, cl)
		recs := make([]*kgo.Record, len(ps))
		for i, p := range ps {
			recs[i] = &kgo.Record{Partition: p, Value: value()}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			closeAll(clients)
			return nil, fmt.Errorf("bench: failover producer warm-up: %w", err)
		}
	}
	return clients, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func closeAll(clients []*kgo.Client) {
	for _, cl := range clients {
		cl.Close()
	}
}

// failoverRun is the sending side of the failover scenario. It is used by
// one goroutine; tr is shared with the producers' promises and the killer.
type failoverRun struct {
	cfg        Config
	pool       *payloadPool
	clients    []*kgo.Client // [0] serves partition 0, [1] the others
	partitions int32
	tr         *failoverTracker
	start      time.Time
}

func (f *failoverRun) rate() int64 { return f.cfg.latencyRate() }

// send issues records on the fixed timeline until done says to stop. It
// returns how many records it sent and how late it issued them.
func (f *failoverRun) send(ctx context.Context) (int64, *Histogram, error) {
	pc := newPacer()
	defer pc.close()
	lag := NewHistogram()
	sched := schedule{start: f.start, rate: f.rate()}
	for i := int64(0); ; i++ {
		at := sched.at(i)
		if stop, err := f.done(ctx, i, at); stop || err != nil {
			return i, lag, err
		}
		if err := pc.sleepUntil(ctx, at); err != nil {
			return i, lag, context.Cause(ctx)
		}
		lag.Record(int64(time.Since(at)))
		p := int32(i % int64(f.partitions))
		cl := f.clients[min(int(p), 1)]
		cl.Produce(ctx, &kgo.Record{Partition: p, Value: f.pool.value(i)}, func(r *kgo.Record, err error) {
			f.tr.ack(r.Partition, at, time.Now(), err)
		})
	}
}

// done reports whether record i, due at at, should not be sent because the
// scenario is over: the run has lasted long enough and every partition has
// recovered from the kill. It fails if ctx is done or if recovery takes
// longer than cfg.FailoverTimeout.
func (f *failoverRun) done(ctx context.Context, i int64, at time.Time) (bool, error) {
	if ctx.Err() != nil {
		return true, context.Cause(ctx)
	}
	killed, recovered := f.tr.state()
	if recovered {
		if f.cfg.Records > 0 {
			return i >= f.cfg.Records, nil
		}
		return !at.Before(f.start.Add(f.cfg.Duration)), nil
	}
	// Before the kill, the killer has until the timeout past the warm-up.
	from := f.start.Add(f.cfg.FailoverWarmup)
	if !killed.IsZero() {
		from = killed
	}
	if at.Sub(from) > f.cfg.FailoverTimeout {
		if killed.IsZero() {
			return true, fmt.Errorf("%w: the leader of partition 0 was not killed within %s of the warm-up", ErrNoFailover, f.cfg.FailoverTimeout)
		}
		return true, fmt.Errorf("%w: partitions %v acknowledged no record sent after the kill within %s",
			ErrNoFailover, f.tr.waitingPartitions(), f.cfg.FailoverTimeout)
	}
	return false, nil
}

// agentProcess is an agent of Config.BrokerPIDs.
type agentProcess struct {
	nodeID int32
	pid    int
}

// killLeader waits until at, finds the leader of topic's partition 0 and
// kills its process, recording the kill in tr. Then it polls Metadata
// until it names another leader, for at most cfg.FailoverTimeout, and
// records when it did: how long the cluster took to elect a leader, as
// opposed to how long the producers took to use it.
func killLeader(ctx context.Context, cfg Config, adm admin, topic string, at time.Time, tr *failoverTracker) (agentProcess, error) {
	timer := time.NewTimer(time.Until(at))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return agentProcess{}, context.Cause(ctx)
	case <-timer.C:
	}
	leader, err := partitionLeader(ctx, adm, topic, 0)
	if err != nil {
		return agentProcess{}, err
	}
	pid, ok := cfg.BrokerPIDs[leader]
	if !ok {
		return agentProcess{}, fmt.Errorf("%w: %s/0 is led by node %d", ErrUnknownAgent, topic, leader)
	}
	kill := cfg.KillAgent
	if kill == nil {
		kill = killProcess
	}
	if err := kill(leader, pid); err != nil {
		return agentProcess{}, fmt.Errorf("bench: kill agent %d (pid %d): %w", leader, pid, err)
	}
	killedAt := time.Now()
	tr.markKilled(killedAt)
	victim := agentProcess{nodeID: leader, pid: pid}
	tick := time.NewTicker(topicPollInterval)
	defer tick.Stop()
	for time.Since(killedAt) < cfg.FailoverTimeout {
		if now, err := partitionLeader(ctx, adm, topic, 0); err == nil && now != leader {
			tr.markLeaderMoved(now, time.Now())
			break
		}
		select {
		case <-ctx.Done():
			return victim, nil
		case <-tick.C:
		}
	}
	return victim, nil
}

// failoverTracker accounts for the acknowledgements of the failover
// scenario. It is safe for concurrent use: both producers' promises and
// the killer call it.
type failoverTracker struct {
	mu        sync.Mutex
	killedAt  time.Time   // guarded by mu; zero before the kill
	movedAt   time.Time   // guarded by mu; when Metadata first named a new leader of partition 0
	newLeader int32       // guarded by mu; that leader, -1 until then
	recovered []time.Time // guarded by mu; per partition, when the first record sent after the kill was acknowledged
	waiting   int         // guarded by mu; partitions not yet recovered
	lat       *Histogram  // guarded by mu
	acked     int64       // guarded by mu
	failed    int64       // guarded by mu
	firstErr  error       // guarded by mu
}

func newFailoverTracker(partitions int32) *failoverTracker {
	return &failoverTracker{recovered: make([]time.Time, partitions), waiting: int(partitions), lat: NewHistogram(), newLeader: -1}
}

// markKilled records that the agent was dead at t. The caller reads t after
// the kill returned and records it under mu, so an acknowledgement that
// tracker sees before the kill was acknowledged before t, and any record
// due after t was sent after the kill.
func (tr *failoverTracker) markKilled(t time.Time) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.killedAt = t
}

// markLeaderMoved records that Metadata named leader as the leader of
// partition 0 at t, after the kill.
func (tr *failoverTracker) markLeaderMoved(leader int32, t time.Time) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.newLeader, tr.movedAt = leader, t
}

// ack accounts for the outcome of one record to partition, due at at,
// whose promise ran at now.
func (tr *failoverTracker) ack(partition int32, at, now time.Time, err error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if err != nil {
		tr.failed++
		if tr.firstErr == nil {
			tr.firstErr = err
		}
		return
	}
	tr.acked++
	tr.lat.Record(int64(now.Sub(at)))
	if tr.killedAt.IsZero() || !at.After(tr.killedAt) || partition < 0 || int(partition) >= len(tr.recovered) {
		return
	}
	if tr.recovered[partition].IsZero() {
		tr.recovered[partition] = now
		tr.waiting--
	}
}

// state returns the kill time (zero before the kill) and whether every
// partition has recovered since.
func (tr *failoverTracker) state() (killedAt time.Time, recovered bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.killedAt, !tr.killedAt.IsZero() && tr.waiting == 0
}

// waitingPartitions lists the partitions that have not recovered.
func (tr *failoverTracker) waitingPartitions() []int32 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []int32
	for p, t := range tr.recovered {
		if t.IsZero() {
			out = append(out, int32(p))
		}
	}
	return out
}

// recovery returns the time from the kill to the recovery of partition 0
// and of the last partition to recover. ok is false until every partition
// has recovered.
func (tr *failoverTracker) recovery() (partition0, all time.Duration, ok bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.killedAt.IsZero() || tr.waiting > 0 {
		return 0, 0, false
	}
	for _, t := range tr.recovered {
		all = max(all, t.Sub(tr.killedAt))
	}
	return tr.recovered[0].Sub(tr.killedAt), all, true
}

// result summarizes the run. Every partition must have recovered.
func (tr *failoverTracker) result(t topicInfo, rate int64, victim agentProcess, sent int64, lag *Histogram) *Failover {
	p0, all, _ := tr.recovery()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var moved time.Duration
	if tr.newLeader >= 0 {
		moved = tr.movedAt.Sub(tr.killedAt)
	}
	lat := newLatency(t.name, t.partitions, rate, tr.lat, lag)
	lat.ReplicationFactor = t.replicationFactor
	return &Failover{
		Topic:             t.name,
		Partitions:        t.partitions,
		ReplicationFactor: t.replicationFactor,
		Rate:              rate,
		KilledNodeID:      victim.nodeID,
		KilledPID:         victim.pid,
		NewLeader:         tr.newLeader,
		LeaderMoved:       moved,
		Partition0:        p0,
		All:               all,
		Sent:              sent,
		Acked:             tr.acked,
		Failed:            tr.failed,
		FirstError:        errString(tr.firstErr),
		Latency:           *lat,
	}
}
