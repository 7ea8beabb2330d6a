package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// resetMode is where reset-offsets moves a group's offsets.
type resetMode int

const (
	resetToEarliest resetMode = iota + 1
	resetToLatest
	resetToOffset
	resetToDatetime
	resetShiftBy
)

// resetModeFlags are the flags choosing a resetMode, in the order they are
// documented.
var resetModeFlags = []struct {
	name string
	mode resetMode
}{
	{"to-earliest", resetToEarliest},
	{"to-latest", resetToLatest},
	{"to-offset", resetToOffset},
	{"to-datetime", resetToDatetime},
	{"shift-by", resetShiftBy},
}

// resetSpec says where reset-offsets moves each partition.
type resetSpec struct {
	mode   resetMode
	offset int64 // resetToOffset: the offset; resetShiftBy: the shift
	millis int64 // resetToDatetime: the time in Unix milliseconds
}

// resetOptions are the flags of reset-offsets.
type resetOptions struct {
	topics     []string
	allTopics  bool
	toEarliest bool
	toLatest   bool
	toOffset   int64
	toDatetime string
	shiftBy    int64
	dryRun     bool
	execute    bool
	output     string
}

// resetConfig is a validated reset-offsets invocation.
type resetConfig struct {
	topics  topicSpecs // nil with --all-topics
	spec    resetSpec
	execute bool
	format  outputFormat
}

const resetLong = `Move the committed offsets of GROUP, which must have no live members (state
Empty; stop its consumers first). A group that does not exist yet is created
with the new offsets.

Which partitions: --topic TOPIC (all its partitions) or TOPIC:P,P,...
(repeatable), or --all-topics for every partition the group has committed
offsets for.

Where to, exactly one of:
  --to-earliest       the log start offset
  --to-latest         the log end offset (high watermark)
  --to-offset N       offset N
  --to-datetime TIME  the first record at or after TIME: RFC 3339
                      (2024-05-01T12:00:00Z, 2024-05-01T14:00:00.250+02:00) or
                      Kafka's yyyy-MM-ddTHH:mm:ss[.SSS], in UTC unless a zone
                      (Z, +hh:mm, +hhmm) follows; the log end offset if there
                      is none
  --shift-by N        the committed offset plus N (negative: back); only for
                      partitions that have one

A target outside the log is moved to the nearer end of it (log start or log
end), with a warning, as Kafka's kafka-consumer-groups does.

Like kafka-consumer-groups, this is a dry run by default: it prints the plan
(current and new offset per partition) and changes nothing. Add --execute to
commit the new offsets.`

