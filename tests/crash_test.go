package tests

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKillDuringProduce kills the agent with SIGKILL while an idempotent
// producer is writing with acks=all, restarts it, and checks that every
// acknowledged record is there exactly once at the offset it was
// acknowledged with, that offsets are dense, and that the log holds nothing
// but whole, valid batches (the consumer would fail on garbage).
func TestKillDuringProduce(t *testing.T) {
	t.Parallel()
	ag := startAgent(t, "--log-segment-bytes", "262144")
	topic := "crash"
	createTopic(t, ag.addr, topic, 3, nil)

	prod := newClient(t, ag.addr, kgo.ProducerLinger(time.Millisecond), kgo.RecordRetries(3), kgo.RecordDeliveryTimeout(5*time.Second))
	var mu sync.Mutex
	acked := map[string]string{} // partition/offset -> value
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			v := fmt.Sprintf("record-%d", i)
			prod.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}, func(r *kgo.Record, err error) {
				if err == nil {
					mu.Lock()
					acked[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = string(r.Value)
					mu.Unlock()
				}
			})
		}
	})
	checkFor(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 5000 {
			return fmt.Errorf("%d records acknowledged", len(acked))
		}
		return nil
	})
	ag.kill()
	stop()
	wg.Wait()
	prod.Close()

	ag.restart()
	mu.Lock()
	want := len(acked)
	mu.Unlock()
	cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	next := map[int32]int64{}
	deadline := time.Now().Add(30 * time.Second)
	for found := 0; found < want; {
		if time.Now().After(deadline) {
			t.Fatalf("found %d of %d acknowledged records", found, want)
		}
		pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		fs := cons.PollFetches(pctx)
		cancel()
		fs.EachError(func(topic string, p int32, err error) {
			if err != context.DeadlineExceeded {
				t.Fatalf("fetch %s-%d: %v", topic, p, err)
			}
		})
		for _, r := range fs.Records() {
			if r.Offset != next[r.Partition] {
				t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, next[r.Partition]-1)
			}
			next[r.Partition]++
			key := fmt.Sprintf("%d/%d", r.Partition, r.Offset)
			if seen[key] {
				t.Fatalf("record %s seen twice", key)
			}
			seen[key] = true
			if v, ok := acked[key]; ok {
				if v != string(r.Value) {
					t.Fatalf("record %s = %q, acknowledged as %q", key, r.Value, v)
				}
				found++
			}
		}
	}
}
