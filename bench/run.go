package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// cleanupTimeout bounds deleting the fresh topics, which runs even after
// ctx is canceled.
const cleanupTimeout = 30 * time.Second

// Run executes the scenarios selected in cfg, in the order of AllScenarios
// followed by failover, and returns their report. If w is not nil, the header and every result
// line are written to it as soon as they are known, in the format of
// Report.WriteText. On error the report holds what finished before it.
// Fresh topics are deleted once their last scenario has run, unless
// cfg.Keep is set. Run is safe to call concurrently with itself.
func Run(ctx context.Context, cfg Config, w io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, w: w, rep: &Report{}, suffix: randomSuffix(), topics: make(map[Scenario]topicInfo)}
	err := r.run(ctx)
	return r.rep, errors.Join(err, r.writeErr)
}

// runner is the state of one Run. It is used by one goroutine.
type runner struct {
	cfg      Config
	w        io.Writer
	writeErr error
	rep      *Report
	adm      admin
	suffix   string
	// topics maps a topic-owning scenario (produce, latency, e2e,
	// failover) to its topic; with cfg.Topic set every scenario maps to it.
	topics map[Scenario]topicInfo
	// brokers is how many brokers Metadata listed at the start.
	brokers int
	// killed is the agent the failover scenario killed, if it ran.
	killed *int32
}

type topicInfo struct {
	name              string
	partitions        int32
	replicationFactor int
	fresh             bool // created by this run, to be deleted
}

func (r *runner) run(ctx context.Context) (err error) {
	partitions := r.cfg.Partitions
	if r.cfg.needsBroker() {
		// A short retry backoff: after the failover kill, requests that
		// pick the dead agent retry on another at once.
		cl, err := kgo.NewClient(append(r.cfg.baseOpts(),
			kgo.RetryBackoffFn(func(int) time.Duration { return failoverRetryBackoff }))...)
		if err != nil {
			return fmt.Errorf("bench: admin client: %w", err)
		}
		defer cl.Close()
		r.adm = newAdmin(cl)
		defer func() { err = errors.Join(err, r.deleteAll(ctx)) }()
		if err := r.ping(ctx, cl); err != nil {
			return err
		}
		if r.brokers, err = waitBrokers(ctx, r.adm, max(r.cfg.WaitBrokers, 1), r.cfg.ConnectTimeout); err != nil {
			return err
		}
		if r.cfg.Topic != "" {
			shape, err := ensureTopic(ctx, r.adm, r.cfg.Topic, r.cfg.Partitions, r.cfg.StallTimeout)
			if err != nil {
				return err
			}
			partitions = shape.partitions
			r.topics[""] = topicInfo{name: r.cfg.Topic, partitions: shape.partitions, replicationFactor: shape.replicationFactor}
		}
	}
	r.rep.Header = r.header(partitions)
	r.emit(headerLine(r.rep.Header))
	for _, s := range scenarioOrder {
		if !r.cfg.has(s) {
			continue
		}
		if err := r.scenario(ctx, s); err != nil {
			return fmt.Errorf("scenario %s: %w", s, err)
		}
		if err := r.recordRSS(s); err != nil {
			return err
		}
		if err := r.release(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) ping(ctx context.Context, cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnreachable, strings.Join(r.cfg.BootstrapServers, ","), err)
	}
	return nil
}

