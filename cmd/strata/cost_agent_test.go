package main

// `strata cost` against a real Strata agent, run in process: Kafka and
// HTTP listeners on loopback, an embedded etcd and the filesystem object
// store under t.TempDir(), small segments offloaded as soon as they close.

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/agent"
)

// liveAgent is an in-process Strata agent for tests.
type liveAgent struct {
	bootstrap  string // Kafka listener, host:port
	metricsURL string // its Prometheus endpoint
}

// httpAddrCatcher is a slog.Handler that keeps the HTTP address the agent
// logs when it is ready: the agent has no accessor for its bound HTTP
// listener, and port 0 picks a free one. Safe for concurrent use.
type httpAddrCatcher struct {
	mu   *sync.Mutex
	addr *string // guarded by mu
}

func (h httpAddrCatcher) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h httpAddrCatcher) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h httpAddrCatcher) WithGroup(string) slog.Handler                { return h }

func (h httpAddrCatcher) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "http_addr" {
			h.mu.Lock()
			*h.addr = a.Value.String()
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

// startLiveAgent starts a single agent with 32 KiB segments, no local
// retention after upload and retention checked every 200 ms.
func startLiveAgent(t *testing.T) liveAgent {
	t.Helper()
	var (
		mu   sync.Mutex
		addr string
	)
	cfg := agent.NewConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Logger = slog.New(httpAddrCatcher{mu: &mu, addr: &addr})
	cfg.Log.SegmentBytes = 32 << 10
	cfg.Tiering.LocalRetention = 0
	cfg.RetentionCheckInterval = 200 * time.Millisecond
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close agent: %v", err)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if addr == "" {
		t.Fatal("the agent did not log its http_addr")
	}
	return liveAgent{bootstrap: a.Addr().String(), metricsURL: "http://" + addr + "/metrics"}
}

// scrape returns the agent's metrics exposition.
func (l liveAgent) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(l.metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s, %v", resp.Status, err)
	}
	return string(body)
}

// metric returns the sum of the series of name in the agent's metrics.
func (l liveAgent) metric(t *testing.T, name string) float64 {
	t.Helper()
	m, err := parseMetricFamilies(strings.NewReader(l.scrape(t)))
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, s := range m[name].GetMetric() {
		sum += sampleValue(s)
	}
	return sum
}

func TestCostLiveAgent(t *testing.T) {
	la := startLiveAgent(t)
	adm := costAdmin(t, la.bootstrap)
	const topic = "payments"
	costCreateTopic(t, adm, topic, 2, nil)
	p := startCostProducer(t, la.bootstrap, topic, bytes.Repeat([]byte("p"), 1000), kgo.ProducerBatchCompression(kgo.NoCompression()))
	costWaitFor(t, time.Minute, "a segment offloaded", func() bool {
		return la.metric(t, "strata_tier_uploaded_segments_total") > 0
	})

	rep := runCostJSON(t, la.bootstrap, "--sample", "3s", "--metrics-url", la.metricsURL,
		"--what-if", "local.retention.ms=1h")
	perRecord := costStoredPerRecord(t, adm, topic)
	p.stop()
	if err := p.failed.Load(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if len(rep.Topics) != 1 || len(rep.MetricsURLs) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	tp := rep.Topics[0]
	m := tp.Measured
	t.Logf("measured: %+v", m)
	if !tp.Priced || !tp.Configs.RemoteStorageEnable || tp.Configs.LocalRetentionMS != 0 || tp.Configs.SegmentBytes != 32<<10 {
		t.Fatalf("topic: %+v", tp)
	}
	// Segments leave the disk as soon as they are offloaded, so the local
	// log start moves during the sample and bytes come from offsets.
	if m.RemoteBytes <= 0 || m.LocalBytes <= 0 || !strings.Contains(m.IngressSource, "offsets") {
		t.Errorf("measured: %+v", m)
	}
	checkCostIngress(t, tp, perRecord)
	if m.CompressionRatio == nil || *m.CompressionRatio != 1 || m.CompressionCodec != "none" {
		t.Errorf("compression %v %q", m.CompressionRatio, m.CompressionCodec)
	}
	// About 100 KiB/s in 32 KiB segments, each a segment and an index
	// PUT: several PUTs a second, all this topic's.
	if m.Requests.PutsSource != "observed" || m.Requests.PutsPerSec <= 0 {
		t.Errorf("requests: %+v", m.Requests)
	}
	if tp.Monthly.Strata.ObjectStorage <= 0 || tp.Monthly.Strata.Requests <= 0 {
		t.Errorf("monthly: %+v", tp.Monthly)
	}
	// An hour on local disk instead of none costs disk.
	if tp.WhatIf == nil || tp.WhatIf.Delta.LocalDisk <= 0 {
		t.Errorf("what-if: %+v", tp.WhatIf)
	}
}
