package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// logDir is one log directory of one agent, as `strata log-dirs` reports it.
// The JSON shape is stable.
type logDir struct {
	Agent int32  `json:"agent"`
	Dir   string `json:"dir"`
	// Size is the total size of the listed partitions in this directory.
	Size int64 `json:"size"`
	// TotalBytes and UsableBytes describe the volume holding the
	// directory; -1 when the broker does not report them (before Kafka 3.3).
	TotalBytes  int64             `json:"total_bytes"`
	UsableBytes int64             `json:"usable_bytes"`
	Partitions  []logDirPartition `json:"partitions"`
	// Error is the Kafka error that kept the directory from being described
	// (KAFKA_STORAGE_ERROR for a failed disk).
	Error string `json:"error,omitempty"`
}

// logDirPartition is one partition replica in a log directory.
type logDirPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Size      int64  `json:"size"`
	// OffsetLag is how far this replica's log end offset is behind the
	// high watermark (for a future replica: behind the current replica).
	OffsetLag int64 `json:"offset_lag"`
	// IsFuture marks a replica being moved into this directory.
	IsFuture bool `json:"is_future"`
}

func newLogDirsCmd() *cobra.Command {
	co := &clientOptions{}
	var (
		agents []int32
		topics []string
		output string
	)
	cmd := &cobra.Command{
		Use:   "log-dirs [--agent ID]... [--topic TOPIC[:P,...]]...",
		Short: "Show how much each agent stores per partition, and replica lag",
		Long: `Show each agent's log directories (DescribeLogDirs), like Kafka's
kafka-log-dirs.sh: per directory its total size and, where the broker reports
them, the size and free space of its volume; per partition replica its size
on disk and its offset lag (how far its log end is behind the high
watermark).

Strata keeps only the hot tail of each partition on an agent's disk; older
segments live in object storage and are not counted here.

--agent limits the report to some agents, --topic to some topics (TOPIC for
all its partitions, TOPIC:P,P,... for some).`,
		Example: `  strata log-dirs
  strata log-dirs --agent 1 --topic orders
  strata log-dirs --output json | jq '[.[] | {agent, size}]'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			if err := parseAgentIDs("--agent", agents); err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			var specs topicSpecs
			if len(topics) > 0 {
				if specs, err = parseTopicSpecs(topics); err != nil {
					return &usageError{cmd: cmd, err: err}
				}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				dirs, err := describeLogDirs(ctx, adm, agents, specs)
				if dirs == nil {
					return err
				}
				if perr := printLogDirs(cmd.OutOrStdout(), format, dirs); perr != nil {
					return perr
				}
				return err // some agents did not answer
			})
		},
	}
	fs := cmd.Flags()
	fs.Int32SliceVar(&agents, "agent", nil, "only these agent IDs (comma-separated or repeated)")
	fs.StringArrayVarP(&topics, "topic", "t", nil, "only TOPIC or TOPIC:PARTITION,... (repeatable)")
	fs.StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	co.addFlags(fs)
	return cmd
}

// describeLogDirs describes the log directories of agents (all if none),
// listing the partitions of specs (all if nil). If some agents did not
// answer, it returns those that did (never nil) with an error; otherwise an
// error comes with nil.
func describeLogDirs(ctx context.Context, adm *kadm.Client, agents []int32, specs topicSpecs) ([]logDir, error) {
	if _, err := requireAPIs(ctx, adm, "describing log directories", kmsg.DescribeLogDirs); err != nil {
		return nil, err
	}
	if err := requireAgents(ctx, adm, agents); err != nil {
		return nil, err
	}
	var set kadm.TopicsSet // nil: every partition
	if specs != nil {
		var err error
		if set, err = specs.resolve(ctx, adm); err != nil {
			return nil, err
		}
	}
	var (
		all     kadm.DescribedAllLogDirs
		partial error
	)
	if len(agents) == 0 {
		var err error
		all, err = adm.DescribeAllLogDirs(ctx, set)
		var se *kadm.ShardErrors
		switch {
		case errors.As(err, &se):
			partial = fmt.Errorf("describe log dirs: not every agent answered, the list is incomplete: %w", err)
		case err != nil:
			return nil, fmt.Errorf("describe log dirs: %w", err)
		}
	} else {
		all = make(kadm.DescribedAllLogDirs, len(agents))
		for _, id := range agents {
			ds, err := adm.DescribeBrokerLogDirs(ctx, id, set)
			if err != nil {
				return nil, fmt.Errorf("describe log dirs of agent %d: %w", id, err)
			}
			all[id] = ds
		}
	}
	return logDirsOf(all), partial
}

// logDirsOf converts described directories, sorted by agent and directory,
// their partitions by topic and partition.
func logDirsOf(all kadm.DescribedAllLogDirs) []logDir {
	out := []logDir{}
	for _, d := range all.Sorted() {
		ld := logDir{Agent: d.Broker, Dir: d.Dir, TotalBytes: d.TotalBytes, UsableBytes: d.UsableBytes,
			Partitions: []logDirPartition{}}
		if d.Err != nil {
			ld.Error = d.Err.Error()
		}
		for _, p := range d.Topics.Sorted() {
			ld.Size += p.Size
			ld.Partitions = append(ld.Partitions, logDirPartition{Topic: p.Topic, Partition: p.Partition,
				Size: p.Size, OffsetLag: p.OffsetLag, IsFuture: p.IsFuture})
		}
		out = append(out, ld)
	}
	return out
}

// printLogDirs prints dirs in format: as tables, one line per directory and
// then one per partition replica.
func printLogDirs(w io.Writer, format outputFormat, dirs []logDir) error {
	if format == outputJSON {
		return writeJSON(w, dirs)
	}
	if len(dirs) == 0 {
		fmt.Fprintln(w, "No log directories.")
		return nil
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "AGENT\tDIR\tPARTITIONS\tSIZE\tVOLUME-SIZE\tVOLUME-FREE\tERROR")
	replicas := 0
	for _, d := range dirs {
		replicas += len(d.Partitions)
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", d.Agent, d.Dir, len(d.Partitions), formatBytes(d.Size),
			formatBytes(d.TotalBytes), formatBytes(d.UsableBytes), dash(d.Error))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if replicas == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "AGENT\tTOPIC\tPARTITION\tSIZE\tOFFSET-LAG\tDIR")
	for _, d := range dirs {
		for _, p := range d.Partitions {
			dir := d.Dir
			if p.IsFuture {
				dir += " (future)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%s\n", d.Agent, p.Topic, p.Partition, formatBytes(p.Size), p.OffsetLag, dir)
		}
	}
	return tw.Flush()
}

// formatBytes renders a byte count in binary units ("512 B", "1.5 MiB"), or
// "-" for a negative (unknown) count.
func formatBytes(n int64) string {
	if n < 0 {
		return "-"
	}
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
