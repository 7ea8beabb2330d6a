package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicPollInterval is how often waitTopicReady and waitBrokers re-read
// metadata.
const topicPollInterval = 50 * time.Millisecond

// freshTopicName returns the name of a scenario's fresh topic.
func freshTopicName(s Scenario, suffix string) string {
	return fmt.Sprintf("bench-%s-%s", s, suffix)
}

// randomSuffix returns 8 random hex digits, distinguishing one run's fresh
// topics from another's.
func randomSuffix() string { return fmt.Sprintf("%08x", rand.Uint32()) }

// admin is the runner's admin client. Metadata goes through metadata, not
// kadm: kadm answers Metadata from the client's cache for up to its
// metadata min age (5 s by default), and bench must see leadership and
// membership as they are now.
type admin struct {
	*kadm.Client
	cl *kgo.Client
}

func newAdmin(cl *kgo.Client) admin { return admin{Client: kadm.NewClient(cl), cl: cl} }

// metadata asks a broker for the metadata of topics, or of brokers only if
// there are none.
func (a admin) metadata(ctx context.Context, topics ...string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	return req.RequestWith(ctx, a.cl)
}

// topicMetadata returns the metadata of one topic, or its error.
func (a admin) topicMetadata(ctx context.Context, name string) (kmsg.MetadataResponseTopic, error) {
	resp, err := a.metadata(ctx, name)
	if err != nil {
		return kmsg.MetadataResponseTopic{}, err
	}
	for _, t := range resp.Topics {
		if t.Topic != nil && *t.Topic == name {
			return t, kerr.ErrorForCode(t.ErrorCode)
		}
	}
	return kmsg.MetadataResponseTopic{}, kerr.UnknownTopicOrPartition
}

// topicShape is what bench needs to know of a ready topic.
type topicShape struct {
	partitions int32
	// replicationFactor is the smallest replica count of any partition.
	replicationFactor int
}

// createTopic creates name with the given partitions and the broker's
// default replication factor, and waits until every partition has a leader.
func createTopic(ctx context.Context, adm admin, name string, partitions int32, timeout time.Duration) (topicShape, error) {
	if _, err := adm.CreateTopic(ctx, partitions, -1, nil, name); err != nil {
		return topicShape{}, fmt.Errorf("%w: create %s: %w", ErrTopic, name, err)
	}
	return waitTopicReady(ctx, adm, name, timeout)
}

// ensureTopic returns the shape of an existing topic, creating it with
// partitions if it does not exist.
func ensureTopic(ctx context.Context, adm admin, name string, partitions int32, timeout time.Duration) (topicShape, error) {
	_, err := adm.topicMetadata(ctx, name)
	switch {
	case err == nil:
		return waitTopicReady(ctx, adm, name, timeout)
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return createTopic(ctx, adm, name, partitions, timeout)
	default:
		return topicShape{}, fmt.Errorf("%w: describe %s: %w", ErrTopic, name, err)
	}
}

// waitTopicReady polls metadata until name exists and every partition has
// a leader, and returns its shape. It gives up after timeout.
func waitTopicReady(ctx context.Context, adm admin, name string, timeout time.Duration) (topicShape, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(topicPollInterval)
	defer tick.Stop()
	var last error
	for {
		shape, err := topicReady(ctx, adm, name)
		if err == nil {
			return shape, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return topicShape{}, fmt.Errorf("%w: %s not ready: %w", ErrTopic, name, errors.Join(ctx.Err(), last))
		case <-tick.C:
		}
	}
}

// topicReady returns the shape of name if every partition has a leader, or
// why not.
func topicReady(ctx context.Context, adm admin, name string) (topicShape, error) {
	td, err := adm.topicMetadata(ctx, name)
	if err != nil {
		return topicShape{}, err
	}
	if len(td.Partitions) == 0 {
		return topicShape{}, errors.New("no partitions")
	}
	rf := math.MaxInt
	for _, p := range td.Partitions {
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			return topicShape{}, fmt.Errorf("partition %d: %w", p.Partition, err)
		}
		if p.Leader < 0 {
			return topicShape{}, fmt.Errorf("partition %d has no leader", p.Partition)
		}
		rf = min(rf, len(p.Replicas))
	}
	return topicShape{partitions: int32(len(td.Partitions)), replicationFactor: rf}, nil
}

// partitionLeader returns the node ID of the leader of topic/partition as
// a broker reports it now.
func partitionLeader(ctx context.Context, adm admin, topic string, partition int32) (int32, error) {
	td, err := adm.topicMetadata(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("%w: describe %s: %w", ErrTopic, topic, err)
	}
	for _, p := range td.Partitions {
		if p.Partition != partition {
			continue
		}
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			return 0, fmt.Errorf("%w: %s/%d: %w", ErrTopic, topic, partition, err)
		}
		if p.Leader < 0 {
			return 0, fmt.Errorf("%w: %s/%d has no leader", ErrTopic, topic, partition)
		}
		return p.Leader, nil
	}
	return 0, fmt.Errorf("%w: %s/%d not in metadata", ErrTopic, topic, partition)
}

// waitBrokers polls metadata until it lists at least n brokers, and returns
// how many it lists. It gives up after timeout.
func waitBrokers(ctx context.Context, adm admin, n int, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(topicPollInterval)
	defer tick.Stop()
	seen := 0
	var last error
	for {
		resp, err := adm.metadata(ctx)
		if err == nil {
			if seen = len(resp.Brokers); seen >= n {
				return seen, nil
			}
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%w: %d of %d brokers listed after %s: %w", ErrUnreachable, seen, n, timeout, errors.Join(ctx.Err(), last))
		case <-tick.C:
		}
	}
}

// deleteTopic deletes a fresh topic.
func deleteTopic(ctx context.Context, adm admin, name string) error {
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
