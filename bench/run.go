package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cleanupTimeout bounds deleting the fresh topics, which runs even after
// ctx is canceled.
const cleanupTimeout = 30 * time.Second

// Run executes the scenarios selected in cfg, in the order of AllScenarios,
// and returns their report. If w is not nil, the header and every result
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
	adm      *kadm.Client
	suffix   string
	// topics maps a topic-owning scenario (produce, latency, e2e) to its
	// topic; with cfg.Topic set every scenario maps to it.
	topics map[Scenario]topicInfo
}

type topicInfo struct {
	name       string
	partitions int32
	fresh      bool // created by this run, to be deleted
}

func (r *runner) run(ctx context.Context) (err error) {
	partitions := r.cfg.Partitions
	if r.cfg.needsBroker() {
		cl, err := kgo.NewClient(r.cfg.baseOpts()...)
		if err != nil {
			return fmt.Errorf("bench: admin client: %w", err)
		}
		defer cl.Close()
		r.adm = kadm.NewClient(cl)
		defer func() { err = errors.Join(err, r.deleteAll(ctx)) }()
		if err := r.ping(ctx, cl); err != nil {
			return err
		}
		if r.cfg.Topic != "" {
			if partitions, err = ensureTopic(ctx, r.adm, r.cfg.Topic, r.cfg.Partitions, r.cfg.StallTimeout); err != nil {
				return err
			}
			r.topics[""] = topicInfo{name: r.cfg.Topic, partitions: partitions}
		}
	}
	r.rep.Header = r.header(partitions)
	r.emit(headerLine(r.rep.Header))
	for _, s := range AllScenarios {
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
			r.rep.Produce.LoopbackFraction = r.fraction(r.rep.Produce.MBPerSec)
			r.emit(throughputLine(s, *r.rep.Produce, r.rep.Loopback))
		}
	case ScenarioConsume:
		if r.rep.Consume, err = runConsume(ctx, r.cfg, r.adm, t.name, t.partitions); err == nil {
			r.rep.Consume.LoopbackFraction = r.fraction(r.rep.Consume.MBPerSec)
			r.emit(throughputLine(s, *r.rep.Consume, r.rep.Loopback))
		}
	case ScenarioLatency:
		if r.rep.Latency, err = runLatency(ctx, r.cfg, t.name, t.partitions); err == nil {
			r.emit(latencyLine(s, *r.rep.Latency))
		}
	case ScenarioE2E:
		if r.rep.E2E, err = runE2E(ctx, r.cfg, r.adm, t.name, t.partitions); err == nil {
			r.emit(latencyLine(s, *r.rep.E2E))
		}
	}
	return err
}

// owner returns the scenario whose topic s uses: consume reads what
// produce wrote.
func owner(s Scenario) Scenario {
	if s == ScenarioConsume {
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
	t := topicInfo{name: freshTopicName(owner(s), r.suffix), partitions: r.cfg.Partitions, fresh: true}
	if err := createTopic(ctx, r.adm, t.name, t.partitions, r.cfg.StallTimeout); err != nil {
		return topicInfo{}, err
	}
	r.topics[owner(s)] = t
	return t, nil
}

// release deletes the fresh topic of s once no later scenario needs it.
func (r *runner) release(ctx context.Context, s Scenario) error {
	if s == ScenarioProduce && r.cfg.has(ScenarioConsume) {
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

// recordRSS reads the broker's memory after scenario s, if asked to.
func (r *runner) recordRSS(s Scenario) error {
	if r.cfg.BrokerPID <= 0 {
		return nil
	}
	m, err := ReadRSS(r.cfg.BrokerPID)
	if err != nil {
		return err
	}
	m.After = string(s)
	r.rep.RSS = append(r.rep.RSS, m)
	r.emit(rssLine(m))
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
	return Header{
		BootstrapServers: r.cfg.BootstrapServers,
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
