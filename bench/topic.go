package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// topicPollInterval is how often waitTopicReady re-reads metadata.
const topicPollInterval = 50 * time.Millisecond

// freshTopicName returns the name of a scenario's fresh topic.
func freshTopicName(s Scenario, suffix string) string {
	return fmt.Sprintf("bench-%s-%s", s, suffix)
}

// randomSuffix returns 8 random hex digits, distinguishing one run's fresh
// topics from another's.
func randomSuffix() string { return fmt.Sprintf("%08x", rand.Uint32()) }

// createTopic creates name with the given partitions and the broker's
// default replication factor, and waits until every partition has a leader.
func createTopic(ctx context.Context, adm *kadm.Client, name string, partitions int32, timeout time.Duration) error {
	if _, err := adm.CreateTopic(ctx, partitions, -1, nil, name); err != nil {
		return fmt.Errorf("%w: create %s: %w", ErrTopic, name, err)
	}
	_, err := waitTopicReady(ctx, adm, name, timeout)
	return err
}

// ensureTopic returns the partition count of an existing topic, creating
// it with partitions if it does not exist.
func ensureTopic(ctx context.Context, adm *kadm.Client, name string, partitions int32, timeout time.Duration) (int32, error) {
	md, err := adm.Metadata(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("%w: describe %s: %w", ErrTopic, name, err)
	}
	td, ok := md.Topics[name]
	switch {
	case ok && td.Err == nil:
		return waitTopicReady(ctx, adm, name, timeout)
	case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		if err := createTopic(ctx, adm, name, partitions, timeout); err != nil {
			return 0, err
		}
		return partitions, nil
	default:
		return 0, fmt.Errorf("%w: describe %s: %w", ErrTopic, name, td.Err)
	}
}

// waitTopicReady polls metadata until name exists and every partition has
// a leader, and returns its partition count. It gives up after timeout.
func waitTopicReady(ctx context.Context, adm *kadm.Client, name string, timeout time.Duration) (int32, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(topicPollInterval)
	defer tick.Stop()
	var last error
	for {
		n, err := topicReady(ctx, adm, name)
		if err == nil {
			return n, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%w: %s not ready: %w", ErrTopic, name, errors.Join(ctx.Err(), last))
		case <-tick.C:
		}
	}
}

// topicReady returns the partition count of name if every partition has a
// leader, or why not.
func topicReady(ctx context.Context, adm *kadm.Client, name string) (int32, error) {
	md, err := adm.Metadata(ctx, name)
	if err != nil {
		return 0, err
	}
	td, ok := md.Topics[name]
	switch {
	case !ok:
		return 0, kerr.UnknownTopicOrPartition
	case td.Err != nil:
		return 0, td.Err
	case len(td.Partitions) == 0:
		return 0, errors.New("no partitions")
	}
	for _, p := range td.Partitions {
		if p.Err != nil {
			return 0, fmt.Errorf("partition %d: %w", p.Partition, p.Err)
		}
		if p.Leader < 0 {
			return 0, fmt.Errorf("partition %d has no leader", p.Partition)
		}
	}
	return int32(len(td.Partitions)), nil
}

// deleteTopic deletes a fresh topic.
func deleteTopic(ctx context.Context, adm *kadm.Client, name string) error {
	if _, err := adm.DeleteTopic(ctx, name); err != nil {
		return fmt.Errorf("%w: delete %s: %w", ErrTopic, name, err)
	}
	return nil
}

// offsetRange is the span [Start, End) of one partition.
type offsetRange struct {
	Start, End int64
}

// listOffsets returns the log start and end offset of every partition of
// topic.
func listOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]offsetRange, error) {
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: list start offsets of %s: %w", ErrTopic, topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: list end offsets of %s: %w", ErrTopic, topic, err)
	}
	out := make(map[int32]offsetRange)
	for p, lo := range starts[topic] {
		hi, ok := ends.Lookup(topic, p)
		if !ok {
			return nil, fmt.Errorf("%w: no end offset for %s/%d", ErrTopic, topic, p)
		}
		out[p] = offsetRange{Start: lo.Offset, End: hi.Offset}
	}
	return out, nil
}
