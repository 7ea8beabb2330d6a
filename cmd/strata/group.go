package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupAdminAPIs are the requests describe and reset-offsets send.
var groupAdminAPIs = []kmsg.Key{kmsg.FindCoordinator, kmsg.DescribeGroups, kmsg.OffsetFetch}

// newGroupCmd builds `strata group` and its subcommands, which share one set
// of connection flags.
func newGroupCmd() *cobra.Command {
	co := &clientOptions{}
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, describe, reset and delete consumer groups",
		Long: `Manage the consumer groups of any Kafka-compatible cluster: list them, show
their members, committed offsets and lag, move their committed offsets, and
delete them or some of their offsets.

Committed offsets can only be changed while a group has no live members (its
state is Empty): stop the group's consumers first.

The connection flags below apply to every group subcommand.`,
		Example: `  strata group list
  strata group describe audit
  strata group reset-offsets audit --topic orders --to-earliest  # dry run: prints the plan
  strata group reset-offsets audit --topic orders:0,1 --shift-by -100 --execute
  strata group delete-offsets audit --topic retired-topic
  strata group delete audit`,
		Args: cobra.ArbitraryArgs,
		RunE: unknownSubcommand,
	}
	cmd.SuggestionsMinimumDistance = 2
	co.addFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		newGroupListCmd(co),
		newGroupDescribeCmd(co),
		newGroupResetOffsetsCmd(co),
		newGroupDeleteCmd(co),
		newGroupDeleteOffsetsCmd(co),
	)
	return cmd
}

// requireAPIs loads the brokers' ApiVersions and fails, naming the missing
// API, unless every broker serves all of keys. what names the feature in
// the error.
func requireAPIs(ctx context.Context, adm *kadm.Client, what string, keys ...kmsg.Key) (*apiSupport, error) {
	support, err := loadAPISupport(ctx, adm)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if !support.supports(int16(k)) {
			return nil, fmt.Errorf("%s: %w (it does not serve %s)", what, errUnsupported, kmsg.NameForKey(int16(k)))
		}
	}
	return support, nil
}

// maxVersion returns the highest version of API key that every answering
// broker serves, or -1 if one does not serve it.
func (s *apiSupport) maxVersion(key int16) int16 {
	v := int16(-1)
	first := true
	for _, bv := range s.versions {
		if bv.Err != nil {
			continue
		}
		mv, ok := bv.KeyMaxVersion(key)
		if !ok {
			return -1
		}
		if first || mv < v {
			v, first = mv, false
		}
	}
	return v
}

// groupNotFound is the error for a group the coordinator does not know.
func groupNotFound(group string) error {
	return fmt.Errorf("%w: %q (list groups with 'strata group list')", errGroupNotFound, group)
}

// groupStates are the group states Kafka defines (classic and KIP-848
// groups), keyed by their lower-case spelling.
var groupStates = map[string]string{
	"stable":              "Stable",
	"empty":               "Empty",
	"preparingrebalance":  "PreparingRebalance",
	"completingrebalance": "CompletingRebalance",
	"dead":                "Dead",
	"assigning":           "Assigning",
	"reconciling":         "Reconciling",
	"notready":            "NotReady",
}

