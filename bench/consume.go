package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runConsume runs the consume scenario: one client reads every partition
// of topic from its log start offset up to the end offset listed when the
// scenario starts.
func runConsume(ctx context.Context, cfg Config, adm *kadm.Client, topic string, partitions int32) (*Throughput, error) {
	ranges, err := listOffsets(ctx, adm, topic)
	if err != nil {
		return nil, err
	}
	start := make(map[int32]kgo.Offset)
	remaining := make(map[int32]int64) // partition -> end offset still to reach
	for p, r := range ranges {
		if r.End > r.Start {
			start[p] = kgo.NewOffset().At(r.Start)
			remaining[p] = r.End
		}
	}
	if len(remaining) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNothingToConsume, topic)
	}
	cl, err := kgo.NewClient(append(cfg.baseOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchMaxBytes(consumerFetchMaxBytes),
		kgo.FetchMaxPartitionBytes(consumerFetchMaxPartitionBytes),
	)...)
	if err != nil {
		return nil, fmt.Errorf("bench: consume client: %w", err)
	}
	defer cl.Close()

	began := time.Now()
	var records, bytes int64
	for len(remaining) > 0 {
		fetches, err := pollWithStall(ctx, cl, cfg.StallTimeout)
		if err != nil {
			return nil, fmt.Errorf("bench: consume (%d partitions unfinished): %w", len(remaining), err)
		}
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			for _, r := range fp.Records {
				records++
				bytes += int64(len(r.Value))
			}
			if n := len(fp.Records); n > 0 {
				if end, ok := remaining[fp.Partition]; ok && fp.Records[n-1].Offset+1 >= end {
					delete(remaining, fp.Partition)
				}
			}
		})
	}
	elapsed := time.Since(began)
	return &Throughput{
		Topic:       topic,
		Partitions:  partitions,
		RecordSize:  cfg.RecordSize,
		Compression: cfg.Compression,
		Records:     records,
		Bytes:       bytes,
		Elapsed:     elapsed,
		MBPerSec:    mbPerSec(bytes, elapsed),
		RecsPerSec:  perSec(records, elapsed),
	}, nil
}

// pollWithStall polls cl once and fails with ErrStalled if no record
// arrives within stall. Fetch errors are returned; a canceled ctx returns
// its error.
func pollWithStall(ctx context.Context, cl *kgo.Client, stall time.Duration) (kgo.Fetches, error) {
	pctx, cancel := context.WithTimeout(ctx, stall)
	defer cancel()
	fetches := cl.PollFetches(pctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var errs []error
	fetches.EachError(func(t string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, fmt.Errorf("%s/%d: %w", t, p, err))
		}
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if fetches.NumRecords() == 0 && pctx.Err() != nil {
		return nil, fmt.Errorf("%w for %s", ErrStalled, stall)
	}
	return fetches, nil
}
