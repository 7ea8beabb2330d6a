package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/tiering/cost"
)

// errNoTopics means there is nothing to price: the cluster has no topic
// besides internal ones. (Sentinels of the other commands are in
// errors.go.)
var errNoTopics = errors.New("no topics to estimate: the cluster has none besides internal ones")

// defaultPriceSource describes cost.DefaultPrices.
const defaultPriceSource = "AWS us-east-1 list prices: S3 Standard $0.023/GB-month, PUT $0.005 and GET $0.0004 per 1,000, " +
	"gp3 $0.08/GB-month, cross-AZ $0.01/GB each way"

const costLong = `Estimate what each topic costs per month on Strata — object storage, object-store
requests, local disks and cross-zone traffic — and what the same topic would
cost on classic Kafka with three replicas on disks, from figures read live
from the cluster. Only Kafka APIs are used, so any Kafka-compatible cluster can
be priced as it would run on Strata.

What is measured, for each topic (all topics but internal ones without --topic):

  partitions, RF     Metadata
  configs            DescribeConfigs: retention.ms, retention.bytes,
                     local.retention.ms/bytes, segment.bytes, segment.ms,
                     remote.storage.enable (absent: Kafka's defaults; remote
                     storage on, as on Strata)
  ingress            the cluster is sampled twice, --sample apart: bytes/s is
                     the growth of the leaders' local log sizes
                     (DescribeLogDirs); where segments were deleted meanwhile
                     (retention, local retention after upload) it is records
                     added × the local log's bytes per record; records/s is
                     the growth of the high watermarks
  local, remote      DescribeLogDirs now: all replicas' disks; the object tier
                     Strata reports as an extra directory (file://, s3://)
  compression        the newest batches of one partition are fetched and their
                     stored size compared with their records uncompressed;
                     shown for information, it does not change the cost
  requests           with --metrics-url (every agent's Prometheus endpoint,
                     sampled over the same interval): object-store PUT-class
                     (PUT, LIST) and GET-class (GET, HEAD) requests, split
                     over each agent's tiered topics by segments uploaded
                     (PUT), bytes held in the object tier (LIST) and bytes
                     fetched (GET, HEAD). The model derives them instead for
                     topics whose leaders were not all scraped, and the PUT
                     rate of topics whose segments take longer than half the
                     sample to fill (uploads are too rare to observe);
                     without --metrics-url, for every topic.

Not measured: how often data is read. --read-fanout is the bytes fetched per
byte produced (default 1: one consumer group), --remote-read-fraction the share
of those reads served from the object store (default 0: consumers keep up).

The projection is the steady state at the measured ingress (see the
tiering/cost package for the formulas). A topic that keeps data forever
(retention.ms and retention.bytes -1) has none: it is priced only with
--unbounded-horizon, as holding that much history.

Prices default to AWS list prices in us-east-1 (tiering/cost's defaults): S3
Standard $0.023 per GB-month, $0.005 per 1,000 PUT and $0.0004 per 1,000 GET
requests, gp3 $0.08 per GB-month provisioned, and $0.01 per GB each way across
availability zones. --prices FILE reads a JSON object with any of the names
below (others keep the defaults), and --price NAME=VALUE sets one (applied
after the file):

  currency, cross_az_per_gb, disk_per_gb_month, s3_get_per_1000,
  s3_put_per_1000, s3_storage_per_gb_month

--what-if NAME=VALUE,... prices every topic again with changed settings and
shows before, after and the difference: retention.ms, local.retention.ms and
segment.ms take milliseconds or durations (36h, 30d, 2w); retention.bytes,
local.retention.bytes and segment.bytes take bytes or sizes (512MiB, 1TiB);
also remote.storage.enable, partitions and replication.factor. Measured
request rates are scaled by the model's ratio after/before.

With --output json the result is one JSON object with a stable shape.`

const costExample = `  # Every topic, sampled for 10 seconds
  strata cost

  # Two topics, with object-store requests measured on three agents
  strata cost --topic orders --topic clicks \
    --metrics-url http://agent1:9644/metrics,http://agent2:9644/metrics,http://agent3:9644/metrics

  # What 30 days of retention with 6 hours on local disk would cost
  strata cost --what-if retention.ms=30d,local.retention.ms=6h

  # Your own prices: a price file, and one override
  strata cost --prices eu-central-1.json --price s3_storage_per_gb_month=0.0245

  strata cost --output json | jq '.topics[] | {name, total: .monthly.strata.total}'`

// costOptions are the flags of `strata cost`.
type costOptions struct {
	topics             []string
	sample             time.Duration
	pricesFile         string
	prices             []string
	whatIf             []string
	metricsURLs        []string
	readFanout         float64
	remoteReadFraction float64
	horizon            time.Duration
	output             string

	// wait waits between the two snapshots; tests replace it to act on
	// the cluster mid-sample.
	wait func(ctx context.Context, d time.Duration) error
}