// parseGroupStates parses --state values (comma-separated or repeated,
// case-insensitive) into Kafka's spelling, sorted and without duplicates.
func parseGroupStates(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for s := range strings.SplitSeq(v, ",") {
			canon, ok := groupStates[strings.ToLower(strings.TrimSpace(s))]
			if !ok {
				return nil, fmt.Errorf("--state %q: want one of Stable, Empty, PreparingRebalance, "+
					"CompletingRebalance, Dead, Assigning, Reconciling, NotReady", s)
			}
			if !slices.Contains(out, canon) {
				out = append(out, canon)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// topicSpecs are parsed --topic TOPIC[:P,...] values: the partitions of each
// topic, or nil for all of its partitions.
type topicSpecs map[string][]int32

// parseTopicSpecs parses repeated --topic values. "T" means every partition
// of T and "T:0,2" partitions 0 and 2 (Kafka topic names cannot contain
// ':'). A topic given twice gets the union of its partitions.
func parseTopicSpecs(values []string) (topicSpecs, error) {
	specs := make(topicSpecs, len(values))
	all := make(map[string]bool)
	for _, v := range values {
		topic, list, hasList := strings.Cut(v, ":")
		if topic == "" {
			return nil, fmt.Errorf("--topic %q: want TOPIC or TOPIC:PARTITION,...", v)
		}
		if !hasList {
			all[topic] = true
			specs[topic] = nil
			continue
		}
		var ps []int32
		for p := range strings.SplitSeq(list, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("--topic %q: partition %q is not a number >= 0", v, p)
			}
			ps = append(ps, int32(n))
		}
		if !all[topic] {
			specs[topic] = append(specs[topic], ps...)
		}
	}
	for t, ps := range specs {
		slices.Sort(ps)
		specs[t] = slices.Compact(ps)
	}
	return specs, nil
}

// resolve checks that every topic and partition exists and returns the set
// of partitions the specs name.
func (s topicSpecs) resolve(ctx context.Context, adm *kadm.Client) (kadm.TopicsSet, error) {
	set := make(kadm.TopicsSet, len(s))
	for _, topic := range slices.Sorted(maps.Keys(s)) {
		n, err := topicPartitions(ctx, adm, topic)
		if err != nil {
			return nil, err
		}
		ps := s[topic]
		if ps == nil {
			for p := range int32(n) {
				ps = append(ps, p)
			}
		}
		for _, p := range ps {
			if err := checkPartition(topic, p, n); err != nil {
				return nil, err
			}
			set.Add(topic, p)
		}
	}
	return set, nil
}

// groupSummary is one row of `strata group list`.
type groupSummary struct {
	Group        string `json:"group"`
	State        string `json:"state"`         // "" if the broker does not report states
	ProtocolType string `json:"protocol_type"` // "consumer" for consumers, "connect" for Kafka Connect
	Coordinator  int32  `json:"coordinator"`   // node ID of the group's coordinator
}

func newGroupListCmd(co *clientOptions) *cobra.Command {
	var (
		states []string
		output string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups",
		Long: `List the consumer groups of the cluster (ListGroups, asked of every broker)
with their state, protocol type and coordinator.

--state keeps only groups in the given states: Stable, Empty,
PreparingRebalance, CompletingRebalance, Dead (and for KIP-848 groups
Assigning, Reconciling, NotReady); case-insensitive, comma-separated or
repeated.`,
		Example: `  strata group list
  strata group list --state Empty
  strata group list --state stable,preparingrebalance --output json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			filter, err := parseGroupStates(states)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				groups, err := listGroups(ctx, adm, filter)
				if groups == nil { // nothing listed; with a partial list, print it before the error
					return err
				}
				if perr := printGroupList(cmd.OutOrStdout(), format, groups); perr != nil {
					return perr
				}
				return err
			})
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only groups in these states (comma-separated or repeated)")
	cmd.Flags().StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// listGroups lists the groups in the given states (all if none), sorted by
// name. If some brokers did not answer, it returns the groups of those that
// did (never nil) together with an error; otherwise an error comes with nil.
func listGroups(ctx context.Context, adm *kadm.Client, states []string) ([]groupSummary, error) {
	support, err := requireAPIs(ctx, adm, "listing consumer groups", kmsg.ListGroups)
	if err != nil {
		return nil, err
	}
	if len(states) > 0 && support.maxVersion(int16(kmsg.ListGroups)) < 4 {
		return nil, fmt.Errorf("--state: the broker cannot filter groups by state (it serves ListGroups up to v%d; "+
			"v4, Kafka 2.6, is needed); list without --state", support.maxVersion(int16(kmsg.ListGroups)))
	}
	listed, err := adm.ListGroups(ctx, states...)
	var se *kadm.ShardErrors
	switch {
	case errors.As(err, &se):
		err = fmt.Errorf("list groups: not every broker answered, the list may be incomplete: %w", err)
	case err != nil:
		return nil, fmt.Errorf("list groups: %w", err)
	}
	out := make([]groupSummary, 0, len(listed))
	for _, g := range listed.Sorted() {
		// Filter here too, in case the broker ignored the filter.
		if len(states) > 0 && !slices.Contains(states, g.State) {
			continue
		}
		out = append(out, groupSummary{Group: g.Group, State: g.State, ProtocolType: g.ProtocolType, Coordinator: g.Coordinator})
	}
	return out, err
}

// printGroupList prints groups in format.
func printGroupList(w io.Writer, format outputFormat, groups []groupSummary) error {
	if format == outputJSON {
		if groups == nil {
			groups = []groupSummary{}
		}
		return writeJSON(w, groups)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE\tCOORDINATOR")
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", g.Group, dash(g.State), dash(g.ProtocolType), g.Coordinator)
	}
	return tw.Flush()
}

// groupDeletion is the result for one group of `strata group delete`.
type groupDeletion struct {
	Group string `json:"group"`
	// Error is the Kafka error that kept the group from being deleted.
	Error string `json:"error,omitempty"`
}

func newGroupDeleteCmd(co *clientOptions) *cobra.Command {
	var (
		ifExists bool
		output   string
	)
	cmd := &cobra.Command{
		Use:     "delete GROUP...",
		Aliases: []string{"rm"},
		Short:   "Delete consumer groups and their committed offsets",
		Long: `Delete consumer groups together with all their committed offsets
(DeleteGroups). Only a group without live members can be deleted; the broker
answers NON_EMPTY_GROUP for one that has members: stop its consumers first.`,
		Example: `  strata group delete audit
  strata group delete a b c --if-exists`,
		Args: minArgs(1, "at least one GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				return deleteGroups(ctx, adm, cmd.OutOrStdout(), format, args, ifExists)
			})
		},
	}
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "succeed for groups that do not exist")
	cmd.Flags().StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

func deleteGroups(ctx context.Context, adm *kadm.Client, out io.Writer, format outputFormat, groups []string, ifExists bool) error {
	if _, err := requireAPIs(ctx, adm, "deleting consumer groups", kmsg.FindCoordinator, kmsg.DeleteGroups); err != nil {
		return err
	}
	rs, err := adm.DeleteGroups(ctx, groups...)
	var se *kadm.ShardErrors
	if err != nil && !errors.As(err, &se) {
		return fmt.Errorf("delete groups: %w", err)
	}
	groups = slices.Clone(groups)
	slices.Sort(groups)
	groups = slices.Compact(groups)
	var (
		errs    []error
		results = make([]groupDeletion, 0, len(groups))
	)
	for _, g := range groups {
		r, ok := rs[g]
		var gerr error
		switch {
		case !ok && se != nil:
			gerr = fmt.Errorf("delete group %q: no answer from its coordinator: %w", g, err)
		case !ok:
			gerr = fmt.Errorf("delete group %q: the broker's response does not mention the group", g)
		case errors.Is(r.Err, kerr.GroupIDNotFound) && ifExists:
			r.Err = nil
			if format == outputTable {
				fmt.Fprintf(out, "Group %q does not exist.\n", g)
			}
		case errors.Is(r.Err, kerr.GroupIDNotFound):
			gerr = fmt.Errorf("delete group %q: %w (pass --if-exists to ignore; list groups with 'strata group list')",
				g, withBrokerMessage(r.Err, r.ErrMessage))
		case errors.Is(r.Err, kerr.NonEmptyGroup):
			gerr = fmt.Errorf("delete group %q: %w (the group has live members: stop its consumers first; "+
				"see 'strata group describe %s')", g, withBrokerMessage(r.Err, r.ErrMessage), g)
		case r.Err != nil:
			gerr = fmt.Errorf("delete group %q: %w", g, withBrokerMessage(r.Err, r.ErrMessage))
		case format == outputTable:
			fmt.Fprintf(out, "Deleted group %q.\n", g)
		}
		d := groupDeletion{Group: g}
		if gerr != nil {
			errs = append(errs, gerr)
			d.Error = kafkaErrorText(r.Err, gerr)
		}
		results = append(results, d)
	}
	if format == outputJSON {
		if err := writeJSON(out, results); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// kafkaErrorText is the text of the Kafka error code kerrOrNil if it is one,
// else of fallback.
func kafkaErrorText(kerrOrNil, fallback error) string {
	var ke *kerr.Error
	if errors.As(kerrOrNil, &ke) {
		return ke.Error()
	}
	return fallback.Error()
}

// offsetDeletion is the result for one partition of `strata group
// delete-offsets`.
type offsetDeletion struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Error is the Kafka error that kept the offset from being deleted.
	Error string `json:"error,omitempty"`
}

func newGroupDeleteOffsetsCmd(co *clientOptions) *cobra.Command {
	var (
		topics []string
		output string
	)
	cmd := &cobra.Command{
		Use:   "delete-offsets GROUP --topic TOPIC[:PARTITION,...]",
		Short: "Delete a group's committed offsets for some topics",
		Long: `Delete the committed offsets of GROUP for the given topics (OffsetDelete,
Kafka 2.4+), for example for a topic the group no longer reads, so that it no
longer shows as lag. TOPIC alone means all its partitions.

The broker refuses (GROUP_SUBSCRIBED_TO_TOPIC) to delete the offsets of a topic
that live members of the group subscribe to.`,
		Example: `  strata group delete-offsets audit --topic retired-topic
  strata group delete-offsets audit --topic orders:0,1 --topic payments --output json`,
		Args: exactArgs(1, "one GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			if len(topics) == 0 {
				return usagef(cmd, "--topic TOPIC[:PARTITION,...] is required")
			}
			specs, err := parseTopicSpecs(topics)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				return deleteOffsets(ctx, adm, cmd.OutOrStdout(), format, args[0], specs)
			})
		},
	}
	cmd.Flags().StringArrayVarP(&topics, "topic", "t", nil, "TOPIC or TOPIC:PARTITION,... whose offsets to delete (repeatable)")
	cmd.Flags().StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

func deleteOffsets(ctx context.Context, adm *kadm.Client, out io.Writer, format outputFormat, group string, specs topicSpecs) error {
	if _, err := requireAPIs(ctx, adm, "deleting committed offsets", kmsg.FindCoordinator, kmsg.OffsetDelete); err != nil {
		return err
	}
	set, err := specs.resolve(ctx, adm)
	if err != nil {
		return err
	}
	rs, err := adm.DeleteOffsets(ctx, group, set)
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		return groupNotFound(group)
	case errors.Is(err, kerr.NonEmptyGroup):
		return fmt.Errorf("delete offsets of group %q: %w (the group has live members: stop its consumers first)", group, err)
	case err != nil:
		return fmt.Errorf("delete offsets of group %q: %w", group, err)
	}
	var (
		results []offsetDeletion
		failed  int
		first   error
	)
	for _, tp := range set.Sorted() {
		for _, p := range tp.Partitions {
			d := offsetDeletion{Topic: tp.Topic, Partition: p}
			perr, ok := rs.Lookup(tp.Topic, p)
			if !ok {
				perr = errors.New("the broker's response does not mention the partition")
			}
			if perr != nil {
				d.Error = perr.Error()
				failed++
				if first == nil {
					first = perr
				}
			}
			results = append(results, d)
		}
	}
	if err := printOffsetDeletions(out, format, group, results); err != nil {
		return err
	}
	if failed == 0 {
		return nil
	}
	err = fmt.Errorf("delete offsets of group %q: %d of %d partitions failed, first: %w", group, failed, len(results), first)
	if errors.Is(first, kerr.GroupSubscribedToTopic) {
		err = fmt.Errorf("%w (live members read the topic: stop them, or move them to other topics, first)", err)
	}
	return err
}

// printOffsetDeletions prints the result of delete-offsets in format.
func printOffsetDeletions(w io.Writer, format outputFormat, group string, results []offsetDeletion) error {
	if format == outputJSON {
		if results == nil {
			results = []offsetDeletion{}
		}
		return writeJSON(w, struct {
			Group   string           `json:"group"`
			Offsets []offsetDeletion `json:"offsets"`
		}{group, results})
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tSTATUS")
	for _, r := range results {
		status := "Deleted"
		if r.Error != "" {
			status = "Error: " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", r.Topic, r.Partition, status)
	}
	return tw.Flush()
}