func newGroupResetOffsetsCmd(co *clientOptions) *cobra.Command {
	o := &resetOptions{}
	cmd := &cobra.Command{
		Use:   "reset-offsets GROUP (--topic TOPIC[:P,...] | --all-topics) --to-WHERE [--execute]",
		Short: "Move a stopped group's committed offsets (dry run unless --execute)",
		Long:  resetLong,
		Example: `  # Show what re-reading orders from the start would do, then do it
  strata group reset-offsets audit --topic orders --to-earliest
  strata group reset-offsets audit --topic orders --to-earliest --execute

  # Skip partitions 0 and 1 to the end
  strata group reset-offsets audit --topic orders:0,1 --to-latest --execute

  # Re-read everything since a point in time, in every topic the group reads
  strata group reset-offsets audit --all-topics --to-datetime 2024-05-01T12:00:00Z --execute

  # Step back 100 records
  strata group reset-offsets audit --topic orders --shift-by -100 --execute`,
		Args: exactArgs(1, "one GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.config(cmd.Flags().Changed)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				return resetOffsets(ctx, adm, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], cfg)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&o.topics, "topic", "t", nil, "TOPIC or TOPIC:PARTITION,... to reset (repeatable)")
	fs.BoolVar(&o.allTopics, "all-topics", false, "reset every partition the group has committed offsets for")
	fs.BoolVar(&o.toEarliest, "to-earliest", false, "reset to the log start offset")
	fs.BoolVar(&o.toLatest, "to-latest", false, "reset to the log end offset")
	fs.Int64Var(&o.toOffset, "to-offset", 0, "reset to this offset")
	fs.StringVar(&o.toDatetime, "to-datetime", "", "reset to the first record at or after this time (RFC 3339)")
	fs.Int64Var(&o.shiftBy, "shift-by", 0, "move the committed offset by this many records (negative: back)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "only print the plan (the default)")
	fs.BoolVar(&o.execute, "execute", false, "commit the new offsets")
	fs.StringVarP(&o.output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// config validates the flags; changed reports whether a flag was given.
func (o *resetOptions) config(changed func(string) bool) (resetConfig, error) {
	var cfg resetConfig
	var err error
	if cfg.format, err = parseOutput(o.output); err != nil {
		return cfg, err
	}
	switch {
	case len(o.topics) == 0 && !o.allTopics:
		return cfg, errors.New("give --topic TOPIC[:PARTITION,...] (repeatable) or --all-topics")
	case len(o.topics) > 0 && o.allTopics:
		return cfg, errors.New("--topic and --all-topics are exclusive: give one")
	case o.dryRun && o.execute:
		return cfg, errors.New("--dry-run and --execute are exclusive: give one")
	}
	if len(o.topics) > 0 {
		if cfg.topics, err = parseTopicSpecs(o.topics); err != nil {
			return cfg, err
		}
	}
	cfg.execute = o.execute

	var given []string
	for _, f := range resetModeFlags {
		set := changed(f.name)
		if f.mode == resetToEarliest || f.mode == resetToLatest { // --to-earliest=false is not a choice
			set = (f.mode == resetToEarliest && o.toEarliest) || (f.mode == resetToLatest && o.toLatest)
		}
		if set {
			given = append(given, "--"+f.name)
			cfg.spec.mode = f.mode
		}
	}
	switch {
	case len(given) == 0:
		return cfg, errors.New("give where to reset to: one of --to-earliest, --to-latest, --to-offset N, " +
			"--to-datetime TIME or --shift-by N")
	case len(given) > 1:
		return cfg, fmt.Errorf("%s are exclusive: give one", strings.Join(given, " and "))
	}
	switch cfg.spec.mode {
	case resetToOffset:
		if o.toOffset < 0 {
			return cfg, fmt.Errorf("--to-offset must be >= 0, got %d", o.toOffset)
		}
		cfg.spec.offset = o.toOffset
	case resetShiftBy:
		cfg.spec.offset = o.shiftBy
	case resetToDatetime:
		if cfg.spec.millis, err = parseDateTime(o.toDatetime); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// dateTimeLayouts are the accepted --to-datetime formats. Fractional
// seconds are accepted after the seconds in each (time.Parse allows them).
var dateTimeLayouts = []string{
	"2006-01-02T15:04:05Z07:00", // RFC 3339, and Kafka's format with XXX zone
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05", // Kafka's format without zone: UTC
}

// parseDateTime parses --to-datetime into Unix milliseconds. A time without
// a zone is UTC, as in Kafka's kafka-consumer-groups (which appends "Z").
// Sub-millisecond digits are truncated.
func parseDateTime(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s)) // RFC 3339 allows "t" and "z"
	for _, layout := range dateTimeLayouts {
		t, err := time.Parse(layout, u)
		if err != nil {
			continue
		}
		if t.Before(time.Unix(0, 0)) { // negative timestamps mean "earliest" and "latest" to ListOffsets
			return 0, fmt.Errorf("--to-datetime %q is before 1970-01-01T00:00:00Z", s)
		}
		return t.UnixMilli(), nil
	}
	return 0, fmt.Errorf("--to-datetime %q: want RFC 3339 (2024-05-01T12:00:00Z, 2024-05-01T14:00:00.250+02:00) "+
		"or yyyy-MM-ddTHH:mm:ss[.SSS] (UTC)", s)
}

// partitionPosition is what reset-offsets knows about one partition.
type partitionPosition struct {
	topic     string
	partition int32
	committed int64 // -1: none
	logStart  int64
	logEnd    int64
	atTime    int64 // with --to-datetime: the first offset at or after the time
}

// resetRow is one partition of the plan.
type resetRow struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	CurrentOffset int64  `json:"current_offset"` // -1: none committed
	NewOffset     int64  `json:"new_offset"`
	// Error is the Kafka error that kept --execute from committing
	// NewOffset, if any.
	Error string `json:"error,omitempty"`
}

// resetResult is the output of reset-offsets.
type resetResult struct {
	Group    string     `json:"group"`
	Executed bool       `json:"executed"` // false for a dry run
	Offsets  []resetRow `json:"offsets"`
}

// planReset computes the new offset of each partition. Like Kafka's tool it
// clamps targets to [log start, log end]; each clamp yields a warning.
// Shifting a partition without a committed offset is an error.
func planReset(spec resetSpec, ps []partitionPosition) (rows []resetRow, warnings []string, err error) {
	var uncommitted []string
	for _, p := range ps {
		var target int64
		switch spec.mode {
		case resetToEarliest:
			target = p.logStart
		case resetToLatest:
			target = p.logEnd
		case resetToOffset:
			target = spec.offset
		case resetToDatetime:
			target = p.atTime
		case resetShiftBy:
			if p.committed < 0 {
				uncommitted = append(uncommitted, fmt.Sprintf("%s:%d", p.topic, p.partition))
				continue
			}
			target = addSaturating(p.committed, spec.offset)
		default:
			return nil, nil, fmt.Errorf("unknown reset mode %d", spec.mode)
		}
		clamped := min(max(target, p.logStart), p.logEnd)
		switch {
		case target > p.logEnd:
			warnings = append(warnings, fmt.Sprintf("topic %q partition %d: offset %d is past the log end offset %d; using %d",
				p.topic, p.partition, target, p.logEnd, clamped))
		case target < p.logStart:
			warnings = append(warnings, fmt.Sprintf("topic %q partition %d: offset %d is before the log start offset %d; using %d",
				p.topic, p.partition, target, p.logStart, clamped))
		}
		rows = append(rows, resetRow{Topic: p.topic, Partition: p.partition, CurrentOffset: p.committed, NewOffset: clamped})
	}
	if len(uncommitted) > 0 {
		return nil, nil, fmt.Errorf("cannot --shift-by in partitions without a committed offset: %s "+
			"(leave them out with --topic TOPIC:PARTITION,... or reset them with --to-earliest, --to-offset or --to-datetime)",
			strings.Join(uncommitted, ", "))
	}
	return rows, warnings, nil
}

// addSaturating returns a+b, or the int64 limit it overflows past.
func addSaturating(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}

// resetOffsets plans and, with --execute, commits the new offsets of group.
func resetOffsets(ctx context.Context, adm *kadm.Client, out, warn io.Writer, group string, cfg resetConfig) error {
	support, err := requireAPIs(ctx, adm, "resetting offsets", append(slices.Clone(groupAdminAPIs), kmsg.ListOffsets, kmsg.OffsetCommit)...)
	if err != nil {
		return err
	}
	groups, err := describeGroupMeta(ctx, adm, support, []string{group})
	if err != nil {
		return err
	}
	d, exists := groups[group]
	if exists && d.State != "Empty" {
		return fmt.Errorf("reset offsets of group %q: %w (state %s, %s): offsets can only be reset while the group "+
			"is Empty; stop its consumers and retry (see 'strata group describe %s')",
			group, errGroupActive, d.State, plural(len(d.Members), "live member"), group)
	}
	committed, err := fetchCommitted(ctx, adm, group)
	if err != nil {
		return err
	}
	set, err := cfg.partitions(ctx, adm, group, committed)
	if err != nil {
		return err
	}
	ps, err := positions(ctx, adm, cfg.spec, committed, set)
	if err != nil {
		return err
	}
	rows, warnings, err := planReset(cfg.spec, ps)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(warn, "strata: warning: %s\n", w)
	}
	res := resetResult{Group: group, Executed: cfg.execute, Offsets: rows}
	if !cfg.execute {
		if err := printResetResult(out, cfg.format, res); err != nil {
			return err
		}
		if !exists {
			fmt.Fprintf(warn, "Group %q does not exist yet; --execute creates it with these offsets.\n", group)
		}
		fmt.Fprintln(warn, "Dry run: nothing was changed. Add --execute to commit these offsets.")
		return nil
	}
	commitErr := commitReset(ctx, adm, group, res.Offsets)
	if err := printResetResult(out, cfg.format, res); err != nil {
		return err
	}
	if commitErr == nil {
		fmt.Fprintf(warn, "Reset the committed offsets of group %q in %s.\n", group, plural(len(rows), "partition"))
	}
	return commitErr
}

// partitions returns the partitions to reset: those named by --topic, or
// with --all-topics those with a committed offset.
func (c resetConfig) partitions(ctx context.Context, adm *kadm.Client, group string, committed kadm.OffsetResponses) (kadm.TopicsSet, error) {
	if c.topics != nil {
		return c.topics.resolve(ctx, adm)
	}
	set := make(kadm.TopicsSet)
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At >= 0 {
			set.Add(o.Topic, o.Partition)
		}
	})
	if len(set) == 0 {
		return nil, fmt.Errorf("group %q has no committed offsets, so --all-topics names no partition; "+
			"name them with --topic TOPIC[:PARTITION,...]", group)
	}
	return set, nil
}

// positions lists the log start and end offsets (and with --to-datetime the
// offsets at the time) of every partition in set.
func positions(ctx context.Context, adm *kadm.Client, spec resetSpec, committed kadm.OffsetResponses, set kadm.TopicsSet) ([]partitionPosition, error) {
	topics := set.Topics()
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err := partialOK(err); err != nil {
		return nil, fmt.Errorf("list log start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err := partialOK(err); err != nil {
		return nil, fmt.Errorf("list log end offsets: %w", err)
	}
	var atTime kadm.ListedOffsets
	if spec.mode == resetToDatetime {
		atTime, err = adm.ListOffsetsAfterMilli(ctx, spec.millis, topics...)
		if err := partialOK(err); err != nil {
			return nil, fmt.Errorf("list offsets by time: %w", err)
		}
	}
	var ps []partitionPosition
	for _, tp := range set.Sorted() {
		for _, p := range tp.Partitions {
			pp := partitionPosition{topic: tp.Topic, partition: p, committed: -1}
			if c, ok := committed.Lookup(tp.Topic, p); ok && c.Err == nil && c.At >= 0 {
				pp.committed = c.At
			}
			lists := []listing{{starts, &pp.logStart, "log start offset"}, {ends, &pp.logEnd, "log end offset"}}
			if atTime != nil {
				lists = append(lists, listing{atTime, &pp.atTime, "offset at --to-datetime"})
			}
			for _, l := range lists {
				if *l.dst, err = listedOffset(l.offsets, tp.Topic, p); err != nil {
					return nil, fmt.Errorf("topic %q partition %d: %s: %w", tp.Topic, p, l.what, err)
				}
			}
			ps = append(ps, pp)
		}
	}
	return ps, nil
}

// listing is one kind of listed offsets and where a partition's goes.
type listing struct {
	offsets kadm.ListedOffsets
	dst     *int64
	what    string
}

// commitReset commits the planned offsets as an admin commit (no member,
// generation -1), which brokers accept only for a group without members.
// Each row's Error is set for a partition that failed.
func commitReset(ctx context.Context, adm *kadm.Client, group string, rows []resetRow) error {
	os := make(kadm.Offsets)
	for _, r := range rows {
		os.Add(kadm.Offset{Topic: r.Topic, Partition: r.Partition, At: r.NewOffset, LeaderEpoch: -1})
	}
	rs, err := adm.CommitOffsets(ctx, group, os)
	if err != nil {
		return fmt.Errorf("commit offsets of group %q: %w; nothing was changed", group, err)
	}
	var (
		failed int
		first  error
	)
	for i := range rows {
		r, ok := rs.Lookup(rows[i].Topic, rows[i].Partition)
		perr := r.Err
		if !ok {
			perr = errors.New("the broker's response does not mention the partition")
		}
		if perr != nil {
			rows[i].Error = perr.Error()
			failed++
			if first == nil {
				first = fmt.Errorf("topic %q partition %d: %w", rows[i].Topic, rows[i].Partition, perr)
			}
		}
	}
	if failed == 0 {
		return nil
	}
	err = fmt.Errorf("commit offsets of group %q: %d of %d partitions were not reset, first: %w",
		group, failed, len(rows), first)
	if errors.Is(first, kerr.UnknownMemberID) || errors.Is(first, kerr.IllegalGeneration) ||
		errors.Is(first, kerr.RebalanceInProgress) {
		err = fmt.Errorf("%w (a consumer joined the group meanwhile: stop its consumers and retry)", err)
	}
	return err
}

// listedOffset looks up the listed offset of one partition.
func listedOffset(l kadm.ListedOffsets, t string, p int32) (int64, error) {
	if lo, ok := l.Lookup(t, p); ok {
		return lo.Offset, lo.Err
	}
	if lo, ok := l.Lookup(t, -1); ok && lo.Err != nil { // the whole topic failed, e.g. it was deleted
		return -1, lo.Err
	}
	return -1, errors.New("no answer from the partition leader")
}

// printResetResult prints the plan (or what was executed) in format.
func printResetResult(w io.Writer, format outputFormat, res resetResult) error {
	if format == outputJSON {
		if res.Offsets == nil {
			res.Offsets = []resetRow{}
		}
		return writeJSON(w, res)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT-OFFSET\tNEW-OFFSET")
	for _, r := range res.Offsets {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", r.Topic, r.Partition, offsetString(r.CurrentOffset), r.NewOffset)
	}
	return tw.Flush()
}