func newCostCmd() *cobra.Command {
	co := &clientOptions{}
	o := &costOptions{wait: sleepCtx}
	cmd := &cobra.Command{
		Use:     "cost [--topic TOPIC]... [--sample 10s] [--what-if NAME=VALUE,...]",
		Short:   "Estimate each topic's monthly cost on Strata and on classic Kafka",
		Long:    costLong,
		Example: costExample,
		Args:    exactArgs(0, "no arguments (name topics with --topic)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			plan, err := o.plan()
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return o.run(cmd.Context(), co, plan, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&o.topics, "topic", "t", nil, "topic to price (repeatable; default: all but internal topics)")
	fs.DurationVar(&o.sample, "sample", 10*time.Second, "how long to measure ingress and request rates")
	fs.StringVar(&o.pricesFile, "prices", "", "JSON price sheet over the defaults (AWS us-east-1)")
	fs.StringArrayVar(&o.prices, "price", nil, "one price NAME=VALUE, e.g. s3_storage_per_gb_month=0.021 (repeatable)")
	fs.StringArrayVar(&o.whatIf, "what-if", nil, "settings to compare with, NAME=VALUE,... e.g. retention.ms=30d,segment.bytes=256MiB")
	fs.StringSliceVar(&o.metricsURLs, "metrics-url", nil, "Strata agent metrics endpoint to measure object-store requests on (comma-separated or repeated)")
	fs.Float64Var(&o.readFanout, "read-fanout", 1, "bytes fetched by consumers per byte produced")
	fs.Float64Var(&o.remoteReadFraction, "remote-read-fraction", 0, "share of fetched bytes read from the object store, 0-1")
	fs.DurationVar(&o.horizon, "unbounded-horizon", 0, "price topics that keep data forever as holding this much history (e.g. 8760h); 0 leaves them unpriced")
	fs.StringVarP(&o.output, "output", "o", string(outputTable), "output format: table or json")
	co.addFlags(fs)
	return cmd
}

// costPlan is the validated flags.
type costPlan struct {
	format      outputFormat
	cfg         cost.Config
	priceSource string
	overrides   cost.Overrides
	whatIf      string // the overrides as given, for display
	urls        []string
}

// plan validates the flags that need no cluster, so that a typo fails
// before anything is sampled.
func (o *costOptions) plan() (costPlan, error) {
	var p costPlan
	var err error
	if p.format, err = parseOutput(o.output); err != nil {
		return p, err
	}
	switch {
	case o.sample <= 0:
		return p, fmt.Errorf("--sample %v: must be positive (10s or more gives steadier figures)", o.sample)
	case !(o.readFanout >= 0):
		return p, fmt.Errorf("--read-fanout %v: must be >= 0", o.readFanout)
	case !(o.remoteReadFraction >= 0 && o.remoteReadFraction <= 1):
		return p, fmt.Errorf("--remote-read-fraction %v: must be between 0 and 1", o.remoteReadFraction)
	case o.horizon < 0:
		return p, fmt.Errorf("--unbounded-horizon %v: must be >= 0", o.horizon)
	}
	if p.cfg, p.priceSource, err = o.priceConfig(); err != nil {
		return p, err
	}
	p.whatIf = strings.Join(o.whatIf, ",")
	if p.overrides, err = cost.ParseOverrides(p.whatIf); err != nil {
		return p, fmt.Errorf("--what-if: %w", err)
	}
	if len(o.whatIf) > 0 && len(p.overrides) == 0 {
		return p, errors.New("--what-if: no settings given (want NAME=VALUE,...)")
	}
	for _, raw := range o.metricsURLs {
		u, err := metricsURL(raw)
		if err != nil {
			return p, err
		}
		if !slices.Contains(p.urls, u) {
			p.urls = append(p.urls, u)
		}
	}
	for _, t := range o.topics {
		if t == "" {
			return p, errors.New("--topic: empty topic name")
		}
	}
	return p, nil
}

// priceConfig builds the model's config from the defaults, --prices and
// --price, and describes where the prices come from.
func (o *costOptions) priceConfig() (cost.Config, string, error) {
	cfg := cost.NewConfig()
	cfg.UnboundedHorizon = o.horizon
	source := defaultPriceSource
	if o.pricesFile != "" {
		p, err := cost.LoadPrices(o.pricesFile, cfg.Prices)
		if err != nil {
			return cfg, "", fmt.Errorf("--prices: %w", err)
		}
		cfg.Prices = p
		source = "defaults overridden by " + o.pricesFile
	}
	sets, err := parseKeyValues("--price", o.prices)
	if err != nil {
		return cfg, "", err
	}
	for _, kv := range o.prices { // in the order given; parseKeyValues refused repeats
		name, _, _ := strings.Cut(kv, "=")
		if err := cfg.Prices.Set(name, sets[name]); err != nil {
			return cfg, "", fmt.Errorf("--price %s: %w", kv, err)
		}
	}
	if len(o.prices) > 0 {
		source += "; --price " + strings.Join(o.prices, " --price ")
	}
	return cfg, source, cfg.Validate()
}

// run samples the cluster and prints the report.
func (o *costOptions) run(ctx context.Context, co *clientOptions, plan costPlan, stdout, stderr io.Writer) error {
	cl, err := co.connect(ctx, stderr)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := co.newAdmin(cl)

	rctx, cancel := context.WithTimeout(ctx, co.timeout)
	metas, logDirs, err := costTopics(rctx, adm, o.topics)
	cancel()
	if err != nil {
		return err
	}
	names := make([]string, len(metas))
	for i, m := range metas {
		names[i] = m.name
	}
	s := &sampler{adm: adm, topics: names, logDirs: logDirs, timeout: co.timeout}
	if len(plan.urls) > 0 {
		s.scrape = newScraper(plan.urls, co.timeout)
	}
	fmt.Fprintf(stderr, "sampling %d topic(s) for %v ...\n", len(names), o.sample)
	a, err := s.take(ctx)
	if err != nil {
		return err
	}
	if err := o.wait(ctx, o.sample); err != nil {
		return err
	}
	b, err := s.take(ctx)
	if err != nil {
		return err
	}
	batches, fetchErrs, err := fetchBatches(ctx, co, stderr, batchTargets(b), min(co.timeout, 10*time.Second))
	if err != nil {
		return err
	}
	r := buildCostReport(costInputs{
		bootstrap: co.bootstrapServer, plan: plan, metas: metas, before: a, after: b,
		batches: batches, fetchErrs: fetchErrs, readFanout: o.readFanout, remoteReadFraction: o.remoteReadFraction,
	})
	return printCostReport(stdout, plan.format, r)
}

// costTopicMeta is what Metadata and DescribeConfigs say of a topic.
type costTopicMeta struct {
	name                          string
	partitions, replicationFactor int
	// configs are the topic's config values by name; nil when the
	// broker does not serve DescribeConfigs.
	configs map[string]string
}

// costTopics looks up the named topics (all but internal ones when names
// is empty), sorted by name, and reports whether the brokers serve
// DescribeLogDirs.
func costTopics(ctx context.Context, adm *kadm.Client, names []string) ([]costTopicMeta, bool, error) {
	tds, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, false, fmt.Errorf("metadata: %w", err)
	}
	for _, name := range names {
		td, ok := tds[name]
		switch {
		case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
			return nil, false, topicNotFound(name)
		case td.Err != nil:
			return nil, false, fmt.Errorf("metadata for topic %q: %w", name, td.Err)
		}
	}
	var metas []costTopicMeta
	for _, td := range tds.Sorted() {
		if td.Err == nil && td.Topic != "" && !(len(names) == 0 && td.IsInternal) {
			metas = append(metas, costTopicMeta{name: td.Topic, partitions: len(td.Partitions),
				replicationFactor: td.Partitions.NumReplicas()})
		}
	}
	if len(metas) == 0 {
		return nil, false, fmt.Errorf("%w (create one with 'strata topic create', or name topics with --topic)", errNoTopics)
	}
	support, err := loadAPISupport(ctx, adm)
	if err != nil {
		return nil, false, err
	}
	if support.supports(int16(kmsg.DescribeConfigs)) {
		if err := topicConfigs(ctx, adm, metas); err != nil {
			return nil, false, err
		}
	}
	return metas, support.supports(int16(kmsg.DescribeLogDirs)), nil
}

// topicConfigs fills each topic's config values, defaults included.
func topicConfigs(ctx context.Context, adm *kadm.Client, metas []costTopicMeta) error {
	names := make([]string, len(metas))
	for i, m := range metas {
		names[i] = m.name
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return fmt.Errorf("describe configs: %w", err)
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			return fmt.Errorf("describe configs of topic %q: %w", rc.Name, withBrokerMessage(rc.Err, rc.ErrMessage))
		}
		i := slices.IndexFunc(metas, func(m costTopicMeta) bool { return m.name == rc.Name })
		if i < 0 {
			continue
		}
		metas[i].configs = make(map[string]string, len(rc.Configs))
		for _, c := range rc.Configs {
			if c.Value != nil {
				metas[i].configs[c.Key] = *c.Value
			}
		}
	}
	return nil
}
