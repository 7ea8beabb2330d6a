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
}

// runProduce runs the produce scenario against topic.
func runProduce(ctx context.Context, cfg Config, topic string, partitions int32) (*Throughput, error) {
	pool := newPayloadPool(cfg.RecordSize, cfg.compressible())
	clients := make([]*kgo.Client, 0, cfg.Producers)
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	for range cfg.Producers {
		cl, err := kgo.NewClient(cfg.producerOpts(topic, nil)...)
		if err != nil {
			return nil, fmt.Errorf("bench: produce client: %w", err)
		}
		clients = append(clients, cl)
		// Warm up outside the clock: connections, metadata, producer ID.
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: pool.value(0)}).FirstErr(); err != nil {
			return nil, fmt.Errorf("bench: produce warm-up: %w", err)
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
		wg.Go(func() { p.send(ctx, cl) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return nil, err
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
	}, nil
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
		select {
		case <-ctx.Done():
			return
		default:
		}
		i := p.seq.Add(1) - 1
		if p.total > 0 && i >= p.total || p.total == 0 && !time.Now().Before(p.deadline) {
			break
		}
		if pc != nil && pc.sleepUntil(ctx, p.sched.at(i)) != nil {
			return
		}
		r := recordPool.Get().(*kgo.Record)
		*r = kgo.Record{Value: p.pool.value(i)}
		cl.Produce(ctx, r, p.promise)
	}
	if err := cl.Flush(ctx); err != nil {
		p.cancel(fmt.Errorf("bench: produce flush: %w", err))
	}
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
