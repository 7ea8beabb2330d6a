package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// e2eHeaderSize is the length of the send timestamp that starts every e2e
// record value (see the package documentation).
const e2eHeaderSize = 8

// e2eClock converts monotonic instants to Unix nanoseconds from one
// wall-clock reading, so that a wall-clock step during the run does not
// distort latencies measured within this process.
type e2eClock struct {
	epoch     time.Time
	epochUnix int64
}

func newE2EClock() e2eClock {
	now := time.Now()
	return e2eClock{epoch: now, epochUnix: now.UnixNano()}
}

func (c e2eClock) unixNano(t time.Time) int64 { return c.epochUnix + int64(t.Sub(c.epoch)) }

// e2eValue builds an e2e record value: the send time, then filler.
func e2eValue(sendUnixNano int64, filler []byte) []byte {
	v := make([]byte, e2eHeaderSize+len(filler))
	binary.BigEndian.PutUint64(v, uint64(sendUnixNano))
	copy(v[e2eHeaderSize:], filler)
	return v
}

// parseE2EValue returns the send time at the start of an e2e record value;
// 0 marks a warm-up record.
func parseE2EValue(v []byte) (sendUnixNano int64, err error) {
	if len(v) < e2eHeaderSize {
		return 0, fmt.Errorf("%w: value of %d bytes", ErrNotBenchRecord, len(v))
	}
	sent := int64(binary.BigEndian.Uint64(v))
	if sent < 0 {
		return 0, fmt.Errorf("%w: negative send time %d", ErrNotBenchRecord, sent)
	}
	return sent, nil
}

// e2eConsumer reads the e2e topic on its own goroutine and measures each
// record's latency. lat and err belong to that goroutine until done is
// closed; the counters are atomic.
type e2eConsumer struct {
	cl    *kgo.Client
	clock e2eClock
	lat   *Histogram
	err   error

	warm     atomic.Int64 // warm-up records seen
	measured atomic.Int64 // measured records seen
	want     atomic.Int64 // measured records expected, -1 until known

	completeOnce sync.Once
	complete     chan struct{} // closed when measured reaches want
	done         chan struct{} // closed when run returns
}

// run polls until ctx is done or a fetch fails.
func (c *e2eConsumer) run(ctx context.Context) {
	defer close(c.done)
	for {
		fetches := c.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		now := c.clock.unixNano(time.Now())
		if err := fetches.Err(); err != nil {
			c.err = fmt.Errorf("bench: e2e fetch: %w", err)
			return
		}
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			sent, err := parseE2EValue(r.Value)
			if err != nil {
				c.err = fmt.Errorf("bench: e2e record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
				return
			}
			if sent == 0 {
				c.warm.Add(1)
				continue
			}
			c.lat.Record(now - sent)
			c.measured.Add(1)
		}
		c.checkComplete()
	}
}

// checkComplete closes complete once the expected number of records has
// been measured. Both the consumer (after each fetch) and the producer side
// (after setting want) call it, so neither can miss the moment.
func (c *e2eConsumer) checkComplete() {
	if w := c.want.Load(); w >= 0 && c.measured.Load() >= w {
		c.completeOnce.Do(func() { close(c.complete) })
	}
}

// runE2E runs the e2e scenario: a consumer positioned at the end of every
// partition reads the records that a paced producer writes, and each
// record's latency runs from its intended send time to its receipt.
func runE2E(ctx context.Context, cfg Config, adm *kadm.Client, topic string, partitions int32) (*Latency, error) {
	ranges, err := listOffsets(ctx, adm, topic)
	if err != nil {
		return nil, err
	}
	at := make(map[int32]kgo.Offset, len(ranges))
	for p, r := range ranges {
		at[p] = kgo.NewOffset().At(r.End)
	}
	ccl, err := kgo.NewClient(append(cfg.baseOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: at}),
		kgo.FetchMaxWait(cfg.FetchMaxWait),
	)...)
	if err != nil {
		return nil, fmt.Errorf("bench: e2e consumer client: %w", err)
	}
	defer ccl.Close()
	cons := &e2eConsumer{cl: ccl, clock: newE2EClock(), lat: NewHistogram(),
		complete: make(chan struct{}), done: make(chan struct{})}
	cons.want.Store(-1)
	cctx, stopConsumer := context.WithCancel(ctx)
	go cons.run(cctx)
	defer func() {
		stopConsumer()
		<-cons.done
	}()

	pool := newPayloadPool(cfg.RecordSize, cfg.compressible())
	filler := pool.value(0)[:cfg.RecordSize-e2eHeaderSize]
	pcl, err := pacedClient(ctx, cfg, topic, partitions, func() []byte { return e2eValue(0, filler) })
	if err != nil {
		return nil, err
	}
	defer pcl.Close()
	if err := cons.await(ctx, func() bool { return cons.warm.Load() >= int64(partitions) }, cfg.StallTimeout); err != nil {
		return nil, fmt.Errorf("bench: e2e warm-up: %w", err)
	}
	rate := cfg.latencyRate()
	lag, err := cons.measure(ctx, cfg, pcl, pool, rate, partitions)
	if err != nil {
		return nil, err
	}
	stopConsumer()
	<-cons.done // cons.lat is ours from here on
	return newLatency(topic, partitions, rate, cons.lat, lag), nil
}

// awaitPollInterval is how often await re-checks its condition.
const awaitPollInterval = 5 * time.Millisecond

// await blocks until cond holds. It fails if ctx is done, if the consumer
// stops, or if the consumer sees no record for stall.
func (c *e2eConsumer) await(ctx context.Context, cond func() bool, stall time.Duration) error {
	tick := time.NewTicker(awaitPollInterval)
	defer tick.Stop()
	seen, last := c.warm.Load()+c.measured.Load(), time.Now()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			if c.err != nil {
				return c.err
			}
			return errors.New("bench: e2e consumer stopped")
		case <-c.complete:
		case <-tick.C:
		}
		if n := c.warm.Load() + c.measured.Load(); n != seen {
			seen, last = n, time.Now()
		} else if time.Since(last) > stall {
			return fmt.Errorf("%w for %s", ErrStalled, stall)
		}
	}
	return nil
}

// measure sends the paced records and waits until the consumer has seen
// every acknowledged one. It returns the send-lag histogram.
func (c *e2eConsumer) measure(ctx context.Context, cfg Config, pcl *kgo.Client, pool *payloadPool, rate int64, partitions int32) (*Histogram, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var acked atomic.Int64
	lag, err := pacedSend(ctx, pcl, rate, cfg.sendCount(rate), partitions,
		func(i int64, at time.Time) (*kgo.Record, func(*kgo.Record, error)) {
			v := e2eValue(c.clock.unixNano(at), pool.value(i)[:cfg.RecordSize-e2eHeaderSize])
			return &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						cancel(fmt.Errorf("bench: e2e produce: %w", err))
					}
					return
				}
				acked.Add(1)
			}
		})
	if cause := context.Cause(ctx); cause != nil {
		return nil, cause
	}
	if err != nil {
		return nil, fmt.Errorf("bench: e2e: %w", err)
	}
	c.want.Store(acked.Load())
	c.checkComplete()
	if err := c.await(ctx, func() bool {
		select {
		case <-c.complete:
			return true
		default:
			return false
		}
	}, cfg.StallTimeout); err != nil {
		return nil, fmt.Errorf("bench: e2e: %d of %d records received: %w", c.measured.Load(), acked.Load(), err)
	}
	return lag, nil
}
