package group

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Config configures a Coordinator. The defaults (NewConfig) are Kafka's.
type Config struct {
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: how long
	// the first rebalance of an empty group waits for more members, and
	// then waits again (up to the rebalance timeout) while more arrive.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound the session timeouts
	// members may ask for (group.min.session.timeout.ms and
	// group.max.session.timeout.ms).
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// MaxSize is group.max.size: the most members a group may have.
	MaxSize int
	// OffsetsRetention is offsets.retention.minutes: committed offsets of a
	// group that stayed empty this long (of a standalone consumer: not
	// committed for this long) are removed.
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval is offsets.retention.check.interval.ms:
	// how often expired offsets, offsets of deleted topics and empty groups
	// are cleaned up.
	OffsetsRetentionCheckInterval time.Duration
	// MaxMetadataBytes is offset.metadata.max.bytes: the longest metadata
	// string an offset commit may carry.
	MaxMetadataBytes int
	// ClaimInterval is how often the coordinator looks for shards nobody
	// owns (claiming those it should) and checks that it still owns its
	// own.
	ClaimInterval time.Duration
	// Logger receives the coordinator's logs; nil means slog.Default().
	Logger *slog.Logger
}

// NewConfig returns Kafka's defaults.
func NewConfig() Config {
	return Config{
		InitialRebalanceDelay:         3 * time.Second,
		MinSessionTimeout:             6 * time.Second,
		MaxSessionTimeout:             30 * time.Minute,
		MaxSize:                       math.MaxInt32,
		OffsetsRetention:              7 * 24 * time.Hour,
		OffsetsRetentionCheckInterval: 10 * time.Minute,
		MaxMetadataBytes:              4096,
		ClaimInterval:                 5 * time.Second,
	}
}

// Validate reports what is wrong with c, phrased for a user.
func (c *Config) Validate() error {
	var errs []error
	if c.InitialRebalanceDelay < 0 {
		errs = append(errs, fmt.Errorf("group initial rebalance delay %v: must be >= 0", c.InitialRebalanceDelay))
	}
	if c.MinSessionTimeout <= 0 || c.MaxSessionTimeout < c.MinSessionTimeout {
		errs = append(errs, fmt.Errorf("group session timeouts: min %v must be > 0 and <= max %v", c.MinSessionTimeout, c.MaxSessionTimeout))
	}
	if c.MaxSessionTimeout > math.MaxInt32*time.Millisecond {
		errs = append(errs, fmt.Errorf("group max session timeout %v: must fit Kafka's int32 milliseconds", c.MaxSessionTimeout))
	}
	if c.MaxSize < 1 {
		errs = append(errs, fmt.Errorf("group max size %d: must be >= 1", c.MaxSize))
	}
	if c.OffsetsRetention <= 0 {
		errs = append(errs, fmt.Errorf("offsets retention %v: must be > 0", c.OffsetsRetention))
	}
	if c.OffsetsRetentionCheckInterval <= 0 {
		errs = append(errs, fmt.Errorf("offsets retention check interval %v: must be > 0", c.OffsetsRetentionCheckInterval))
	}
	if c.MaxMetadataBytes < 0 {
		errs = append(errs, fmt.Errorf("offset metadata max bytes %d: must be >= 0", c.MaxMetadataBytes))
	}
	if c.ClaimInterval <= 0 {
		errs = append(errs, fmt.Errorf("coordinator claim interval %v: must be > 0", c.ClaimInterval))
	}
	return errors.Join(errs...)
}
