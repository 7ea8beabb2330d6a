package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Command returns the `bench` command: flags map onto Config, Run does the
// work. With --json the report is printed as one JSON document at the end
// instead of streaming text lines.
func Command() *cobra.Command {
	cfg := NewConfig()
	var (
		bootstrap  = strings.Join(cfg.BootstrapServers, ",")
		scenarios  = "all"
		brokerPIDs string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark any Kafka-compatible cluster: throughput, latency, end-to-end latency",
		Long: `bench drives a Kafka bootstrap address with franz-go and prints one line
per scenario: loopback (this machine's single-stream TCP bandwidth),
produce and consume throughput (1 MB = 10^6 bytes of record value),
produce-acknowledgement latency and end-to-end latency at a fixed rate
(measured from each record's intended send time). Fresh topics
bench-<scenario>-<random> are created and deleted unless --topic or --keep.

The catchup scenario, which "all" does not select, replays the produce
topic (or --topic) from its log start with a fresh consumer with franz-go's
default fetch sizes, and reports the time from the first Fetch request to
the first record, the replay's MB/s and records/s, and the fraction of
the records that were below the broker's local log start (ListOffsets -4,
i.e. in its object tier). With --wait-offloaded it first waits until every
partition's local log start is within --offloaded-within records of its
end offset.

The txn scenario, which "all" does not select, sends the produce load on
one fresh topic (acks=all) with idempotent producers that flush every
--txn-interval and with transactional producers that flush and commit
every --txn-interval, in four runs of
a quarter of --duration each (idempotent, transactional, transactional,
idempotent, so that one run's after-effects on the disk cancel out), and
reports both throughputs and their ratio.

The failover scenario, which "all" does not select, needs the agents'
process IDs (--broker-pids 1=PID,2=PID,...): it produces at the latency
rate, kills the agent leading partition 0 with SIGKILL after
--failover-warmup, and reports how long partition 0, and every partition,
took to acknowledge a record sent after the kill. It does not restart the
agent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("duration") && cmd.Flags().Changed("records") {
				return fmt.Errorf("%w: --duration and --records are exclusive", ErrInvalidConfig)
			}
			var err error
			if cfg.Scenarios, err = ParseScenarios(scenarios); err != nil {
				return err
			}
			cfg.BootstrapServers = splitList(bootstrap)
			if cfg.BrokerPIDs, err = ParseBrokerPIDs(brokerPIDs); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			cmd.SilenceUsage = true
			return runCommand(cmd.Context(), cfg, asJSON, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&bootstrap, "bootstrap-server", bootstrap, "Kafka bootstrap address(es), comma-separated host:port")
	f.StringVar(&cfg.Topic, "topic", "", "use this topic for every scenario (created if missing, never deleted) instead of fresh bench-<scenario>-<random> topics")
	f.Int32Var(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of the topics bench creates")
	f.BoolVar(&cfg.Keep, "keep", false, "keep the fresh topics after the run")
	f.IntVar(&cfg.RecordSize, "record-size", cfg.RecordSize, "record value size in bytes")
	f.StringVar(&cfg.Acks, "acks", cfg.Acks, "producer acks: all, 1 or 0")
	f.StringVar(&cfg.Compression, "compression", cfg.Compression, "none, gzip, snappy, lz4 or zstd (any codec switches to compressible text payloads)")
	f.DurationVar(&cfg.Linger, "linger", cfg.Linger, "producer linger (0 sends as soon as possible)")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long produce, latency, e2e and failover each send (failover: at least, and until every partition has recovered)")
	f.Int64Var(&cfg.Records, "records", 0, "send this many records in produce, latency, e2e and failover instead of running for --duration")
	f.Int64Var(&cfg.Rate, "rate", 0, fmt.Sprintf("records/s; 0 = unlimited for produce and %d/s for latency, e2e and failover", DefaultLatencyRate))
	f.IntVar(&cfg.Producers, "producers", cfg.Producers, "franz-go producer clients in the produce scenario")
	f.StringVar(&scenarios, "scenarios", scenarios, "comma-separated: "+scenarioList()+", or all")
	f.IntVar(&cfg.BrokerPID, "broker-pid", 0, "report this process's VmRSS/VmHWM after each scenario (Linux)")
	f.StringVar(&brokerPIDs, "broker-pids", "", "a cluster's agents as node-id=pid,...: failover kills partition 0's leader through it; each agent's VmRSS/VmHWM is reported after each scenario (Linux)")
	f.IntVar(&cfg.WaitBrokers, "wait-brokers", 0, "before the first scenario, wait (up to --connect-timeout) until Metadata lists this many brokers")
	f.DurationVar(&cfg.FailoverWarmup, "failover-warmup", cfg.FailoverWarmup, "how long failover produces before it kills the leader of partition 0")
	f.DurationVar(&cfg.FailoverTimeout, "failover-timeout", cfg.FailoverTimeout, "fail the failover scenario if a partition acknowledges nothing sent after the kill for this long")
	f.DurationVar(&cfg.TxnInterval, "txn-interval", cfg.TxnInterval, "txn: how often the transactional producers commit")
	f.BoolVar(&cfg.WaitOffloaded, "wait-offloaded", false, "catchup: first wait until every partition's local log start (ListOffsets -4) is within --offloaded-within records of its end offset")
	f.Int64Var(&cfg.OffloadedWithin, "offloaded-within", 0, "catchup: records per partition that may still be on local disk when --wait-offloaded's wait ends (e.g. one segment's worth)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON instead of text lines")
	f.DurationVar(&cfg.LoopbackDuration, "loopback-duration", cfg.LoopbackDuration, "how long the loopback scenario streams")
	f.DurationVar(&cfg.FetchMaxWait, "fetch-max-wait", cfg.FetchMaxWait, "e2e consumer fetch long-poll time")
	f.DurationVar(&cfg.StallTimeout, "stall-timeout", cfg.StallTimeout, "fail a scenario that makes no progress for this long")
	f.DurationVar(&cfg.ConnectTimeout, "connect-timeout", cfg.ConnectTimeout, "how long to wait for the bootstrap brokers to answer")
	return cmd
}

// runCommand runs the benchmark until done or interrupted and prints the
// report.
func runCommand(ctx context.Context, cfg Config, asJSON bool, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := out
	if asJSON {
		w = nil
	}
	rep, err := Run(ctx, cfg, w)
	if asJSON && rep != nil {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(rep); encErr != nil {
			err = errors.Join(err, fmt.Errorf("bench: write report: %w", encErr))
		}
	}
	return err
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
