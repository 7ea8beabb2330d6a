package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Sentinels of the cluster-administration commands (cluster, topic reassign,
// log-dirs, delete-records, config). Like those in errors.go they carry no
// "strata:" prefix.
var (
	// errAgentNotFound means an agent (broker) ID is not in the cluster's
	// metadata.
	errAgentNotFound = errors.New("agent is not in the cluster")
	// errInvalidPlan means a reassignment plan or offsets file is malformed
	// or does not fit the cluster.
	errInvalidPlan = errors.New("invalid plan")
	// errReassignmentIncomplete means some partitions of a plan do not (yet)
	// have their planned replicas.
	errReassignmentIncomplete = errors.New("reassignment is not complete")
)

// newClusterCmd builds `strata cluster` and its subcommands, which share one
// set of connection flags.
func newClusterCmd() *cobra.Command {
	co := &clientOptions{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Describe the cluster's agents and partition health; elect leaders",
		Long: `Inspect and operate a whole Kafka-compatible cluster: its agents (brokers),
its controller, and the health of every partition (under-replicated, under
min.insync.replicas, offline, not led by the preferred replica), and trigger
leader elections.

Related commands: 'strata topic reassign' moves replicas between agents,
'strata log-dirs' shows how much each agent stores, 'strata config' reads and
changes agent and topic configs.

The connection flags below apply to every cluster subcommand.`,
		Example: `  strata cluster describe
  strata cluster describe --under-replicated --offline
  strata cluster describe --output json | jq '.partitions.under_replicated'
  strata cluster elect-leaders --all-topics
  strata cluster elect-leaders --topic orders:0,1 --type unclean`,
		Args: cobra.ArbitraryArgs,
		RunE: unknownSubcommand,
	}
	cmd.SuggestionsMinimumDistance = 2
	co.addFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		newClusterDescribeCmd(co),
		newClusterElectLeadersCmd(co),
	)
	return cmd
}

// agentNotFound is the error for an agent ID that is not in the cluster.
func agentNotFound(id int32, known []int32) error {
	return fmt.Errorf("%w: %d (the cluster has agents %s; see 'strata cluster describe')",
		errAgentNotFound, id, joinInt32s(known))
}

// requireAgents verifies that every ID in ids is one of the cluster's
// agents, as listed by a Metadata request.
func requireAgents(ctx context.Context, adm *kadm.Client, ids []int32) error {
	if len(ids) == 0 {
		return nil
	}
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return fmt.Errorf("list agents: %w", err)
	}
	known := brokers.NodeIDs()
	for _, id := range ids {
		if !slices.Contains(known, id) {
			return agentNotFound(id, known)
		}
	}
	return nil
}

// parseAgentIDs validates agent IDs given on the command line: each >= 0 and
// none twice. The order is kept, since it can matter (reassignment).
func parseAgentIDs(flag string, ids []int32) error {
	seen := make(map[int32]bool, len(ids))
	for _, id := range ids {
		switch {
		case id < 0:
			return fmt.Errorf("%s: agent ID %d must be >= 0", flag, id)
		case seen[id]:
			return fmt.Errorf("%s: agent %d given twice", flag, id)
		}
		seen[id] = true
	}
	return nil
}

// requestContext bounds one request of a command that makes many over a
// possibly long time (such as waiting for a reassignment): --timeout applies
// to each request rather than to the whole command.
func (o *clientOptions) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.timeout)
}

// connectAdmin connects like withAdmin but leaves deadlines to the caller,
// for commands that may run longer than --timeout. The caller closes the
// returned client.
func connectAdmin(cmd *cobra.Command, co *clientOptions) (*kgo.Client, *kadm.Client, error) {
	cl, err := co.connect(cmd.Context(), cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, err
	}
	return cl, co.newAdmin(cl), nil
}

// replicaAssignment is the replica assignment of some topics: topic →
// partition → replicas, as the cluster reports it right now.
type replicaAssignment map[string]map[int32][]int32

// clusterState is what a fresh Metadata request says about some topics and
// the agents.
type clusterState struct {
	agents     []int32           // sorted
	racks      map[int32]string  // agent → rack, for agents that have one
	assignment replicaAssignment // replicas per partition of the requested topics
}

// loadClusterState sends a Metadata request for topics straight to a broker.
// Unlike kadm's metadata helpers it never answers from the client's metadata
// cache, so it sees a reassignment or election that finished a moment ago.
// A topic the cluster does not know is an error wrapping errTopicNotFound.
func loadClusterState(ctx context.Context, cl *kgo.Client, topics []string) (*clusterState, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	if topics == nil {
		req.Topics = []kmsg.MetadataRequestTopic{} // no topics, not all of them
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	st := &clusterState{racks: make(map[int32]string), assignment: make(replicaAssignment, len(resp.Topics))}
	for _, b := range resp.Brokers {
		st.agents = append(st.agents, b.NodeID)
		if b.Rack != nil && *b.Rack != "" {
			st.racks[b.NodeID] = *b.Rack
		}
	}
	slices.Sort(st.agents)
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		name := *t.Topic
		switch err := kerr.ErrorForCode(t.ErrorCode); {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return nil, topicNotFound(name)
		case err != nil:
			return nil, fmt.Errorf("metadata for topic %q: %w", name, err)
		}
		ps := make(map[int32][]int32, len(t.Partitions))
		for _, p := range t.Partitions {
			ps[p.Partition] = p.Replicas
		}
		st.assignment[name] = ps
	}
	for _, t := range topics {
		if _, ok := st.assignment[t]; !ok {
			return nil, topicNotFound(t)
		}
	}
	return st, nil
}

// checkAgents verifies that every replica in ids is a live agent.
func (st *clusterState) checkAgents(ids []int32) error {
	for _, id := range ids {
		if !slices.Contains(st.agents, id) {
			return agentNotFound(id, st.agents)
		}
	}
	return nil
}

// progressEvery is how often a long wait reports that it is still waiting
// even when nothing changed.
const progressEvery = 10 * time.Second

// progress prints what a long operation is waiting for: a line whenever the
// remaining work changes, and otherwise at most every progressEvery. It is
// not safe for concurrent use.
type progress struct {
	w        io.Writer
	last     string
	lastTime time.Time
	now      func() time.Time
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, now: time.Now}
}

// report prints status unless it repeats the previous line too soon.
func (p *progress) report(status string) {
	t := p.now()
	if status == p.last && t.Sub(p.lastTime) < progressEvery {
		return
	}
	p.last, p.lastTime = status, t
	fmt.Fprintf(p.w, "%s %s\n", t.Format("15:04:05"), status)
}

// poll calls check every interval until it reports done, fails, or ctx ends.
// The first check runs at once.
func poll(ctx context.Context, interval time.Duration, check func(context.Context) (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// sortByPartition sorts s by topic, then partition, as key returns them.
func sortByPartition[T any](s []T, key func(T) (string, int32)) {
	slices.SortFunc(s, func(a, b T) int {
		at, ap := key(a)
		bt, bp := key(b)
		if c := strings.Compare(at, bt); c != 0 {
			return c
		}
		return cmp.Compare(ap, bp)
	})
}

// listSome renders up to max items followed by "and N more".
func listSome(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:max], ", "), len(items)-max)
}
