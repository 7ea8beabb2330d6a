package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupDescription is one group of `strata group describe`. Like the topic
// shapes in output.go it is a stable interface for scripts.
type groupDescription struct {
	Group        string           `json:"group"`
	State        string           `json:"state"`
	ProtocolType string           `json:"protocol_type"` // "consumer" for consumers
	Protocol     string           `json:"protocol"`      // the assignor, e.g. "range"; "" while rebalancing
	Coordinator  groupCoordinator `json:"coordinator"`
	Members      []groupMember    `json:"members"`
	// Offsets has one entry per partition that is assigned to a member or
	// has a committed offset, sorted by topic and partition.
	Offsets []groupOffset `json:"offsets"`
	// TotalLag is the sum of the known, positive lags of Offsets.
	TotalLag int64 `json:"total_lag"`
}

// groupCoordinator is the broker coordinating a group.
type groupCoordinator struct {
	NodeID int32  `json:"node_id"`
	Host   string `json:"host"`
	Port   int32  `json:"port"`
}

// groupMember is one live member of a group.
type groupMember struct {
	MemberID   string `json:"member_id"`
	InstanceID string `json:"instance_id"` // group.instance.id of a static member, else ""
	ClientID   string `json:"client_id"`
	ClientHost string `json:"client_host"`
	// Assignments are the partitions the member consumes, by topic.
	Assignments []topicAssignment `json:"assignments"`
}

// topicAssignment is a set of partitions of one topic.
type topicAssignment struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// groupOffset is the position of a group in one partition.
type groupOffset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// CommittedOffset is the group's committed offset, -1 if none.
	CommittedOffset int64 `json:"committed_offset"`
	// LogEndOffset is the partition's log end offset (high watermark), -1
	// if unknown.
	LogEndOffset int64 `json:"log_end_offset"`
	// Lag is LogEndOffset - CommittedOffset, or -1 if either is unknown.
	// As in Kafka's tools it is negative when the committed offset is
	// past the end of the log.
	Lag int64 `json:"lag"`
	// MemberID, ClientID and ClientHost name the member the partition is
	// assigned to; all "" if none is.
	MemberID   string `json:"member_id"`
	ClientID   string `json:"client_id"`
	ClientHost string `json:"client_host"`
	// Error is the Kafka error loading the committed or end offset, if any.
	Error string `json:"error,omitempty"`
}