// scenario runs one scenario and records and emits its result.
func (r *runner) scenario(ctx context.Context, s Scenario) error {
	if s == ScenarioLoopback {
		l, err := MeasureLoopback(ctx, r.cfg.LoopbackDuration)
		if err != nil {
			return err
		}
		r.rep.Loopback = &l
		r.emit(loopbackLine(l))
		return nil
	}
	t, err := r.topic(ctx, s)
	if err != nil {
		return err
	}
	switch s {
	case ScenarioProduce:
		if r.rep.Produce, err = runProduce(ctx, r.cfg, t.name, t.partitions); err == nil {
			r.rep.Produce.ReplicationFactor = t.replicationFactor
			r.rep.Produce.LoopbackFraction = r.fraction(r.rep.Produce.MBPerSec)
			r.emit(throughputLine(s, *r.rep.Produce, r.rep.Loopback))
		}
	case ScenarioConsume:
		if r.rep.Consume, err = runConsume(ctx, r.cfg, r.adm.Client, t.name, t.partitions); err == nil {
			r.rep.Consume.ReplicationFactor = t.replicationFactor
			r.rep.Consume.LoopbackFraction = r.fraction(r.rep.Consume.MBPerSec)
			r.emit(throughputLine(s, *r.rep.Consume, r.rep.Loopback))
		}
	case ScenarioCatchup:
		if r.rep.Catchup, err = r.catchup(ctx, t); err == nil {
			r.emit(catchupLine(*r.rep.Catchup))
		}
	case ScenarioTxn:
		if r.rep.Txn, err = runTxn(ctx, r.cfg, t.name, t.partitions); err == nil {
			r.rep.Txn.Idempotent.ReplicationFactor = t.replicationFactor
			r.rep.Txn.Transactional.ReplicationFactor = t.replicationFactor
			r.emit(txnLine(*r.rep.Txn))
		}
	case ScenarioLatency:
		if r.rep.Latency, err = runLatency(ctx, r.cfg, t.name, t.partitions); err == nil {
			r.rep.Latency.ReplicationFactor = t.replicationFactor
			r.emit(latencyLine(s, *r.rep.Latency))
		}
	case ScenarioE2E:
		if r.rep.E2E, err = runE2E(ctx, r.cfg, r.adm.Client, t.name, t.partitions); err == nil {
			r.rep.E2E.ReplicationFactor = t.replicationFactor
			r.emit(latencyLine(s, *r.rep.E2E))
		}
	case ScenarioFailover:
		if r.rep.Failover, err = runFailover(ctx, r.cfg, r.adm, t); err == nil {
			killed := r.rep.Failover.KilledNodeID
			r.killed = &killed
			r.emit(failoverLine(*r.rep.Failover))
		}
	}
	return err
}

// catchup runs the catchup scenario on t: it waits for the data to be
// offloaded if cfg.WaitOffloaded, lists the offsets, then replays.
func (r *runner) catchup(ctx context.Context, t topicInfo) (*Catchup, error) {
	list := topicOffsets(r.adm, t.name)
	var (
		offs   map[int32]partitionOffsets
		waited time.Duration
		err    error
	)
	if r.cfg.WaitOffloaded {
		r.rep.Offload = &Offload{Topic: t.name, WithinRecords: r.cfg.OffloadedWithin}
		r.emit(offloadLine(*r.rep.Offload))
		offs, waited, err = waitOffloaded(ctx, list, r.cfg.OffloadedWithin, offloadPollInterval, r.cfg.StallTimeout)
	} else {
		offs, err = list(ctx)
	}
	if err != nil {
		return nil, err
	}
	c, err := runCatchup(ctx, r.cfg, t, offs)
	if err != nil {
		return nil, err
	}
	c.WaitedOffloaded, c.OffloadWait = r.cfg.WaitOffloaded, waited
	return c, nil
}

// owner returns the scenario whose topic s uses: consume and catchup read
// what produce wrote.
func owner(s Scenario) Scenario {
	if s == ScenarioConsume || s == ScenarioCatchup {
		return ScenarioProduce
	}
	return s
}

// topic returns the topic of scenario s, creating a fresh one if needed.
func (r *runner) topic(ctx context.Context, s Scenario) (topicInfo, error) {
	if t, ok := r.topics[""]; ok {
		return t, nil
	}
	if t, ok := r.topics[owner(s)]; ok {
		return t, nil
	}
	name := freshTopicName(owner(s), r.suffix)
	shape, err := createTopic(ctx, r.adm, name, r.cfg.Partitions, r.cfg.StallTimeout)
	if err != nil {
		return topicInfo{}, err
	}
	t := topicInfo{name: name, partitions: shape.partitions, replicationFactor: shape.replicationFactor, fresh: true}
	r.topics[owner(s)] = t
	return t, nil
}

