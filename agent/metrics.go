package agent

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/protocol"
)

// metrics are the agent's Prometheus metrics, in a registry of its own (so
// several agents in one process, as in tests, do not collide). Counters on
// hot paths are looked up once per partition and kept on it; gauges of
// partition state are read at scrape time by partitionCollector.
type metrics struct {
	reg *prometheus.Registry

	requests          *prometheus.CounterVec   // api
	requestDuration   *prometheus.HistogramVec // api
	errors            *prometheus.CounterVec   // api, code
	bytesIn           *prometheus.CounterVec   // topic, partition
	recordsIn         *prometheus.CounterVec   // topic, partition
	bytesOut          *prometheus.CounterVec   // topic, partition
	recordsOut        *prometheus.CounterVec   // topic, partition
	metadataOps       *prometheus.HistogramVec // op
	connections       prometheus.Gauge
	remoteReadLatency prometheus.Histogram
}

func newMetrics(a *Agent) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_requests_total", Help: "Kafka requests served, by API.",
		}, []string{"api"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "strata_request_duration_seconds", Help: "Time to serve a Kafka request, by API (Fetch includes long-poll waiting).",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2.5, 14),
		}, []string{"api"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_request_errors_total", Help: "Kafka error codes returned, by API and error (per partition for Produce and Fetch).",
		}, []string{"api", "error"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_partition_bytes_in_total", Help: "Record-batch bytes appended by producers (as sent, compressed or not).",
		}, []string{"topic", "partition"}),
		recordsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_partition_records_in_total", Help: "Records appended by producers.",
		}, []string{"topic", "partition"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_partition_bytes_out_total", Help: "Record-batch bytes sent to consumers (not followers).",
		}, []string{"topic", "partition"}),
		recordsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_partition_records_out_total", Help: "Offsets sent to consumers (not followers): records, counting those in whole batches.",
		}, []string{"topic", "partition"}),
		metadataOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "strata_metadata_request_duration_seconds", Help: "Latency of metadata (etcd) requests, by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}, []string{"op"}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_connections", Help: "Open Kafka client connections.",
		}),
		remoteReadLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "strata_remote_read_duration_seconds", Help: "Time to serve one partition's fetch from the object tier.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14),
		}),
	}
	m.reg.MustRegister(m.requests, m.requestDuration, m.errors, m.bytesIn, m.recordsIn, m.bytesOut, m.recordsOut,
		m.metadataOps, m.connections, m.remoteReadLatency, &partitionCollector{a: a}, &tierCollector{a: a},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// partitionCounters are one partition's hot-path counters.
type partitionCounters struct {
	bytesIn, recordsIn, bytesOut, recordsOut prometheus.Counter
}

func (m *metrics) forPartition(topic string, p int32) *partitionCounters {
	ps := strconv.Itoa(int(p))
	return &partitionCounters{
		bytesIn: m.bytesIn.WithLabelValues(topic, ps), recordsIn: m.recordsIn.WithLabelValues(topic, ps),
		bytesOut: m.bytesOut.WithLabelValues(topic, ps), recordsOut: m.recordsOut.WithLabelValues(topic, ps),
	}
}

// forget drops a deleted or moved partition's series.
func (m *metrics) forget(topic string, p int32) {
	ps := strconv.Itoa(int(p))
	for _, v := range []*prometheus.CounterVec{m.bytesIn, m.recordsIn, m.bytesOut, m.recordsOut} {
		v.DeleteLabelValues(topic, ps)
	}
}

// observeRequest records one served request and the error codes in its
// response.
func (m *metrics) observeRequest(key int16, took time.Duration, resp kmsg.Response) {
	api := kmsg.NameForKey(key)
	m.requests.WithLabelValues(api).Inc()
	m.requestDuration.WithLabelValues(api).Observe(took.Seconds())
	for _, code := range responseErrors(resp) {
		m.errors.WithLabelValues(api, errorName(code)).Inc()
	}
}

// responseErrors lists the non-zero error codes of a Produce or Fetch
// response's partitions; other responses are not inspected.
func responseErrors(resp kmsg.Response) []int16 {
	var codes []int16
	switch r := resp.(type) {
	case *kmsg.ProduceResponse:
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					codes = append(codes, p.ErrorCode)
				}
			}
		}
	case *protocol.FetchStream:
		fr := r.FetchResponse
		if fr.ErrorCode != 0 {
			codes = append(codes, fr.ErrorCode)
		}
		for _, t := range fr.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					codes = append(codes, p.ErrorCode)
				}
			}
		}
	}
	return codes
}

