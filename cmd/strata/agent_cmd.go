package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strata-io/strata/agent"
)

const agentLong = `Run a Strata agent: a Kafka-compatible broker.

With no flags it is a complete single-node broker: Kafka on :9092 (advertised
as localhost:9092), data under ./data, and an embedded etcd for metadata —
no other service needed.

Several agents form one cluster by sharing etcd: either point each at an
etcd cluster with --etcd-endpoints (see 'strata etcd'), or let the first
three agents host etcd members themselves (--etcd-initial-cluster, with
--etcd-listen-peer/--etcd-listen-client) and point the others at them.
Every agent needs its own --node-id and --data-dir.

Every flag can also be set through the environment: --data-dir is
STRATA_DATA_DIR, --log-retention is STRATA_LOG_RETENTION, and so on (flags
win over the environment).`

const agentExample = `  # Single-node broker with defaults
  strata agent

  # Listen on another port, keep data elsewhere, debug logging as JSON
  strata agent --listen :19092 --data-dir /var/lib/strata --log-level debug --log-format json

  # Advertise a routable address to clients on other hosts
  strata agent --listen 0.0.0.0:9092 --advertised-addr broker1.example.com:9092

  # Three agents on one host hosting their own etcd cluster (what make cluster runs)
  M=a1=http://127.0.0.1:2380,a2=http://127.0.0.1:2382,a3=http://127.0.0.1:2384
  strata agent --node-id 1 --listen 127.0.0.1:9092 --http-addr 127.0.0.1:9644 --data-dir data/cluster/1 \
    --etcd-name a1 --etcd-listen-peer 127.0.0.1:2380 --etcd-listen-client 127.0.0.1:2379 --etcd-initial-cluster $M
  (likewise --node-id 2 on 9093/9645 with a2 on 2382/2381, --node-id 3 on 9094/9646 with a3 on 2384/2383)`

