package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// newTopicCmd builds `strata topic` and its subcommands, which share one set
// of connection flags.
func newTopicCmd() *cobra.Command {
	co := &clientOptions{}
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, alter and delete topics",
		Long: `Manage topics on any Kafka-compatible cluster.

The connection flags below apply to every topic subcommand.`,
		Example: `  strata topic create orders --partitions 6 --config retention.ms=86400000
  strata topic list
  strata topic describe orders --output json
  strata topic alter-config orders --set cleanup.policy=compact --delete retention.ms
  strata topic add-partitions orders --partitions 12
  strata topic delete orders`,
		Args: cobra.ArbitraryArgs,
		RunE: unknownSubcommand,
	}
	cmd.SuggestionsMinimumDistance = 2
	co.addFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		newTopicCreateCmd(co),
		newTopicListCmd(co),
		newTopicDescribeCmd(co),
		newTopicDeleteCmd(co),
		newTopicAlterConfigCmd(co),
		newTopicAddPartitionsCmd(co),
		newTopicReassignCmd(co),
	)
	return cmd
}

// exactArgs is cobra.ExactArgs returning a usageError that names the
// arguments.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef(cmd, "want %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs returning a usageError.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef(cmd, "want %s", what)
		}
		return nil
	}
}

// withAdmin connects and runs fn with an admin client under a --timeout
// deadline.
func withAdmin(cmd *cobra.Command, co *clientOptions, fn func(context.Context, *kadm.Client) error) error {
	cl, err := co.connect(cmd.Context(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), co.timeout)
	defer cancel()
	return fn(ctx, co.newAdmin(cl))
}

// topicIDString renders a topic ID the way Kafka's tools do (URL-safe
// base64 without padding), or "" for the zero ID of a broker without IDs.
func topicIDString(id kadm.TopicID) string {
	if id == (kadm.TopicID{}) {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(id[:])
}

type topicCreateOptions struct {
	partitions        int32
	replicationFactor int16
	configs           []string
	ifNotExists       bool
	validateOnly      bool
}

func newTopicCreateCmd(co *clientOptions) *cobra.Command {
	o := &topicCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a topic",
		Example: `  strata topic create orders
  strata topic create orders --partitions 6 --replication-factor 3
  strata topic create compacted --config cleanup.policy=compact --config min.insync.replicas=2
  strata topic create orders --if-not-exists      # succeed if it already exists
  strata topic create orders --validate-only      # ask the broker, change nothing`,
		Args: exactArgs(1, "one topic NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			configs, err := o.validate(cmd)
			if err != nil {
				return err
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				return o.run(ctx, adm, cmd.OutOrStdout(), args[0], configs)
			})
		},
	}
	fs := cmd.Flags()
	fs.Int32Var(&o.partitions, "partitions", 1, "number of partitions (-1: the broker's num.partitions)")
	fs.Int16Var(&o.replicationFactor, "replication-factor", -1,
		"replicas per partition (-1: the broker's default.replication.factor)")
	fs.StringArrayVar(&o.configs, "config", nil, "topic config key=value (repeatable)")
	fs.BoolVar(&o.ifNotExists, "if-not-exists", false, "succeed if the topic already exists")
	fs.BoolVar(&o.validateOnly, "validate-only", false, "only ask the broker whether the topic could be created")
	return cmd
}

// validate checks the flags and returns the topic configs.
func (o *topicCreateOptions) validate(cmd *cobra.Command) (map[string]*string, error) {
	if o.partitions == 0 || o.partitions < -1 {
		return nil, usagef(cmd, "--partitions must be at least 1 (or -1 for the broker default), got %d", o.partitions)
	}
	if o.replicationFactor == 0 || o.replicationFactor < -1 {
		return nil, usagef(cmd, "--replication-factor must be at least 1 (or -1 for the broker default), got %d",
			o.replicationFactor)
	}
	kvs, err := parseKeyValues("--config", o.configs)
	if err != nil {
		return nil, &usageError{cmd: cmd, err: err}
	}
	configs := make(map[string]*string, len(kvs))
	for k, v := range kvs {
		configs[k] = &v
	}
	return configs, nil
}

func (o *topicCreateOptions) run(ctx context.Context, adm *kadm.Client, out io.Writer, topic string, configs map[string]*string) error {
	create := adm.CreateTopics
	if o.validateOnly {
		create = adm.ValidateCreateTopics
	}
	rs, err := create(ctx, o.partitions, o.replicationFactor, configs, topic)
	if err != nil {
		return fmt.Errorf("create topic %q: %w", topic, err)
	}
	r, ok := rs[topic]
	if !ok {
		return fmt.Errorf("create topic %q: the broker's response does not mention the topic", topic)
	}
	switch {
	case errors.Is(r.Err, kerr.TopicAlreadyExists) && o.ifNotExists:
		fmt.Fprintf(out, "Topic %q already exists.\n", topic)
		return nil
	case errors.Is(r.Err, kerr.TopicAlreadyExists):
		return fmt.Errorf("create topic %q: %w (pass --if-not-exists to ignore)", topic, withBrokerMessage(r.Err, r.ErrMessage))
	case r.Err != nil:
		return fmt.Errorf("create topic %q: %w", topic, withBrokerMessage(r.Err, r.ErrMessage))
	}
	shape := describeShape(r, o.partitions, o.replicationFactor)
	if o.validateOnly {
		fmt.Fprintf(out, "Topic %q can be created%s; nothing was changed (--validate-only).\n", topic, shape)
		return nil
	}
	fmt.Fprintf(out, "Created topic %q%s.\n", topic, shape)
	return nil
}

