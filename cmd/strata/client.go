package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	defaultBootstrapServer = "localhost:9092"
	envBootstrapServer     = "STRATA_BOOTSTRAP_SERVER"
	defaultClientID        = "strata-cli"
	defaultTimeout         = 10 * time.Second
)

// clientOptions are the connection flags shared by every client command.
type clientOptions struct {
	bootstrapServer string
	clientID        string
	timeout         time.Duration
	debug           bool

	// TLS and SASL flags belong here (e.g. --tls, --tls-ca-file,
	// --sasl-mechanism, --sasl-username) and turn into dialer and SASL
	// options in kgoOpts; see kgo.DialTLSConfig and pkg/sasl.
}

// addFlags registers the connection flags on fs.
func (o *clientOptions) addFlags(fs *pflag.FlagSet) {
	def := defaultBootstrapServer
	if v := os.Getenv(envBootstrapServer); v != "" {
		def = v
	}
	fs.StringVar(&o.bootstrapServer, "bootstrap-server", def,
		"comma-separated host:port list of brokers to connect to (env "+envBootstrapServer+")")
	fs.StringVar(&o.clientID, "client-id", defaultClientID, "client.id sent to the broker with every request")
	fs.DurationVar(&o.timeout, "timeout", defaultTimeout,
		"request timeout: bounds connecting, each admin request and the final flush")
	fs.BoolVar(&o.debug, "debug", false, "log the Kafka client's activity to stderr")
}

// seeds returns the bootstrap addresses, or an error if there are none.
func (o *clientOptions) seeds() ([]string, error) {
	var seeds []string
	for s := range strings.SplitSeq(o.bootstrapServer, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, errors.New("--bootstrap-server is empty: give at least one host:port")
	}
	return seeds, nil
}

// validSoftwareVersion is what brokers accept as ApiVersions'
// ClientSoftwareVersion (KIP-511); kgo rejects anything else at NewClient.
var validSoftwareVersion = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

// kgoOpts returns the franz-go options for these flags followed by extra.
func (o *clientOptions) kgoOpts(stderr io.Writer, extra ...kgo.Opt) ([]kgo.Opt, error) {
	seeds, err := o.seeds()
	if err != nil {
		return nil, err
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %v", o.timeout)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID(o.clientID),
		kgo.DialTimeout(o.timeout),
	}
	if v := strings.TrimPrefix(cliVersion(), "v"); validSoftwareVersion.MatchString(v) {
		opts = append(opts, kgo.SoftwareNameAndVersion("strata", v))
	}
	if o.debug {
		opts = append(opts, kgo.WithLogger(kgo.BasicLogger(stderr, kgo.LogLevelDebug, nil)))
	}
	// TLS (kgo.DialTLSConfig) and SASL (kgo.SASL) options are added here.
	return append(opts, extra...), nil
}

// connect creates a client and checks that a broker answers within
// --timeout, so that an unreachable address fails fast with a useful message
// instead of as a retry loop deep inside a command. The caller closes the
// client.
func (o *clientOptions) connect(ctx context.Context, stderr io.Writer, extra ...kgo.Opt) (*kgo.Client, error) {
	opts, err := o.kgoOpts(stderr, extra...)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, o.unreachable(err)
	}
	return cl, nil
}

// unreachable explains a failed connection and how to fix it.
func (o *clientOptions) unreachable(err error) error {
	var why string
	var firstRead *kgo.ErrFirstReadEOF
	switch {
	case errors.As(err, &firstRead):
		why = "the broker closed the connection; check that the address is a Kafka listener and that TLS/SASL settings match"
	case errors.Is(err, context.DeadlineExceeded):
		why = fmt.Sprintf("no answer within --timeout %v; is the address right and the broker healthy?", o.timeout)
	default:
		why = "is a broker running there? Start a local one with 'make run' (or 'strata agent'), " +
			"or point --bootstrap-server (or $" + envBootstrapServer + ") at your cluster"
	}
	return fmt.Errorf("%w at %s: %v\n  %s", errBrokerUnreachable, o.bootstrapServer, err, why)
}

// newAdmin wraps cl in an admin client whose broker-side timeouts (for
// CreateTopics, DeleteTopics, CreatePartitions) match --timeout.
func (o *clientOptions) newAdmin(cl *kgo.Client) *kadm.Client {
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(min(o.timeout.Milliseconds(), int64(1<<31-1))))
	return adm
}

// apiSupport records which Kafka APIs every reachable broker serves.
type apiSupport struct {
	versions kadm.BrokersApiVersions
}

// loadAPISupport asks every broker in the cluster for its ApiVersions.
func loadAPISupport(ctx context.Context, adm *kadm.Client) (*apiSupport, error) {
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("ApiVersions: %w", err)
	}
	answered := 0
	for _, v := range vs {
		if v.Err == nil {
			answered++
		}
	}
	if answered == 0 {
		return nil, fmt.Errorf("ApiVersions: no broker answered")
	}
	return &apiSupport{versions: vs}, nil
}

// supports reports whether every broker that answered serves API key. A
// cluster must agree: a request may be routed to any of its brokers.
func (s *apiSupport) supports(key int16) bool {
	for _, v := range s.versions {
		if v.Err != nil {
			continue
		}
		if _, ok := v.KeyMaxVersion(key); !ok {
			return false
		}
	}
	return true
}

// topicPartitions returns how many partitions topic has, or an error wrapping
// errTopicNotFound that says how to create it.
func topicPartitions(ctx context.Context, adm *kadm.Client, topic string) (int, error) {
	tds, err := adm.ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("metadata for topic %q: %w", topic, err)
	}
	td, ok := tds[topic]
	switch {
	case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		return 0, topicNotFound(topic)
	case td.Err != nil:
		return 0, fmt.Errorf("metadata for topic %q: %w", topic, td.Err)
	}
	return len(td.Partitions), nil
}

// topicNotFound is the error for a topic the broker does not know.
func topicNotFound(topic string) error {
	return fmt.Errorf("%w: %q (list topics with 'strata topic list'; create it with 'strata topic create %s')",
		errTopicNotFound, topic, topic)
}

// checkPartition verifies that partition p exists in a topic with n
// partitions.
func checkPartition(topic string, p int32, n int) error {
	if p < 0 || int(p) >= n {
		return fmt.Errorf("partition %d does not exist: topic %q has %d partitions (0-%d)", p, topic, n, n-1)
	}
	return nil
}
