package main

// Object-store request rates for `strata cost`, from Strata agents'
// Prometheus endpoints (--metrics-url). Each agent counts the requests its
// object store made (strata_tier_store_requests_total{op}) for all the
// partitions it leads together; the command splits one agent's requests
// over its tiered topics by what drives each kind:
//
//	PUT        segment uploads: each topic's growth in the object tier
//	           (strata_tier_partition_bytes) over its segment.bytes, i.e.
//	           about the segments it uploaded; failing that, the bytes
//	           producers appended (strata_partition_bytes_in_total)
//	LIST       retention and orphan sweeps: bytes held in the object tier
//	GET, HEAD  remote reads: bytes fetched by consumers
//	           (strata_partition_bytes_out_total)
//
// and, where those are all zero on an agent, by bytes in the object tier.
// Topics known not to be tiered get none. DELETE requests are free on S3
// and not counted.

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/strata-io/strata/tiering/cost"
)

// The agent metrics the cost command reads.
const (
	metricStoreRequests = "strata_tier_store_requests_total"
	metricBytesIn       = "strata_partition_bytes_in_total"
	metricBytesOut      = "strata_partition_bytes_out_total"
	metricRemoteBytes   = "strata_tier_partition_bytes"
	metricLeader        = "strata_partition_leader"
)

// S3 bills PUT, COPY, POST and LIST at the PUT price and GET, HEAD and the
// rest at the GET price; DELETE is free. These are the GET-class ops the
// agent counts (tiering.Op's names); its PUT-class ones are PUT and LIST.
var getClassOps = []string{"GET", "HEAD"}

// maxScrapeBytes bounds one /metrics response. An agent with ten thousand
// partitions exports a few MiB.
const maxScrapeBytes = 64 << 20

// agentMetrics is what one scrape of an agent holds that the cost command
// uses.
type agentMetrics struct {
	url string
	// requests counts object-store requests so far, by op.
	requests map[string]float64
	// bytesIn and bytesOut count producers' and consumers' bytes so far,
	// by topic.
	bytesIn, bytesOut map[string]float64
	// remoteBytes are the bytes of each led partition in the object tier.
	remoteBytes map[topicPartition]float64
	// leads holds the partitions the agent leads.
	leads map[topicPartition]bool
	// strata is set when the exposition holds any strata_ metric.
	strata bool
}

// parseMetricFamilies reads a Prometheus text exposition.
func parseMetricFamilies(r io.Reader) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(r)
}

// parseAgentMetrics reads an agent's Prometheus text exposition.
func parseAgentMetrics(r io.Reader) (agentMetrics, error) {
	families, err := parseMetricFamilies(r)
	if err != nil {
		return agentMetrics{}, err
	}
	m := agentMetrics{
		requests: make(map[string]float64), bytesIn: make(map[string]float64),
		bytesOut: make(map[string]float64), remoteBytes: make(map[topicPartition]float64),
		leads: make(map[topicPartition]bool),
	}
	for name := range families {
		m.strata = m.strata || strings.HasPrefix(name, "strata_")
	}
	each := func(name string, fn func(labels map[string]string, v float64)) {
		f := families[name]
		if f == nil {
			return
		}
		for _, s := range f.GetMetric() {
			labels := make(map[string]string, len(s.GetLabel()))
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if v := sampleValue(s); !math.IsNaN(v) && !math.IsInf(v, 0) {
				fn(labels, v)
			}
		}
	}
	each(metricStoreRequests, func(l map[string]string, v float64) { m.requests[l["op"]] += v })
	each(metricBytesIn, func(l map[string]string, v float64) { m.bytesIn[l["topic"]] += v })
	each(metricBytesOut, func(l map[string]string, v float64) { m.bytesOut[l["topic"]] += v })
	each(metricRemoteBytes, func(l map[string]string, v float64) {
		if tp, ok := labelPartition(l); ok {
			m.remoteBytes[tp] += v
		}
	})
	each(metricLeader, func(l map[string]string, v float64) {
		if tp, ok := labelPartition(l); ok && v == 1 {
			m.leads[tp] = true
		}
	})
	return m, nil
}

