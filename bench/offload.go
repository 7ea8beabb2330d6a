package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// listOffsetsEarliestLocal is the ListOffsets timestamp that asks for the
// earliest offset still on the broker's local disk (KIP-405; request
// version 8 and later). Records below it are served from the object tier.
const listOffsetsEarliestLocal = -4

// offloadPollInterval is how often the catchup scenario re-lists offsets
// while it waits for the data to be offloaded.
const offloadPollInterval = 100 * time.Millisecond

// partitionOffsets are the offsets of one partition that say where its
// data is: [Start, LocalStart) is only in the object tier, [LocalStart,
// End) on local disk.
type partitionOffsets struct {
	Start      int64 // log start offset (ListOffsets -2)
	LocalStart int64 // earliest offset on local disk (ListOffsets -4)
	End        int64 // high watermark (ListOffsets -1)
}

// offsetsFunc lists the partitionOffsets of every partition of a topic.
type offsetsFunc func(ctx context.Context) (map[int32]partitionOffsets, error)

// topicOffsets returns an offsetsFunc for topic that asks adm's brokers.
func topicOffsets(adm admin, topic string) offsetsFunc {
	return func(ctx context.Context) (map[int32]partitionOffsets, error) {
		ranges, err := listOffsets(ctx, adm.Client, topic)
		if err != nil {
			return nil, err
		}
		local, err := listEarliestLocal(ctx, adm.cl, topic, slices.Collect(maps.Keys(ranges)))
		if err != nil {
			return nil, err
		}
		out := make(map[int32]partitionOffsets, len(ranges))
		for p, r := range ranges {
			l, ok := local[p]
			if !ok {
				return nil, fmt.Errorf("%w: no earliest local offset for %s/%d", ErrTopic, topic, p)
			}
			out[p] = partitionOffsets{Start: r.Start, LocalStart: l, End: r.End}
		}
		return out, nil
	}
}

// listEarliestLocal asks the leaders of topic's partitions for their
// earliest local offsets (ListOffsets -4). A broker that does not know the
// timestamp (before ListOffsets v8) answers with an error, which is
// returned: without it the scenario cannot tell what was offloaded.
func listEarliestLocal(ctx context.Context, cl *kgo.Client, topic string, partitions []int32) (map[int32]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.Timestamp = listOffsetsEarliestLocal
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl) // kgo splits it by partition leader
	if err != nil {
		return nil, fmt.Errorf("%w: list earliest local offsets of %s: %w", ErrTopic, topic, err)
	}
	out := make(map[int32]int64, len(partitions))
	for _, t := range resp.Topics {
		if t.Topic != topic {
			continue
		}
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("%w: list earliest local offset (ListOffsets -4, v8+) of %s/%d: %w", ErrTopic, topic, p.Partition, err)
			}
			out[p.Partition] = p.Offset
		}
	}
	return out, nil
}

// remoteRecords returns how many records of [Start, End) are below
// LocalStart, i.e. served from the object tier.
func (o partitionOffsets) remoteRecords() int64 {
	return min(max(o.LocalStart, o.Start), o.End) - o.Start
}

// localRecords returns how many records of [Start, End) are on local disk.
func (o partitionOffsets) localRecords() int64 { return o.End - o.Start - o.remoteRecords() }

// remoteFraction returns the fraction of the records of every partition's
// [Start, End) that are below the partition's local log start, and the
// count of those records. It is 0 when there are no records.
func remoteFraction(offs map[int32]partitionOffsets) (float64, int64) {
	var remote, total int64
	for _, o := range offs {
		if o.End <= o.Start {
			continue
		}
		remote += o.remoteRecords()
		total += o.End - o.Start
	}
	if total == 0 {
		return 0, 0
	}
	return float64(remote) / float64(total), remote
}

// offloaded reports whether every partition's local log start is at least
// its end offset minus within, i.e. at most within records of each
// partition are still on local disk, and lists the partitions that are not
// there yet.
func offloaded(offs map[int32]partitionOffsets, within int64) (bool, []int32) {
	var behind []int32
	for p, o := range offs {
		if o.localRecords() > within {
			behind = append(behind, p)
		}
	}
	slices.Sort(behind)
	return len(behind) == 0, behind
}

// offloadCriterion describes the condition waitOffloaded waits for.
func offloadCriterion(within int64) string {
	return fmt.Sprintf("local log start (ListOffsets -4) >= end offset - %d records on every partition", within)
}

// waitOffloaded polls list every poll until offloaded(offsets, within)
// holds, and returns the offsets that satisfied it and how long it waited.
// It fails with ErrStalled if the sum of the local log start offsets does
// not advance for stall.
func waitOffloaded(ctx context.Context, list offsetsFunc, within int64, poll, stall time.Duration) (map[int32]partitionOffsets, time.Duration, error) {
	began := time.Now()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var progress int64 = -1
	lastProgress := began
	for {
		offs, err := list(ctx)
		if err != nil {
			return nil, 0, err
		}
		done, behind := offloaded(offs, within)
		if done {
			return offs, time.Since(began), nil
		}
		var sum int64
		for _, o := range offs {
			sum += o.LocalStart
		}
		if sum != progress {
			progress, lastProgress = sum, time.Now()
		} else if time.Since(lastProgress) > stall {
			return nil, 0, fmt.Errorf("%w for %s waiting until %s: partitions %s still hold more on local disk",
				ErrStalled, stall, offloadCriterion(within), describeLocal(offs, behind))
		}
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-tick.C:
		}
	}
}

// describeLocal lists partitions as p (local start L, end E), for errors.
func describeLocal(offs map[int32]partitionOffsets, partitions []int32) string {
	parts := make([]string, len(partitions))
	for i, p := range partitions {
		o := offs[p]
		parts[i] = fmt.Sprintf("%d (local start %d, end %d)", p, o.LocalStart, o.End)
	}
	return strings.Join(parts, ", ")
}
