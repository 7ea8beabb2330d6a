package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// EmbedConfig configures an embedded etcd member. NewEmbedConfig returns
// the defaults for a single agent: one member, listeners on 127.0.0.1 with
// ports the kernel picks, small timeouts. For a cluster of agents, give
// every member concrete URLs and the same InitialCluster.
type EmbedConfig struct {
	// Dir holds the member's data (WAL, snapshots, bbolt database). It is
	// required and must not be shared with another member.
	Dir string
	// Name is the member name used in InitialCluster.
	Name string
	// ListenPeerURL and ListenClientURL are where the member listens for
	// other members and for clients. Port 0 lets the kernel pick.
	ListenPeerURL, ListenClientURL string
	// AdvertisePeerURL is the peer URL other members use; it defaults to
	// ListenPeerURL. It must name a real port (not 0) when the cluster has
	// more than one member. AdvertiseClientURL, likewise for clients,
	// defaults to ListenClientURL; ClientURLs reports the bound address.
	AdvertisePeerURL, AdvertiseClientURL string
	// InitialCluster lists every founding member as name=peerURL,
	// comma-separated. It defaults to Name=AdvertisePeerURL (a single
	// member) and is ignored once Dir holds data.
	InitialCluster string
	// InitialClusterState is "new" to found a cluster or "existing" to join
	// one that already runs (after adding this member to it).
	InitialClusterState string
	// ClusterToken keeps members of different clusters apart.
	ClusterToken string

	// TickInterval is raft's heartbeat interval; ElectionTimeout is how
	// long a follower waits for a heartbeat before it campaigns. A lease's
	// TTL is at least 1.5 × ElectionTimeout. Zero picks by cluster size: a
	// single member has no peers to flood and its start waits up to one
	// election timeout for its own election, so it gets 10 ms and 100 ms;
	// several members get etcd's 100 ms and 1 s.
	TickInterval, ElectionTimeout time.Duration
	// SnapshotCount is how many applied entries trigger a raft snapshot
	// (and let the WAL be trimmed).
	SnapshotCount uint64
	// QuotaBackendBytes caps the database size; past it etcd accepts only
	// reads and deletes. bbolt maps 1.1 × this much address space up front
	// (virtual memory, not resident).
	QuotaBackendBytes int64
	// MaxTxnOps bounds operations per transaction; creating a topic with N
	// partitions takes N+2.
	MaxTxnOps uint
	// CompactionRetention is how many revisions of history the member
	// keeps (compacting every 5 minutes); 0 disables auto-compaction.
	// Watchers that fall further behind reload everything.
	CompactionRetention int64
	// StartTimeout bounds the wait for the member to become ready (for a
	// new cluster: for a quorum of members to start).
	StartTimeout time.Duration

	// Logger receives etcd's own log entries at or above LogLevel (nil:
	// slog.LevelError), and nothing below: etcd is chatty at info level.
	Logger   *slog.Logger
	LogLevel slog.Leveler
}

// Defaults for EmbedConfig.
const (
	DefaultMemberName   = "strata"
	DefaultClusterToken = "strata"
	defaultLoopbackURL  = "http://127.0.0.1:0"
)

// NewEmbedConfig returns the single-member defaults with data in dir.
func NewEmbedConfig(dir string) EmbedConfig {
	return EmbedConfig{
		Dir:                 dir,
		Name:                DefaultMemberName,
		ListenPeerURL:       defaultLoopbackURL,
		ListenClientURL:     defaultLoopbackURL,
		InitialClusterState: embed.ClusterStateFlagNew,
		ClusterToken:        DefaultClusterToken,
		SnapshotCount:       10000,
		QuotaBackendBytes:   1 << 30,
		MaxTxnOps:           16384,
		CompactionRetention: 10000,
		StartTimeout:        30 * time.Second,
	}
}

