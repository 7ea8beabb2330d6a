package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordPool recycles produce records: a record is free again once its
// promise has run, and at hundreds of thousands of records a second the
// allocations would otherwise cost the broker CPU on a shared machine.
var recordPool = sync.Pool{New: func() any { return new(kgo.Record) }}

// throughputProducer is the shared state of the produce scenario's sending
// goroutines. Its counters are atomic; it is safe for concurrent use.
type throughputProducer struct {
	pool     *payloadPool
	total    int64     // records to send; 0 means until deadline
	deadline time.Time // used when total is 0
	sched    schedule  // used when sched.rate > 0
	cancel   context.CancelCauseFunc

	seq   atomic.Int64 // next record index
	acked atomic.Int64
	bytes atomic.Int64
	txns  atomic.Int64 // transactions committed (txn scenario)
}

// runProduce runs the produce scenario against topic.
func runProduce(ctx context.Context, cfg Config, topic string, partitions int32) (*Throughput, error) {
	t, _, err := produceThroughput(ctx, cfg, topic, partitions, 0, false)
	return t, err
}

// produceThroughput sends records to topic with cfg.Producers clients, as
// fast as they go or at cfg.Rate, and measures what was acknowledged. With
// interval > 0 each client flushes every interval, and if transactional
// it is a transactional producer committing a transaction each time; it
// also returns how many committed.
func produceThroughput(ctx context.Context, cfg Config, topic string, partitions int32, interval time.Duration, transactional bool) (*Throughput, int64, error) {
	pool := newPayloadPool(cfg.RecordSize, cfg.compressible())
	clients := make([]*kgo.Client, 0, cfg.Producers)
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	for i := range cfg.Producers {
		opts := cfg.producerOpts(topic, nil)
		if transactional {
			opts = append(opts, kgo.TransactionalID(fmt.Sprintf("%s-%d", topic, i)), kgo.TransactionTimeout(txnTimeout))
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return nil, 0, fmt.Errorf("bench: produce client: %w", err)
		}
		clients = append(clients, cl)
		// Warm up outside the clock: connections, metadata, producer ID
		// (and one transaction).
		if err := warmUp(ctx, cl, pool.value(0), transactional); err != nil {
			return nil, 0, fmt.Errorf("bench: produce warm-up: %w", err)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p := &throughputProducer{pool: pool, cancel: cancel}
	start := time.Now()
	switch {
	case cfg.Rate > 0:
		p.sched = schedule{start: start, rate: cfg.Rate}
		p.total = cfg.sendCount(cfg.Rate)
	case cfg.Records > 0:
		p.total = cfg.Records
	default:
		p.deadline = start.Add(cfg.Duration)
	}
	var wg sync.WaitGroup
	for _, cl := range clients {
		if interval > 0 {
			wg.Go(func() { p.sendEvery(ctx, cl, interval, transactional) })
		} else {
			wg.Go(func() { p.send(ctx, cl) })
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	return &Throughput{
		Topic:       topic,
		Partitions:  partitions,
		RecordSize:  cfg.RecordSize,
		Acks:        acksName(cfg.Acks),
		Compression: cfg.Compression,
		Rate:        cfg.Rate,
		Records:     p.acked.Load(),
		Bytes:       p.bytes.Load(),
		Elapsed:     elapsed,
		MBPerSec:    mbPerSec(p.bytes.Load(), elapsed),
		RecsPerSec:  perSec(p.acked.Load(), elapsed),
	}, p.txns.Load(), nil
}

// txnOrder is the order of the txn scenario's runs, each a quarter of the
// duration or record count: idempotent, transactional, transactional,
// idempotent. Both kinds flush every Config.TxnInterval (the
// transactional ones then commit), so the difference between them is what
// transactions cost, not how often the client stops to wait. Each run slows the next a little (the page cache fills, the
// disk falls behind), and ABBA cancels that out of the ratio.
var txnOrder = []bool{false, true, true, false}

// txnRun returns the configuration of one of the txn scenario's runs.
func txnRun(cfg Config) Config {
	n := int64(len(txnOrder))
	cfg.Duration /= time.Duration(n)
	if cfg.Records > 0 {
		cfg.Records = max(1, cfg.Records/n)
	}
	return cfg
}

// runTxn runs the txn scenario against topic: the produce load with
// idempotent producers and with transactional ones, in txnOrder.
func runTxn(ctx context.Context, cfg Config, topic string, partitions int32) (*Txn, error) {
	run := txnRun(cfg)
	x := &Txn{Interval: cfg.TxnInterval}
	for _, transactional := range txnOrder {
		sum, what := &x.Idempotent, "idempotent"
		if transactional {
			sum, what = &x.Transactional, "transactional"
		}
		t, n, err := produceThroughput(ctx, run, topic, partitions, cfg.TxnInterval, transactional)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		x.Transactions += n
		sum.Records += t.Records
		sum.Bytes += t.Bytes
		sum.Elapsed += t.Elapsed
		*sum = Throughput{
			Topic: t.Topic, Partitions: t.Partitions, RecordSize: t.RecordSize, Acks: t.Acks,
			Compression: t.Compression, Rate: t.Rate, Records: sum.Records, Bytes: sum.Bytes, Elapsed: sum.Elapsed,
			MBPerSec: mbPerSec(sum.Bytes, sum.Elapsed), RecsPerSec: perSec(sum.Records, sum.Elapsed),
		}
	}
	if x.Idempotent.MBPerSec > 0 {
		x.Ratio = x.Transactional.MBPerSec / x.Idempotent.MBPerSec
	}
	return x, nil
}

// txnTimeout is the transaction timeout of the txn scenario's producers:
// far above any commit interval, yet short enough that a crashed run's
// open transactions do not hold read_committed readers for long.
const txnTimeout = 30 * time.Second

// warmUp sends one record synchronously, in a committed transaction if
// transactional.
func warmUp(ctx context.Context, cl *kgo.Client, value []byte, transactional bool) error {
	if transactional {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
		return err
	}
	if transactional {
		return cl.EndTransaction(ctx, kgo.TryCommit)
	}
	return nil
}

// send is one sending goroutine: it claims record indexes until the
// scenario is over, then waits for its client's records to be acknowledged.
func (p *throughputProducer) send(ctx context.Context, cl *kgo.Client) {
	var pc *pacer
	if p.sched.rate > 0 {
		pc = newPacer()
		defer pc.close()
	}
	for {
		i, ok := p.next(ctx)
		if !ok {
			if ctx.Err() != nil {
				return
			}
			break
		}
		if pc != nil && pc.sleepUntil(ctx, p.sched.at(i)) != nil {
			return
		}
		p.produce(ctx, cl, i)
	}
	if err := cl.Flush(ctx); err != nil {
		p.cancel(fmt.Errorf("bench: produce flush: %w", err))
	}
}

// sendEvery is send that flushes every interval, committing a transaction
// each time if transactional (the flush first, so that each commit waits
// for its records to be acknowledged), until the scenario is over.
func (p *throughputProducer) sendEvery(ctx context.Context, cl *kgo.Client, interval time.Duration, transactional bool) {
	var pc *pacer
	if p.sched.rate > 0 {
		pc = newPacer()
		defer pc.close()
	}
	for more := true; more; {
		if transactional {
			if err := cl.BeginTransaction(); err != nil {
				p.cancel(fmt.Errorf("bench: begin transaction: %w", err))
				return
			}
		}
		n := 0
		for end := time.Now().Add(interval); time.Now().Before(end); n++ {
			i, ok := p.next(ctx)
			if !ok {
				more = false
				break
			}
			if pc != nil && pc.sleepUntil(ctx, p.sched.at(i)) != nil {
				return
			}
			p.produce(ctx, cl, i)
		}
		if ctx.Err() != nil {
			return
		}
		if err := cl.Flush(ctx); err != nil {
			p.cancel(fmt.Errorf("bench: produce flush: %w", err))
			return
		}
		if !transactional {
			continue
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			p.cancel(fmt.Errorf("bench: commit transaction: %w", err))
			return
		}
		if n > 0 {
			p.txns.Add(1)
		}
	}
}

// next claims the next record index; false means the scenario is over
// (every record claimed, the deadline passed or ctx done).
func (p *throughputProducer) next(ctx context.Context) (int64, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	i := p.seq.Add(1) - 1
	if p.total > 0 && i >= p.total || p.total == 0 && !time.Now().Before(p.deadline) {
		return 0, false
	}
	return i, true
}

// produce sends record i asynchronously; promise counts it.
func (p *throughputProducer) produce(ctx context.Context, cl *kgo.Client, i int64) {
	r := recordPool.Get().(*kgo.Record)
	*r = kgo.Record{Value: p.pool.value(i)}
	cl.Produce(ctx, r, p.promise)
}

// promise counts an acknowledged record. franz-go calls it serially per
// client; the counters are shared by all clients.
func (p *throughputProducer) promise(r *kgo.Record, err error) {
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			p.cancel(fmt.Errorf("bench: produce: %w", err))
		}
		return
	}
	p.acked.Add(1)
	p.bytes.Add(int64(len(r.Value)))
	recordPool.Put(r)
}
