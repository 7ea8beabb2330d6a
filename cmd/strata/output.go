package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// The JSON shapes below are a stable interface for scripts: fields are only
// ever added, never renamed or removed. Slices are always emitted as arrays
// (never null), and -1 stands for "unknown" in numeric fields.

// topicSummary is one row of `strata topic list`.
type topicSummary struct {
	Name              string `json:"name"`
	TopicID           string `json:"topic_id"` // "" if the broker has no topic IDs
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
	Internal          bool   `json:"internal"`
}

// topicDescription is one topic of `strata topic describe`.
type topicDescription struct {
	Name              string                 `json:"name"`
	TopicID           string                 `json:"topic_id"`
	Internal          bool                   `json:"internal"`
	ReplicationFactor int                    `json:"replication_factor"`
	Partitions        []partitionDescription `json:"partitions"`
	// Configs are the topic's configs whose value does not come from the
	// broker's built-in defaults, sorted by name.
	Configs []configEntry `json:"configs"`
}

// partitionDescription is one partition of a described topic.
type partitionDescription struct {
	Partition       int32   `json:"partition"`
	Leader          int32   `json:"leader"`
	LeaderEpoch     int32   `json:"leader_epoch"`
	Replicas        []int32 `json:"replicas"`
	ISR             []int32 `json:"isr"`
	OfflineReplicas []int32 `json:"offline_replicas"`
	LogStartOffset  int64   `json:"log_start_offset"`
	HighWatermark   int64   `json:"high_watermark"`
	// Error is the Kafka error loading this partition's metadata or
	// offsets, if any.
	Error string `json:"error,omitempty"`
}

// configEntry is one config value of a topic.
type configEntry struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"` // null when sensitive or unset
	Source    string  `json:"source"`
	Sensitive bool    `json:"sensitive"`
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// newTable returns a writer that aligns tab-separated columns; the caller
// must Flush it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}

// printTopicList prints topics in format.
func printTopicList(w io.Writer, format outputFormat, topics []topicSummary) error {
	if format == outputJSON {
		if topics == nil {
			topics = []topicSummary{}
		}
		return writeJSON(w, topics)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tPARTITIONS\tREPLICATION-FACTOR\tTOPIC-ID")
	for _, t := range topics {
		name := t.Name
		if t.Internal {
			name += " (internal)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", name, t.Partitions, t.ReplicationFactor, dash(t.TopicID))
	}
	return tw.Flush()
}

// printTopicDescriptions prints described topics in format.
func printTopicDescriptions(w io.Writer, format outputFormat, topics []topicDescription) error {
	if format == outputJSON {
		if topics == nil {
			topics = []topicDescription{}
		}
		return writeJSON(w, topics)
	}
	for i, t := range topics {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := printTopicDescription(w, t); err != nil {
			return err
		}
	}
	return nil
}

func printTopicDescription(w io.Writer, t topicDescription) error {
	tw := newTable(w)
	name := t.Name
	if t.Internal {
		name += " (internal)"
	}
	fmt.Fprintf(tw, "Topic:\t%s\n", name)
	fmt.Fprintf(tw, "Topic ID:\t%s\n", dash(t.TopicID))
	fmt.Fprintf(tw, "Partitions:\t%d\n", len(t.Partitions))
	fmt.Fprintf(tw, "Replication factor:\t%d\n", t.ReplicationFactor)
	if len(t.Configs) == 0 {
		fmt.Fprintf(tw, "Configs:\t(all defaults)\n")
	}
	for i, c := range t.Configs {
		label := ""
		if i == 0 {
			label = "Configs:"
		}
		fmt.Fprintf(tw, "%s\t%s=%s (%s)\n", label, c.Name, configValue(c), c.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "PARTITION\tLEADER\tLEADER-EPOCH\tREPLICAS\tISR\tLOG-START-OFFSET\tHIGH-WATERMARK\tERROR")
	for _, p := range t.Partitions {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n",
			p.Partition, p.Leader, p.LeaderEpoch, joinInt32s(p.Replicas), joinInt32s(p.ISR),
			offsetString(p.LogStartOffset), offsetString(p.HighWatermark), dash(p.Error))
	}
	return tw.Flush()
}

// configValue renders a config value for the table view.
func configValue(c configEntry) string {
	switch {
	case c.Sensitive:
		return "(sensitive)"
	case c.Value == nil:
		return "(null)"
	}
	return *c.Value
}

// joinInt32s renders broker IDs as "1,2,3", or "-" for none.
func joinInt32s(ids []int32) string {
	if len(ids) == 0 {
		return "-"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// offsetString renders an offset, or "-" if it is unknown (-1).
func offsetString(o int64) string {
	if o < 0 {
		return "-"
	}
	return strconv.FormatInt(o, 10)
}

// dash returns s, or "-" if s is empty, so table columns never collapse.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
