package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// resourceConfigs are the configs of one agent or topic, as `strata config
// describe` reports them. The JSON shape is stable.
type resourceConfigs struct {
	// ResourceType is "agent", "agent-defaults" (the cluster-wide defaults
	// of every agent) or "topic".
	ResourceType string `json:"resource_type"`
	// Name is the agent ID or topic name; "" for agent-defaults.
	Name    string        `json:"name"`
	Configs []configEntry `json:"configs"`
}

const (
	resourceAgent         = "agent"
	resourceAgentDefaults = "agent-defaults"
	resourceTopic         = "topic"
)

// newConfigCmd builds `strata config` and its subcommands, which share one
// set of connection flags.
func newConfigCmd() *cobra.Command {
	co := &clientOptions{}
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Describe and change agent and topic configs",
		Long: `Read and change the configs of agents (brokers) and topics, like Kafka's
kafka-configs.sh (DescribeConfigs, IncrementalAlterConfigs).

For topics this is the same as 'strata topic describe' (configs part) and
'strata topic alter-config'.

The connection flags below apply to every config subcommand.`,
		Example: `  strata config describe --agent 1
  strata config describe --topic orders --all
  strata config alter --agent 1 --set log.retention.ms=86400000
  strata config alter --topic orders --set retention.ms=604800000 --delete segment.ms`,
		Args: cobra.ArbitraryArgs,
		RunE: unknownSubcommand,
	}
	cmd.SuggestionsMinimumDistance = 2
	co.addFlags(cmd.PersistentFlags())
	cmd.AddCommand(newConfigDescribeCmd(co), newConfigAlterCmd(co))
	return cmd
}

func newConfigDescribeCmd(co *clientOptions) *cobra.Command {
	var (
		agents        []int32
		agentDefaults bool
		topics        []string
		all           bool
		output        string
	)
	cmd := &cobra.Command{
		Use:   "describe (--agent ID... | --agent-defaults | --topic NAME...) [--all]",
		Short: "Show the configs of agents or topics",
		Long: `Show the configs of agents or topics (DescribeConfigs) with where each value
comes from: DYNAMIC_TOPIC_CONFIG (a topic override), DYNAMIC_BROKER_CONFIG
(set on this agent at runtime), DYNAMIC_DEFAULT_BROKER_CONFIG (set for all
agents at runtime), STATIC_BROKER_CONFIG (the agent's flags or config file)
or DEFAULT_CONFIG (built in).

Only values that differ from the built-in defaults are shown unless --all is
given. --agent-defaults describes the cluster-wide agent configs rather than
one agent's.`,
		Example: `  strata config describe --agent 1
  strata config describe --agent 1,2,3 --all --output json
  strata config describe --topic orders --topic payments`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			if len(agents) == 0 && !agentDefaults && len(topics) == 0 {
				return usagef(cmd, "give --agent ID, --agent-defaults or --topic NAME")
			}
			if err := parseAgentIDs("--agent", agents); err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				rs, err := describeResourceConfigs(ctx, adm, agents, agentDefaults, topics, all)
				if err != nil {
					return err
				}
				return printResourceConfigs(cmd.OutOrStdout(), format, rs, all)
			})
		},
	}
	fs := cmd.Flags()
	fs.Int32SliceVar(&agents, "agent", nil, "agent IDs (comma-separated or repeated)")
	fs.BoolVar(&agentDefaults, "agent-defaults", false, "the cluster-wide defaults of every agent")
	fs.StringArrayVarP(&topics, "topic", "t", nil, "topic name (repeatable)")
	fs.BoolVar(&all, "all", false, "show every config, including built-in defaults")
	fs.StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// describeResourceConfigs describes agents, then the agent defaults, then