// errorName is a Kafka error code's name, as clients print it.
func errorName(code int16) string {
	if err := kerr.ErrorForCode(code); err != nil {
		var ke *kerr.Error
		if errors.As(err, &ke) {
			return ke.Message
		}
	}
	return strconv.Itoa(int(code))
}

// collectGroupLag reports the lag of the groups this agent coordinates on
// the partitions it hosts (their high watermark is known here).
func (a *Agent) collectGroupLag(ch chan<- prometheus.Metric) {
	if a.groups == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	groups, _ := a.groups.List(ctx) // a shard still loading is skipped
	for _, g := range groups {
		offsets, err := a.groups.Fetch(ctx, g.Group, nil)
		if err != nil {
			continue
		}
		for _, o := range offsets {
			t, ok := a.cache.Topic(o.Topic)
			if !ok || o.Offset < 0 {
				continue
			}
			p := a.parts.get(t.ID, o.Partition)
			if p == nil {
				continue
			}
			lag := max(0, p.highWatermark()-o.Offset)
			ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(lag), g.Group, o.Topic, strconv.Itoa(int(o.Partition)))
		}
	}
}

// partitionCollector reports the state of hosted partitions at scrape time.
type partitionCollector struct{ a *Agent }

var (
	descLEO = prometheus.NewDesc("strata_partition_log_end_offset", "Next offset to be written.", []string{"topic", "partition"}, nil)
	descLSO = prometheus.NewDesc("strata_partition_log_start_offset", "First offset still stored locally.", []string{"topic", "partition"}, nil)
	descHW  = prometheus.NewDesc("strata_partition_high_watermark", "Offset up to which records are committed (visible to consumers).", []string{"topic", "partition"}, nil)
	descSz  = prometheus.NewDesc("strata_partition_size_bytes", "Bytes of the partition's log on local disk.", []string{"topic", "partition"}, nil)
	descLdr = prometheus.NewDesc("strata_partition_leader", "1 if this agent leads the partition, 0 if it follows.", []string{"topic", "partition"}, nil)
	descISR = prometheus.NewDesc("strata_partition_in_sync_replicas", "In-sync replicas of a partition this agent leads.", []string{"topic", "partition"}, nil)
	descURP = prometheus.NewDesc("strata_under_replicated_partitions", "Partitions this agent leads whose ISR is smaller than their replica set.", nil, nil)
	descLag = prometheus.NewDesc("strata_group_lag", "Records between a consumer group's committed offset and the high watermark, for groups this agent coordinates and partitions it hosts.", []string{"group", "topic", "partition"}, nil)
	descCtl = prometheus.NewDesc("strata_controller", "1 if this agent is the controller.", nil, nil)
)

func (c *partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLEO, descLSO, descHW, descSz, descLdr, descISR, descURP, descLag, descCtl} {
		ch <- d
	}
}

func (c *partitionCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	under := 0
	for _, p := range a.parts.all() {
		labels := []string{p.topic, strconv.Itoa(int(p.index))}
		ch <- prometheus.MustNewConstMetric(descLEO, prometheus.GaugeValue, float64(p.log.LogEndOffset()), labels...)
		ch <- prometheus.MustNewConstMetric(descLSO, prometheus.GaugeValue, float64(p.log.LogStartOffset()), labels...)
		ch <- prometheus.MustNewConstMetric(descHW, prometheus.GaugeValue, float64(p.highWatermark()), labels...)
		ch <- prometheus.MustNewConstMetric(descSz, prometheus.GaugeValue, float64(p.log.Size()), labels...)
		leader := 0.0
		if l := p.leader.Load(); l != nil {
			leader = 1
			isr := l.ISRSize()
			ch <- prometheus.MustNewConstMetric(descISR, prometheus.GaugeValue, float64(isr), labels...)
			if isr < len(l.Replicas()) {
				under++
			}
		}
		ch <- prometheus.MustNewConstMetric(descLdr, prometheus.GaugeValue, leader, labels...)
	}
	ch <- prometheus.MustNewConstMetric(descURP, prometheus.GaugeValue, float64(under))
	ctl := 0.0
	if a.controller.Load() == a.cfg.NodeID {
		ctl = 1
	}
	ch <- prometheus.MustNewConstMetric(descCtl, prometheus.GaugeValue, ctl)
	a.collectGroupLag(ch)
}
