package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultMaxMessageBytes matches Kafka's producer max.request.size; it is
// below the broker's default message.max.bytes (1048588), so a record that
// fits here fits there.
const defaultMaxMessageBytes = 1 << 20

// Bounds on records handed to the client but not yet acknowledged. kgo's own
// buffer is sized above them so that Produce never blocks.
const (
	maxInflightRecords = 10_000
	maxInflightBytes   = 64 << 20
)

type produceOptions struct {
	topic           string
	keySeparator    string
	headers         []string
	partition       int32
	acks            string
	compression     string
	linger          time.Duration
	idempotent      bool
	maxMessageBytes int32
	deliveryTimeout time.Duration
}

func newProduceCmd() *cobra.Command {
	co := &clientOptions{}
	o := &produceOptions{}
	cmd := &cobra.Command{
		Use:   "produce --topic TOPIC",
		Short: "Write stdin lines to a topic, one record per line",
		Long: `Read stdin and produce one record per line to TOPIC; the line terminator
("\n" or "\r\n") is not part of the record. With --key-separator, each line is
split at the first separator into key and value.

Records are sent asynchronously and flushed before exit. On EOF or Ctrl-C,
records already read are flushed (bounded by --timeout), a summary is printed
to stderr, and the exit status is 1 if any record was not acknowledged.`,
		Example: `  # Values only
  printf 'hello\nworld\n' | strata produce --topic orders

  # Keys and values separated by ":", with headers on every record
  printf 'user1:{"amount":3}\n' | strata produce --topic orders --key-separator : --header source=cli

  # A file, compressed, to partition 2, waiting only for the leader
  strata produce --topic orders --partition 2 --compression zstd --acks 1 < records.txt`,
		Args: exactArgs(0, "no arguments (records are read from stdin)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config(cmd.Flags().Changed("idempotent"))
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return produce(cmd.Context(), co, cfg, cmd.InOrStdin(), cmd.ErrOrStderr())
		},
	}
	co.addFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVarP(&o.topic, "topic", "t", "", "topic to produce to (required)")
	fs.StringVar(&o.keySeparator, "key-separator", "",
		`split each line into key and value at the first SEP (escapes like '\t' allowed); lines without SEP fail`)
	fs.StringArrayVarP(&o.headers, "header", "H", nil, "header key=value added to every record (repeatable)")
	fs.Int32VarP(&o.partition, "partition", "p", -1, "partition to write to (-1: the client's partitioner, by key hash)")
	fs.StringVar(&o.acks, "acks", "all", "acknowledgements to wait for: all, 1 (leader) or 0 (none)")
	fs.StringVar(&o.compression, "compression", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	fs.DurationVar(&o.linger, "linger", 10*time.Millisecond, "how long a partition waits for more records before sending a batch")
	fs.BoolVar(&o.idempotent, "idempotent", true, "idempotent writes (no duplicates on retry); default true with --acks all, requires it")
	fs.Int32Var(&o.maxMessageBytes, "max-message-bytes", defaultMaxMessageBytes,
		"largest record batch, and so the longest line, accepted (the broker's max.message.bytes must allow it)")
	fs.DurationVar(&o.deliveryTimeout, "delivery-timeout", 2*time.Minute,
		"fail a record not acknowledged within this time (Kafka's delivery.timeout.ms; 0: no limit)")
	return cmd
}

// produceConfig is a validated produce invocation.
type produceConfig struct {
	topic     string
	sep       []byte // nil: lines are values only
	headers   []kgo.RecordHeader
	partition int32 // -1: client partitioner
	maxLine   int
	opts      []kgo.Opt
}

// config validates the flags. idempotentSet reports whether --idempotent was
// given explicitly; otherwise it follows --acks.
func (o *produceOptions) config(idempotentSet bool) (produceConfig, error) {
	cfg := produceConfig{topic: o.topic, partition: o.partition, maxLine: int(o.maxMessageBytes)}
	if o.topic == "" {
		return cfg, errors.New("--topic is required")
	}
	if o.partition < -1 {
		return cfg, fmt.Errorf("--partition must be >= 0 (or -1 for the partitioner), got %d", o.partition)
	}
	if o.maxMessageBytes < 1 {
		return cfg, fmt.Errorf("--max-message-bytes must be positive, got %d", o.maxMessageBytes)
	}
	if o.linger < 0 || o.deliveryTimeout < 0 {
		return cfg, errors.New("--linger and --delivery-timeout must not be negative")
	}
	if o.keySeparator != "" {
		sep, err := parseSeparator("--key-separator", o.keySeparator)
		if err != nil {
			return cfg, err
		}
		cfg.sep = []byte(sep)
	}
	hs, err := parseHeaders(o.headers)
	if err != nil {
		return cfg, err
	}
	cfg.headers = hs
	acks, all, err := parseAcks(o.acks)
	if err != nil {
		return cfg, err
	}
	codec, err := parseCompression(o.compression)
	if err != nil {
		return cfg, err
	}
	idempotent := all
	if idempotentSet {
		if o.idempotent && !all {
			return cfg, fmt.Errorf("--idempotent requires --acks all (got --acks %s)", o.acks)
		}
		idempotent = o.idempotent
	}
	cfg.opts = []kgo.Opt{
		kgo.DefaultProduceTopic(o.topic),
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(o.linger),
		kgo.ProducerBatchMaxBytes(o.maxMessageBytes),
		kgo.RecordDeliveryTimeout(o.deliveryTimeout),
		// Twice our limit: a promise runs before kgo forgets its record.
		kgo.MaxBufferedRecords(2 * maxInflightRecords),
	}
	if !idempotent {
		cfg.opts = append(cfg.opts, kgo.DisableIdempotentWrite())
	}
	if o.partition >= 0 {
		cfg.opts = append(cfg.opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	return cfg, nil
}

// record builds the record for one stdin line (1-based number n). The record
// takes ownership of line.
func (cfg *produceConfig) record(line []byte, n int) (*kgo.Record, error) {
	r := &kgo.Record{Topic: cfg.topic, Value: line, Headers: cfg.headers}
	if cfg.partition >= 0 {
		r.Partition = cfg.partition
	}
	if cfg.sep != nil {
		k, v, ok := splitKey(line, cfg.sep)
		if !ok {
			return nil, fmt.Errorf("line %d has no key separator %q (every line needs KEY%sVALUE with --key-separator)",
				n, cfg.sep, cfg.sep)
		}
		r.Key, r.Value = k, v
	}
	return r, nil
}

// produce runs one produce session: stdin lines → records → broker.
func produce(ctx context.Context, co *clientOptions, cfg produceConfig, stdin io.Reader, stderr io.Writer) error {
	cl, err := co.connect(ctx, stderr, cfg.opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	mctx, cancel := context.WithTimeout(ctx, co.timeout)
	n, err := topicPartitions(mctx, co.newAdmin(cl), cfg.topic)
	cancel()
	if err != nil {
		return err
	}
	if cfg.partition >= 0 {
		if err := checkPartition(cfg.topic, cfg.partition, n); err != nil {
			return err
		}
	}
	if isTerminal(stdin) {
		fmt.Fprintln(stderr, "Reading records from stdin, one per line; end with Ctrl-D.")
	}

	tally := &produceTally{}
	sent, inputErr := produceLines(ctx, cl, &cfg, stdin, tally)

	// Flush what was read even after Ctrl-C, but bounded by --timeout.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), co.timeout)
	defer cancel()
	if err := cl.Flush(fctx); err != nil {
		tally.fail(fmt.Errorf("flush: %w", err))
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), co.timeout)
		defer cancel()
		_ = cl.AbortBufferedRecords(actx) // fail what is left so nothing is sent after we report
	}
	acked, first := tally.result()
	fmt.Fprintf(stderr, "produced %s\n", plural(int(acked), "record"))
	var errs []error
	if inputErr != nil {
		errs = append(errs, fmt.Errorf("read stdin: %w", inputErr))
	}
	if acked < sent {
		err := fmt.Errorf("%w: %d of %d records were not acknowledged by the broker", errProduceFailed, sent-acked, sent)
		if first != nil {
			err = fmt.Errorf("%w: %w", err, first)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// produceLines hands stdin's records to cl until the input ends (inputErr
// reports why, nil at EOF), Ctrl-C, or the first failed record, and returns
// how many it handed over. Records are produced with a context that Ctrl-C
// does not cancel, so that what was read can still be flushed; backpressure
// comes from an in-flight limit below kgo's buffer size, so Produce never
// blocks where Ctrl-C cannot reach it.
func produceLines(ctx context.Context, cl *kgo.Client, cfg *produceConfig, stdin io.Reader, tally *produceTally) (sent int64, inputErr error) {
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	tally.setOnFail(stopLoop)
	limit := newInflightLimit(maxInflightRecords, maxInflightBytes)
	recCtx := context.WithoutCancel(ctx)
	records, stop, readErr := readRecords(stdin, cfg)
	defer close(stop)
	for {
		select {
		case <-loopCtx.Done():
			return sent, nil
		case r, ok := <-records:
			if !ok {
				return sent, <-readErr
			}
			size := int64(len(r.Key) + len(r.Value))
			if limit.acquire(loopCtx, size) != nil {
				return sent, nil
			}
			sent++
			cl.Produce(recCtx, r, func(r *kgo.Record, err error) {
				limit.release(size)
				tally.done(r, err)
			})
		}
	}
}

// readRecords reads stdin on its own goroutine so that Ctrl-C is noticed
// while a read blocks. The goroutine closes records when input ends (EOF or
// error, which it then sends on readErr) or when stop is closed. It cannot
// interrupt a Read already blocked on a terminal: such a goroutine exits at
// the next line or with the process, holding nothing.
func readRecords(stdin io.Reader, cfg *produceConfig) (records <-chan *kgo.Record, stop chan struct{}, readErr <-chan error) {
	out := make(chan *kgo.Record)
	errc := make(chan error, 1)
	stop = make(chan struct{})
	go func() {
		defer close(out)
		lr := newLineReader(stdin, cfg.maxLine)
		for {
			line, err := lr.next()
			var r *kgo.Record
			if err == nil {
				r, err = cfg.record(line, lr.line)
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				errc <- err
				return
			}
			select {
			case out <- r:
			case <-stop:
				errc <- nil
				return
			}
		}
	}()
	return out, stop, errc
}

// produceTally counts acknowledged records and keeps the first failure. It is
// safe for concurrent use by the client's promise callbacks.
type produceTally struct {
	mu     sync.Mutex
	acked  int64  // guarded by mu
	first  error  // guarded by mu
	onFail func() // guarded by mu; called once, on the first failure
}

// setOnFail sets the function called on the first failure, immediately if
// a record already failed.
func (t *produceTally) setOnFail(fn func()) {
	t.mu.Lock()
	t.onFail = fn
	failed := t.first != nil
	t.mu.Unlock()
	if failed {
		fn()
	}
}

// done is the kgo promise for every record.
func (t *produceTally) done(_ *kgo.Record, err error) {
	if err != nil {
		t.fail(err)
		return
	}
	t.mu.Lock()
	t.acked++
	t.mu.Unlock()
}

func (t *produceTally) fail(err error) {
	t.mu.Lock()
	var onFail func()
	if t.first == nil {
		t.first, onFail = err, t.onFail
	}
	t.mu.Unlock()
	if onFail != nil {
		onFail()
	}
}

func (t *produceTally) result() (acked int64, first error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.acked, t.first
}

// lineReader splits input into lines of at most max bytes (terminator
// excluded) without bufio.Scanner's 64 KiB token limit. It is not safe for
// concurrent use.
type lineReader struct {
	r    *bufio.Reader
	max  int
	line int // number of the last line returned or rejected, 1-based
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its "\n" or "\r\n" terminator, in a new
// slice the caller owns. A last line without a terminator is returned too. At
// the end of input it returns io.EOF.
func (lr *lineReader) next() ([]byte, error) {
	var line []byte
	for {
		frag, err := lr.r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > lr.max+2 { // +2: the terminator is not part of the record
			lr.line++
			return nil, lr.tooLong()
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) == 0:
			return nil, io.EOF
		case err != nil && !errors.Is(err, io.EOF):
			return nil, err
		}
		lr.line++
		if l, ok := bytes.CutSuffix(line, []byte("\n")); ok {
			line = bytes.TrimSuffix(l, []byte("\r"))
		}
		if len(line) > lr.max {
			return nil, lr.tooLong()
		}
		return line, nil
	}
}

func (lr *lineReader) tooLong() error {
	return fmt.Errorf("%w: line %d is longer than %d bytes (raise --max-message-bytes, "+
		"and the topic's max.message.bytes, to send larger records)", errLineTooLong, lr.line, lr.max)
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// inflightLimit bounds the records, and their bytes, that are produced but
// not yet acknowledged. A record larger than the byte bound is admitted when
// nothing else is in flight. It is safe for concurrent use.
type inflightLimit struct {
	maxRecords, maxBytes int64

	mu      sync.Mutex
	records int64         // guarded by mu
	bytes   int64         // guarded by mu
	waiting bool          // guarded by mu; someone waits on freed
	freed   chan struct{} // guarded by mu; closed and replaced on release
}

func newInflightLimit(maxRecords, maxBytes int64) *inflightLimit {
	return &inflightLimit{maxRecords: maxRecords, maxBytes: maxBytes, freed: make(chan struct{})}
}

// acquire waits until a record of size bytes fits, or ctx is done.
func (l *inflightLimit) acquire(ctx context.Context, size int64) error {
	for {
		l.mu.Lock()
		if l.records == 0 || (l.records < l.maxRecords && l.bytes+size <= l.maxBytes) {
			l.records++
			l.bytes += size
			l.mu.Unlock()
			return nil
		}
		l.waiting = true
		freed := l.freed
		l.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release returns what acquire took for a record of size bytes.
func (l *inflightLimit) release(size int64) {
	l.mu.Lock()
	l.records--
	l.bytes -= size
	if l.waiting {
		close(l.freed)
		l.freed, l.waiting = make(chan struct{}), false
	}
	l.mu.Unlock()
}