// describeShape renders " (P partitions, replication factor R)" from what the
// broker reported (Kafka 2.4+) or else what was asked for, leaving out
// broker defaults that are not known.
func describeShape(r kadm.CreateTopicResponse, partitions int32, rf int16) string {
	if r.NumPartitions > 0 {
		partitions = r.NumPartitions
	}
	if r.ReplicationFactor > 0 {
		rf = r.ReplicationFactor
	}
	switch {
	case partitions > 0 && rf > 0:
		return fmt.Sprintf(" (%s, replication factor %d)", plural(int(partitions), "partition"), rf)
	case partitions > 0:
		return fmt.Sprintf(" (%s)", plural(int(partitions), "partition"))
	}
	return ""
}

// plural renders "1 partition" or "n partitions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func newTopicListCmd(co *clientOptions) *cobra.Command {
	var (
		internal bool
		output   string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics",
		Example: `  strata topic list
  strata topic list --internal --output json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				tds, err := adm.ListTopicsWithInternal(ctx)
				if err != nil {
					return fmt.Errorf("list topics: %w", err)
				}
				return printTopicList(cmd.OutOrStdout(), format, topicSummaries(tds, internal))
			})
		},
	}
	cmd.Flags().BoolVar(&internal, "internal", false, "include internal topics such as __consumer_offsets")
	cmd.Flags().StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// topicSummaries turns metadata into sorted list rows.
func topicSummaries(tds kadm.TopicDetails, internal bool) []topicSummary {
	out := make([]topicSummary, 0, len(tds))
	for _, td := range tds.Sorted() {
		if (td.IsInternal && !internal) || td.Topic == "" {
			continue
		}
		out = append(out, topicSummary{
			Name:              td.Topic,
			TopicID:           topicIDString(td.ID),
			Partitions:        len(td.Partitions),
			ReplicationFactor: td.Partitions.NumReplicas(),
			Internal:          td.IsInternal,
		})
	}
	return out
}

func newTopicDeleteCmd(co *clientOptions) *cobra.Command {
	var ifExists bool
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete topics and all their records",
		Example: `  strata topic delete orders
  strata topic delete a b c --if-exists`,
		Args: minArgs(1, "at least one topic NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				return deleteTopics(ctx, adm, cmd.OutOrStdout(), args, ifExists)
			})
		},
	}
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "succeed for topics that do not exist")
	return cmd
}

func deleteTopics(ctx context.Context, adm *kadm.Client, out io.Writer, topics []string, ifExists bool) error {
	rs, err := adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	var errs []error
	sort.Strings(topics)
	for _, t := range topics {
		r, ok := rs[t]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("delete topic %q: the broker's response does not mention the topic", t))
		case errors.Is(r.Err, kerr.UnknownTopicOrPartition) && ifExists:
			fmt.Fprintf(out, "Topic %q does not exist.\n", t)
		case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
			errs = append(errs, fmt.Errorf("delete topic %q: %w (pass --if-exists to ignore)", t, withBrokerMessage(r.Err, r.ErrMessage)))
		case r.Err != nil:
			errs = append(errs, fmt.Errorf("delete topic %q: %w", t, withBrokerMessage(r.Err, r.ErrMessage)))
		default:
			fmt.Fprintf(out, "Deleted topic %q.\n", t)
		}
	}
	return errors.Join(errs...)
}

func newTopicAddPartitionsCmd(co *clientOptions) *cobra.Command {
	var total int
	cmd := &cobra.Command{
		Use:   "add-partitions NAME --partitions TOTAL",
		Short: "Grow a topic to TOTAL partitions",
		Long: `Grow a topic to TOTAL partitions (CreatePartitions). Partitions can only be
added, never removed. Records with a key may map to a different partition
afterwards, which breaks per-key ordering across the change.`,
		Example: `  strata topic add-partitions orders --partitions 12`,
		Args:    exactArgs(1, "one topic NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if total < 1 {
				return usagef(cmd, "--partitions TOTAL is required and must be at least 1")
			}
			topic := args[0]
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				rs, err := adm.UpdatePartitions(ctx, total, topic)
				if err != nil {
					return fmt.Errorf("add partitions to %q: %w", topic, err)
				}
				r, ok := rs[topic]
				switch {
				case !ok:
					return fmt.Errorf("add partitions to %q: the broker's response does not mention the topic", topic)
				case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
					return topicNotFound(topic)
				case errors.Is(r.Err, kerr.InvalidPartitions):
					return fmt.Errorf("add partitions to %q: %w (TOTAL must exceed the current count; see 'strata topic describe %s')",
						topic, withBrokerMessage(r.Err, r.ErrMessage), topic)
				case r.Err != nil:
					return fmt.Errorf("add partitions to %q: %w", topic, withBrokerMessage(r.Err, r.ErrMessage))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Topic %q now has %s.\n", topic, plural(total, "partition"))
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&total, "partitions", 0, "the total number of partitions the topic should have")
	return cmd
}
