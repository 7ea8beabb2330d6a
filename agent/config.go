package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/agent/txn"
)

// Config configures an Agent. Build one with NewConfig, change what you need
// and call Validate (New does).
type Config struct {
	// NodeID is this agent's Kafka broker id, unique in the cluster.
	NodeID int32
	// Listen is the Kafka listener address (host:port; port 0 picks one).
	Listen string
	// AdvertisedAddr is the host:port clients are told to connect to. Empty
	// means the listen address, with "localhost" for an unspecified host
	// and the bound port when Listen's port is 0.
	AdvertisedAddr string
	// Rack is the agent's rack (availability zone), reported in Metadata.
	Rack string
	// HTTPAddr is where the agent serves /metrics, /healthz and /readyz
	// (host:port; port 0 picks one; empty turns it off).
	HTTPAddr string
	// Pprof also serves Go's profiles under /debug/pprof/ on HTTPAddr.
	Pprof bool
	// DataDir holds the partition logs and, when etcd is embedded, its data.
	DataDir string

	// EtcdEndpoints points at an external etcd cluster. Empty runs an
	// embedded single-member etcd under DataDir/etcd.
	EtcdEndpoints []string
	// EtcdPrefix is the key prefix for all of Strata's metadata.
	EtcdPrefix string
	// SessionTimeout is how long the agent's registration outlives its last
	// renewal in etcd: when an agent dies, its partitions get new leaders
	// about this long afterwards. A leader cut off from etcd stops
	// accepting writes after half of it.
	SessionTimeout time.Duration
	// Etcd configures the embedded etcd member (used when EtcdEndpoints is
	// empty). Several agents form one etcd cluster by listing the same
	// InitialCluster, each with its own Name and peer address.
	Etcd EmbeddedEtcd

	// AutoCreateTopics creates unknown topics on Metadata and Produce
	// (Kafka's auto.create.topics.enable).
	AutoCreateTopics bool
	// DefaultPartitions is num.partitions: partitions of auto-created topics
	// and of CreateTopics requests that ask for the default.
	DefaultPartitions int32
	// DefaultReplicationFactor is default.replication.factor (3), capped by
	// the number of live agents when a topic is created.
	DefaultReplicationFactor int16
	// MinInsyncReplicas is the default min.insync.replicas.
	MinInsyncReplicas int
	// MessageMaxBytes is the default max.message.bytes: the largest record
	// batch a topic accepts.
	MessageMaxBytes int32
	// MaxRequestBytes is socket.request.max.bytes: larger frames are refused
	// before anything is allocated for them.
	MaxRequestBytes int32
	// IdleTimeout closes connections idle this long (connections.max.idle.ms).
	IdleTimeout time.Duration

	// Log holds the default log settings for topics (segment size, retention,
	// flush policy). Topic configs override them per topic.
	Log log.Config
	// RetentionCheckInterval is how often retention runs
	// (log.retention.check.interval.ms).
	RetentionCheckInterval time.Duration

	// ReplicaLagTimeMax is how long a follower may go without catching up
	// with the leader before it leaves the ISR (replica.lag.time.max.ms).
	ReplicaLagTimeMax time.Duration
	// LeaderRebalanceInterval is how often the controller hands leadership
	// back to preferred replicas (auto.leader.rebalance).
	LeaderRebalanceInterval time.Duration
	// ControlledShutdown hands this agent's partition leadership to other
	// in-sync replicas before it stops, so clients see no errors.
	ControlledShutdown bool

	// Groups configures the consumer-group coordinator: Kafka's
	// group.initial.rebalance.delay.ms, group.min/max.session.timeout.ms,
	// group.max.size, offsets.retention.minutes and
	// offsets.retention.check.interval.ms. Its Logger is the agent's.
	Groups group.Config

	// Transactions configures the transaction coordinator: Kafka's
	// transaction.max.timeout.ms,
	// transaction.abort.timed.out.transaction.cleanup.interval.ms and
	// transactional.id.expiration.ms. Its Logger is the agent's.
	Transactions txn.Config

	// Tiering configures the object store segments are offloaded to.
	Tiering TieringConfig

	// Logger receives the agent's structured logs.
	Logger *slog.Logger
}

