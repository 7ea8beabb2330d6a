package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type consumeOptions struct {
	topic          string
	fromBeginning  bool
	partition      int32
	offset         string
	maxMessages    int64
	printKey       bool
	printHeaders   bool
	printOffset    bool
	printPartition bool
	printTimestamp bool
	printNull      bool
	keySeparator   string
	group          string
	idleTimeout    time.Duration
}

func newConsumeCmd() *cobra.Command {
	co := &clientOptions{}
	o := &consumeOptions{}
	cmd := &cobra.Command{
		Use:   "consume --topic TOPIC",
		Short: "Print a topic's records to stdout, one per line",
		Long: `Print the records of TOPIC to stdout, one per line, until --max-messages
records were printed, --timeout-idle passed without a record, or Ctrl-C.

Where to start: by default at the end of each partition (only new records),
like kafka-console-consumer; --from-beginning starts at the log start;
--partition P --offset O starts one partition at O (an offset, "earliest" or
"latest"; an offset outside the log starts at the nearer end).

With --group, partitions are assigned by the consumer group and the offsets
of printed records are committed; a later run with the same group resumes
after them (--from-beginning then only applies to partitions without a
committed offset). The broker must serve consumer groups.

Each line holds the enabled fields in this order, joined by --key-separator:
timestamp ("CreateTime:ms"), "Partition:P", "Offset:O", headers ("k=v,k=v" or
"NO_HEADERS"), key, then the value. A null key or value prints as an empty
field, or as "null" with --print-null. A summary goes to stderr.`,
		Example: `  # Everything in the topic, then keep following it
  strata consume --topic orders --from-beginning

  # The first 10 records with keys, tab-separated
  strata consume --topic orders --from-beginning --max-messages 10 --print-key

  # Partition 2 from offset 1000, with offsets and headers
  strata consume --topic orders --partition 2 --offset 1000 --print-offset --print-headers

  # As a consumer group, stopping once caught up for 5 seconds
  strata consume --topic orders --group audit --from-beginning --timeout-idle 5s`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config()
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return consume(cmd.Context(), co, cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	co.addFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVarP(&o.topic, "topic", "t", "", "topic to consume (required)")
	fs.BoolVar(&o.fromBeginning, "from-beginning", false, "start at the log start instead of the end")
	fs.Int32VarP(&o.partition, "partition", "p", -1, "consume only this partition (-1: all)")
	fs.StringVar(&o.offset, "offset", "", `with --partition: start at this offset, "earliest" or "latest"`)
	fs.Int64VarP(&o.maxMessages, "max-messages", "n", 0, "exit after printing this many records (0: no limit)")
	fs.BoolVar(&o.printKey, "print-key", false, "print the key before the value")
	fs.BoolVar(&o.printHeaders, "print-headers", false, "print the headers as k=v,k=v")
	fs.BoolVar(&o.printOffset, "print-offset", false, "print Offset:O")
	fs.BoolVar(&o.printPartition, "print-partition", false, "print Partition:P")
	fs.BoolVar(&o.printTimestamp, "print-timestamp", false, "print CreateTime:ms or LogAppendTime:ms")
	fs.BoolVar(&o.printNull, "print-null", false, `print null keys and values as "null" instead of empty`)
	fs.StringVar(&o.keySeparator, "key-separator", "\t", `separator between printed fields (escapes like '\t' allowed)`)
	fs.StringVarP(&o.group, "group", "g", "", "consume as this consumer group and commit the offsets of printed records")
	fs.DurationVar(&o.idleTimeout, "timeout-idle", 0, "exit after this long without a record (0: never)")
	return cmd
}

// consumeConfig is a validated consume invocation.
type consumeConfig struct {
	topic       string
	group       string
	partition   int32 // -1: all
	maxMessages int64 // 0: no limit
	idle        time.Duration
	format      recordFormat
	opts        []kgo.Opt
}

// config validates the flags.
func (o *consumeOptions) config() (consumeConfig, error) {
	cfg := consumeConfig{topic: o.topic, group: o.group, partition: o.partition,
		maxMessages: o.maxMessages, idle: o.idleTimeout}
	switch {
	case o.topic == "":
		return cfg, errors.New("--topic is required")
	case o.partition < -1:
		return cfg, fmt.Errorf("--partition must be >= 0, got %d", o.partition)
	case o.maxMessages < 0:
		return cfg, fmt.Errorf("--max-messages must not be negative, got %d", o.maxMessages)
	case o.idleTimeout < 0:
		return cfg, fmt.Errorf("--timeout-idle must not be negative, got %v", o.idleTimeout)
	case o.offset != "" && o.partition < 0:
		return cfg, errors.New("--offset needs --partition (an offset means something only within one partition)")
	case o.offset != "" && o.fromBeginning:
		return cfg, errors.New("--offset and --from-beginning both choose where to start; give one")
	case o.group != "" && o.partition >= 0:
		return cfg, errors.New("--group and --partition are exclusive: the group assigns partitions")
	}
	sep, err := parseSeparator("--key-separator", o.keySeparator)
	if err != nil {
		return cfg, err
	}
	cfg.format = recordFormat{
		sep: sep, timestamp: o.printTimestamp, partition: o.printPartition, offset: o.printOffset,
		headers: o.printHeaders, key: o.printKey, null: o.printNull,
	}

	start := offsetSpec{kind: offsetLatest}
	if o.fromBeginning {
		start = offsetSpec{kind: offsetEarliest}
	}
	if o.offset != "" {
		if start, err = parseOffset(o.offset); err != nil {
			return cfg, err
		}
	}
	cfg.opts = []kgo.Opt{
		kgo.ConsumeStartOffset(start.kgoOffset()),
		// Like Kafka's console consumer (fetch.max.wait.ms=500): an empty
		// fetch in flight delays partitions assigned after it.
		kgo.FetchMaxWait(500 * time.Millisecond),
	}
	switch {
	case o.group != "":
		cfg.opts = append(cfg.opts, kgo.ConsumerGroup(o.group), kgo.ConsumeTopics(o.topic), kgo.AutoCommitMarks())
	case o.partition >= 0:
		cfg.opts = append(cfg.opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			o.topic: {o.partition: start.kgoOffset()},
		}))
	default:
		cfg.opts = append(cfg.opts, kgo.ConsumeTopics(o.topic))
	}
	return cfg, nil
}