// labelPartition reads a series' topic and partition labels.
func labelPartition(labels map[string]string) (topicPartition, bool) {
	p, err := strconv.ParseInt(labels["partition"], 10, 32)
	return topicPartition{labels["topic"], int32(p)}, err == nil && p >= 0
}

// sampleValue is a counter's or gauge's value (0 for other types).
func sampleValue(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	case s.Untyped != nil:
		return s.Untyped.GetValue()
	}
	return 0
}

// metricsURL completes a --metrics-url: "agent:9644" becomes
// "http://agent:9644/metrics".
func metricsURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("--metrics-url %q: want an agent's metrics endpoint such as http://agent:9644/metrics", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/metrics"
	}
	return u.String(), nil
}

// scraper reads the agents' metrics endpoints.
type scraper struct {
	urls   []string
	client *http.Client
}

func newScraper(urls []string, timeout time.Duration) *scraper {
	return &scraper{urls: urls, client: &http.Client{Timeout: timeout}}
}

// all scrapes every endpoint, in order. Any failure fails the whole
// scrape: the user asked for these agents' figures.
func (s *scraper) all(ctx context.Context) ([]agentMetrics, error) {
	out := make([]agentMetrics, 0, len(s.urls))
	for _, u := range s.urls {
		m, err := s.one(ctx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *scraper) one(ctx context.Context, u string) (agentMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return agentMetrics{}, fmt.Errorf("scrape %s: %w", u, err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := s.client.Do(req)
	if err != nil {
		return agentMetrics{}, fmt.Errorf("scrape %s: %w (is --metrics-url an agent's --http-addr?)", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return agentMetrics{}, fmt.Errorf("scrape %s: HTTP %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxScrapeBytes+1))
	if err != nil {
		return agentMetrics{}, fmt.Errorf("scrape %s: %w", u, err)
	}
	if len(body) > maxScrapeBytes {
		return agentMetrics{}, fmt.Errorf("scrape %s: response larger than %d bytes", u, maxScrapeBytes)
	}
	m, err := parseAgentMetrics(strings.NewReader(string(body)))
	if err != nil {
		return agentMetrics{}, fmt.Errorf("scrape %s: not Prometheus text: %w", u, err)
	}
	if !m.strata {
		return agentMetrics{}, fmt.Errorf("scrape %s: no strata_ metrics: not a Strata agent's metrics endpoint", u)
	}
	m.url = u
	return m, nil
}

// topicShapes is what the split of requests knows of the topics besides
// the scrapes.
type topicShapes struct {
	// segmentBytes is each topic's segment.bytes, where known; others
	// count as Kafka's default.
	segmentBytes map[string]float64
	// untiered holds the topics known to keep nothing in the object tier.
	untiered map[string]bool
}

// observed is the object-store request rates measured over a sample.
type observed struct {
	// byTopic holds each topic's share of the requests, per second.
	byTopic map[string]cost.Requests
	// covered holds the partitions led, at the end of the sample, by a
	// scraped agent whose counters were usable: a topic's rates are
	// complete only when all its partitions are covered.
	covered map[topicPartition]bool
	// total is all requests per second, unattributed the part no topic
	// could be given (nothing produced, fetched or offloaded).
	total, unattributed cost.Requests
	notes               []string
}

// observedRequests turns two scrapes of each agent, secs apart, into
// per-topic request rates (see the file comment for how they are split).
func observedRequests(a, b []agentMetrics, secs float64, shapes topicShapes) observed {
	o := observed{byTopic: make(map[string]cost.Requests), covered: make(map[topicPartition]bool)}
	give := func(shares map[string]float64, put bool) {
		for topic, v := range shares {
			r := o.byTopic[topic]
			if put {
				r.PutsPerSec += v
			} else {
				r.GetsPerSec += v
			}
			o.byTopic[topic] = r
		}
	}
	for i := range min(len(a), len(b)) {
		ma, mb := a[i], b[i]
		if !monotonic(ma, mb) {
			o.notes = append(o.notes, fmt.Sprintf("the counters of %s went down during the sample (agent restarted?); "+
				"its requests are not used", mb.url))
			continue
		}
		puts := opsDelta(ma, mb, []string{"PUT"}) / secs
		lists := opsDelta(ma, mb, []string{"LIST"}) / secs
		gets := opsDelta(ma, mb, getClassOps) / secs
		o.total.PutsPerSec += puts + lists
		o.total.GetsPerSec += gets

		tiered := func(m map[string]float64) map[string]float64 {
			maps.DeleteFunc(m, func(topic string, _ float64) bool { return shapes.untiered[topic] })
			return m
		}
		stock := tiered(remoteByTopic(mb.remoteBytes))
		uploads := tiered(segmentsUploaded(ma.remoteBytes, mb.remoteBytes, shapes.segmentBytes))
		give(split(puts, uploads, tiered(deltas(ma.bytesIn, mb.bytesIn)), stock), true)
		give(split(lists, stock), true)
		give(split(gets, tiered(deltas(ma.bytesOut, mb.bytesOut)), stock), false)
		maps.Copy(o.covered, mb.leads)
	}
	var putsGiven, getsGiven float64
	for _, r := range o.byTopic {
		putsGiven += r.PutsPerSec
		getsGiven += r.GetsPerSec
	}
	o.unattributed = cost.Requests{
		PutsPerSec: max(0, o.total.PutsPerSec-putsGiven),
		GetsPerSec: max(0, o.total.GetsPerSec-getsGiven),
	}
	return o
}

// remoteByTopic sums partitions' bytes in the object tier by topic.
func remoteByTopic(parts map[topicPartition]float64) map[string]float64 {
	out := make(map[string]float64)
	for tp, v := range parts {
		out[tp.topic] += max(0, v)
	}
	return out
}

// segmentsUploaded estimates, per topic, the segments uploaded from a to
// b: each partition's growth in the object tier over the topic's
// segment size.
func segmentsUploaded(a, b map[topicPartition]float64, segmentBytes map[string]float64) map[string]float64 {
	out := make(map[string]float64)
	for tp, v := range b {
		grown := v - a[tp]
		if grown <= 0 {
			continue
		}
		seg := segmentBytes[tp.topic]
		if seg <= 0 {
			seg = float64(cost.DefaultSegmentBytes)
		}
		out[tp.topic] += grown / seg
	}
	return out
}

// monotonic reports whether no counter of a went down by b.
func monotonic(a, b agentMetrics) bool {
	for _, pair := range [][2]map[string]float64{{a.requests, b.requests}, {a.bytesIn, b.bytesIn}, {a.bytesOut, b.bytesOut}} {
		for k, v := range pair[0] {
			if w, ok := pair[1][k]; ok && w < v {
				return false
			}
		}
	}
	return true
}

// opsDelta is how many requests of ops b counted more than a.
func opsDelta(a, b agentMetrics, ops []string) float64 {
	var d float64
	for _, op := range ops {
		d += b.requests[op] - a.requests[op]
	}
	return d
}

// deltas returns b - a per key where positive, for counters (keys new in
// b count from 0).
func deltas(a, b map[string]float64) map[string]float64 {
	d := make(map[string]float64, len(b))
	for k, v := range b {
		if x := v - a[k]; x > 0 {
			d[k] = x
		}
	}
	return d
}

// split divides amount over the keys of the first of weights whose
// positive values sum to more than zero, in proportion to them; nothing
// when none does.
func split(amount float64, weights ...map[string]float64) map[string]float64 {
	if amount <= 0 {
		return nil
	}
	for _, w := range weights {
		var sum float64
		for _, k := range slices.Sorted(maps.Keys(w)) { // a fixed order: the same sum every run
			sum += max(0, w[k])
		}
		if sum <= 0 {
			continue
		}
		out := make(map[string]float64, len(w))
		for k, v := range w {
			if v > 0 {
				out[k] = amount * v / sum
			}
		}
		return out
	}
	return nil
}
