package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/strata-io/strata/metadata"
)

// maxPartitions bounds a topic's partition count; it keeps a typo (1e9
// partitions) from becoming a billion directories.
const maxPartitions = 10_000

// validateTopicName applies Kafka's rules: 1–249 characters from
// [a-zA-Z0-9._-], and not "." or "..".
func validateTopicName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: topic name is empty", errInvalidTopic)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("%w: topic name cannot be %q", errInvalidTopic, name)
	}
	if len(name) > 249 {
		return fmt.Errorf("%w: topic name is %d characters long; the limit is 249", errInvalidTopic, len(name))
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: topic name %q contains %q; use only letters, digits, '.', '_' and '-'", errInvalidTopic, name, c)
		}
	}
	return nil
}

// topicSpec is a request to create a topic.
type topicSpec struct {
	name              string
	partitions        int32     // -1: agent default
	replicationFactor int16     // -1: agent default
	assignment        [][]int32 // explicit replicas per partition, or nil
	configs           map[string]string
	validateOnly      bool
}

// createTopic validates spec, places replicas on live agents and stores the
// topic. Unless validateOnly, it returns once this agent's cache (and its
// hosted partitions) reflect the new topic.
func (a *Agent) createTopic(ctx context.Context, spec topicSpec) (metadata.Topic, error) {
	if err := validateTopicName(spec.name); err != nil {
		return metadata.Topic{}, err
	}
	if _, ok := a.cache.Topic(spec.name); ok {
		return metadata.Topic{}, fmt.Errorf("%w: topic %q already exists", metadata.ErrTopicExists, spec.name)
	}
	if err := validateTopicConfigs(spec.configs); err != nil {
		return metadata.Topic{}, err
	}
	replicas, err := a.placeReplicas(spec)
	if err != nil {
		return metadata.Topic{}, err
	}
	t := metadata.Topic{
		Name:      spec.name,
		ID:        metadata.NewTopicID(),
		Replicas:  replicas,
		Configs:   spec.configs,
		CreatedAt: a.now().UTC().Truncate(time.Millisecond),
	}
	if spec.validateOnly {
		return t, nil
	}
	rev, err := a.store.CreateTopic(ctx, t, initialStates(replicas))
	if err != nil {
		return metadata.Topic{}, err
	}
	if err := a.cache.WaitForRevision(ctx, rev); err != nil {
		return metadata.Topic{}, err
	}
	a.parts.reconcile()
	a.logger.Info("created topic", "topic", t.Name, "topic_id", t.ID.String(), "partitions", len(replicas))
	return t, nil
}

// initialStates makes the first replica of each partition its leader, with
// every replica in sync (an empty log is in sync by definition).
func initialStates(replicas [][]int32) []metadata.PartitionState {
	states := make([]metadata.PartitionState, len(replicas))
	for i, rs := range replicas {
		states[i] = metadata.PartitionState{Leader: rs[0], LeaderEpoch: 0, ISR: slices.Clone(rs)}
	}
	return states
}

// placeReplicas returns the replica list of every partition, from an explicit
// assignment or spread round-robin over the live agents.
func (a *Agent) placeReplicas(spec topicSpec) ([][]int32, error) {
	agents := a.liveAgentIDs()
	if spec.assignment != nil {
		return validateAssignment(spec.assignment, agents)
	}
	n := spec.partitions
	if n == -1 {
		n = a.cfg.DefaultPartitions
	}
	if n < 1 || n > maxPartitions {
		return nil, fmt.Errorf("%w: %d partitions requested; must be 1 to %d", errInvalidPartitions, n, maxPartitions)
	}
	rf := int(spec.replicationFactor)
	if rf == -1 {
		rf = min(int(a.cfg.DefaultReplicationFactor), len(agents))
	}
	if rf < 1 {
		return nil, fmt.Errorf("%w: replication factor %d; must be >= 1", errInvalidReplication, rf)
	}
	if rf > len(agents) {
		return nil, fmt.Errorf("%w: replication factor %d is larger than the %d live agent(s)", errInvalidReplication, rf, len(agents))
	}
	return spreadReplicas(int(n), rf, agents, rand.IntN(len(agents))), nil
}

// spreadReplicas assigns partition p's replicas to agents[(start+p+i) % n],
// so leaders (the first replica) rotate over the agents.
func spreadReplicas(partitions, rf int, agents []int32, start int) [][]int32 {
	out := make([][]int32, partitions)
	for p := range out {
		rs := make([]int32, rf)
		for i := range rs {
			rs[i] = agents[(start+p+i)%len(agents)]
		}
		out[p] = rs
	}
	return out
}