// release deletes the fresh topic of s once no later scenario needs it.
func (r *runner) release(ctx context.Context, s Scenario) error {
	later := scenarioOrder[slices.Index(scenarioOrder, s)+1:]
	if slices.ContainsFunc(later, func(l Scenario) bool { return r.cfg.has(l) && owner(l) == owner(s) }) {
		return nil
	}
	return r.drop(ctx, owner(s))
}

// drop deletes the fresh topic registered under key, unless cfg.Keep.
func (r *runner) drop(ctx context.Context, key Scenario) error {
	t, ok := r.topics[key]
	if !ok || !t.fresh || r.cfg.Keep {
		return nil
	}
	delete(r.topics, key)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	return deleteTopic(ctx, r.adm, t.name)
}

// deleteAll deletes every fresh topic not yet released, after an error.
func (r *runner) deleteAll(ctx context.Context) error {
	var errs []error
	for key := range r.topics {
		if err := r.drop(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// recordRSS reads the memory of cfg.BrokerPID and of every agent of
// cfg.BrokerPIDs that this run has not killed, after scenario s.
func (r *runner) recordRSS(s Scenario) error {
	read := func(pid int, node *int32) error {
		m, err := ReadRSS(pid)
		if err != nil {
			return err
		}
		m.After, m.NodeID = string(s), node
		r.rep.RSS = append(r.rep.RSS, m)
		r.emit(rssLine(m))
		return nil
	}
	if r.cfg.BrokerPID > 0 {
		if err := read(r.cfg.BrokerPID, nil); err != nil {
			return err
		}
	}
	for _, node := range slices.Sorted(maps.Keys(r.cfg.BrokerPIDs)) {
		if r.killed != nil && *r.killed == node {
			continue
		}
		if err := read(r.cfg.BrokerPIDs[node], &node); err != nil {
			return err
		}
	}
	return nil
}

// fraction returns mbps as a fraction of the loopback figure, or 0.
func (r *runner) fraction(mbps float64) float64 {
	if r.rep.Loopback == nil || r.rep.Loopback.MBPerSec <= 0 {
		return 0
	}
	return mbps / r.rep.Loopback.MBPerSec
}

func (r *runner) emit(line string) {
	if r.w == nil || r.writeErr != nil {
		return
	}
	if _, err := io.WriteString(r.w, line+"\n"); err != nil {
		r.writeErr = fmt.Errorf("bench: write output: %w", err)
	}
}

func (r *runner) header(partitions int32) Header {
	payload := "random"
	if r.cfg.compressible() {
		payload = "text"
	}
	var failover *FailoverSettings
	if r.cfg.has(ScenarioFailover) {
		failover = r.cfg.failoverSettings()
	}
	return Header{
		BootstrapServers: r.cfg.BootstrapServers,
		Brokers:          r.brokers,
		BrokerPIDs:       r.cfg.BrokerPIDs,
		Failover:         failover,
		Topic:            r.cfg.Topic,
		Partitions:       partitions,
		RecordSize:       r.cfg.RecordSize,
		Acks:             acksName(r.cfg.Acks),
		Compression:      r.cfg.Compression,
		Payload:          payload,
		Duration:         r.cfg.Duration,
		Records:          r.cfg.Records,
		Rate:             r.cfg.Rate,
		LatencyRate:      r.cfg.latencyRate(),
		Producers:        r.cfg.Producers,
		Scenarios:        r.cfg.Scenarios,
		Producer:         r.cfg.producerSettings(),
		Consumer:         r.cfg.consumerSettings(),
		Machine:          ReadMachine(),
		Units:            Units,
	}
}
