package main

// The Grafana dashboard in deploy/grafana must only query metrics the
// agent exports: this test extracts every metric name from its PromQL and
// checks each against the series a real agent serves on /metrics after
// traffic that makes every series appear, so renaming a metric without
// the dashboard fails here.

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	dto "github.com/prometheus/client_model/go"
)

const dashboardPath = "../../deploy/grafana/strata.json"

// prometheusSeries are series Prometheus records itself for every scrape
// target, which the dashboard may use besides the agent's own.
var prometheusSeries = []string{"up"}

// pendingSeries are families the agent registers but does not export yet,
// with why; the dashboard already shows them. The test fails once one is
// exported, so that it leaves this list.
var pendingSeries = map[string]string{}

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	UID           string           `json:"uid"`
	Title         string           `json:"title"`
	SchemaVersion int              `json:"schemaVersion"`
	Panels        []dashboardPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *dashboardDS    `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type dashboardPanel struct {
	ID         int          `json:"id"`
	Type       string       `json:"type"`
	Title      string       `json:"title"`
	Datasource *dashboardDS `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Expr       string       `json:"expr"`
		RefID      string       `json:"refId"`
		Datasource *dashboardDS `json:"datasource"`
	} `json:"targets"`
}

type dashboardDS struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// loadDashboard reads and checks the structure of the dashboard, and
// returns its queries: panel expressions and variable queries.
func loadDashboard(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("uid %q, title %q, schemaVersion %d", d.UID, d.Title, d.SchemaVersion)
	}
	const ds = "${datasource}"
	var queries []string
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Type != "query" {
			continue
		}
		if v.Datasource == nil || v.Datasource.UID != ds {
			t.Errorf("variable %s: datasource %+v, want %s", v.Name, v.Datasource, ds)
		}
		queries = append(queries, v.Definition)
	}
	for _, name := range []string{"datasource", "job", "instance", "topic", "group"} {
		if !vars[name] {
			t.Errorf("no $%s variable", name)
		}
	}
	ids := map[int]bool{}
	var rows []string
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W < 1 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H < 1 {
			t.Errorf("panel %q: gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			rows = append(rows, p.Title)
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != ds || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d targets", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" || tg.RefID == "" || tg.Datasource == nil || tg.Datasource.UID != ds {
				t.Errorf("panel %q: target %+v", p.Title, tg)
			}
			queries = append(queries, tg.Expr)
		}
	}
	want := []string{"Overview", "Throughput per topic", "Requests", "Partitions", "Consumer groups",
		"Tiered storage", "Metadata (etcd)", "Process"}
	if !slices.Equal(rows, want) {
		t.Errorf("rows = %q, want %q", rows, want)
	}
	return queries
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promMatchers = regexp.MustCompile(`\{[^{}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\[\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	labelValues  = regexp.MustCompile(`^\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)`)
)

// promKeywords are PromQL words that are not metric names when they are
// not followed by "(" (functions and aggregations always are).
var promKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "offset": true, "and": true, "or": true, "unless": true, "atan2": true, "inf": true, "nan": true,
}

// promMetricNames returns the metric names a PromQL expression (or a
// Grafana label_values(...) variable query) selects.
func promMetricNames(expr string) []string {
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		return []string{m[1]}
	}
	s := promStrings.ReplaceAllString(expr, " ")
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var names []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsAny(s[loc[0]-1:loc[0]], "0123456789.$") { // 1e3, 5m, $var
			continue
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") || promKeywords[strings.ToLower(name)] {
			continue
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

func TestPromMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (api) (rate(strata_requests_total{job=~"$job", api!="Fetch"}[$__rate_interval]))`: {"strata_requests_total"},
		`histogram_quantile(0.99, sum by (api, le) (rate(strata_request_duration_seconds_bucket{x="a{b}"}[5m])))`: {
			"strata_request_duration_seconds_bucket"},
		`sum(rate(a_total[1m])) / (sum(rate(a_total[1m])) + sum(rate(b_total[1m] offset 1h)))`: {"a_total", "b_total"},
		`count(up{job=~"$job"} == 0) or vector(0)`:                                             {"up"},
		`max by (t, p) (x and on (instance, t) (y == 1)) - max without (le) (z) > bool 1e3`:    {"x", "y", "z"},
		`label_values(strata_controller{job=~"$job"}, instance)`:                               {"strata_controller"},
		`rate(go_gc_duration_seconds_sum[$__rate_interval]) / rate(go_gc_duration_seconds_count[5m:1m])`: {
			"go_gc_duration_seconds_sum", "go_gc_duration_seconds_count"},
		`sum by (group) (strata_group_lag{topic=~'a|b'})`: {"strata_group_lag"},
	} {
		if got := promMetricNames(expr); !slices.Equal(got, want) {
			t.Errorf("promMetricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}

// exposedSeries lists the series names an exposition's families produce:
// a histogram's _bucket, _sum and _count, a summary's quantiles, _sum
// and _count.
func exposedSeries(families map[string]*dto.MetricFamily) map[string]bool {
	names := map[string]bool{}
	for name, f := range families {
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name], names[name+"_sum"], names[name+"_count"] = true, true, true
		default:
			names[name] = true
		}
	}
	return names
}

func TestDashboardMetricsExist(t *testing.T) {
	queries := loadDashboard(t)
	la := startLiveAgent(t)
	exerciseAgent(t, la)
	families, err := parseMetricFamilies(strings.NewReader(la.scrape(t)))
	if err != nil {
		t.Fatal(err)
	}
	exposed := exposedSeries(families)
	for _, name := range prometheusSeries {
		exposed[name] = true
	}
	for family, why := range pendingSeries {
		if families[family] != nil {
			t.Errorf("%s is exported now: remove it from pendingSeries", family)
			continue
		}
		t.Logf("not checked: %s: %s", family, why)
		for _, s := range []string{family, family + "_bucket", family + "_sum", family + "_count"} {
			exposed[s] = true
		}
	}
	used := map[string]bool{}
	for _, q := range queries {
		names := promMetricNames(q)
		if len(names) == 0 {
			t.Errorf("query selects no metric: %s", q)
		}
		for _, name := range names {
			used[name] = true
			if !exposed[name] {
				t.Errorf("the dashboard queries %s, which the agent does not export (in %s)", name, q)
			}
		}
	}
	// Every strata_ family the agent exports is on the dashboard.
	for name, f := range families {
		if !strings.HasPrefix(name, "strata_") {
			continue
		}
		series := name
		if f.GetType() == dto.MetricType_HISTOGRAM {
			series = name + "_bucket"
		}
		if !used[series] && !used[name+"_count"] {
			t.Errorf("the agent exports %s, which no panel shows", name)
		}
	}
}

// exerciseAgent makes the agent export every series it can: produces
// segments that are offloaded and leave the disk, reads them back from
// the object tier as a consumer group that commits, and fetches an offset
// out of range for an error code.
func exerciseAgent(t *testing.T, la liveAgent) {
	t.Helper()
	const topic = "dashboard"
	adm := costAdmin(t, la.bootstrap)
	costCreateTopic(t, adm, topic, 1, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(la.bootstrap), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.NoCompression()), // zeros would compress into one segment
		kgo.ConsumerGroup("dashboard-readers"), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 200
	value := make([]byte, 1000)
	for range n {
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	costWaitFor(t, time.Minute, "offloaded segments deleted from disk", func() bool {
		starts, err := adm.ListLocalLogStartOffsets(t.Context(), topic)
		return err == nil && starts[topic][0].Err == nil && starts[topic][0].Offset > 0
	})
	for read := 0; read < n; {
		fs := cl.PollFetches(t.Context())
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		read += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(t.Context()); err != nil {
		t.Fatal(err)
	}

	tds, err := adm.ListTopics(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxBytes, req.SessionEpoch = -1, 1<<20, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, tds[topic].ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes = 1<<40, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(t.Context(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 ||
		resp.Topics[0].Partitions[0].ErrorCode != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch out of range: %+v", resp)
	}
}