// groupAPIs are the requests a classic consumer group needs.
var groupAPIs = []kmsg.Key{kmsg.FindCoordinator, kmsg.JoinGroup, kmsg.SyncGroup, kmsg.Heartbeat,
	kmsg.LeaveGroup, kmsg.OffsetCommit, kmsg.OffsetFetch}

// consume runs one consume session.
func consume(ctx context.Context, co *clientOptions, cfg consumeConfig, stdout, stderr io.Writer) error {
	cl, err := co.connect(ctx, stderr, cfg.opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := checkConsumable(ctx, co, cl, cfg); err != nil {
		return err
	}

	w := bufio.NewWriterSize(stdout, 64<<10)
	n, err := printRecords(ctx, cl, cfg, w, stderr)
	if err == nil && cfg.group != "" {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), co.timeout)
		err = cl.CommitMarkedOffsets(cctx)
		cancel()
		if err != nil {
			err = fmt.Errorf("commit offsets of group %q: %w", cfg.group, err)
		}
	}
	fmt.Fprintf(stderr, "consumed %s\n", plural(int(n), "record"))
	return err
}

// checkConsumable verifies the topic, the partition and, for --group, that
// the broker serves consumer groups, before any record is awaited.
func checkConsumable(ctx context.Context, co *clientOptions, cl *kgo.Client, cfg consumeConfig) error {
	mctx, cancel := context.WithTimeout(ctx, co.timeout)
	defer cancel()
	adm := co.newAdmin(cl)
	n, err := topicPartitions(mctx, adm, cfg.topic)
	if err != nil {
		return err
	}
	if cfg.partition >= 0 {
		if err := checkPartition(cfg.topic, cfg.partition, n); err != nil {
			return err
		}
	}
	if cfg.group == "" {
		return nil
	}
	support, err := loadAPISupport(mctx, adm)
	if err != nil {
		return err
	}
	for _, k := range groupAPIs {
		if !support.supports(int16(k)) {
			return fmt.Errorf("consumer groups are %w (it does not serve %s); consume without --group, "+
				"optionally with --partition and --offset", errUnsupported, kmsg.NameForKey(int16(k)))
		}
	}
	return nil
}

