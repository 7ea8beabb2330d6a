package agent

// CreatePartitions, versions 0–3.
//
// Raises a topic's partition count (it can never shrink: INVALID_PARTITIONS),
// placing new replicas round-robin over live agents or as the request
// assigns them. The change is a compare-and-swap on the topic's revision, so
// two concurrent requests cannot both add "partition 4". validate_only
// checks without changing anything.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metadata"
)

func (a *Agent) handleCreatePartitions(ctx context.Context, req *kmsg.CreatePartitionsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	seen := make(map[string]int)
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		var err error
		if seen[rt.Topic] > 1 {
			err = fmt.Errorf("%w: topic %q appears more than once in the request", errInvalidRequest, rt.Topic)
		} else {
			err = a.addPartitions(ctx, rt, req.ValidateOnly)
		}
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errorMessage(err)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

func (a *Agent) addPartitions(ctx context.Context, rt kmsg.CreatePartitionsRequestTopic, validateOnly bool) error {
	t, ok := a.cache.Topic(rt.Topic)
	if !ok {
		return fmt.Errorf("%w: %q", metadata.ErrUnknownTopic, rt.Topic)
	}
	cur := int32(t.Partitions())
	if rt.Count <= cur {
		return fmt.Errorf("%w: topic %q has %d partitions; the new count must be larger, not %d", errInvalidPartitions, t.Name, cur, rt.Count)
	}
	if rt.Count > maxPartitions {
		return fmt.Errorf("%w: %d partitions requested; the limit is %d", errInvalidPartitions, rt.Count, maxPartitions)
	}
	add := int(rt.Count - cur)
	rf := len(t.Replicas[0])
	agents := a.liveAgentIDs()
	var extra [][]int32
	if rt.Assignment != nil {
		if len(rt.Assignment) != add {
			return fmt.Errorf("%w: %d new partitions but %d assignments", errInvalidReplicas, add, len(rt.Assignment))
		}
		for _, as := range rt.Assignment {
			extra = append(extra, as.Replicas)
		}
		if _, err := validateAssignment(extra, agents); err != nil {
			return err
		}
		if len(extra[0]) != rf {
			return fmt.Errorf("%w: new partitions need %d replicas like the existing ones", errInvalidReplicas, rf)
		}
	} else {
		if rf > len(agents) {
			return fmt.Errorf("%w: replication factor %d is larger than the %d live agent(s)", errInvalidReplication, rf, len(agents))
		}
		extra = spreadReplicas(add, rf, agents, rand.IntN(len(agents)))
	}
	if validateOnly {
		return nil
	}
	t.Replicas = append(slices.Clone(t.Replicas), extra...)
	rev, err := a.store.UpdateTopic(ctx, t, initialStates(extra))
	if err != nil {
		return err
	}
	if err := a.cache.WaitForRevision(ctx, rev); err != nil {
		return err
	}
	a.parts.reconcile()
	a.logger.Info("added partitions", "topic", t.Name, "partitions", rt.Count)
	return nil
}
