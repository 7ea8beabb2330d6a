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

// configChange is a validated alter-config request: keys to set and keys to
// delete (return to the default), disjoint.
type configChange struct {
	set    map[string]string
	delete []string
}

// parseConfigChange validates --set and --delete.
func parseConfigChange(set, del []string) (configChange, error) {
	m, err := parseKeyValues("--set", set)
	if err != nil {
		return configChange{}, err
	}
	if len(m) == 0 && len(del) == 0 {
		return configChange{}, errors.New("nothing to change: give --set key=value and/or --delete key")
	}
	seen := make(map[string]bool, len(del))
	for _, k := range del {
		switch {
		case k == "":
			return configChange{}, errors.New("--delete: empty config name")
		case seen[k]:
			return configChange{}, fmt.Errorf("--delete: %q given twice", k)
		}
		if _, ok := m[k]; ok {
			return configChange{}, fmt.Errorf("config %q is both set and deleted", k)
		}
		seen[k] = true
	}
	return configChange{set: m, delete: del}, nil
}

// incremental returns the change as IncrementalAlterConfigs operations,
// sorted by name so requests are deterministic.
func (c configChange) incremental() []kadm.AlterConfig {
	ops := make([]kadm.AlterConfig, 0, len(c.set)+len(c.delete))
	for k, v := range c.set {
		ops = append(ops, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
	}
	for _, k := range c.delete {
		ops = append(ops, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
	return ops
}

// merged applies the change to a topic's current configs and returns the
// complete set of overrides for a (non-incremental) AlterConfigs request,
// which replaces every override of the topic. Only the topic's own overrides
// (DYNAMIC_TOPIC_CONFIG) are carried over: broker-level and default values
// are not the topic's to write. A sensitive override cannot be carried over
// because DescribeConfigs does not return its value, so unless the change
// sets or deletes it, merging fails rather than silently dropping it.
func (c configChange) merged(current []kadm.Config) ([]kadm.AlterConfig, error) {
	state := make(map[string]string)
	deleted := make(map[string]bool, len(c.delete))
	for _, k := range c.delete {
		deleted[k] = true
	}
	for _, cfg := range current {
		if cfg.Source != kmsg.ConfigSourceDynamicTopicConfig || deleted[cfg.Key] {
			continue
		}
		if _, overwritten := c.set[cfg.Key]; overwritten {
			continue
		}
		if cfg.Sensitive || cfg.Value == nil {
			return nil, fmt.Errorf("cannot keep config %q: its value is hidden (sensitive), and this broker only "+
				"supports replacing all configs at once (AlterConfigs); set it again with --set %s=VALUE",
				cfg.Key, cfg.Key)
		}
		state[cfg.Key] = *cfg.Value
	}
	for k, v := range c.set {
		state[k] = v
	}
	out := make([]kadm.AlterConfig, 0, len(state))
	for k, v := range state {
		out = append(out, kadm.AlterConfig{Name: k, Value: &v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func newTopicAlterConfigCmd(co *clientOptions) *cobra.Command {
	var set, del []string
	cmd := &cobra.Command{
		Use:   "alter-config NAME [--set key=value]... [--delete key]...",
		Short: "Change or reset a topic's configs",
		Long: `Set topic configs, or delete them so the broker default applies again.

Brokers that serve IncrementalAlterConfigs (Kafka 2.3+) change exactly the
named keys. Otherwise the current overrides are read with DescribeConfigs,
merged with the change, and written back whole with AlterConfigs; that
read-modify-write is not atomic, so do not alter the same topic from two
places at once.`,
		Example: `  strata topic alter-config orders --set retention.ms=604800000
  strata topic alter-config orders --set cleanup.policy=compact --set min.compaction.lag.ms=60000
  strata topic alter-config orders --delete retention.ms`,
		Args: exactArgs(1, "one topic NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			change, err := parseConfigChange(set, del)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				return alterTopicConfig(ctx, adm, cmd.OutOrStdout(), args[0], change)
			})
		},
	}
	cmd.Flags().StringArrayVar(&set, "set", nil, "config key=value to set (repeatable)")
	cmd.Flags().StringArrayVar(&del, "delete", nil, "config key to reset to its default (repeatable)")
	return cmd
}

// alterTopicConfig applies change to topic with IncrementalAlterConfigs if
// every broker serves it, else with DescribeConfigs + AlterConfigs.
func alterTopicConfig(ctx context.Context, adm *kadm.Client, out io.Writer, topic string, change configChange) error {
	support, err := loadAPISupport(ctx, adm)
	if err != nil {
		return err
	}
	var (
		rs  kadm.AlterConfigsResponses
		api string
	)
	switch {
	case support.supports(int16(kmsg.IncrementalAlterConfigs)):
		api = "IncrementalAlterConfigs"
		rs, err = adm.AlterTopicConfigs(ctx, change.incremental(), topic)
	case support.supports(int16(kmsg.AlterConfigs)) && support.supports(int16(kmsg.DescribeConfigs)):
		api = "AlterConfigs"
		rs, err = alterTopicConfigState(ctx, adm, topic, change)
	default:
		return fmt.Errorf("alter configs of topic %q: %w: it serves neither IncrementalAlterConfigs "+
			"nor DescribeConfigs+AlterConfigs", topic, errUnsupported)
	}
	if err != nil {
		return fmt.Errorf("alter configs of topic %q (%s): %w", topic, api, err)
	}
	r, err := rs.On(topic, nil)
	switch {
	case err != nil:
		return fmt.Errorf("alter configs of topic %q (%s): the broker's response does not mention the topic", topic, api)
	case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
		return topicNotFound(topic)
	case r.Err != nil:
		return fmt.Errorf("alter configs of topic %q (%s): %w", topic, api, withBrokerMessage(r.Err, r.ErrMessage))
	}
	fmt.Fprintf(out, "Updated configs of topic %q (%d set, %d deleted).\n", topic, len(change.set), len(change.delete))
	return nil
}

// alterTopicConfigState is the AlterConfigs path: read, merge, write all.
func alterTopicConfigState(ctx context.Context, adm *kadm.Client, topic string, change configChange) (kadm.AlterConfigsResponses, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("read current configs: %w", err)
	}
	rc, err := rcs.On(topic, nil)
	switch {
	case err != nil || errors.Is(rc.Err, kerr.UnknownTopicOrPartition):
		return nil, topicNotFound(topic)
	case rc.Err != nil:
		return nil, fmt.Errorf("read current configs: %w", withBrokerMessage(rc.Err, rc.ErrMessage))
	}
	merged, err := change.merged(rc.Configs)
	if err != nil {
		return nil, err
	}
	return adm.AlterTopicConfigsState(ctx, merged, topic)
}