// printRecords polls and prints until the limit, idleness, Ctrl-C or an
// error, and returns how many records it printed.
func printRecords(ctx context.Context, cl *kgo.Client, cfg consumeConfig, w *bufio.Writer, stderr io.Writer) (int64, error) {
	var (
		n   int64
		buf []byte
	)
	for cfg.maxMessages == 0 || n < cfg.maxMessages {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if cfg.idle > 0 {
			pollCtx, cancel = context.WithTimeout(ctx, cfg.idle)
		}
		want := -1
		if cfg.maxMessages > 0 {
			want = int(min(cfg.maxMessages-n, 1<<30))
		}
		fetches := cl.PollRecords(pollCtx, want)
		idle := pollCtx.Err() != nil
		cancel()
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return n, nil // Ctrl-C: a clean stop
		}
		if err := fetchError(fetches, cfg, stderr); err != nil {
			return n, err
		}
		if idle && fetches.NumRecords() == 0 {
			fmt.Fprintf(stderr, "no records for %v; stopping (--timeout-idle)\n", cfg.idle)
			return n, nil
		}
		for r := range fetches.RecordsAll() {
			buf = cfg.format.append(buf[:0], r)
			if _, err := w.Write(buf); err != nil {
				return n, fmt.Errorf("write stdout: %w", err)
			}
			n++
			if cfg.group != "" {
				cl.MarkCommitRecords(r)
			}
		}
		if err := w.Flush(); err != nil {
			return n, fmt.Errorf("write stdout: %w", err)
		}
	}
	return n, nil
}

// fetchError returns the first fatal error of a poll. Context errors (idle
// timeout, Ctrl-C) are not errors here; detected data loss is a warning,
// because the client has already resumed past it.
func fetchError(fetches kgo.Fetches, cfg consumeConfig, stderr io.Writer) error {
	for _, fe := range fetches.Errors() {
		var dataLoss *kgo.ErrDataLoss
		var session *kgo.ErrGroupSession
		switch {
		case errors.Is(fe.Err, context.Canceled), errors.Is(fe.Err, context.DeadlineExceeded),
			errors.Is(fe.Err, kgo.ErrClientClosed):
		case errors.As(fe.Err, &dataLoss):
			fmt.Fprintf(stderr, "strata: warning: %v\n", dataLoss)
		case errors.As(fe.Err, &session):
			return fmt.Errorf("consumer group %q: %w", cfg.group, session)
		case fe.Topic != "":
			return fmt.Errorf("consume topic %q partition %d: %w", fe.Topic, fe.Partition, fe.Err)
		default:
			return fmt.Errorf("consume: %w", fe.Err)
		}
	}
	return nil
}

// recordFormat renders records as text lines; see the package doc.
type recordFormat struct {
	sep                                              string
	timestamp, partition, offset, headers, key, null bool
}

// append appends r's line, newline included, to b.
func (f *recordFormat) append(b []byte, r *kgo.Record) []byte {
	if f.timestamp {
		switch r.Attrs.TimestampType() {
		case -1: // a pre-0.10 message
			b = append(b, "NO_TIMESTAMP"...)
		case 1:
			b = append(b, "LogAppendTime:"...)
			b = strconv.AppendInt(b, r.Timestamp.UnixMilli(), 10)
		default:
			b = append(b, "CreateTime:"...)
			b = strconv.AppendInt(b, r.Timestamp.UnixMilli(), 10)
		}
		b = append(b, f.sep...)
	}
	if f.partition {
		b = append(b, "Partition:"...)
		b = strconv.AppendInt(b, int64(r.Partition), 10)
		b = append(b, f.sep...)
	}
	if f.offset {
		b = append(b, "Offset:"...)
		b = strconv.AppendInt(b, r.Offset, 10)
		b = append(b, f.sep...)
	}
	if f.headers {
		if len(r.Headers) == 0 {
			b = append(b, "NO_HEADERS"...)
		}
		for i, h := range r.Headers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, h.Key...)
			b = append(b, '=')
			b = f.appendBytes(b, h.Value)
		}
		b = append(b, f.sep...)
	}
	if f.key {
		b = f.appendBytes(b, r.Key)
		b = append(b, f.sep...)
	}
	b = f.appendBytes(b, r.Value)
	return append(b, '\n')
}

// appendBytes appends v, or "null" for a nil v with --print-null.
func (f *recordFormat) appendBytes(b, v []byte) []byte {
	if v == nil && f.null {
		return append(b, "null"...)
	}
	return append(b, v...)
}
