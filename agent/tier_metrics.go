package agent

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-io/strata/tiering"
)

// tierCollector reports the object tier's counters at scrape time: the
// uploader's, the remote reader's, the store's requests, and per led
// partition the bytes and offsets offloaded.
type tierCollector struct{ a *Agent }

func tierDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("strata_tier_"+name, help, labels, nil)
}

var (
	descUpSegs    = tierDesc("uploaded_segments_total", "Segments offloaded to the object store.")
	descUpBytes   = tierDesc("uploaded_bytes_total", "Bytes of segments offloaded.")
	descUpFail    = tierDesc("upload_failures_total", "Failed upload attempts (each is retried).")
	descUpPending = tierDesc("upload_pending_bytes", "Bytes of closed segments waiting to be offloaded.")
	descUpLag     = tierDesc("upload_lag_seconds", "Age of the oldest segment waiting to be offloaded.")
	descRetSegs   = tierDesc("retention_deleted_segments_total", "Remote segments deleted by total retention.")
	descHits      = tierDesc("cache_hits_total", "Remote reads served from the block cache.")
	descMisses    = tierDesc("cache_misses_total", "Remote reads that needed a GET (or waited for one another reader started).")
	descCached    = tierDesc("cache_bytes", "Bytes held by the remote read cache.")
	descRequests  = tierDesc("store_requests_total", "Object-store requests, by type.", "op")
	descReqErrs   = tierDesc("store_errors_total", "Failed object-store requests, by type.", "op")
	descStoreRead = tierDesc("store_read_bytes_total", "Bytes read from the object store.")
	descStoreWr   = tierDesc("store_written_bytes_total", "Bytes written to the object store.")
	descRemBytes  = tierDesc("partition_bytes", "Bytes of a led partition in the object tier.", "topic", "partition")
	descRemStart  = tierDesc("partition_log_start_offset", "First offset of a led partition in the object tier.", "topic", "partition")
	descRemEnd    = tierDesc("partition_offloaded_end_offset", "End of the offsets of a led partition in the object tier.", "topic", "partition")
)

func (c *tierCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUpSegs, descUpBytes, descUpFail, descUpPending, descUpLag, descRetSegs,
		descHits, descMisses, descCached, descRequests, descReqErrs, descStoreRead, descStoreWr, descRemBytes, descRemStart, descRemEnd} {
		ch <- d
	}
}

func (c *tierCollector) Collect(ch chan<- prometheus.Metric) {
	t := c.a.tier.Load()
	if t == nil {
		return
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	us := t.up.Stats()
	counter(descUpSegs, us.SegmentsUploaded)
	counter(descUpBytes, us.BytesUploaded)
	counter(descUpFail, us.Failures)
	gauge(descUpPending, float64(us.PendingBytes))
	gauge(descUpLag, us.OldestPending.Seconds())
	counter(descRetSegs, us.RetentionSegments)
	rs := t.rd.Stats()
	counter(descHits, rs.Hits)
	counter(descMisses, rs.Misses+rs.Shared)
	gauge(descCached, float64(rs.CachedBytes))
	ss := t.stats()
	for op := tiering.Op(0); op < tiering.NumOps; op++ {
		counter(descRequests, ss.Requests[op], op.String())
		counter(descReqErrs, ss.Errors[op], op.String())
	}
	counter(descStoreRead, ss.BytesRead)
	counter(descStoreWr, ss.BytesWritten)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, p := range c.a.parts.all() {
		segs := c.a.remoteSegments(ctx, p)
		if len(segs) == 0 {
			continue
		}
		var size int64
		for _, s := range segs {
			size += s.Size
		}
		labels := []string{p.topic, strconv.Itoa(int(p.index))}
		gauge(descRemBytes, float64(size), labels...)
		gauge(descRemStart, float64(segs[0].BaseOffset), labels...)
		gauge(descRemEnd, float64(segs[len(segs)-1].LastOffset+1), labels...)
	}
}
