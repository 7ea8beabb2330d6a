package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// pacedSend sends total records on a fixed timeline at rate, round-robin
// over partitions, from a dedicated goroutine that owns a pacer. mk builds
// record i, due at at, and its promise. It returns once every record is
// acknowledged, with a histogram of how late each send was issued.
func pacedSend(ctx context.Context, cl *kgo.Client, rate, total int64, partitions int32,
	mk func(i int64, at time.Time) (*kgo.Record, func(*kgo.Record, error)),
) (*Histogram, error) {
	lag := NewHistogram()
	done := make(chan error, 1)
	go func() {
		pc := newPacer()
		defer pc.close()
		sched := schedule{start: time.Now(), rate: rate}
		for i := range total {
			at := sched.at(i)
			if err := pc.sleepUntil(ctx, at); err != nil {
				done <- err
				return
			}
			lag.Record(int64(time.Since(at)))
			r, promise := mk(i, at)
			r.Partition = int32(i % int64(partitions))
			cl.Produce(ctx, r, promise)
		}
		done <- nil
	}()
	err := <-done
	if err == nil {
		err = cl.Flush(ctx)
	}
	return lag, err
}

// pacedClient returns a producer for topic that sends every record to the
// partition set in the record, and warms it up with one synchronous record
// per partition built by value.
func pacedClient(ctx context.Context, cfg Config, topic string, partitions int32, value func() []byte) (*kgo.Client, error) {
	cl, err := kgo.NewClient(cfg.producerOpts(topic, kgo.ManualPartitioner())...)
	if err != nil {
		return nil, fmt.Errorf("bench: producer client: %w", err)
	}
	recs := make([]*kgo.Record, partitions)
	for p := range recs {
		recs[p] = &kgo.Record{Partition: int32(p), Value: value()}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		cl.Close()
		return nil, fmt.Errorf("bench: producer warm-up: %w", err)
	}
	return cl, nil
}

// runLatency runs the latency scenario: records are sent on a fixed
// timeline and each one's latency runs from its intended send time to its
// acknowledgement.
func runLatency(ctx context.Context, cfg Config, topic string, partitions int32) (*Latency, error) {
	pool := newPayloadPool(cfg.RecordSize, cfg.compressible())
	cl, err := pacedClient(ctx, cfg, topic, partitions, func() []byte { return pool.value(0) })
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	lat := NewHistogram() // guarded by mu
	rate := cfg.latencyRate()
	lag, err := pacedSend(ctx, cl, rate, cfg.sendCount(rate), partitions,
		func(i int64, at time.Time) (*kgo.Record, func(*kgo.Record, error)) {
			return &kgo.Record{Value: pool.value(i)}, func(_ *kgo.Record, err error) {
				d := time.Since(at)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						cancel(fmt.Errorf("bench: latency produce: %w", err))
					}
					return
				}
				mu.Lock()
				lat.Record(int64(d))
				mu.Unlock()
			}
		})
	if cause := context.Cause(ctx); cause != nil {
		return nil, cause
	}
	if err != nil {
		return nil, fmt.Errorf("bench: latency: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return newLatency(topic, partitions, rate, lat, lag), nil
}