// Validate checks the config, after defaults for empty advertise URLs and
// InitialCluster are applied.
func (c *EmbedConfig) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	members, err := c.fillDerived()
	if err != nil {
		return bad("%v", err)
	}
	switch {
	case c.Dir == "":
		return bad("embedded etcd needs a data directory")
	case c.Name == "" || strings.ContainsAny(c.Name, "=,"):
		return bad("member name %q", c.Name)
	case c.InitialClusterState != embed.ClusterStateFlagNew && c.InitialClusterState != embed.ClusterStateFlagExisting:
		return bad("initial cluster state %q (want %q or %q)", c.InitialClusterState, embed.ClusterStateFlagNew, embed.ClusterStateFlagExisting)
	case c.TickInterval < time.Millisecond || c.ElectionTimeout < 5*c.TickInterval || c.ElectionTimeout > 50*time.Second:
		return bad("heartbeat %v and election timeout %v (the timeout must be at least 5 heartbeats)", c.TickInterval, c.ElectionTimeout)
	case c.QuotaBackendBytes <= 0 || c.MaxTxnOps == 0 || c.SnapshotCount == 0:
		return bad("quota %d, max txn ops %d and snapshot count %d must be positive", c.QuotaBackendBytes, c.MaxTxnOps, c.SnapshotCount)
	case c.CompactionRetention < 0 || c.StartTimeout <= 0:
		return bad("compaction retention %d and start timeout %v", c.CompactionRetention, c.StartTimeout)
	}
	for _, u := range []string{c.ListenPeerURL, c.ListenClientURL, c.AdvertisePeerURL, c.AdvertiseClientURL} {
		if _, err := parseURL(u); err != nil {
			return bad("%v", err)
		}
	}
	if _, ok := members[c.Name]; !ok {
		return bad("initial cluster %q does not list member %q", c.InitialCluster, c.Name)
	}
	if len(members) > 1 {
		for name, u := range members {
			if u.Port() == "0" {
				return bad("member %q peer URL %s: a cluster of several members needs real ports", name, u)
			}
		}
	}
	return nil
}

// Raft timing defaults; see EmbedConfig.TickInterval.
const (
	singleMemberTick     = 10 * time.Millisecond
	singleMemberElection = 100 * time.Millisecond
	clusterTick          = 100 * time.Millisecond
	clusterElection      = time.Second
)

// fillDerived fills the fields that default to other fields and returns
// the parsed InitialCluster.
func (c *EmbedConfig) fillDerived() (map[string]*url.URL, error) {
	if c.AdvertisePeerURL == "" {
		c.AdvertisePeerURL = c.ListenPeerURL
	}
	if c.AdvertiseClientURL == "" {
		c.AdvertiseClientURL = c.ListenClientURL
	}
	if c.InitialCluster == "" {
		c.InitialCluster = c.Name + "=" + c.AdvertisePeerURL
	}
	members, err := parseInitialCluster(c.InitialCluster)
	if err != nil {
		return nil, err
	}
	if c.TickInterval == 0 && c.ElectionTimeout == 0 {
		c.TickInterval, c.ElectionTimeout = clusterTick, clusterElection
		if len(members) == 1 {
			c.TickInterval, c.ElectionTimeout = singleMemberTick, singleMemberElection
		}
	}
	return members, nil
}

func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Port() == "" {
		return nil, fmt.Errorf("url %q: want http(s)://host:port", s)
	}
	return u, nil
}

// parseInitialCluster parses "name=url,name=url".
func parseInitialCluster(s string) (map[string]*url.URL, error) {
	members := make(map[string]*url.URL)
	for _, m := range strings.Split(s, ",") {
		name, raw, ok := strings.Cut(strings.TrimSpace(m), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("initial cluster entry %q: want name=url", m)
		}
		u, err := parseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("initial cluster member %q: %w", name, err)
		}
		if _, dup := members[name]; dup {
			return nil, fmt.Errorf("initial cluster lists member %q twice", name)
		}
		members[name] = u
	}
	return members, nil
}

// Embedded is a running embedded etcd member with an in-process client.
// Its methods are safe for concurrent use.
type Embedded struct {
	etcd   *embed.Etcd
	client *clientv3.Client
	// quiet silences etcd's logger while it stops: a clean shutdown logs
	// listener errors ("use of closed network connection") at error level.
	quiet *atomic.Bool

	closeOnce sync.Once
	closeErr  error
}

