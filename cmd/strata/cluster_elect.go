package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// electionResult is the outcome for one partition of `strata cluster
// elect-leaders`.
type electionResult struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Status is "elected", "not_needed" (the partition already has the
	// leader this election would pick) or "failed".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`

	err error // the Kafka error behind Error, for hints
}

const (
	electionElected   = "elected"
	electionNotNeeded = "not_needed"
	electionFailed    = "failed"
)

// electOptions are the flags of elect-leaders.
type electOptions struct {
	electionType string
	topics       []string
	allTopics    bool
	output       string
}

// electConfig is a validated elect-leaders invocation.
type electConfig struct {
	how    kadm.ElectLeadersHow
	topics topicSpecs // nil with --all-topics
	format outputFormat
}

func (o *electOptions) config() (electConfig, error) {
	var cfg electConfig
	var err error
	if cfg.format, err = parseOutput(o.output); err != nil {
		return cfg, err
	}
	switch strings.ToLower(o.electionType) {
	case "preferred":
		cfg.how = kadm.ElectPreferredReplica
	case "unclean":
		cfg.how = kadm.ElectLiveReplica
	default:
		return cfg, fmt.Errorf("--type %q: want preferred or unclean", o.electionType)
	}
	switch {
	case len(o.topics) == 0 && !o.allTopics:
		return cfg, errors.New("give --topic TOPIC[:PARTITION,...] (repeatable) or --all-topics")
	case len(o.topics) > 0 && o.allTopics:
		return cfg, errors.New("--topic and --all-topics are exclusive: give one")
	case len(o.topics) > 0:
		if cfg.topics, err = parseTopicSpecs(o.topics); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func newClusterElectLeadersCmd(co *clientOptions) *cobra.Command {
	o := &electOptions{}
	cmd := &cobra.Command{
		Use:   "elect-leaders (--topic TOPIC[:P,...]... | --all-topics) [--type preferred|unclean]",
		Short: "Move partition leadership back to preferred replicas (or elect an out-of-sync one)",
		Long: `Trigger leader elections (ElectLeaders), like Kafka's kafka-leader-election.sh.

--type preferred (the default) makes each partition's preferred replica, the
first in its replica list, the leader again if it is in sync: use it after an
agent came back, to rebalance leadership, or after 'strata topic reassign'.
Partitions already led by their preferred replica are reported as not
needing an election.

--type unclean elects a live replica for partitions that have no leader
because no in-sync replica is alive. The new leader may lack records that
were acknowledged, which are then lost: it is a last resort to make an
offline partition available again.

Which partitions: --topic TOPIC (all its partitions) or TOPIC:P,P,...
(repeatable), or --all-topics for every partition of the cluster.`,
		Example: `  strata cluster elect-leaders --all-topics
  strata cluster elect-leaders --topic orders --topic payments:0,3
  strata cluster elect-leaders --topic orders:2 --type unclean`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config()
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				return electLeaders(ctx, adm, cmd.OutOrStdout(), cfg)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.electionType, "type", "preferred", "election type: preferred or unclean")
	fs.StringArrayVarP(&o.topics, "topic", "t", nil, "TOPIC or TOPIC:PARTITION,... to elect leaders for (repeatable)")
	fs.BoolVar(&o.allTopics, "all-topics", false, "elect leaders for every partition of the cluster")
	fs.StringVarP(&o.output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

func electLeaders(ctx context.Context, adm *kadm.Client, out io.Writer, cfg electConfig) error {
	support, err := requireAPIs(ctx, adm, "leader election", kmsg.ElectLeaders)
	if err != nil {
		return err
	}
	if v := support.maxVersion(int16(kmsg.ElectLeaders)); cfg.how == kadm.ElectLiveReplica && v < 1 {
		return fmt.Errorf("--type unclean: %w (it serves ElectLeaders up to v%d; unclean elections need v1, Kafka 2.4)",
			errUnsupported, v)
	}
	var set kadm.TopicsSet // nil: every partition
	if cfg.topics != nil {
		if set, err = cfg.topics.resolve(ctx, adm); err != nil {
			return err
		}
	}
	rs, err := adm.ElectLeaders(ctx, cfg.how, set)
	if err != nil {
		return fmt.Errorf("elect leaders: %w", err)
	}
	results := electionResults(rs, set)
	if err := printElectionResults(out, cfg.format, results); err != nil {
		return err
	}
	return electionError(results, cfg.how)
}

// electionResults turns the response into one result per partition, sorted.
// With an explicit set, every partition of it gets a result, even one the
// response leaves out.
func electionResults(rs kadm.ElectLeadersResults, set kadm.TopicsSet) []electionResult {
	seen := make(kadm.TopicsSet)
	out := []electionResult{}
	for _, ps := range rs {
		for _, r := range ps {
			seen.Add(r.Topic, r.Partition)
			res := electionResult{Topic: r.Topic, Partition: r.Partition, Status: electionElected}
			switch {
			case errors.Is(r.Err, kerr.ElectionNotNeeded):
				res.Status = electionNotNeeded
			case r.Err != nil:
				res.Status = electionFailed
				res.err = r.Err
				res.Error = withBrokerMessage(r.Err, r.ErrMessage).Error()
			}
			out = append(out, res)
		}
	}
	for _, tp := range set.Sorted() {
		for _, p := range tp.Partitions {
			if !seen.Lookup(tp.Topic, p) {
				out = append(out, electionResult{Topic: tp.Topic, Partition: p, Status: electionFailed,
					Error: "the broker's response does not mention the partition"})
			}
		}
	}
	sortByPartition(out, func(r electionResult) (string, int32) { return r.Topic, r.Partition })
	return out
}

// electionError summarises failed elections of kind how, with a hint for
// the usual causes, or returns nil if none failed.
func electionError(results []electionResult, how kadm.ElectLeadersHow) error {
	var failed []electionResult
	for _, r := range results {
		if r.Status == electionFailed {
			failed = append(failed, r)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	f := failed[0]
	err := fmt.Errorf("elect leaders: %d of %s failed, first: %s-%d: %s",
		len(failed), plural(len(results), "partition"), f.Topic, f.Partition, f.Error)
	switch {
	case errors.Is(f.err, kerr.PreferredLeaderNotAvailable):
		err = fmt.Errorf("%w (the preferred replica is down or not in sync; see 'strata cluster describe' and retry once it has caught up)", err)
	case errors.Is(f.err, kerr.EligibleLeadersNotAvailable) && how == kadm.ElectLiveReplica:
		err = fmt.Errorf("%w (no replica is alive: restart one of the partition's agents)", err)
	case errors.Is(f.err, kerr.EligibleLeadersNotAvailable):
		err = fmt.Errorf("%w (no in-sync replica is alive; --type unclean elects an out-of-sync one and loses the records it lacks)", err)
	}
	return err
}

// printElectionResults prints results in format.
func printElectionResults(w io.Writer, format outputFormat, results []electionResult) error {
	if format == outputJSON {
		return writeJSON(w, results)
	}
	if len(results) == 0 {
		fmt.Fprintln(w, "No partition needed a leader election.")
		return nil
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tRESULT")
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Status]++
		result := "Leader elected"
		switch r.Status {
		case electionNotNeeded:
			result = "Not needed (already led by the replica the election would pick)"
		case electionFailed:
			result = "Error: " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", r.Topic, r.Partition, result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nElected %d, not needed %d, failed %d.\n",
		counts[electionElected], counts[electionNotNeeded], counts[electionFailed])
	return nil
}