// topics, each in the order given.
func describeResourceConfigs(ctx context.Context, adm *kadm.Client, agents []int32, agentDefaults bool,
	topics []string, all bool) ([]resourceConfigs, error) {
	if _, err := requireAPIs(ctx, adm, "describing configs", kmsg.DescribeConfigs); err != nil {
		return nil, err
	}
	if err := requireAgents(ctx, adm, agents); err != nil {
		return nil, err
	}
	keep := nonDefaultConfigs
	if all {
		keep = allConfigs
	}
	out, err := describeAgentConfigs(ctx, adm, agents, agentDefaults, keep)
	if err != nil {
		return nil, err
	}
	if len(topics) > 0 {
		rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
		if err := partialOK(err); err != nil {
			return nil, fmt.Errorf("describe topic configs: %w", err)
		}
		for _, t := range topics {
			rc, err := rcs.On(t, nil)
			switch {
			case err != nil:
				return nil, fmt.Errorf("describe configs of topic %q: no answer", t)
			case errors.Is(rc.Err, kerr.UnknownTopicOrPartition):
				return nil, topicNotFound(t)
			case rc.Err != nil:
				return nil, fmt.Errorf("describe configs of topic %q: %w", t, withBrokerMessage(rc.Err, rc.ErrMessage))
			}
			out = append(out, resourceConfigs{ResourceType: resourceTopic, Name: t, Configs: keep(rc.Configs)})
		}
	}
	return out, nil
}

// describeAgentConfigs describes agents, then the agent defaults if
// defaults is set, keeping the configs keep returns.
func describeAgentConfigs(ctx context.Context, adm *kadm.Client, agents []int32, defaults bool,
	keep func([]kadm.Config) []configEntry) ([]resourceConfigs, error) {
	var (
		rcs   kadm.ResourceConfigs
		names []string
	)
	if len(agents) > 0 {
		r, err := adm.DescribeBrokerConfigs(ctx, agents...)
		if err := partialOK(err); err != nil {
			return nil, fmt.Errorf("describe agent configs: %w", err)
		}
		rcs = append(rcs, r...)
		for _, id := range agents {
			names = append(names, strconv.Itoa(int(id)))
		}
	}
	if defaults {
		r, err := adm.DescribeBrokerConfigs(ctx) // no IDs: resource "", the cluster-wide defaults
		if err := partialOK(err); err != nil {
			return nil, fmt.Errorf("describe agent default configs: %w", err)
		}
		rcs = append(rcs, r...)
		names = append(names, "")
	}
	var out []resourceConfigs
	for _, name := range names {
		what, typ := "agent "+name, resourceAgent
		if name == "" {
			what, typ = "the agent defaults", resourceAgentDefaults
		}
		rc, err := rcs.On(name, nil)
		switch {
		case err != nil:
			return nil, fmt.Errorf("describe configs of %s: no answer", what)
		case rc.Err != nil:
			return nil, fmt.Errorf("describe configs of %s: %w", what, withBrokerMessage(rc.Err, rc.ErrMessage))
		}
		out = append(out, resourceConfigs{ResourceType: typ, Name: name, Configs: keep(rc.Configs)})
	}
	return out, nil
}

