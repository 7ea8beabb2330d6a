package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The JSON shapes below are a stable interface, like those in output.go:
// fields are only added, slices are never null, and -1 means unknown.

// clusterDescription is the result of `strata cluster describe`.
type clusterDescription struct {
	ClusterID  string          `json:"cluster_id"` // "" if the cluster reports none
	Controller int32           `json:"controller"` // -1 if unknown
	Agents     []agentSummary  `json:"agents"`
	Topics     int             `json:"topics"` // topics looked at, internal ones included
	Partitions partitionHealth `json:"partitions"`
}

// agentSummary is one agent (broker) of the cluster.
type agentSummary struct {
	ID   int32   `json:"id"`
	Host string  `json:"host"`
	Port int32   `json:"port"`
	Rack *string `json:"rack"` // null when the agent has no rack
}

// partitionHealth counts the partitions with each problem; a partition can
// have several. Affected lists them.
type partitionHealth struct {
	Total           int `json:"total"`
	UnderReplicated int `json:"under_replicated"`
	// UnderMinISR is -1 when min.insync.replicas could not be read (the
	// broker does not serve DescribeConfigs).
	UnderMinISR              int `json:"under_min_isr"`
	Offline                  int `json:"offline"`
	PreferredLeaderImbalance int `json:"preferred_leader_imbalance"`
	// Affected are the partitions with at least one problem, sorted by
	// topic and partition; with filter flags, only those with the chosen
	// problems.
	Affected []partitionStatus `json:"affected"`
}

// partitionStatus is one partition and its problems.
type partitionStatus struct {
	Topic           string  `json:"topic"`
	Partition       int32   `json:"partition"`
	Leader          int32   `json:"leader"`
	Replicas        []int32 `json:"replicas"`
	ISR             []int32 `json:"isr"`
	OfflineReplicas []int32 `json:"offline_replicas"`
	// MinInsyncReplicas is the topic's min.insync.replicas, -1 if unknown.
	MinInsyncReplicas int `json:"min_insync_replicas"`
	// UnderReplicated: fewer in-sync replicas than replicas.
	UnderReplicated bool `json:"under_replicated"`
	// UnderMinISR: fewer in-sync replicas than min.insync.replicas, so
	// acks=all writes fail with NOT_ENOUGH_REPLICAS.
	UnderMinISR bool `json:"under_min_isr"`
	// Offline: no leader, so the partition can be neither read nor written.
	Offline bool `json:"offline"`
	// PreferredLeaderImbalance: led by a replica other than the first.
	PreferredLeaderImbalance bool `json:"preferred_leader_imbalance"`
	// Error is the Kafka error the metadata reported for the partition.
	Error string `json:"error,omitempty"`
}

// problems names the partition's problems for the table view.
func (s partitionStatus) problems() []string {
	var out []string
	for _, p := range []struct {
		has  bool
		name string
	}{
		{s.Offline, "offline"},
		{s.UnderMinISR, "under-min-isr"},
		{s.UnderReplicated, "under-replicated"},
		{s.PreferredLeaderImbalance, "not-preferred-leader"},
	} {
		if p.has {
			out = append(out, p.name)
		}
	}
	return out
}

// healthFilter selects which affected partitions are listed; with no field
// set, every partition with any problem is.
type healthFilter struct {
	underReplicated, underMinISR, offline, leaderImbalance bool
}

func (f healthFilter) match(s partitionStatus) bool {
	if !f.underReplicated && !f.underMinISR && !f.offline && !f.leaderImbalance {
		return len(s.problems()) > 0
	}
	return (f.underReplicated && s.UnderReplicated) || (f.underMinISR && s.UnderMinISR) ||
		(f.offline && s.Offline) || (f.leaderImbalance && s.PreferredLeaderImbalance)
}