func newGroupDescribeCmd(co *clientOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "describe [GROUP...]",
		Short: "Show members, committed offsets and lag of consumer groups",
		Long: `Show, for each group: its state, protocol type, assignor (protocol) and
coordinator; each live member with its client ID, host and assigned
partitions; and for each partition that is assigned or has a committed
offset, the committed offset (OffsetFetch), the log end offset (ListOffsets)
and the lag between them.

Without GROUP, every group is described. With --output json the result is a
JSON array with a stable shape, one object per group; -1 stands for an unknown
offset or lag, and "" for no member.`,
		Example: `  strata group describe audit
  strata group describe audit billing --output json
  strata group describe --output json | jq '.[] | {group, total_lag}'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				descs, err := describeGroups(ctx, adm, args)
				if err != nil {
					return err
				}
				return printGroupDescriptions(cmd.OutOrStdout(), format, descs)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// describeGroups describes the named groups (all groups if names is empty),
// in the order given, or sorted by name when listing all.
func describeGroups(ctx context.Context, adm *kadm.Client, names []string) ([]groupDescription, error) {
	all := len(names) == 0
	apis := append(slices.Clone(groupAdminAPIs), kmsg.ListOffsets)
	if all {
		apis = append(apis, kmsg.ListGroups)
	}
	support, err := requireAPIs(ctx, adm, "describing consumer groups", apis...)
	if err != nil {
		return nil, err
	}
	if all {
		listed, err := adm.ListGroups(ctx)
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		names = listed.Groups()
	} else {
		names = compactStrings(names)
	}
	if len(names) == 0 {
		return nil, nil
	}
	groups, err := describeGroupMeta(ctx, adm, support, names)
	if err != nil {
		return nil, err
	}

	descs := make([]groupDescription, 0, len(names))
	commits := make(map[string]kadm.OffsetResponses, len(names))
	topics := make(map[string]bool)
	for _, name := range names {
		d, ok := groups[name]
		switch {
		case !ok && all:
			continue // deleted since it was listed, or not a consumer group (e.g. a share group)
		case !ok:
			return nil, groupNotFound(name)
		}
		os, err := fetchCommitted(ctx, adm, name)
		if err != nil {
			return nil, err
		}
		commits[name] = os
		for t := range os {
			topics[t] = true
		}
		for _, m := range d.Members {
			for _, a := range m.Assignments {
				topics[a.Topic] = true
			}
		}
		descs = append(descs, d)
	}

	var ends kadm.ListedOffsets
	if len(topics) > 0 { // no topics would list every topic
		ends, err = adm.ListEndOffsets(ctx, slices.Sorted(maps.Keys(topics))...)
		if err := partialOK(err); err != nil {
			return nil, fmt.Errorf("list log end offsets: %w", err)
		}
	}
	for i := range descs {
		descs[i].Offsets = groupOffsets(descs[i].Members, commits[descs[i].Group], ends)
		descs[i].TotalLag = totalLag(descs[i].Offsets)
	}
	return descs, nil
}

// compactStrings returns s without duplicates, keeping the first of each.
func compactStrings(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := make([]string, 0, len(s))
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// fetchCommitted returns the committed offsets of group; a group without
// any is not an error.
func fetchCommitted(ctx context.Context, adm *kadm.Client, group string) (kadm.OffsetResponses, error) {
	os, err := adm.FetchOffsets(ctx, group)
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		return kadm.OffsetResponses{}, nil
	case err != nil:
		return nil, fmt.Errorf("fetch committed offsets of group %q: %w", group, err)
	}
	return os, nil
}

// describeGroupMeta describes groups and returns those that exist, without
// offsets. Kafka 4 describes KIP-848 consumer groups only with
// ConsumerGroupDescribe, and classic groups only with DescribeGroups, so
// when the broker serves the former it is asked first and the latter for
// the groups it does not know.
func describeGroupMeta(ctx context.Context, adm *kadm.Client, support *apiSupport, names []string) (map[string]groupDescription, error) {
	out := make(map[string]groupDescription, len(names))
	classic := names
	if support.supports(int16(kmsg.ConsumerGroupDescribe)) {
		// Any failure here leaves the group to DescribeGroups, which
		// reports errors for every kind of group.
		cgs, _ := adm.DescribeConsumerGroups(ctx, names...)
		classic = nil
		for _, name := range names {
			if cg, ok := cgs[name]; ok && cg.Err == nil && cg.State != "Dead" {
				out[name] = consumerGroup(cg)
			} else {
				classic = append(classic, name)
			}
		}
		if len(classic) == 0 {
			return out, nil
		}
	}
	ds, err := adm.DescribeGroups(ctx, classic...)
	if err := partialOK(err); err != nil {
		return nil, fmt.Errorf("describe groups: %w", err)
	}
	for _, name := range classic {
		d, ok := ds[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("describe group %q: no answer from its coordinator: %w", name, err)
		case errors.Is(d.Err, kerr.GroupIDNotFound), d.Err == nil && d.State == "Dead":
			// Does not exist (Dead without an error from brokers before
			// DescribeGroups v6).
		case d.Err != nil:
			return nil, fmt.Errorf("describe group %q: %w", name, withBrokerMessage(d.Err, d.ErrMessage))
		default:
			out[name] = classicGroup(d)
		}
	}
	return out, nil
}

// classicGroup converts a DescribeGroups answer.
func classicGroup(d kadm.DescribedGroup) groupDescription {
	g := groupDescription{
		Group:        d.Group,
		State:        d.State,
		ProtocolType: d.ProtocolType,
		Protocol:     d.Protocol,
		Coordinator:  coordinatorOf(d.Coordinator),
		Members:      make([]groupMember, 0, len(d.Members)),
	}
	for _, m := range d.Members {
		gm := groupMember{MemberID: m.MemberID, ClientID: m.ClientID, ClientHost: m.ClientHost}
		if m.InstanceID != nil {
			gm.InstanceID = *m.InstanceID
		}
		assigned := make(kadm.TopicsSet)
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				assigned.Add(t.Topic, t.Partitions...)
			}
		}
		gm.Assignments = assignments(assigned)
		g.Members = append(g.Members, gm)
	}
	return g
}

// consumerGroup converts a ConsumerGroupDescribe (KIP-848) answer.
func consumerGroup(d kadm.DescribedConsumerGroup) groupDescription {
	g := groupDescription{
		Group:        d.Group,
		State:        d.State,
		ProtocolType: "consumer",
		Protocol:     d.AssignorName,
		Coordinator:  coordinatorOf(d.Coordinator),
		Members:      make([]groupMember, 0, len(d.Members)),
	}
	for _, m := range d.Members {
		// Kafka names the topics; a broker that sends only topic IDs
		// leaves names empty, and such entries cannot be shown.
		assigned := maps.Clone(m.Assignment)
		delete(assigned, "")
		gm := groupMember{MemberID: m.MemberID, ClientID: m.ClientID, ClientHost: m.ClientHost,
			Assignments: assignments(assigned)}
		if m.InstanceID != nil {
			gm.InstanceID = *m.InstanceID
		}
		g.Members = append(g.Members, gm)
	}
	return g
}

func coordinatorOf(b kadm.BrokerDetail) groupCoordinator {
	return groupCoordinator{NodeID: b.NodeID, Host: b.Host, Port: b.Port}
}

// assignments lists s sorted by topic and partition, never nil.
func assignments(s kadm.TopicsSet) []topicAssignment {
	out := []topicAssignment{}
	for _, tp := range s.Sorted() {
		if len(tp.Partitions) > 0 {
			out = append(out, topicAssignment{Topic: tp.Topic, Partitions: tp.Partitions})
		}
	}
	return out
}

// groupOffsets combines the members' assignments, the committed offsets and
// the log end offsets into one row per partition, sorted.
func groupOffsets(members []groupMember, commits kadm.OffsetResponses, ends kadm.ListedOffsets) []groupOffset {
	rows := make(map[string]map[int32]*groupOffset)
	row := func(t string, p int32) *groupOffset {
		if rows[t] == nil {
			rows[t] = make(map[int32]*groupOffset)
		}
		r := rows[t][p]
		if r == nil {
			r = &groupOffset{Topic: t, Partition: p, CommittedOffset: -1, LogEndOffset: -1, Lag: -1}
			rows[t][p] = r
		}
		return r
	}
	for _, m := range members {
		for _, a := range m.Assignments {
			for _, p := range a.Partitions {
				r := row(a.Topic, p)
				r.MemberID, r.ClientID, r.ClientHost = m.MemberID, m.ClientID, m.ClientHost
			}
		}
	}
	for _, c := range commits.Sorted() {
		switch {
		case c.Err != nil:
			row(c.Topic, c.Partition).Error = fmt.Sprintf("committed offset: %v", c.Err)
		case c.At >= 0:
			row(c.Topic, c.Partition).CommittedOffset = c.At
		}
	}

	var out []groupOffset
	for _, t := range slices.Sorted(maps.Keys(rows)) {
		for _, p := range slices.Sorted(maps.Keys(rows[t])) {
			r := rows[t][p]
			end, err := listedOffset(ends, t, p)
			switch {
			case err != nil && r.Error == "":
				r.Error = fmt.Sprintf("log end offset: %v", err)
			case err == nil:
				r.LogEndOffset = end
			}
			if r.CommittedOffset >= 0 && r.LogEndOffset >= 0 {
				r.Lag = r.LogEndOffset - r.CommittedOffset
			}
			out = append(out, *r)
		}
	}
	if out == nil {
		out = []groupOffset{}
	}
	return out
}

// totalLag sums the known, positive lags.
func totalLag(rows []groupOffset) int64 {
	var sum int64
	for _, r := range rows {
		if r.Lag > 0 {
			sum += r.Lag
		}
	}
	return sum
}

// printGroupDescriptions prints described groups in format.
func printGroupDescriptions(w io.Writer, format outputFormat, groups []groupDescription) error {
	if format == outputJSON {
		if groups == nil {
			groups = []groupDescription{}
		}
		return writeJSON(w, groups)
	}
	for i, g := range groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := printGroupDescription(w, g); err != nil {
			return err
		}
	}
	return nil
}

func printGroupDescription(w io.Writer, g groupDescription) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "Group:\t%s\n", g.Group)
	fmt.Fprintf(tw, "State:\t%s\n", dash(g.State))
	fmt.Fprintf(tw, "Protocol type:\t%s\n", dash(g.ProtocolType))
	fmt.Fprintf(tw, "Protocol:\t%s\n", dash(g.Protocol))
	fmt.Fprintf(tw, "Coordinator:\t%d (%s)\n", g.Coordinator.NodeID,
		net.JoinHostPort(g.Coordinator.Host, strconv.Itoa(int(g.Coordinator.Port))))
	fmt.Fprintf(tw, "Members:\t%d\n", len(g.Members))
	fmt.Fprintf(tw, "Total lag:\t%d\n", g.TotalLag)
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(g.Members) > 0 {
		fmt.Fprintln(w)
		tw = newTable(w)
		fmt.Fprintln(tw, "CONSUMER-ID\tINSTANCE-ID\tHOST\tCLIENT-ID\t#PARTITIONS\tASSIGNMENT")
		for _, m := range g.Members {
			n := 0
			for _, a := range m.Assignments {
				n += len(a.Partitions)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", m.MemberID, dash(m.InstanceID), dash(m.ClientHost),
				dash(m.ClientID), n, formatAssignments(m.Assignments))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w)
	if len(g.Offsets) == 0 {
		fmt.Fprintln(w, "No partition is assigned and no offset is committed.")
		return nil
	}
	tw = newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-END-OFFSET\tLAG\tCONSUMER-ID\tHOST\tCLIENT-ID\tERROR")
	for _, o := range g.Offsets {
		lag := "-"
		if o.CommittedOffset >= 0 && o.LogEndOffset >= 0 {
			lag = strconv.FormatInt(o.Lag, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Topic, o.Partition,
			offsetString(o.CommittedOffset), offsetString(o.LogEndOffset), lag,
			dash(o.MemberID), dash(o.ClientHost), dash(o.ClientID), dash(o.Error))
	}
	return tw.Flush()
}

// formatAssignments renders assignments like Kafka's tools: "t1(0,1),t2(3)",
// or "-" for none.
func formatAssignments(as []topicAssignment) string {
	if len(as) == 0 {
		return "-"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.Topic + "(" + joinInt32s(a.Partitions) + ")"
	}
	return strings.Join(parts, ",")
}