// newAgentCmd is `strata agent`: flags and STRATA_* variables → agent.Config.
func newAgentCmd() *cobra.Command {
	cfg := agent.NewConfig()
	var etcdEndpoints, logLevel, logFormat string
	var memoryLimit int64
	cmd := &cobra.Command{
		Use:     "agent",
		Short:   "Run a Strata agent (the broker)",
		Long:    agentLong,
		Example: agentExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			logger, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			cfg.Logger = logger
			if memoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
				// A soft limit: the GC works harder near it instead of
				// letting the heap grow to twice the live data (the read
				// cache, mostly).
				debug.SetMemoryLimit(memoryLimit)
			}
			if etcdEndpoints != "" {
				cfg.EtcdEndpoints = strings.Split(etcdEndpoints, ",")
			}
			return runAgent(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.Int32Var(&cfg.NodeID, "node-id", cfg.NodeID, "this agent's broker id, unique in the cluster")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "Kafka listener address host:port (port 0 picks a free port)")
	f.StringVar(&cfg.AdvertisedAddr, "advertised-addr", "", "host:port clients are told to connect to (default: the listen address, localhost if unspecified)")
	f.StringVar(&cfg.Rack, "rack", "", "rack or availability zone of this agent")
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for partition logs and embedded etcd data")
	f.StringVar(&etcdEndpoints, "etcd-endpoints", "", "comma-separated etcd client URLs; empty runs an embedded etcd")
	f.StringVar(&cfg.EtcdPrefix, "etcd-prefix", cfg.EtcdPrefix, "key prefix for Strata's metadata in etcd")
	f.DurationVar(&cfg.SessionTimeout, "session-timeout", cfg.SessionTimeout, "how long the agent's etcd registration outlives its last renewal: a dead agent's partitions move after about this long")
	f.StringVar(&cfg.Etcd.Name, "etcd-name", "", "name of this agent's embedded etcd member (default agent-<node-id>)")
	f.StringVar(&cfg.Etcd.ListenPeer, "etcd-listen-peer", "", "embedded etcd peer listener host:port (default 127.0.0.1, a free port)")
	f.StringVar(&cfg.Etcd.ListenClient, "etcd-listen-client", "", "embedded etcd client listener host:port, for agents using --etcd-endpoints (default 127.0.0.1, a free port)")
	f.StringVar(&cfg.Etcd.AdvertisePeer, "etcd-advertise-peer", "", "peer address other etcd members use (default: --etcd-listen-peer)")
	f.StringVar(&cfg.Etcd.AdvertiseClient, "etcd-advertise-client", "", "client address other agents use (default: --etcd-listen-client)")
	f.StringVar(&cfg.Etcd.InitialCluster, "etcd-initial-cluster", "", "founding members of an etcd cluster formed by agents, name=http://host:port,... (default: this agent alone)")
	f.BoolVar(&cfg.AutoCreateTopics, "auto-create-topics", cfg.AutoCreateTopics, "create unknown topics on Metadata and Produce (auto.create.topics.enable)")
	f.Int32Var(&cfg.DefaultPartitions, "num-partitions", cfg.DefaultPartitions, "default partitions of new topics (num.partitions)")
	f.Int16Var(&cfg.DefaultReplicationFactor, "default-replication-factor", cfg.DefaultReplicationFactor, "default replication factor of new topics")
	f.IntVar(&cfg.MinInsyncReplicas, "min-insync-replicas", cfg.MinInsyncReplicas, "default min.insync.replicas")
	f.Int32Var(&cfg.MessageMaxBytes, "message-max-bytes", cfg.MessageMaxBytes, "default max.message.bytes: largest record batch a topic accepts")
	f.Int32Var(&cfg.MaxRequestBytes, "max-request-bytes", cfg.MaxRequestBytes, "largest request accepted (socket.request.max.bytes)")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", cfg.IdleTimeout, "close client connections idle this long")
	f.Int64Var(&cfg.Log.SegmentBytes, "log-segment-bytes", cfg.Log.SegmentBytes, "default segment.bytes: roll a segment at this size")
	f.DurationVar(&cfg.Log.SegmentMS, "log-roll", cfg.Log.SegmentMS, "default segment.ms: roll a segment at this age")
	f.DurationVar(&cfg.Log.RetentionMS, "log-retention", cfg.Log.RetentionMS, "default retention.ms as a duration (-1ns keeps data forever)")
	f.Int64Var(&cfg.Log.RetentionBytes, "log-retention-bytes", cfg.Log.RetentionBytes, "default retention.bytes per partition (-1: no limit)")
	f.Int64Var(&cfg.Log.FlushMessages, "log-flush-messages", cfg.Log.FlushMessages, "default flush.messages: fsync every N records (1 = before every ack; 0 = leave it to the OS and --log-flush-interval)")
	f.DurationVar(&cfg.Log.FlushInterval, "log-flush-interval", cfg.Log.FlushInterval, "default flush.ms: fsync unsynced data at least this often (0: never by time)")
	f.DurationVar(&cfg.RetentionCheckInterval, "retention-check-interval", cfg.RetentionCheckInterval, "how often retention runs")
	f.DurationVar(&cfg.ReplicaLagTimeMax, "replica-lag-time-max", cfg.ReplicaLagTimeMax, "a follower that has not caught up for this long leaves the ISR (replica.lag.time.max.ms)")
	f.DurationVar(&cfg.LeaderRebalanceInterval, "leader-rebalance-interval", cfg.LeaderRebalanceInterval, "how often the controller gives leadership back to preferred replicas")
	f.BoolVar(&cfg.ControlledShutdown, "controlled-shutdown", cfg.ControlledShutdown, "hand partition leadership to other in-sync replicas before stopping")
	t := &cfg.Tiering
	f.BoolVar(&t.Enabled, "remote-storage", t.Enabled, "default remote.storage.enable: offload closed segments to the object store")
	f.StringVar(&t.Dir, "object-store-dir", "", "directory of the local-filesystem object store used without S3 (default <data-dir>/objects)")
	f.StringVar(&t.S3.Endpoint, "s3-endpoint", t.S3.Endpoint, "S3 endpoint host:port or URL (default: AWS); setting --s3-bucket switches tiering to S3")
	f.StringVar(&t.S3.Bucket, "s3-bucket", "", "S3 bucket for tiered data")
	f.StringVar(&t.S3.Region, "s3-region", t.S3.Region, "S3 region (default: $AWS_REGION or the server's)")
	f.StringVar(&t.S3.Prefix, "s3-prefix", t.S3.Prefix, "key prefix inside the bucket")
	f.StringVar(&t.S3.AccessKey, "s3-access-key", "", "S3 access key (default: $AWS_ACCESS_KEY_ID, ~/.aws/credentials or the instance role)")
	f.StringVar(&t.S3.SecretKey, "s3-secret-key", "", "S3 secret key (default: $AWS_SECRET_ACCESS_KEY, ...)")
	f.BoolVar(&t.S3.PathStyle, "s3-path-style", t.S3.PathStyle, "path-style bucket addressing (MinIO, versitygw)")
	f.BoolVar(&t.S3.UseTLS, "s3-tls", t.S3.UseTLS, "use HTTPS to the S3 endpoint")
	f.BoolVar(&t.S3.CreateBucket, "s3-create-bucket", false, "create the bucket if it does not exist")
	f.DurationVar(&t.LocalRetention, "log-local-retention", t.LocalRetention, "default local.retention.ms: how long offloaded segments stay on local disk (negative: as long as --log-retention)")
	f.Int64Var(&t.LocalRetentionBytes, "log-local-retention-bytes", t.LocalRetentionBytes, "default local.retention.bytes per partition (-2: as --log-retention-bytes)")
	f.Int64Var(&t.CacheBytes, "remote-cache-bytes", t.CacheBytes, "memory for the cache of data read from the object store")
	f.IntVar(&t.UploadConcurrency, "upload-concurrency", t.UploadConcurrency, "segments uploaded at once")
	f.Int64Var(&t.DiskMaxBytes, "disk-max-bytes", 0, "refuse produces (KAFKA_STORAGE_ERROR) once the local logs hold this many bytes, e.g. while the object store is unreachable (0: no limit)")
	f.DurationVar(&t.SweepInterval, "tier-sweep-interval", t.SweepInterval, "how often orphan objects are looked for")
	f.DurationVar(&t.SweepGrace, "tier-sweep-grace", t.SweepGrace, "how old an object without a catalogue entry must be before it is deleted")
	f.DurationVar(&cfg.Groups.InitialRebalanceDelay, "group-initial-rebalance-delay", cfg.Groups.InitialRebalanceDelay, "how long a new consumer group's first rebalance waits for more members (group.initial.rebalance.delay.ms)")
	f.DurationVar(&cfg.Groups.MinSessionTimeout, "group-min-session-timeout", cfg.Groups.MinSessionTimeout, "shortest session timeout a group member may ask for (group.min.session.timeout.ms)")
	f.DurationVar(&cfg.Groups.MaxSessionTimeout, "group-max-session-timeout", cfg.Groups.MaxSessionTimeout, "longest session timeout a group member may ask for (group.max.session.timeout.ms)")
	f.IntVar(&cfg.Groups.MaxSize, "group-max-size", cfg.Groups.MaxSize, "most members a consumer group may have (group.max.size)")
	f.DurationVar(&cfg.Groups.OffsetsRetention, "offsets-retention", cfg.Groups.OffsetsRetention, "how long an empty group keeps its committed offsets; a standalone consumer's are kept this long after each commit (offsets.retention.minutes)")
	f.DurationVar(&cfg.Groups.OffsetsRetentionCheckInterval, "offsets-retention-check-interval", cfg.Groups.OffsetsRetentionCheckInterval, "how often expired offsets, offsets of deleted topics and empty groups are removed")
	f.DurationVar(&cfg.Transactions.MaxTimeout, "transaction-max-timeout", cfg.Transactions.MaxTimeout, "longest transaction timeout a transactional producer may ask for (transaction.max.timeout.ms)")
	f.DurationVar(&cfg.Transactions.AbortInterval, "transaction-abort-interval", cfg.Transactions.AbortInterval, "how often transactions running past their timeout are aborted, fencing their producer")
	f.DurationVar(&cfg.Transactions.IDExpiration, "transactional-id-expiration", cfg.Transactions.IDExpiration, "forget a transactional id without a transaction after this long without activity (transactional.id.expiration.ms)")
	f.Int64Var(&memoryLimit, "memory-limit", 256<<20, "soft limit of the Go heap in bytes (GOMEMLIMIT wins when set); 0 leaves it to the Go runtime")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "HTTP listener for /metrics (Prometheus), /healthz and /readyz; empty turns it off")
	f.BoolVar(&cfg.Pprof, "pprof", false, "also serve Go's profiles under /debug/pprof/ on --http-addr")
	return cmd
}

// runAgent starts the agent and serves until Ctrl-C/SIGTERM or a fatal
// error (such as losing the agent's registration).
func runAgent(cmd *cobra.Command, cfg agent.Config) error {
	ctx := cmd.Context()
	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		cfg.Logger.Info("shutting down")
	case <-a.Done():
	}
	// A clean stop hands leadership over and offloads data, which needs
	// the metadata service; without a quorum it could wait a long time, so
	// give up after shutdownTimeout (data on disk is safe either way).
	done := make(chan error, 1)
	go func() { done <- a.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(shutdownTimeout):
		return fmt.Errorf("agent did not stop within %v (is the metadata service reachable?); exiting anyway", shutdownTimeout)
	}
}

// shutdownTimeout bounds a clean stop.
const shutdownTimeout = 30 * time.Second

// applyEnv sets every flag not given on the command line from its STRATA_*
// variable: --data-dir from STRATA_DATA_DIR.
func applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "STRATA_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if serr := f.Value.Set(v); serr != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, serr)
			}
		}
	})
	return err
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}