func newClusterDescribeCmd(co *clientOptions) *cobra.Command {
	var (
		topics []string
		filter healthFilter
		output string
	)
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show agents, the controller and partition health",
		Long: `Show the cluster ID, the controller, every agent (ID, address, rack) and a
health summary of the partitions (Metadata, and DescribeConfigs for each
topic's min.insync.replicas):

  under-replicated      fewer in-sync replicas (ISR) than replicas
  under-min-isr         fewer in-sync replicas than min.insync.replicas:
                        acks=all writes fail with NOT_ENOUGH_REPLICAS
  offline               no leader (LEADER_NOT_AVAILABLE): neither readable
                        nor writable
  not-preferred-leader  led by a replica other than the first (preferred)
                        one; 'strata cluster elect-leaders' moves it back

Every partition with a problem is listed. The filter flags list only those
with the chosen problems (any of them), like kafka-topics.sh
--under-replicated-partitions; the counts always cover all partitions.
--topic restricts everything to some topics.

With --output json the result is one JSON object with a stable shape.`,
		Example: `  strata cluster describe
  strata cluster describe --under-replicated --offline
  strata cluster describe --topic orders --topic payments
  strata cluster describe --output json | jq '.partitions.affected[] | select(.offline)'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				d, err := describeCluster(ctx, adm, cmd.ErrOrStderr(), topics, filter)
				if err != nil {
					return err
				}
				return printClusterDescription(cmd.OutOrStdout(), format, d, filter)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&topics, "topic", "t", nil, "only this topic (repeatable)")
	fs.BoolVar(&filter.underReplicated, "under-replicated", false, "list under-replicated partitions")
	fs.BoolVar(&filter.underMinISR, "under-min-isr", false, "list partitions with fewer in-sync replicas than min.insync.replicas")
	fs.BoolVar(&filter.offline, "offline", false, "list partitions without a leader")
	fs.BoolVar(&filter.leaderImbalance, "leader-imbalance", false, "list partitions not led by their preferred replica")
	fs.StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// describeCluster gathers the cluster's agents and the health of the
// partitions of topics (all topics if none). Warnings about data the cluster
// cannot provide go to warn.
func describeCluster(ctx context.Context, adm *kadm.Client, warn io.Writer, topics []string, filter healthFilter) (clusterDescription, error) {
	m, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return clusterDescription{}, fmt.Errorf("metadata: %w", err)
	}
	d := clusterDescription{ClusterID: m.Cluster, Controller: m.Controller, Agents: []agentSummary{}}
	for _, b := range m.Brokers {
		d.Agents = append(d.Agents, agentSummary{ID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack})
	}
	var tds []kadm.TopicDetail
	for _, td := range m.Topics.Sorted() {
		switch {
		case td.Topic == "":
			continue
		case errors.Is(td.Err, kerr.UnknownTopicOrPartition) && len(topics) > 0:
			return clusterDescription{}, topicNotFound(td.Topic)
		case td.Err != nil:
			fmt.Fprintf(warn, "strata: warning: topic %q is left out: %v\n", td.Topic, td.Err)
			continue
		}
		tds = append(tds, td)
	}
	d.Topics = len(tds)
	minISR, err := topicsMinISR(ctx, adm, warn, tds)
	if err != nil {
		return clusterDescription{}, err
	}
	d.Partitions = assessPartitions(tds, minISR, filter)
	return d, nil
}

// topicsMinISR reads the min.insync.replicas of each topic. It returns nil,
// with a warning, if the cluster does not serve DescribeConfigs; a topic
// whose configs cannot be read is missing from the map, also with a warning.
func topicsMinISR(ctx context.Context, adm *kadm.Client, warn io.Writer, tds []kadm.TopicDetail) (map[string]int, error) {
	if len(tds) == 0 {
		return map[string]int{}, nil
	}
	support, err := loadAPISupport(ctx, adm)
	if err != nil {
		return nil, err
	}
	if !support.supports(int16(kmsg.DescribeConfigs)) {
		fmt.Fprintln(warn, "strata: warning: the broker does not serve DescribeConfigs, so partitions under "+
			"min.insync.replicas cannot be found")
		return nil, nil
	}
	names := make([]string, len(tds))
	for i, td := range tds {
		names[i] = td.Topic
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err := partialOK(err); err != nil {
		return nil, fmt.Errorf("describe topic configs: %w", err)
	}
	out := make(map[string]int, len(rcs))
	for _, rc := range rcs {
		if rc.Err != nil {
			fmt.Fprintf(warn, "strata: warning: min.insync.replicas of topic %q is unknown: %v\n",
				rc.Name, withBrokerMessage(rc.Err, rc.ErrMessage))
			continue
		}
		for _, c := range rc.Configs {
			if c.Key != "min.insync.replicas" || c.Value == nil {
				continue
			}
			if n, err := strconv.Atoi(*c.Value); err == nil {
				out[rc.Name] = n
			}
		}
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			if _, failed := rcs.On(n, nil); failed != nil {
				fmt.Fprintf(warn, "strata: warning: min.insync.replicas of topic %q is unknown: no answer\n", n)
			}
		}
	}
	return out, nil
}

// assessPartitions classifies every partition of tds. minISR holds the
// min.insync.replicas of the topics whose value is known; nil means no
// topic's is.
func assessPartitions(tds []kadm.TopicDetail, minISR map[string]int, filter healthFilter) partitionHealth {
	h := partitionHealth{Affected: []partitionStatus{}}
	if minISR == nil {
		h.UnderMinISR = -1
	}
	for _, td := range tds {
		for _, pd := range td.Partitions.Sorted() {
			s := assessPartition(pd, minISR)
			h.Total++
			if s.UnderReplicated {
				h.UnderReplicated++
			}
			if s.UnderMinISR {
				h.UnderMinISR++
			}
			if s.Offline {
				h.Offline++
			}
			if s.PreferredLeaderImbalance {
				h.PreferredLeaderImbalance++
			}
			if filter.match(s) {
				h.Affected = append(h.Affected, s)
			}
		}
	}
	return h
}

// assessPartition classifies one partition.
func assessPartition(pd kadm.PartitionDetail, minISR map[string]int) partitionStatus {
	s := partitionStatus{
		Topic:             pd.Topic,
		Partition:         pd.Partition,
		Leader:            pd.Leader,
		Replicas:          nonNil(pd.Replicas),
		ISR:               nonNil(pd.ISR),
		OfflineReplicas:   nonNil(pd.OfflineReplicas),
		MinInsyncReplicas: -1,
	}
	if pd.Err != nil {
		s.Error = pd.Err.Error()
	}
	s.Offline = pd.Leader < 0 || errors.Is(pd.Err, kerr.LeaderNotAvailable)
	s.UnderReplicated = len(pd.ISR) < len(pd.Replicas)
	if n, ok := minISR[pd.Topic]; ok {
		s.MinInsyncReplicas = n
		s.UnderMinISR = len(pd.ISR) < n
	}
	s.PreferredLeaderImbalance = !s.Offline && len(pd.Replicas) > 0 && pd.Leader != pd.Replicas[0]
	return s
}

// printClusterDescription prints d in format.
func printClusterDescription(w io.Writer, format outputFormat, d clusterDescription, filter healthFilter) error {
	if format == outputJSON {
		return writeJSON(w, d)
	}
	tw := newTable(w)
	fmt.Fprintf(tw, "Cluster ID:\t%s\n", dash(d.ClusterID))
	fmt.Fprintf(tw, "Controller:\t%s\n", agentString(d.Controller))
	fmt.Fprintf(tw, "Agents:\t%d\n", len(d.Agents))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "AGENT\tHOST\tPORT\tRACK")
	for _, a := range d.Agents {
		id := strconv.Itoa(int(a.ID))
		if a.ID == d.Controller {
			id += " (controller)"
		}
		rack := ""
		if a.Rack != nil {
			rack = *a.Rack
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", id, a.Host, a.Port, dash(rack))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return printPartitionHealth(w, d.Topics, d.Partitions, filter)
}

// printPartitionHealth prints the partition counts and affected partitions
// as tables.
func printPartitionHealth(w io.Writer, topics int, h partitionHealth, filter healthFilter) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "Partitions:\t%d in %s\n", h.Total, plural(topics, "topic"))
	fmt.Fprintf(tw, "Under-replicated:\t%d\n", h.UnderReplicated)
	underMin := strconv.Itoa(h.UnderMinISR)
	if h.UnderMinISR < 0 {
		underMin = "unknown (the broker does not serve DescribeConfigs)"
	}
	fmt.Fprintf(tw, "Under min ISR:\t%s\n", underMin)
	fmt.Fprintf(tw, "Offline:\t%d\n", h.Offline)
	fmt.Fprintf(tw, "Not preferred leader:\t%d\n", h.PreferredLeaderImbalance)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(h.Affected) == 0 {
		if filter != (healthFilter{}) {
			fmt.Fprintln(w, "\nNo partition matches the filter.")
		} else if h.Total > 0 {
			fmt.Fprintln(w, "\nEvery partition is fully replicated, online and led by its preferred replica.")
		}
		return nil
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tLEADER\tREPLICAS\tISR\tMIN-ISR\tPROBLEMS")
	for _, s := range h.Affected {
		minISR := "-"
		if s.MinInsyncReplicas >= 0 {
			minISR = strconv.Itoa(s.MinInsyncReplicas)
		}
		problems := strings.Join(s.problems(), ",")
		if s.Error != "" {
			problems += " (" + s.Error + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", s.Topic, s.Partition, agentString(s.Leader),
			joinInt32s(s.Replicas), joinInt32s(s.ISR), minISR, problems)
	}
	return tw.Flush()
}

// agentString renders an agent ID, or "none" for -1.
func agentString(id int32) string {
	if id < 0 {
		return "none"
	}
	return strconv.Itoa(int(id))
}
