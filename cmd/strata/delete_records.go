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

// offsetsFile is the --offset-json format of Kafka's kafka-delete-records.sh:
//
//	{"version":1,"partitions":[{"topic":"orders","partition":0,"offset":100}]}
//
// offset is where the log should start afterwards: every record before it
// is deleted; -1 means the high watermark (delete everything).
type offsetsFile struct {
	Version    int                   `json:"version"`
	Partitions []offsetsFilePosition `json:"partitions"`
}

type offsetsFilePosition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// deleteBefore is one partition of a delete-records request.
type deleteBefore struct {
	topic     string
	partition int32
	offset    int64 // -1: the high watermark
}

// parseOffsetsFile decodes and validates an --offset-json file: version 1,
// at least one partition, none twice, offsets >= -1.
func parseOffsetsFile(data []byte) ([]deleteBefore, error) {
	var f offsetsFile
	if err := decodeStrictJSON(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", errInvalidPlan, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("%w: \"version\" is %d, want 1", errInvalidPlan, f.Version)
	}
	if len(f.Partitions) == 0 {
		return nil, fmt.Errorf("%w: \"partitions\" is empty", errInvalidPlan)
	}
	seen := make(kadm.TopicsSet)
	out := make([]deleteBefore, 0, len(f.Partitions))
	for i, p := range f.Partitions {
		switch {
		case p.Topic == "":
			return nil, fmt.Errorf("%w: partitions[%d]: \"topic\" is missing or empty", errInvalidPlan, i)
		case p.Partition < 0:
			return nil, fmt.Errorf("%w: partitions[%d]: \"partition\" %d is negative", errInvalidPlan, i, p.Partition)
		case p.Offset < -1:
			return nil, fmt.Errorf("%w: partitions[%d]: \"offset\" %d: want an offset >= 0, or -1 for the high watermark",
				errInvalidPlan, i, p.Offset)
		case seen.Lookup(p.Topic, p.Partition):
			return nil, fmt.Errorf("%w: partitions[%d]: %s-%d is listed twice", errInvalidPlan, i, p.Topic, p.Partition)
		}
		seen.Add(p.Topic, p.Partition)
		out = append(out, deleteBefore{topic: p.Topic, partition: p.Partition, offset: p.Offset})
	}
	return out, nil
}

// parseBefore parses --before: an offset >= 0, or "end" (alias "latest",
// "-1") for the high watermark.
func parseBefore(s string) (int64, error) {
	switch strings.ToLower(s) {
	case "end", "latest", "-1":
		return -1, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--before %q: want an offset >= 0, or end for the high watermark", s)
	}
	return n, nil
}

// recordDeletion is the result for one partition of `strata delete-records`.
// The JSON shape is stable.
type recordDeletion struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Before is the requested offset; -1 means the high watermark.
	Before int64 `json:"before"`
	// LowWatermark is the partition's log start offset afterwards, -1 if
	// the deletion failed.
	LowWatermark int64  `json:"low_watermark"`
	Error        string `json:"error,omitempty"`

	err error // the Kafka error behind Error, for hints
}

// deleteRecordsOptions are the flags of delete-records.
type deleteRecordsOptions struct {
	topic      string
	partitions []int32
	before     string
	offsetJSON string
	output     string
}

func newDeleteRecordsCmd() *cobra.Command {
	co := &clientOptions{}
	o := &deleteRecordsOptions{}
	cmd := &cobra.Command{
		Use:   "delete-records (--topic TOPIC [--partition P]... --before OFFSET | --offset-json FILE)",
		Short: "Delete the records before an offset (move the log start offset)",
		Long: `Delete every record before an offset in some partitions (DeleteRecords),
like Kafka's kafka-delete-records.sh: the partition's log start offset moves
to OFFSET and earlier records can no longer be read. Later offsets do not
change. This cannot be undone.

Either --topic TOPIC --before OFFSET, for every partition of the topic or for
those given with --partition; OFFSET "end" means the high watermark, deleting
everything written so far. Or --offset-json FILE ("-" for stdin) in Kafka's
format:

  {"version":1,"partitions":[{"topic":"orders","partition":0,"offset":100}]}

where offset -1 means the high watermark.`,
		Example: `  strata delete-records --topic orders --partition 0 --before 1000
  strata delete-records --topic orders --before end        # empty every partition
  strata delete-records --offset-json offsets.json --output json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(o.output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			req, err := o.request(cmd)
			if err != nil {
				return err
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				return deleteRecords(ctx, adm, cmd.OutOrStdout(), format, req)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.topic, "topic", "t", "", "topic to delete records from")
	fs.Int32SliceVarP(&o.partitions, "partition", "p", nil, "only these partitions (comma-separated or repeated; default all)")
	fs.StringVar(&o.before, "before", "", "delete records before this offset (end: the high watermark)")
	fs.StringVar(&o.offsetJSON, "offset-json", "", `partitions and offsets in kafka-delete-records.sh's JSON format ("-": stdin)`)
	fs.StringVarP(&o.output, "output", "o", string(outputTable), "output format: table or json")
	co.addFlags(fs)
	return cmd
}

// request validates the flags and returns the partitions to delete from;
// with --topic and no --partition, partitions is empty and every partition
// of the topic is meant.
func (o *deleteRecordsOptions) request(cmd *cobra.Command) ([]deleteBefore, error) {
	switch {
	case o.topic == "" && o.offsetJSON == "":
		return nil, usagef(cmd, "give --topic TOPIC --before OFFSET, or --offset-json FILE")
	case o.topic != "" && o.offsetJSON != "":
		return nil, usagef(cmd, "--topic and --offset-json are exclusive: give one")
	case o.offsetJSON != "" && (o.before != "" || len(o.partitions) > 0):
		return nil, usagef(cmd, "--partition and --before go with --topic, not --offset-json")
	case o.topic != "" && o.before == "":
		return nil, usagef(cmd, "--before OFFSET is required with --topic")
	}
	if o.offsetJSON != "" {
		data, err := readPlanFile(o.offsetJSON, cmd.InOrStdin())
		if err != nil {
			return nil, err
		}
		req, err := parseOffsetsFile(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.offsetJSON, err)
		}
		return req, nil
	}
	before, err := parseBefore(o.before)
	if err != nil {
		return nil, &usageError{cmd: cmd, err: err}
	}
	req := make([]deleteBefore, 0, len(o.partitions))
	seen := map[int32]bool{}
	for _, p := range o.partitions {
		if p < 0 {
			return nil, usagef(cmd, "--partition %d must be >= 0", p)
		}
		if !seen[p] {
			seen[p] = true
			req = append(req, deleteBefore{topic: o.topic, partition: p, offset: before})
		}
	}
	if len(req) == 0 {
		req = append(req, deleteBefore{topic: o.topic, partition: -1, offset: before})
	}
	return req, nil
}