// StartEmbedded starts an etcd member and waits until it is ready to serve
// (for a new multi-member cluster: until a quorum has started). ctx bounds
// the wait, as does cfg.StartTimeout.
func StartEmbedded(ctx context.Context, cfg EmbedConfig) (*Embedded, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	quiet := new(atomic.Bool)
	ecfg, err := embedEtcdConfig(&cfg, quiet)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(ecfg)
	if err != nil {
		return nil, fmt.Errorf("%w: member %q in %s: %w", ErrStart, cfg.Name, cfg.Dir, err)
	}
	if err := waitReady(ctx, e, cfg.StartTimeout); err != nil {
		quiet.Store(true)
		e.Close()
		return nil, fmt.Errorf("%w: member %q in %s: %w", ErrStart, cfg.Name, cfg.Dir, err)
	}
	return &Embedded{etcd: e, client: v3client.New(e.Server), quiet: quiet}, nil
}

// waitReady waits for e to be ready to serve clients.
func waitReady(ctx context.Context, e *embed.Etcd, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-e.Server.ReadyNotify():
		return nil
	case err := <-e.Err():
		return err
	case <-e.Server.StopNotify():
		return errors.New("stopped while starting")
	case <-t.C:
		return fmt.Errorf("not ready after %v (for a new cluster: is a quorum of members starting?)", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// embedEtcdConfig translates cfg into etcd's config.
func embedEtcdConfig(cfg *EmbedConfig, quiet *atomic.Bool) (*embed.Config, error) {
	ec := embed.NewConfig()
	ec.Name = cfg.Name
	ec.Dir = cfg.Dir
	urls := []*[]url.URL{&ec.ListenPeerUrls, &ec.ListenClientUrls, &ec.AdvertisePeerUrls, &ec.AdvertiseClientUrls}
	for i, s := range []string{cfg.ListenPeerURL, cfg.ListenClientURL, cfg.AdvertisePeerURL, cfg.AdvertiseClientURL} {
		u, err := parseURL(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		*urls[i] = []url.URL{*u}
	}
	ec.InitialCluster = cfg.InitialCluster
	ec.InitialClusterToken = cfg.ClusterToken
	ec.ClusterState = cfg.InitialClusterState
	ec.TickMs = uint(cfg.TickInterval / time.Millisecond)
	ec.ElectionMs = uint(cfg.ElectionTimeout / time.Millisecond)
	ec.SnapshotCount = cfg.SnapshotCount
	ec.QuotaBackendBytes = cfg.QuotaBackendBytes
	ec.MaxTxnOps = cfg.MaxTxnOps
	if cfg.CompactionRetention > 0 {
		ec.AutoCompactionMode = embed.CompactorModeRevision
		ec.AutoCompactionRetention = strconv.FormatInt(cfg.CompactionRetention, 10)
	}
	// The agent serves metrics itself; no gRPC gateway, no pprof.
	ec.EnableGRPCGateway = false
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(newZapLogger(logger, cfg.LogLevel, quiet))
	return ec, nil
}

// Client returns an in-process client of the member: calls go straight to
// the server, with no network hop. Embedded owns it; do not close it.
func (e *Embedded) Client() *clientv3.Client { return e.client }

// ClientURLs returns the URLs the member's client listeners are bound to,
// with the real port when the config asked for port 0.
func (e *Embedded) ClientURLs() []string {
	return listenerURLs(e.etcd.Clients, e.etcd.Config().ListenClientUrls)
}

// PeerURLs returns the URLs the member's peer listeners are bound to.
func (e *Embedded) PeerURLs() []string {
	return listenerURLs(e.etcd.Peers, e.etcd.Config().ListenPeerUrls)
}

func listenerURLs[L interface{ Addr() net.Addr }](ls []L, cfgURLs []url.URL) []string {
	urls := make([]string, 0, len(ls))
	for i, l := range ls {
		scheme := "http"
		if i < len(cfgURLs) {
			scheme = cfgURLs[i].Scheme
		}
		urls = append(urls, scheme+"://"+l.Addr().String())
	}
	return urls
}

// Stopped is closed when the member stops, on Close or because it failed
// (a fatal error, or removal from the cluster).
func (e *Embedded) Stopped() <-chan struct{} { return e.etcd.Server.StopNotify() }

// Close closes the client and stops the member, waiting for it to shut
// down. It is safe to call more than once.
func (e *Embedded) Close() error {
	e.closeOnce.Do(func() {
		err := e.client.Close()
		e.quiet.Store(true)
		e.etcd.Close()
		if err != nil && !errors.Is(err, context.Canceled) {
			e.closeErr = fmt.Errorf("close embedded etcd client: %w", err)
		}
	})
	return e.closeErr
}