func validateAssignment(assign [][]int32, agents []int32) ([][]int32, error) {
	if len(assign) == 0 || len(assign) > maxPartitions {
		return nil, fmt.Errorf("%w: assignment lists %d partitions", errInvalidReplicas, len(assign))
	}
	rf := len(assign[0])
	for p, rs := range assign {
		if len(rs) == 0 || len(rs) != rf {
			return nil, fmt.Errorf("%w: partition %d has %d replicas, partition 0 has %d", errInvalidReplicas, p, len(rs), rf)
		}
		for i, r := range rs {
			if !slices.Contains(agents, r) {
				return nil, fmt.Errorf("%w: partition %d: agent %d is not live", errInvalidReplicas, p, r)
			}
			if slices.Contains(rs[:i], r) {
				return nil, fmt.Errorf("%w: partition %d lists agent %d twice", errInvalidReplicas, p, r)
			}
		}
	}
	return assign, nil
}

// liveAgentIDs returns the ids of registered agents, sorted.
func (a *Agent) liveAgentIDs() []int32 {
	agents := a.cache.Agents()
	ids := make([]int32, 0, len(agents))
	for _, ag := range agents {
		ids = append(ids, ag.ID)
	}
	if !slices.Contains(ids, a.cfg.NodeID) {
		// Our own registration may not have reached the cache yet.
		ids = append(ids, a.cfg.NodeID)
	}
	slices.Sort(ids)
	return ids
}

// controllerID is the agent reported as controller: the one holding the
// controller claim, or this agent while that is not known yet (any agent
// can serve the admin requests clients send to the controller).
func (a *Agent) controllerID() int32 {
	if id := a.controller.Load(); id >= 0 {
		return id
	}
	return a.cfg.NodeID
}

// lookupTopic finds a topic by name, creating it with the defaults when
// autoCreate is set and the agent allows auto-creation.
func (a *Agent) lookupTopic(ctx context.Context, name string, autoCreate bool) (metadata.Topic, error) {
	if t, ok := a.cache.Topic(name); ok {
		return t, nil
	}
	if !autoCreate || !a.cfg.AutoCreateTopics {
		return metadata.Topic{}, fmt.Errorf("%w: %q", metadata.ErrUnknownTopic, name)
	}
	t, err := a.createTopic(ctx, topicSpec{name: name, partitions: -1, replicationFactor: -1})
	if errors.Is(err, metadata.ErrTopicExists) {
		// Someone else created it first; wait until we see it.
		if rev, rerr := a.store.Revision(ctx); rerr == nil {
			_ = a.cache.WaitForRevision(ctx, rev)
		}
		if t, ok := a.cache.Topic(name); ok {
			return t, nil
		}
	}
	return t, err
}

// leaderPartition returns the local partition if this agent leads it.
func (a *Agent) leaderPartition(t metadata.Topic, idx int32) (*partition, error) {
	if idx < 0 || int(idx) >= t.Partitions() {
		return nil, fmt.Errorf("%w: %s-%d", metadata.ErrUnknownPartition, t.Name, idx)
	}
	p := a.parts.get(t.ID, idx)
	if p == nil {
		if st, ok := a.cache.Partition(t.ID, idx); ok && st.Leader == a.cfg.NodeID {
			// Assigned here but not opened yet (a topic created a moment ago).
			a.parts.reconcile()
			p = a.parts.get(t.ID, idx)
		}
		if p == nil {
			return nil, fmt.Errorf("%w: %s-%d", errNotLeader, t.Name, idx)
		}
	}
	if !p.isLeader() {
		return nil, fmt.Errorf("%w: %s-%d", errNotLeader, t.Name, idx)
	}
	return p, nil
}

// checkLeaderEpoch implements KIP-320's fencing of clients with a stale or
// future leader epoch; -1 skips the check.
func checkLeaderEpoch(p *partition, clientEpoch int32) error {
	if clientEpoch < 0 {
		return nil
	}
	cur := p.leaderEpoch.Load()
	switch {
	case clientEpoch < cur:
		return fmt.Errorf("%w: client epoch %d < %d", errFencedLeaderEpoch, clientEpoch, cur)
	case clientEpoch > cur:
		return fmt.Errorf("%w: client epoch %d > %d", errUnknownLeaderEpoch, clientEpoch, cur)
	}
	return nil
}