// deleteRecords checks that the partitions exist and deletes. A request
// entry with partition -1 stands for every partition of its topic.
func deleteRecords(ctx context.Context, adm *kadm.Client, out io.Writer, format outputFormat, req []deleteBefore) error {
	if _, err := requireAPIs(ctx, adm, "deleting records", kmsg.DeleteRecords); err != nil {
		return err
	}
	counts := map[string]int{}
	var offsets kadm.Offsets
	var wanted []recordDeletion
	for _, d := range req {
		n, ok := counts[d.topic]
		if !ok {
			var err error
			if n, err = topicPartitions(ctx, adm, d.topic); err != nil {
				return err
			}
			counts[d.topic] = n
		}
		ps := []int32{d.partition}
		if d.partition < 0 {
			ps = ps[:0]
			for p := range int32(n) {
				ps = append(ps, p)
			}
		}
		for _, p := range ps {
			if err := checkPartition(d.topic, p, n); err != nil {
				return err
			}
			offsets.Add(kadm.Offset{Topic: d.topic, Partition: p, At: d.offset, LeaderEpoch: -1})
			wanted = append(wanted, recordDeletion{Topic: d.topic, Partition: p, Before: d.offset, LowWatermark: -1})
		}
	}
	rs, err := adm.DeleteRecords(ctx, offsets)
	var se *kadm.ShardErrors
	if err != nil && !errors.As(err, &se) {
		return fmt.Errorf("delete records: %w", err)
	}
	for i := range wanted {
		w := &wanted[i]
		r, rerr := rs.On(w.Topic, w.Partition, nil)
		switch {
		case rerr != nil && se != nil:
			w.Error = fmt.Sprintf("no answer from the partition's leader: %v", err)
		case rerr != nil:
			w.Error = "the broker's response does not mention the partition"
		case r.Err != nil:
			w.err, w.Error = r.Err, r.Err.Error()
		default:
			w.LowWatermark = r.LowWatermark
		}
	}
	sortByPartition(wanted, func(d recordDeletion) (string, int32) { return d.Topic, d.Partition })
	if err := printRecordDeletions(out, format, wanted); err != nil {
		return err
	}
	return deletionError(wanted)
}

// deletionError summarises failed partitions with a hint, or returns nil.
func deletionError(results []recordDeletion) error {
	failed := 0
	var first *recordDeletion
	for i := range results {
		if results[i].Error != "" {
			failed++
			if first == nil {
				first = &results[i]
			}
		}
	}
	if first == nil {
		return nil
	}
	err := fmt.Errorf("delete records: %d of %s failed, first: %s-%d: %s", failed,
		plural(len(results), "partition"), first.Topic, first.Partition, first.Error)
	switch {
	case errors.Is(first.err, kerr.OffsetOutOfRange):
		err = fmt.Errorf("%w (the offset is past the high watermark; see 'strata topic describe %s', "+
			"or delete everything with --before end)", err, first.Topic)
	case errors.Is(first.err, kerr.PolicyViolation):
		err = fmt.Errorf("%w (records cannot be deleted from a compacted topic, cleanup.policy=compact)", err)
	}
	return err
}

// printRecordDeletions prints results in format.
func printRecordDeletions(w io.Writer, format outputFormat, results []recordDeletion) error {
	if format == outputJSON {
		return writeJSON(w, results)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tBEFORE\tLOW-WATERMARK\tSTATUS")
	for _, r := range results {
		before := strconv.FormatInt(r.Before, 10)
		if r.Before < 0 {
			before = "end"
		}
		status := "Deleted"
		if r.Error != "" {
			status = "Error: " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", r.Topic, r.Partition, before, offsetString(r.LowWatermark), status)
	}
	return tw.Flush()
}
