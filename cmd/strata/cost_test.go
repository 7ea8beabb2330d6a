package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/tiering/cost"
)

var costBrokerMeta kgo.BrokerMetadata

func costFetchMetrics(records, compressed, uncompressed int, codec uint8) kgo.FetchBatchMetrics {
	return kgo.FetchBatchMetrics{NumRecords: records, CompressedBytes: compressed, UncompressedBytes: uncompressed, CompressionType: codec}
}

// state is a partitionState with every size known.
func pstate(leader int32, localStart, end, local int64) partitionState {
	return partitionState{leader: leader, logStart: 0, localStart: localStart, end: end, local: local, replicas: local, remote: -1}
}

func TestPartitionGrowth(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b partitionState
		want growth
	}{
		{"local size grows", pstate(1, 0, 100, 10_000), pstate(1, 0, 150, 15_500),
			growth{records: 50, bytes: 5_500, sized: true, how: sizedByLogDirs}},
		{"nothing produced", pstate(1, 0, 100, 10_000), pstate(1, 0, 100, 10_000),
			growth{records: 0, sized: true}},
		// Local retention deleted offsets 0-99 meanwhile: 50 records at the
		// local log's 12,000 bytes / 150 records = 80 bytes each.
		{"segments deleted", pstate(1, 0, 200, 20_000), pstate(1, 100, 250, 12_000),
			growth{records: 50, bytes: 4_000, sized: true, how: sizedByOffsets}},
		{"shrank without a start change", pstate(1, 0, 100, 10_000), pstate(1, 0, 110, 9_000),
			growth{records: 10, bytes: 818, sized: true, how: sizedByOffsets}},
		{"leader changed", pstate(1, 0, 100, 10_000), pstate(2, 0, 120, 13_000),
			growth{records: 20, bytes: 2_167, sized: true, how: sizedByOffsets}},
		{"no sizes", pstate(1, 0, 100, -1), pstate(1, 0, 130, -1),
			growth{records: 30}},
		{"end unknown", pstate(1, 0, -1, 10), pstate(1, 0, 100, 20),
			growth{records: -1}},
		{"log truncated", pstate(1, 0, 100, 10_000), pstate(1, 0, 90, 9_000),
			growth{records: 0, sized: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := partitionGrowth(tc.a, tc.b); got != tc.want {
				t.Errorf("partitionGrowth = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// snap builds a snapshot at second secs of topic t's partitions.
func costSnap(secs float64, parts map[int32]partitionState) snapshot {
	s := snapshot{at: time.Unix(1000, 0).Add(time.Duration(secs * float64(time.Second))),
		parts: make(map[topicPartition]partitionState), logDirs: true}
	for p, st := range parts {
		s.parts[topicPartition{"t", p}] = st
	}
	return s
}

func TestTopicIngress(t *testing.T) {
	// Partition 0 grows by its log dir, partition 1 lost segments to
	// retention, partition 2 has no sizes, partition 3 no offsets.
	a := costSnap(0, map[int32]partitionState{
		0: pstate(1, 0, 1000, 100_000), 1: pstate(1, 0, 1000, 100_000),
		2: pstate(1, 0, 1000, -1), 3: pstate(1, 0, -1, 5),
	})
	b := costSnap(10, map[int32]partitionState{
		0: pstate(1, 0, 2000, 200_000), 1: pstate(1, 1500, 2500, 50_000),
		2: pstate(1, 0, 1100, -1), 3: pstate(1, 0, -1, 5),
	})
	tg := growthOf("t", a, b)
	if tg.records != 1000+1500+100 || tg.bytes != 100_000+75_000 || tg.unsized != 100 || tg.unknown != 1 {
		t.Fatalf("growth = %+v", tg)
	}
	in, note := tg.rate(10, 120)
	// (100,000 + 75,000 + 100 × 120) / 10 s.
	if in.bytesPerSec != 18_700 || in.recordsPerSec != 260 || in.source != "fetched_batches+log_dirs+offsets" {
		t.Errorf("rate = %+v", in)
	}
	if !strings.Contains(note, "offsets of 1 partitions were not reported") {
		t.Errorf("note = %q", note)
	}
	// Without a batch size the unsized records are left out, and said so.
	in, note = tg.rate(10, 0)
	if in.bytesPerSec != 17_500 || !strings.Contains(note, "bytes of 100 records") {
		t.Errorf("rate without batch size = %+v, %q", in, note)
	}
	// A partition that appeared during the sample grows from nothing.
	b.parts[topicPartition{"t", 4}] = pstate(1, 0, 10, 800)
	if tg := growthOf("t", a, b); tg.records != 2610 || tg.bytes != 175_800 {
		t.Errorf("with a new partition: %+v", tg)
	}
	// Idle and unknown topics.
	idle := costSnap(0, map[int32]partitionState{0: pstate(1, 0, 10, 100)})
	if in, _ := growthOf("t", idle, idle).rate(10, 0); in.source != "none" || in.bytesPerSec != 0 {
		t.Errorf("idle: %+v", in)
	}
	only3 := costSnap(0, map[int32]partitionState{3: pstate(1, 0, -1, 5)})
	if in, _ := growthOf("t", only3, only3).rate(10, 0); in.source != "unknown" {
		t.Errorf("unknown: %+v", in)
	}
}

func TestStored(t *testing.T) {
	s := costSnap(0, map[int32]partitionState{
		0: {leader: 1, end: 10, local: 100, replicas: 300, remote: 1000},
		1: {leader: 2, end: 10, local: 50, replicas: 150, remote: 0},
	})
	if local, remote := stored("t", s); local != 450 || remote != 1000 {
		t.Errorf("stored = %d, %d", local, remote)
	}
	s = costSnap(0, map[int32]partitionState{0: pstate(1, 0, 10, -1)})
	if local, remote := stored("t", s); local != -1 || remote != -1 {
		t.Errorf("unknown: %d, %d", local, remote)
	}
}

func TestBatchTargets(t *testing.T) {
	s := costSnap(0, map[int32]partitionState{
		0: pstate(1, 0, 50, 1), 1: pstate(1, 4000, 5000, 1), 2: pstate(1, 4500, 5000, 1), 3: pstate(1, 0, 0, 0),
	})
	s.parts[topicPartition{"empty", 0}] = pstate(1, 7, 7, 0)
	got := batchTargets(s)
	// Partition 1 and 2 tie on the end; the lower partition wins, and its
	// offset is 1,000 records back from the end.
	if len(got) != 1 || len(got["t"]) != 1 || got["t"][1] != 4000 {
		t.Errorf("targets = %v", got)
	}
	s.parts[topicPartition{"t", 1}] = pstate(1, 4800, 5000, 1)
	if got := batchTargets(s); got["t"][1] != 4800 {
		t.Errorf("below the local log start: %v", got)
	}
}

func TestBatchStats(t *testing.T) {
	h := &batchHook{stats: make(map[string]*batchStats)}
	h.OnFetchBatchRead(costBrokerMeta, "t", 0, costFetchMetrics(10, 939, 4939, 4))
	h.OnFetchBatchRead(costBrokerMeta, "t", 0, costFetchMetrics(10, 939, 4939, 1))
	h.OnFetchBatchRead(costBrokerMeta, "t", 0, costFetchMetrics(0, 0, 0, 0)) // undecodable: ignored
	s := h.stats["t"]
	// (4,939 + 61) / (939 + 61) = 5, and 1,000 stored bytes per 10 records.
	if s.ratio() != 5 || s.bytesPerRecord() != 100 || s.codec() != "gzip+zstd" || s.batches != 2 {
		t.Errorf("stats = %+v, ratio %v, per record %v, codec %q", s, s.ratio(), s.bytesPerRecord(), s.codec())
	}
	var none *batchStats
	if none.ratio() != 0 || none.bytesPerRecord() != 0 || none.codec() != "" {
		t.Error("nil stats are not empty")
	}
	if h.seen([]string{"t", "u"}) != 1 {
		t.Error("seen")
	}
}

const costAgentScrape = `# TYPE strata_tier_store_requests_total counter
strata_tier_store_requests_total{op="PUT"} %PUT%
strata_tier_store_requests_total{op="LIST"} %LIST%
strata_tier_store_requests_total{op="GET"} %GET%
strata_tier_store_requests_total{op="HEAD"} 0
strata_tier_store_requests_total{op="DELETE"} 7
# TYPE strata_partition_bytes_in_total counter
strata_partition_bytes_in_total{partition="0",topic="a"} %INA%
strata_partition_bytes_in_total{partition="1",topic="a"} 0
strata_partition_bytes_in_total{partition="0",topic="b"} %INB%
# TYPE strata_partition_bytes_out_total counter
strata_partition_bytes_out_total{partition="0",topic="a"} 0
strata_partition_bytes_out_total{partition="0",topic="b"} %OUTB%
# TYPE strata_tier_partition_bytes gauge
strata_tier_partition_bytes{partition="0",topic="a"} %RA%
strata_tier_partition_bytes{partition="0",topic="b"} %RB%
# TYPE strata_partition_leader gauge
strata_partition_leader{partition="0",topic="a"} 1
strata_partition_leader{partition="1",topic="a"} 0
strata_partition_leader{partition="0",topic="b"} 1
`

// costScrapeOf parses costAgentScrape with the placeholders replaced;
// the object tier holds 3,000 bytes of a and 1,000 of b unless %RA% and
// %RB% are given.
func costScrapeOf(t *testing.T, url string, kv ...string) agentMetrics {
	t.Helper()
	text := strings.NewReplacer(kv...).Replace(costAgentScrape)
	text = strings.NewReplacer("%RA%", "3000", "%RB%", "1000").Replace(text)
	m, err := parseAgentMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	m.url = url
	return m
}

func TestParseAgentMetrics(t *testing.T) {
	m := costScrapeOf(t, "u", "%PUT%", "10", "%LIST%", "2", "%GET%", "5", "%INA%", "100", "%INB%", "300", "%OUTB%", "9")
	if m.requests["PUT"] != 10 || m.requests["DELETE"] != 7 || m.bytesIn["a"] != 100 || m.bytesOut["b"] != 9 ||
		m.remoteBytes[topicPartition{"a", 0}] != 3000 || !m.strata {
		t.Errorf("parsed %+v", m)
	}
	if !m.leads[topicPartition{"a", 0}] || m.leads[topicPartition{"a", 1}] || len(m.leads) != 2 {
		t.Errorf("leads = %v", m.leads)
	}
	if _, err := parseAgentMetrics(strings.NewReader("not { metrics")); err == nil {
		t.Error("garbage parsed")
	}
	other, err := parseAgentMetrics(strings.NewReader("# TYPE up gauge\nup 1\n"))
	if err != nil || other.strata {
		t.Errorf("non-Strata exposition: %+v, %v", other, err)
	}
}

func TestObservedRequests(t *testing.T) {
	near := func(what string, got, want cost.Requests) {
		t.Helper()
		if math.Abs(got.PutsPerSec-want.PutsPerSec) > 1e-12 || math.Abs(got.GetsPerSec-want.GetsPerSec) > 1e-12 {
			t.Errorf("%s = %+v, want %+v", what, got, want)
		}
	}
	// Agent 1, over 10 s: 16 PUTs, 4 LISTs, 5 GETs. Topic a (1,000-byte
	// segments) grew by 2,000 bytes in the object tier and b (4,000-byte
	// segments) by 8,000: two segments each, so half the PUTs each. LISTs
	// follow the bytes held, 5,000 : 9,000; GETs the bytes fetched, all
	// from b. Agent 2 restarted: its counters went down.
	shapes := topicShapes{segmentBytes: map[string]float64{"a": 1000, "b": 4000}, untiered: map[string]bool{}}
	a1 := costScrapeOf(t, "agent1", "%PUT%", "100", "%LIST%", "10", "%GET%", "0", "%INA%", "1000", "%INB%", "1000", "%OUTB%", "0")
	b1 := costScrapeOf(t, "agent1", "%PUT%", "116", "%LIST%", "14", "%GET%", "5", "%INA%", "1100", "%INB%", "1300", "%OUTB%", "50",
		"%RA%", "5000", "%RB%", "9000")
	a2 := costScrapeOf(t, "agent2", "%PUT%", "100", "%LIST%", "0", "%GET%", "0", "%INA%", "0", "%INB%", "0", "%OUTB%", "0")
	b2 := costScrapeOf(t, "agent2", "%PUT%", "3", "%LIST%", "0", "%GET%", "0", "%INA%", "0", "%INB%", "0", "%OUTB%", "0")
	o := observedRequests([]agentMetrics{a1, a2}, []agentMetrics{b1, b2}, 10, shapes)
	near("a", o.byTopic["a"], cost.Requests{PutsPerSec: 0.8 + 0.4*5/14})
	near("b", o.byTopic["b"], cost.Requests{PutsPerSec: 0.8 + 0.4*9/14, GetsPerSec: 0.5})
	near("total", o.total, cost.Requests{PutsPerSec: 2, GetsPerSec: 0.5})
	near("unattributed", o.unattributed, cost.Requests{})
	if len(o.notes) != 1 || !strings.Contains(o.notes[0], "agent2") {
		t.Errorf("notes = %q", o.notes)
	}
	if !o.covered[topicPartition{"a", 0}] || o.covered[topicPartition{"a", 1}] {
		t.Errorf("covered = %v", o.covered)
	}

	// b is not tiered: a gets everything, its GETs by bytes held.
	shapes.untiered["b"] = true
	o = observedRequests([]agentMetrics{a1}, []agentMetrics{b1}, 10, shapes)
	near("a alone", o.byTopic["a"], cost.Requests{PutsPerSec: 2, GetsPerSec: 0.5})
	if _, ok := o.byTopic["b"]; ok {
		t.Errorf("untiered b got requests: %+v", o.byTopic["b"])
	}

	// Nothing offloaded during the sample: PUTs follow the bytes
	// produced (100 : 300), LISTs the bytes held (3,000 : 1,000).
	shapes.untiered["b"] = false
	b1 = costScrapeOf(t, "agent1", "%PUT%", "116", "%LIST%", "14", "%GET%", "0", "%INA%", "1100", "%INB%", "1300", "%OUTB%", "0")
	o = observedRequests([]agentMetrics{a1}, []agentMetrics{b1}, 10, shapes)
	near("a by bytes in", o.byTopic["a"], cost.Requests{PutsPerSec: 0.4 + 0.3})
	near("b by bytes in", o.byTopic["b"], cost.Requests{PutsPerSec: 1.2 + 0.1})

	// Both topics are known to be untiered: the requests go nowhere.
	o = observedRequests([]agentMetrics{a1}, []agentMetrics{b1}, 10, topicShapes{untiered: map[string]bool{"a": true, "b": true}})
	near("unattributed", o.unattributed, cost.Requests{PutsPerSec: 2})
}

func TestSegmentsUploaded(t *testing.T) {
	a := map[topicPartition]float64{{"x", 0}: 100, {"x", 1}: 500, {"y", 0}: 0}
	b := map[topicPartition]float64{{"x", 0}: 300, {"x", 1}: 400, {"y", 0}: float64(cost.DefaultSegmentBytes), {"z", 0}: 50}
	got := segmentsUploaded(a, b, map[string]float64{"x": 100, "z": 25})
	// x: +200 and -100 (retention): 2 segments; y: one default segment;
	// z: new, 2 segments.
	if len(got) != 3 || got["x"] != 2 || got["y"] != 1 || got["z"] != 2 {
		t.Errorf("segmentsUploaded = %v", got)
	}
}

func TestSplit(t *testing.T) {
	if got := split(10, map[string]float64{}, map[string]float64{"a": -1}); got != nil {
		t.Errorf("no weights: %v", got)
	}
	if got := split(0, map[string]float64{"a": 1}); got != nil {
		t.Errorf("nothing to split: %v", got)
	}
	got := split(9, nil, map[string]float64{"a": 1, "b": 2, "c": -5}, map[string]float64{"d": 1})
	if got["a"] != 3 || got["b"] != 6 || len(got) != 2 {
		t.Errorf("split = %v", got)
	}
}

func TestMetricsURL(t *testing.T) {
	for in, want := range map[string]string{
		"agent:9644":                     "http://agent:9644/metrics",
		"http://agent:9644":              "http://agent:9644/metrics",
		"https://agent:9644/":            "https://agent:9644/metrics",
		"http://agent:9644/other/path":   "http://agent:9644/other/path",
		" http://10.0.0.1:9644/metrics ": "http://10.0.0.1:9644/metrics",
	} {
		if got, err := metricsURL(in); err != nil || got != want {
			t.Errorf("metricsURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://agent/metrics", "http://", "http://[::1"} {
		if _, err := metricsURL(bad); err == nil {
			t.Errorf("metricsURL(%q) accepted", bad)
		}
	}
}

func TestCostPlan(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(good, []byte(`{"currency": "EUR", "disk_per_gb_month": 0.09}`), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := func(mod func(*costOptions)) *costOptions {
		o := &costOptions{sample: 10 * time.Second, readFanout: 1, output: "table"}
		mod(o)
		return o
	}
	p, err := opts(func(o *costOptions) {
		o.pricesFile = good
		o.prices = []string{"s3_storage_per_gb_month=0.021", "currency=GBP"}
		o.whatIf = []string{"retention.ms=30d", "segment.bytes=256MiB"}
		o.metricsURLs = []string{"a:9644", "http://a:9644/metrics", "b:9644"}
	}).plan()
	if err != nil {
		t.Fatal(err)
	}
	pr := p.cfg.Prices
	if pr.Currency != "GBP" || pr.DiskPerGBMonth != 0.09 || pr.S3StoragePerGBMonth != 0.021 || pr.CrossAZPerGB != 0.01 {
		t.Errorf("prices = %+v", pr)
	}
	if len(p.overrides) != 2 || p.whatIf != "retention.ms=30d,segment.bytes=256MiB" || len(p.urls) != 2 {
		t.Errorf("plan = %+v", p)
	}
	if !strings.Contains(p.priceSource, good) || !strings.Contains(p.priceSource, "--price currency=GBP") {
		t.Errorf("price source = %q", p.priceSource)
	}
	for _, tc := range []struct {
		mod  func(*costOptions)
		want string
	}{
		{func(o *costOptions) { o.whatIf = []string{"retention.hours=3"} }, `"retention.hours"`},
		{func(o *costOptions) { o.whatIf = []string{"segment.bytes=huge"} }, `segment.bytes="huge"`},
		{func(o *costOptions) { o.whatIf = []string{"retention.ms"} }, `"retention.ms": want name=value`},
		{func(o *costOptions) { o.whatIf = []string{","} }, "no settings given"},
		{func(o *costOptions) { o.prices = []string{"s3_storage=1"} }, `price "s3_storage"`},
		{func(o *costOptions) { o.prices = []string{"disk_per_gb_month=-1"} }, "disk_per_gb_month"},
		{func(o *costOptions) { o.prices = []string{"novalue"} }, "want key=value"},
		{func(o *costOptions) { o.pricesFile = filepath.Join(dir, "missing.json") }, "missing.json"},
		{func(o *costOptions) { o.sample = 0 }, "--sample"},
		{func(o *costOptions) { o.readFanout = -1 }, "--read-fanout"},
		{func(o *costOptions) { o.remoteReadFraction = 1.5 }, "--remote-read-fraction"},
		{func(o *costOptions) { o.remoteReadFraction = math.NaN() }, "--remote-read-fraction"},
		{func(o *costOptions) { o.horizon = -time.Hour }, "--unbounded-horizon"},
		{func(o *costOptions) { o.metricsURLs = []string{"ftp://x"} }, "--metrics-url"},
		{func(o *costOptions) { o.output = "yaml" }, "want table or json"},
		{func(o *costOptions) { o.topics = []string{""} }, "empty topic"},
	} {
		if _, err := opts(tc.mod).plan(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}

func TestCostUsageErrors(t *testing.T) {
	// Flags are checked before connecting: no broker listens here.
	addr := closedAddr(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cost", "--what-if", "retention.ms=30d,retention.hours=3"}, `unknown setting: "retention.hours"`},
		{[]string{"cost", "--price", "s3_storage_per_gb_month=abc"}, "not a number"},
		{[]string{"cost", "--sample", "-1s"}, "--sample"},
		{[]string{"cost", "orders"}, "name topics with --topic"},
	} {
		r := runCLI(t, context.Background(), "", append(tc.args, "--bootstrap-server", addr)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "cost --help' for usage") {
			t.Errorf("%v: code %d, stderr %q; want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	r := runCLI(t, context.Background(), "", "cost", "--bootstrap-server", addr, "--timeout", "3s")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach a Kafka broker at "+addr) {
		t.Errorf("unreachable: %+v", r)
	}
	r = runCLI(t, context.Background(), "", "cost", "--help")
	for _, want := range append(cost.PriceNames(), "--what-if", "--metrics-url", "--prices", "us-east-1", "Examples:") {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}

// reportFixture is a one-topic report input: one partition growing
// 1 MiB/s for 10 s, RF 3, 7 days of retention and 1 hour locally, 256
// MiB segments — the tiering/cost package's worked example.
func reportFixture(t *testing.T, whatIf string) costInputs {
	t.Helper()
	o := &costOptions{sample: 10 * time.Second, readFanout: 2, remoteReadFraction: 0.25, output: "json"}
	if whatIf != "" {
		o.whatIf = []string{whatIf}
	}
	plan, err := o.plan()
	if err != nil {
		t.Fatal(err)
	}
	const mib = 1 << 20
	a := costSnap(0, map[int32]partitionState{0: {leader: 1, logStart: 0, localStart: 500, end: 1000, local: 100 * mib, replicas: 300 * mib, remote: 900 * mib}})
	b := costSnap(10, map[int32]partitionState{0: {leader: 1, logStart: 0, localStart: 500, end: 2000, local: 110 * mib, replicas: 330 * mib, remote: 900 * mib}})
	a.remoteDir, b.remoteDir = true, true
	return costInputs{
		bootstrap: "broker:9092", plan: plan, before: a, after: b,
		metas: []costTopicMeta{{name: "t", partitions: 1, replicationFactor: 3, configs: map[string]string{
			"retention.ms": "604800000", "local.retention.ms": "3600000", "segment.bytes": "268435456",
			"remote.storage.enable": "true", "cleanup.policy": "delete",
		}}},
		batches:            map[string]*batchStats{"t": {batches: 1, records: 10, stored: 1000, uncompressed: 4000, codecs: map[uint8]bool{4: true}}},
		readFanout:         o.readFanout,
		remoteReadFraction: o.remoteReadFraction,
	}
}

func TestBuildCostReport(t *testing.T) {
	r := buildCostReport(reportFixture(t, "local.retention.ms=6h"))
	if r.SampleSeconds != 10 || len(r.Topics) != 1 || r.Currency != "USD" || r.ClassicReplicationFactor != 3 {
		t.Fatalf("report = %+v", r)
	}
	tp := r.Topics[0]
	m := tp.Measured
	if m.IngressBytesPerSec != 1<<20 || m.RecordsPerSec != 100 || m.IngressSource != "log_dirs" ||
		m.CompressionRatio == nil || *m.CompressionRatio != 4 || m.CompressionCodec != "zstd" ||
		m.LocalBytes != 330<<20 || m.RemoteBytes != 900<<20 || m.Requests.PutsSource != "model" || m.Requests.GetsSource != "model" {
		t.Errorf("measured = %+v", m)
	}
	if !tp.Priced || tp.Error != "" || len(tp.Notes) != 0 {
		t.Errorf("priced %v, error %q, notes %q", tp.Priced, tp.Error, tp.Notes)
	}
	// The tiering/cost tests compute this topic by hand: $221.3161875 on
	// Strata, $417.9825 on classic Kafka, and $7.63875 of disk with six
	// hours locally.
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("%s = %.10g, want %.10g", what, got, want)
		}
	}
	near("strata", tp.Monthly.Strata.Total, 221.3161875)
	near("classic", tp.Monthly.Classic.Total, 417.9825)
	near("total", r.Total.Strata.Total, 221.3161875)
	near("puts/s", m.Requests.PutsPerSec, 195046.875/(730*3600))
	near("what-if disk", tp.WhatIf.After.Strata.LocalDisk, 7.63875)
	near("what-if delta", r.WhatIf.Delta.LocalDisk, 7.63875-1.310625)
	near("what-if before", r.WhatIf.Before.Strata.Total, 221.3161875)
	if r.WhatIf.Overrides != "local.retention.ms=6h" {
		t.Errorf("overrides = %q", r.WhatIf.Overrides)
	}
}

func TestBuildCostReportObserved(t *testing.T) {
	in := reportFixture(t, "segment.bytes=64MiB")
	in.plan.urls = []string{"http://agent:9644/metrics"}
	url := in.plan.urls[0]
	// Over the 10 s sample the agent made 2 PUTs and 4 GETs, for t alone.
	in.before.agents = []agentMetrics{costScrapeOf(t, url, "%PUT%", "0", "%LIST%", "0", "%GET%", "0", "%INA%", "0", "%INB%", "0", "%OUTB%", "0")}
	in.after.agents = []agentMetrics{costScrapeOf(t, url, "%PUT%", "2", "%LIST%", "0", "%GET%", "4", "%INA%", "0", "%INB%", "0", "%OUTB%", "0")}
	for _, a := range []*agentMetrics{&in.before.agents[0], &in.after.agents[0]} {
		a.bytesIn, a.bytesOut = map[string]float64{}, map[string]float64{}
		a.remoteBytes = map[topicPartition]float64{{"t", 0}: 1}
		a.leads = map[topicPartition]bool{{"t", 0}: true}
	}
	in.after.agents[0].bytesIn["t"] = 10 << 20
	in.after.agents[0].bytesOut["t"] = 1
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s = %.10g, want %.10g", what, got, want)
		}
	}

	// 10 s is short next to the 256 s a 256 MiB segment takes to fill at
	// 1 MiB/s: the PUT rate is the model's (195,046.875 a month), the GET
	// rate observed (0.4/s: 1,051,200 a month, $0.42048).
	r := buildCostReport(in)
	tp := r.Topics[0]
	rq := tp.Measured.Requests
	if rq.PutsSource != "model" || rq.GetsSource != "observed" || rq.GetsPerSec != 0.4 {
		t.Fatalf("requests = %+v", rq)
	}
	near("puts/s", rq.PutsPerSec, 195046.875/(730*3600))
	near("requests cost", tp.Monthly.Strata.Requests, 0.975234375+0.42048)
	if len(tp.Notes) != 1 || !strings.Contains(tp.Notes[0], "PUT rate from the model") {
		t.Errorf("notes = %q", tp.Notes)
	}
	table := new(strings.Builder)
	if err := printCostReport(table, outputTable, r); err != nil || !strings.Contains(table.String(), "PUT (model), 0.40 GET (observed)") {
		t.Errorf("table (%v):\n%s", err, table)
	}

	// Over a sample of 600 s both rates are observed: 0.2 PUT/s is
	// 525,600 PUTs a month ($2.628).
	in.after.at = in.before.at.Add(600 * time.Second)
	in.after.parts[topicPartition{"t", 0}] = partitionState{leader: 1, logStart: 0, localStart: 500, end: 1000 + 600*100,
		local: 100<<20 + 600<<20, replicas: 3 * (100<<20 + 600<<20), remote: 900 << 20}
	in.after.agents[0].requests["PUT"] = 120
	in.after.agents[0].requests["GET"] = 240
	tp = buildCostReport(in).Topics[0]
	if tp.Measured.Requests != (costRequests{PutsPerSec: 0.2, GetsPerSec: 0.4, PutsSource: "observed", GetsSource: "observed"}) {
		t.Fatalf("requests = %+v", tp.Measured.Requests)
	}
	near("ingress", tp.Measured.IngressBytesPerSec, 1<<20)
	near("requests cost", tp.Monthly.Strata.Requests, 2.628+0.42048)
	// --what-if segment.bytes=64MiB: the observed rates scale as the
	// model's do (tiering/cost's worked example): PUTs by
	// 287,437.5/195,046.875, GETs by 349,031.25/333,632.8125.
	near("what-if requests", tp.WhatIf.After.Strata.Requests,
		525600*287437.5/195046.875*0.005/1000+1051200*349031.25/333632.8125*0.0004/1000)
	if len(tp.Notes) != 0 {
		t.Errorf("notes = %q", tp.Notes)
	}

	// Without the leader's metrics the model's rates are used.
	in.after.agents[0].leads = map[topicPartition]bool{}
	tp = buildCostReport(in).Topics[0]
	if rq := tp.Measured.Requests; rq.PutsSource != "model" || rq.GetsSource != "model" ||
		!strings.Contains(strings.Join(tp.Notes, "|"), "lead 0 of 1") {
		t.Errorf("uncovered: %+v, %q", rq, tp.Notes)
	}
}

func TestBuildCostReportUnpriced(t *testing.T) {
	in := reportFixture(t, "retention.ms=30m")
	in.metas = append(in.metas,
		costTopicMeta{name: "forever", partitions: 1, replicationFactor: 1, configs: map[string]string{"retention.ms": "-1"}},
		costTopicMeta{name: "broken", partitions: 1, replicationFactor: 1, configs: map[string]string{"segment.bytes": "big"}},
		costTopicMeta{name: "kafka", partitions: 1, replicationFactor: 1, configs: map[string]string{}},
	)
	r := buildCostReport(in)
	if len(r.Topics) != 4 {
		t.Fatalf("topics = %d", len(r.Topics))
	}
	byName := map[string]costTopic{}
	for _, tp := range r.Topics {
		byName[tp.Name] = tp
	}
	if f := byName["forever"]; f.Priced || !strings.Contains(f.Error, "--unbounded-horizon") {
		t.Errorf("unbounded: %+v", f)
	}
	if b := byName["broken"]; b.Priced || !strings.Contains(b.Error, "segment.bytes") {
		t.Errorf("bad config: %+v", b)
	}
	// kafka: no remote.storage.enable reported, nothing produced (no
	// partitions in the snapshots), compression unknown.
	k := byName["kafka"]
	notes := strings.Join(k.Notes, "|")
	if !k.Priced || k.Monthly.Strata.Total != 0 || k.Measured.CompressionRatio != nil ||
		!strings.Contains(notes, "remote.storage.enable is not reported") || !strings.Contains(notes, "nothing was produced") ||
		!strings.Contains(notes, "compression not measured") {
		t.Errorf("kafka: %+v", k)
	}
	// 30 minutes of retention is below t's hour of local retention: the
	// what-if cannot apply, and the what-if totals leave it out.
	if w := byName["t"].WhatIf; w == nil || w.Priced || !strings.Contains(w.Error, "exceeds retention.ms") {
		t.Errorf("what-if on t: %+v", w)
	}
	if r.WhatIf.Before.Strata.Total != 0 || r.Total.Strata.Total != byName["t"].Monthly.Strata.Total {
		t.Errorf("totals: %+v, what-if %+v", r.Total, r.WhatIf)
	}
	var buf strings.Builder
	if err := printCostReport(&buf, outputTable, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"forever: not priced", "(not priced, see notes)", "t: --what-if not applicable"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestCostReportJSONShape(t *testing.T) {
	var buf strings.Builder
	if err := printCostReport(&buf, outputJSON, buildCostReport(reportFixture(t, ""))); err != nil {
		t.Fatal(err)
	}
	checkCostJSON(t, buf.String(), false)
}

// checkCostJSON checks the stable shape of `strata cost --output json`
// and returns the decoded report.
func checkCostJSON(t *testing.T, out string, whatIf bool) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	costHasKeys(t, "report", doc, "bootstrap", "sample_seconds", "currency", "prices", "price_source", "read_fanout",
		"remote_read_fraction", "classic_replication_factor", "metrics_urls", "topics", "total", "what_if", "notes")
	for _, k := range []string{"metrics_urls", "topics", "notes"} {
		if _, ok := doc[k].([]any); !ok {
			t.Errorf("%s is not an array: %v", k, doc[k])
		}
	}
	costHasKeys(t, "prices", doc["prices"].(map[string]any), "currency", "s3_storage_per_gb_month", "s3_put_per_1000",
		"s3_get_per_1000", "disk_per_gb_month", "cross_az_per_gb")
	checkCostScenarios(t, "total", doc["total"])
	for _, raw := range doc["topics"].([]any) {
		tp := raw.(map[string]any)
		costHasKeys(t, "topic", tp, "name", "partitions", "replication_factor", "configs", "measured", "priced",
			"monthly", "strata_usage", "classic_usage", "what_if", "notes")
		costHasKeys(t, "configs", tp["configs"].(map[string]any), "remote_storage_enable", "retention_ms", "retention_bytes",
			"local_retention_ms", "local_retention_bytes", "segment_bytes", "segment_ms")
		m := tp["measured"].(map[string]any)
		costHasKeys(t, "measured", m, "ingress_bytes_per_sec", "records_per_sec", "ingress_source", "compression_ratio",
			"compression_codec", "local_bytes", "remote_bytes", "requests")
		costHasKeys(t, "requests", m["requests"].(map[string]any), "puts_per_sec", "gets_per_sec", "puts_source", "gets_source")
		costHasKeys(t, "usage", tp["strata_usage"].(map[string]any), "remote_bytes", "local_bytes", "provisioned_disk_bytes",
			"put_requests", "get_requests", "cross_zone_bytes")
		checkCostScenarios(t, "monthly", tp["monthly"])
		if whatIf {
			w := tp["what_if"].(map[string]any)
			costHasKeys(t, "topic what_if", w, "priced", "after", "delta")
			checkCostScenarios(t, "what_if.after", w["after"])
		} else if tp["what_if"] != nil {
			t.Errorf("what_if without --what-if: %v", tp["what_if"])
		}
	}
	if whatIf {
		w := doc["what_if"].(map[string]any)
		costHasKeys(t, "what_if", w, "overrides", "before", "after", "delta")
		checkCostScenarios(t, "what_if.before", w["before"])
	} else if doc["what_if"] != nil {
		t.Errorf("what_if without --what-if: %v", doc["what_if"])
	}
	return doc
}

func checkCostScenarios(t *testing.T, what string, v any) {
	t.Helper()
	s, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %v", what, v)
	}
	for _, k := range []string{"strata", "classic"} {
		b, ok := s[k].(map[string]any)
		if !ok {
			t.Fatalf("%s.%s: %v", what, k, s[k])
		}
		costHasKeys(t, what+"."+k, b, "object_storage", "requests", "local_disk", "cross_zone", "total")
	}
}

func costHasKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no %q in %v", what, k, m)
		}
	}
}

func TestCostTable(t *testing.T) {
	var buf strings.Builder
	if err := printCostReport(&buf, outputTable, buildCostReport(reportFixture(t, "retention.ms=30d"))); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Measured over 10.0s on broker:9092. Monthly cost in USD at AWS us-east-1 list prices",
		"TOPIC  PARTITIONS  RF  TIERED  INGRESS", "1.0 MiB/s", "4.00x zstd", "7d", "1h",
		"MONTHLY COST (USD)", "221.32", "417.98", "196.67 (47%)",
		"What if retention.ms=30d (monthly, USD):", "TOTAL",
		"consumers read each byte 2.00 time(s), 25% of it from the object store",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestFormatRetention(t *testing.T) {
	for _, tc := range []struct {
		ms, bytes int64
		want      string
	}{
		{604800000, -1, "7d"},
		{3600000, -1, "1h"},
		{90000, -1, "90s"},
		{1500, -1, "1500ms"},
		{0, -1, "0ms"},
		{-1, -1, "unlimited"},
		{-1, 1 << 30, "1.0 GiB"},
		{86400000, 1 << 20, "1d or 1.0 MiB"},
		{asTotal(-2, 3600000), asTotal(-2, -1), "1h"},
		{asTotal(60000, 3600000), asTotal(1024, -1), "1m or 1.0 KiB"},
	} {
		if got := formatRetention(tc.ms, tc.bytes); got != tc.want {
			t.Errorf("formatRetention(%d, %d) = %q, want %q", tc.ms, tc.bytes, got, tc.want)
		}
	}
	for v, want := range map[float64]string{0: "0", 0.123: "0.12", 12.34: "12.3", 1234.5: "1234"} {
		if got := formatRate(v); got != want {
			t.Errorf("formatRate(%v) = %q, want %q", v, got, want)
		}
	}
}

// FuzzParseAgentMetrics feeds arbitrary text to the metrics parser: it
// fails cleanly or returns finite sums for the series the command reads.
func FuzzParseAgentMetrics(f *testing.F) {
	f.Add(strings.NewReplacer("%PUT%", "1", "%LIST%", "2", "%GET%", "3", "%INA%", "4", "%INB%", "5", "%OUTB%", "6").Replace(costAgentScrape))
	f.Add("strata_partition_leader{topic=\"a\",partition=\"x\"} 1\n")
	f.Add("strata_tier_store_requests_total{op=\"PUT\"} NaN\n")
	f.Add("# TYPE strata_partition_bytes_in_total histogram\nstrata_partition_bytes_in_total_bucket{le=\"1\"} 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := parseAgentMetrics(strings.NewReader(text))
		if err != nil {
			return
		}
		// Two identical scrapes measure nothing, and never NaN.
		o := observedRequests([]agentMetrics{m}, []agentMetrics{m}, 1, topicShapes{})
		if o.total != (cost.Requests{}) || o.unattributed != (cost.Requests{}) {
			t.Fatalf("identical scrapes of %q: total %+v, unattributed %+v", text, o.total, o.unattributed)
		}
		for topic, r := range o.byTopic {
			if r != (cost.Requests{}) {
				t.Fatalf("identical scrapes of %q: %s %+v", text, topic, r)
			}
		}
	})
}
