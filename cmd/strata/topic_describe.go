package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newTopicDescribeCmd(co *clientOptions) *cobra.Command {
	var (
		internal bool
		output   string
	)
	cmd := &cobra.Command{
		Use:   "describe [NAME...]",
		Short: "Show partitions, offsets and configs of topics",
		Long: `Show, for each topic: its topic ID, its non-default configs with where each
value comes from (DescribeConfigs), and for each partition the leader, leader
epoch, replicas, in-sync replicas (ISR), log start offset and high watermark
(ListOffsets earliest/latest).

Without NAME, every topic is described (internal topics only with --internal).
With --output json the result is a JSON array with a stable shape, one object
per topic; -1 stands for an unknown leader or offset.`,
		Example: `  strata topic describe orders
  strata topic describe orders payments --output json
  strata topic describe --output json | jq '.[] | {name, partitions: (.partitions | length)}'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				descs, err := describeTopics(ctx, adm, cmd.ErrOrStderr(), args, internal)
				if err != nil {
					return err
				}
				return printTopicDescriptions(cmd.OutOrStdout(), format, descs)
			})
		},
	}
	cmd.Flags().BoolVar(&internal, "internal", false, "include internal topics when no NAME is given")
	cmd.Flags().StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// describeTopics gathers metadata, offsets and configs of the named topics
// (all topics if names is empty). Warnings about data the broker cannot
// provide go to warn.
func describeTopics(ctx context.Context, adm *kadm.Client, warn io.Writer, names []string, internal bool) ([]topicDescription, error) {
	tds, err := adm.ListTopicsWithInternal(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("describe topics: %w", err)
	}
	var topics []string
	for _, name := range names {
		td, ok := tds[name]
		switch {
		case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
			return nil, topicNotFound(name)
		case td.Err != nil:
			return nil, fmt.Errorf("describe topic %q: %w", name, td.Err)
		}
	}
	for _, td := range tds {
		if td.Topic != "" && td.Err == nil && (len(names) > 0 || internal || !td.IsInternal) {
			topics = append(topics, td.Topic)
		}
	}
	sort.Strings(topics)
	if len(topics) == 0 {
		return nil, nil
	}

	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err := partialOK(err); err != nil {
		return nil, fmt.Errorf("list log start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err := partialOK(err); err != nil {
		return nil, fmt.Errorf("list high watermarks: %w", err)
	}
	configs, err := describeConfigs(ctx, adm, warn, topics)
	if err != nil {
		return nil, err
	}

	descs := make([]topicDescription, 0, len(topics))
	for _, t := range topics {
		td := tds[t]
		d := topicDescription{
			Name:              t,
			TopicID:           topicIDString(td.ID),
			Internal:          td.IsInternal,
			ReplicationFactor: td.Partitions.NumReplicas(),
			Partitions:        make([]partitionDescription, 0, len(td.Partitions)),
			Configs:           configs[t],
		}
		if d.Configs == nil {
			d.Configs = []configEntry{}
		}
		for _, pd := range td.Partitions.Sorted() {
			d.Partitions = append(d.Partitions, describePartition(pd, starts, ends))
		}
		descs = append(descs, d)
	}
	return descs, nil
}

// partialOK drops a *kadm.ShardErrors, whose failed partitions are reported
// per partition instead, and returns any other error.
func partialOK(err error) error {
	var se *kadm.ShardErrors
	if errors.As(err, &se) {
		return nil
	}
	return err
}

// describePartition combines a partition's metadata with its listed offsets.
func describePartition(pd kadm.PartitionDetail, starts, ends kadm.ListedOffsets) partitionDescription {
	p := partitionDescription{
		Partition:       pd.Partition,
		Leader:          pd.Leader,
		LeaderEpoch:     pd.LeaderEpoch,
		Replicas:        nonNil(pd.Replicas),
		ISR:             nonNil(pd.ISR),
		OfflineReplicas: nonNil(pd.OfflineReplicas),
		LogStartOffset:  -1,
		HighWatermark:   -1,
	}
	var errs []error
	if pd.Err != nil {
		errs = append(errs, pd.Err)
	}
	for _, l := range []struct {
		offsets kadm.ListedOffsets
		dst     *int64
		what    string
	}{{starts, &p.LogStartOffset, "log start offset"}, {ends, &p.HighWatermark, "high watermark"}} {
		lo, ok := l.offsets.Lookup(pd.Topic, pd.Partition)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: no answer from the partition leader", l.what))
		case lo.Err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", l.what, lo.Err))
		default:
			*l.dst = lo.Offset
		}
	}
	if err := errors.Join(errs...); err != nil {
		p.Error = err.Error()
	}
	return p
}

// describeConfigs returns the non-default configs of each topic, or nothing
// (with a warning) if the broker does not serve DescribeConfigs.
func describeConfigs(ctx context.Context, adm *kadm.Client, warn io.Writer, topics []string) (map[string][]configEntry, error) {
	support, err := loadAPISupport(ctx, adm)
	if err != nil {
		return nil, err
	}
	if !support.supports(int16(kmsg.DescribeConfigs)) {
		fmt.Fprintln(warn, "strata: warning: the broker does not serve DescribeConfigs; configs are not shown")
		return nil, nil
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("describe configs: %w", err)
	}
	out := make(map[string][]configEntry, len(rcs))
	for _, rc := range rcs {
		if rc.Err != nil {
			return nil, fmt.Errorf("describe configs of topic %q: %w", rc.Name, withBrokerMessage(rc.Err, rc.ErrMessage))
		}
		out[rc.Name] = nonDefaultConfigs(rc.Configs)
	}
	return out, nil
}

// nonDefaultConfigs keeps the configs whose value is not the broker's
// built-in default, sorted by name.
func nonDefaultConfigs(cs []kadm.Config) []configEntry {
	out := []configEntry{}
	for _, c := range cs {
		if c.Source == kmsg.ConfigSourceDefaultConfig {
			continue
		}
		e := configEntry{Name: c.Key, Source: c.Source.String(), Sensitive: c.Sensitive}
		if !c.Sensitive {
			e.Value = c.Value
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// nonNil returns s, or an empty slice for nil so JSON prints [] not null.
func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}
