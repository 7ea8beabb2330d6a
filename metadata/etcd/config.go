package etcd

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config configures a Store.
type Config struct {
	// Endpoints are the etcd client URLs Dial connects to. New ignores
	// them: it uses the client it is given.
	Endpoints []string
	// TLS, if set, secures Dial's connections.
	TLS *tls.Config
	// Prefix is prepended to every key (see the package doc). It must
	// start and end with '/'. Several clusters can share one etcd under
	// different prefixes.
	Prefix string
	// DialTimeout bounds Dial's first connection.
	DialTimeout time.Duration
	// RequestTimeout bounds every request, on top of the caller's context.
	RequestTimeout time.Duration
	// LeaseTTL is how long an agent registration outlives its agent's last
	// keep-alive: the time until a crashed agent disappears. It is rounded
	// up to whole seconds.
	LeaseTTL time.Duration
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Defaults for Config.
const (
	DefaultPrefix         = "/strata/"
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	DefaultLeaseTTL       = 10 * time.Second
)

// NewConfig returns the defaults, with no endpoints.
func NewConfig() Config {
	return Config{
		Prefix:         DefaultPrefix,
		DialTimeout:    DefaultDialTimeout,
		RequestTimeout: DefaultRequestTimeout,
		LeaseTTL:       DefaultLeaseTTL,
	}
}

// Validate checks the config.
func (c *Config) Validate() error {
	switch {
	case len(c.Prefix) < 2 || !strings.HasPrefix(c.Prefix, "/") || !strings.HasSuffix(c.Prefix, "/"):
		return fmt.Errorf("%w: key prefix %q must start and end with '/'", ErrInvalidConfig, c.Prefix)
	case c.DialTimeout <= 0 || c.RequestTimeout <= 0:
		return fmt.Errorf("%w: dial timeout %v and request timeout %v must be positive", ErrInvalidConfig, c.DialTimeout, c.RequestTimeout)
	case c.LeaseTTL < time.Second:
		return fmt.Errorf("%w: lease TTL %v is shorter than 1s", ErrInvalidConfig, c.LeaseTTL)
	}
	for _, ep := range c.Endpoints {
		if strings.TrimSpace(ep) == "" {
			return fmt.Errorf("%w: empty endpoint in %q", ErrInvalidConfig, c.Endpoints)
		}
	}
	return nil
}

// leaseSeconds is LeaseTTL in whole seconds, rounded up.
func (c *Config) leaseSeconds() int64 {
	return int64((c.LeaseTTL + time.Second - 1) / time.Second)
}
