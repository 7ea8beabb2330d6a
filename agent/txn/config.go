package txn

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Config configures a Coordinator. The defaults (NewConfig) are Kafka's.
type Config struct {
	// MaxTimeout is transaction.max.timeout.ms: the longest
	// transaction.timeout.ms a producer may ask for
	// (INVALID_TRANSACTION_TIMEOUT otherwise).
	MaxTimeout time.Duration
	// AbortInterval is
	// transaction.abort.timed.out.transaction.cleanup.interval.ms: how
	// often transactions running longer than their timeout are aborted.
	AbortInterval time.Duration
	// IDExpiration is transactional.id.expiration.ms: a transactional id
	// with no transaction in progress whose state has not changed for this
	// long is forgotten.
	IDExpiration time.Duration
	// ExpireInterval is
	// transaction.remove.expired.transaction.cleanup.interval.ms: how often
	// expired transactional ids are looked for.
	ExpireInterval time.Duration
	// ClaimInterval is how often the coordinator looks for shards nobody
	// owns (claiming those it should) and checks that it still owns its
	// own.
	ClaimInterval time.Duration
	// CompletionWait bounds how long EndTxn waits, after the outcome is
	// stored, for the markers to be written before it answers; 0 answers
	// at once, as Kafka does.
	CompletionWait time.Duration
	// Logger receives the coordinator's logs; nil means slog.Default().
	Logger *slog.Logger
}

// NewConfig returns Kafka's defaults, except that EndTxn waits for the
// markers (CompletionWait).
func NewConfig() Config {
	return Config{
		MaxTimeout:     15 * time.Minute,
		AbortInterval:  10 * time.Second,
		IDExpiration:   7 * 24 * time.Hour,
		ExpireInterval: time.Hour,
		ClaimInterval:  5 * time.Second,
		CompletionWait: 2 * time.Second,
	}
}

// Validate reports what is wrong with c, phrased for a user.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxTimeout < time.Millisecond || c.MaxTimeout > math.MaxInt32*time.Millisecond {
		errs = append(errs, fmt.Errorf("transaction max timeout %v: must be at least 1ms and fit Kafka's int32 milliseconds", c.MaxTimeout))
	}
	if c.AbortInterval <= 0 {
		errs = append(errs, fmt.Errorf("transaction abort interval %v: must be > 0", c.AbortInterval))
	}
	if c.IDExpiration <= 0 {
		errs = append(errs, fmt.Errorf("transactional id expiration %v: must be > 0", c.IDExpiration))
	}
	if c.ExpireInterval <= 0 {
		errs = append(errs, fmt.Errorf("transactional id expiration check interval %v: must be > 0", c.ExpireInterval))
	}
	if c.CompletionWait < 0 {
		errs = append(errs, fmt.Errorf("transaction completion wait %v: must be >= 0", c.CompletionWait))
	}
	if c.ClaimInterval <= 0 {
		errs = append(errs, fmt.Errorf("coordinator claim interval %v: must be > 0", c.ClaimInterval))
	}
	return errors.Join(errs...)
}
