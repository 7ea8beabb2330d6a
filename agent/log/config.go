package log

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Defaults of NewConfig.
const (
	DefaultSegmentBytes       = 1 << 30
	DefaultSegmentMS          = 7 * 24 * time.Hour
	DefaultIndexIntervalBytes = 4096
	DefaultRetentionMS        = 7 * 24 * time.Hour
	// DefaultProducerIDExpiration is how long an idle idempotent producer's
	// state is kept. Kafka's producer.id.expiration.ms is one day (KIP-854);
	// Strata keeps seven, so a producer idle over a weekend still gets its
	// retries de-duplicated. An entry costs about 200 bytes.
	DefaultProducerIDExpiration = 7 * 24 * time.Hour
)

// Config holds the per-partition log settings (Kafka topic configs). Build
// one with NewConfig and check it with Validate.
type Config struct {
	// SegmentBytes: the active segment is rolled before an append would make
	// it larger than this (segment.bytes). A batch larger than SegmentBytes
	// still goes into an empty segment of its own.
	SegmentBytes int64
	// SegmentMS: the active segment is rolled when its first batch was
	// appended longer ago than this (segment.ms).
	SegmentMS time.Duration
	// IndexIntervalBytes: bytes of batches between entries of the sparse
	// offset index (index.interval.bytes); 0 indexes every batch.
	IndexIntervalBytes int
	// RetentionBytes: ApplyRetention deletes the oldest closed segments while
	// the log would stay at least this large without them; negative means
	// unlimited (retention.bytes).
	RetentionBytes int64
	// RetentionMS: ApplyRetention deletes closed segments whose newest
	// timestamp is older than this; negative means unlimited (retention.ms).
	RetentionMS time.Duration
	// FlushMessages: fsync once this many records were appended since the
	// last fsync, before Append returns (flush.messages). 1 gives
	// fsync-before-acknowledge; 0 never fsyncs by count.
	FlushMessages int64
	// FlushInterval: MaybeFlush fsyncs when unsynced data is older than this
	// (flush.ms); 0 disables time-based fsync.
	FlushInterval time.Duration
	// ProducerIDExpiration: idempotent producers idle longer than this (by
	// their last batch's timestamp) are forgotten (producer.id.expiration.ms).
	ProducerIDExpiration time.Duration
}

// NewConfig returns the default configuration: 1 GiB / 7-day segments, an
// index entry every 4 KiB, 7-day time retention, no size retention, and
// Kafka's flush policy (no fsync on the write path).
func NewConfig() Config {
	return Config{
		SegmentBytes:         DefaultSegmentBytes,
		SegmentMS:            DefaultSegmentMS,
		IndexIntervalBytes:   DefaultIndexIntervalBytes,
		RetentionBytes:       -1,
		RetentionMS:          DefaultRetentionMS,
		FlushMessages:        0,
		FlushInterval:        0,
		ProducerIDExpiration: DefaultProducerIDExpiration,
	}
}

// Validate reports the first invalid field, wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.SegmentBytes < batchHeaderSize || c.SegmentBytes > math.MaxInt32:
		// Positions in the offset index are uint32 and Kafka caps
		// segment.bytes at 2^31-1.
		return fmt.Errorf("%w: SegmentBytes %d not in [%d, %d]", ErrInvalidConfig, c.SegmentBytes, batchHeaderSize, math.MaxInt32)
	case c.SegmentMS <= 0:
		return fmt.Errorf("%w: SegmentMS %v must be positive", ErrInvalidConfig, c.SegmentMS)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("%w: IndexIntervalBytes %d is negative", ErrInvalidConfig, c.IndexIntervalBytes)
	case c.FlushMessages < 0:
		return fmt.Errorf("%w: FlushMessages %d is negative", ErrInvalidConfig, c.FlushMessages)
	case c.FlushInterval < 0:
		return fmt.Errorf("%w: FlushInterval %v is negative", ErrInvalidConfig, c.FlushInterval)
	case c.ProducerIDExpiration <= 0:
		return fmt.Errorf("%w: ProducerIDExpiration %v must be positive", ErrInvalidConfig, c.ProducerIDExpiration)
	}
	return nil
}

// options are the non-config dependencies of a Log.
type options struct {
	fs            FS
	logger        *slog.Logger
	now           func() time.Time
	deletableUpTo func() int64
	onRoll        func(SegmentInfo)
}

// Option customises Open.
type Option func(*options)

// WithFS routes all disk access through fs (default: the operating system).
func WithFS(fs FS) Option { return func(o *options) { o.fs = fs } }

// WithLogger sets the logger for recovery and maintenance messages (default:
// slog.Default()). Nothing is logged per append or read.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock sets the wall clock used for time-based rolling (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithDeletableUpTo limits ApplyRetention to segments whose last offset is
// below fn() (tiering passes the end of what it has uploaded). fn is called
// without the log's locks held; it must not call back into the Log.
func WithDeletableUpTo(fn func() int64) Option {
	return func(o *options) { o.deletableUpTo = fn }
}

// WithOnRoll registers fn to be called after a segment is closed by a roll,
// with the closed segment's description. It runs on the goroutine that rolled
// (an Append, Roll or MaybeRoll caller), without the log's locks, after the
// segment's index files are written; it should not block.
func WithOnRoll(fn func(SegmentInfo)) Option { return func(o *options) { o.onRoll = fn } }

func defaultOptions() options {
	return options{fs: NewOSFS(), logger: slog.Default(), now: time.Now}
}