// NewConfig returns the defaults: a single agent (id 1) on :9092 with data
// under ./data and an embedded etcd — Kafka's defaults everywhere else.
func NewConfig() Config {
	return Config{
		NodeID:                   1,
		Listen:                   ":9092",
		HTTPAddr:                 ":9644",
		DataDir:                  "./data",
		EtcdPrefix:               "/strata/",
		SessionTimeout:           4 * time.Second,
		AutoCreateTopics:         true,
		DefaultPartitions:        1,
		DefaultReplicationFactor: 3,
		MinInsyncReplicas:        1,
		MessageMaxBytes:          1048588,
		MaxRequestBytes:          100 << 20,
		IdleTimeout:              10 * time.Minute,
		Log:                      log.NewConfig(),
		RetentionCheckInterval:   5 * time.Minute,
		Tiering:                  NewTieringConfig(),
		ReplicaLagTimeMax:        30 * time.Second,
		LeaderRebalanceInterval:  30 * time.Second,
		ControlledShutdown:       true,
		Groups:                   group.NewConfig(),
		Transactions:             txn.NewConfig(),
		Logger:                   slog.Default(),
	}
}

// Validate reports the first problem with c, phrased so a user can fix it.
func (c *Config) Validate() error {
	var errs []error
	if c.NodeID < 0 {
		errs = append(errs, fmt.Errorf("node id %d: must be >= 0", c.NodeID))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: %v (want host:port, e.g. :9092)", c.Listen, err))
	}
	if c.AdvertisedAddr != "" {
		host, port, err := net.SplitHostPort(c.AdvertisedAddr)
		if err != nil || host == "" {
			errs = append(errs, fmt.Errorf("advertised address %q: want host:port, e.g. broker1.example.com:9092", c.AdvertisedAddr))
		} else if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("advertised address %q: port must be 1-65535", c.AdvertisedAddr))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir: must not be empty"))
	}
	if c.EtcdPrefix == "" || c.EtcdPrefix[len(c.EtcdPrefix)-1] != '/' {
		errs = append(errs, fmt.Errorf("etcd prefix %q: must end with '/'", c.EtcdPrefix))
	}
	if c.DefaultPartitions < 1 {
		errs = append(errs, fmt.Errorf("default partitions %d: must be >= 1", c.DefaultPartitions))
	}
	if c.DefaultReplicationFactor < 1 {
		errs = append(errs, fmt.Errorf("default replication factor %d: must be >= 1", c.DefaultReplicationFactor))
	}
	if c.MinInsyncReplicas < 1 {
		errs = append(errs, fmt.Errorf("min insync replicas %d: must be >= 1", c.MinInsyncReplicas))
	}
	if c.MessageMaxBytes < 1024 {
		errs = append(errs, fmt.Errorf("message max bytes %d: must be >= 1024", c.MessageMaxBytes))
	}
	if c.MaxRequestBytes < c.MessageMaxBytes {
		errs = append(errs, fmt.Errorf("max request bytes %d: must be >= message max bytes %d", c.MaxRequestBytes, c.MessageMaxBytes))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("idle timeout %v: must be > 0", c.IdleTimeout))
	}
	if c.SessionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("session timeout %v: must be >= 1s", c.SessionTimeout))
	}
	if c.ReplicaLagTimeMax <= 0 {
		errs = append(errs, fmt.Errorf("replica lag time max %v: must be > 0", c.ReplicaLagTimeMax))
	}
	if c.LeaderRebalanceInterval <= 0 {
		errs = append(errs, fmt.Errorf("leader rebalance interval %v: must be > 0", c.LeaderRebalanceInterval))
	}
	if c.RetentionCheckInterval <= 0 {
		errs = append(errs, fmt.Errorf("retention check interval %v: must be > 0", c.RetentionCheckInterval))
	}
	if err := c.Tiering.validate(); err != nil {
		errs = append(errs, fmt.Errorf("tiering: %w", err))
	}
	if err := c.Log.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("log defaults: %w", err))
	}
	if err := c.Groups.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Transactions.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return errors.Join(errs...)
}

// EmbeddedEtcd configures the etcd member an agent runs itself.
type EmbeddedEtcd struct {
	// Name is the member's name (default "agent-<node id>").
	Name string
	// ListenPeer and ListenClient are host:port listeners for the other
	// members and for other agents (default 127.0.0.1 with a free port,
	// enough for a single member).
	ListenPeer, ListenClient string
	// AdvertisePeer and AdvertiseClient are the addresses others use
	// (default: the listen addresses).
	AdvertisePeer, AdvertiseClient string
	// InitialCluster lists the founding members as
	// name=http://host:port,... (default: this member alone).
	InitialCluster string
}