// allConfigs converts every config, sorted by name.
func allConfigs(cs []kadm.Config) []configEntry {
	out := make([]configEntry, 0, len(cs))
	for _, c := range cs {
		e := configEntry{Name: c.Key, Source: c.Source.String(), Sensitive: c.Sensitive}
		if !c.Sensitive {
			e.Value = c.Value
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// printResourceConfigs prints rs in format.
func printResourceConfigs(w io.Writer, format outputFormat, rs []resourceConfigs, all bool) error {
	if format == outputJSON {
		return writeJSON(w, rs)
	}
	for i, r := range rs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		title := fmt.Sprintf("Configs of %s %s", r.ResourceType, r.Name)
		switch r.ResourceType {
		case resourceAgentDefaults:
			title = "Cluster-wide agent defaults"
		case resourceTopic:
			title = fmt.Sprintf("Configs of topic %q", r.Name)
		}
		if !all {
			title += " (only values not at their built-in default; --all shows every config)"
		}
		fmt.Fprintln(w, title+":")
		if len(r.Configs) == 0 {
			fmt.Fprintln(w, "  (none)")
			continue
		}
		tw := newTable(w)
		fmt.Fprintln(tw, "NAME\tVALUE\tSOURCE")
		for _, c := range r.Configs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, configValue(c), c.Source)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func newConfigAlterCmd(co *clientOptions) *cobra.Command {
	var (
		agent         int32
		agentDefaults bool
		topic         string
		set, del      []string
	)
	cmd := &cobra.Command{
		Use:   "alter (--agent ID | --agent-defaults | --topic NAME) [--set key=value]... [--delete key]...",
		Short: "Change or reset configs of an agent or a topic",
		Long: `Set configs of one agent, of every agent (--agent-defaults), or of a topic,
or delete them so the next default applies again.

Agent configs are changed with IncrementalAlterConfigs, which exactly the
named keys change; the broker decides which configs it lets change at runtime
(Strata agents take their settings from flags and refuse). For topics this is
'strata topic alter-config', including its fallback for brokers without
IncrementalAlterConfigs.`,
		Example: `  strata config alter --agent 1 --set log.retention.ms=86400000
  strata config alter --agent-defaults --set log.retention.ms=86400000
  strata config alter --topic orders --set retention.ms=604800000 --delete segment.ms`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			for _, given := range []bool{cmd.Flags().Changed("agent"), agentDefaults, topic != ""} {
				if given {
					n++
				}
			}
			if n != 1 {
				return usagef(cmd, "give exactly one of --agent ID, --agent-defaults or --topic NAME")
			}
			if agent < 0 {
				return usagef(cmd, "--agent: agent ID %d must be >= 0", agent)
			}
			change, err := parseConfigChange(set, del)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				if topic != "" {
					return alterTopicConfig(ctx, adm, cmd.OutOrStdout(), topic, change)
				}
				id := &agent
				if agentDefaults {
					id = nil
				}
				return alterAgentConfig(ctx, adm, cmd.OutOrStdout(), id, change)
			})
		},
	}
	fs := cmd.Flags()
	fs.Int32Var(&agent, "agent", 0, "agent ID")
	fs.BoolVar(&agentDefaults, "agent-defaults", false, "the cluster-wide defaults of every agent")
	fs.StringVarP(&topic, "topic", "t", "", "topic name")
	fs.StringArrayVar(&set, "set", nil, "config key=value to set (repeatable)")
	fs.StringArrayVar(&del, "delete", nil, "config key to reset to its default (repeatable)")
	return cmd
}

// alterAgentConfig applies change to agent *id, or to the cluster-wide agent
// defaults if id is nil, with IncrementalAlterConfigs.
func alterAgentConfig(ctx context.Context, adm *kadm.Client, out io.Writer, id *int32, change configChange) error {
	what, name := "the agent defaults", ""
	var ids []int32
	if id != nil {
		what, name, ids = fmt.Sprintf("agent %d", *id), strconv.Itoa(int(*id)), []int32{*id}
	}
	if _, err := requireAPIs(ctx, adm, "altering agent configs", kmsg.IncrementalAlterConfigs); err != nil {
		return err
	}
	if err := requireAgents(ctx, adm, ids); err != nil {
		return err
	}
	rs, err := adm.AlterBrokerConfigs(ctx, change.incremental(), ids...)
	if err != nil {
		return fmt.Errorf("alter configs of %s: %w", what, err)
	}
	r, err := rs.On(name, nil)
	switch {
	case err != nil:
		return fmt.Errorf("alter configs of %s: the broker's response does not mention it", what)
	case errors.Is(r.Err, kerr.InvalidConfig):
		return fmt.Errorf("alter configs of %s: %w (see the names and values with 'strata config describe --all')",
			what, withBrokerMessage(r.Err, r.ErrMessage))
	case r.Err != nil:
		return fmt.Errorf("alter configs of %s: %w", what, withBrokerMessage(r.Err, r.ErrMessage))
	}
	fmt.Fprintf(out, "Updated configs of %s (%d set, %d deleted).\n", what, len(change.set), len(change.delete))
	return nil
}
