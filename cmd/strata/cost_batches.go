package main

// Compression of recent data for `strata cost`: the command fetches the
// newest batches of each topic, as a consumer would, and compares each
// batch as stored with the same batch with its records uncompressed.

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordBatchOverhead is the size of a v2 record batch's header, from
// its base offset to its record count: kgo's batch metrics count the
// records section only.
const recordBatchOverhead = 61

// batchFetchRecords is how far back from the end a topic's recent
// batches are fetched; batchFetchBytes bounds the bytes of one fetch.
const (
	batchFetchRecords = 1000
	batchFetchBytes   = 1 << 20
)

// batchStats sums the record batches read from one topic.
type batchStats struct {
	batches, records int64
	// stored is the batches' bytes as stored, uncompressed the same
	// batches with their records uncompressed.
	stored, uncompressed int64
	codecs               map[uint8]bool
}

// ratio is uncompressed over stored bytes, 0 when nothing was read.
func (s *batchStats) ratio() float64 {
	if s == nil || s.stored == 0 {
		return 0
	}
	return float64(s.uncompressed) / float64(s.stored)
}

// bytesPerRecord is the stored bytes per record, 0 when nothing was read.
func (s *batchStats) bytesPerRecord() float64 {
	if s == nil || s.records == 0 {
		return 0
	}
	return float64(s.stored) / float64(s.records)
}

// codec names the compression codecs seen, "+"-joined.
func (s *batchStats) codec() string {
	if s == nil {
		return ""
	}
	names := make([]string, 0, len(s.codecs))
	for _, c := range slices.Sorted(maps.Keys(s.codecs)) {
		names = append(names, codecName(c))
	}
	return strings.Join(names, "+")
}

// codecName names a record batch's compression attribute.
func codecName(c uint8) string {
	switch c {
	case 0:
		return "none"
	case 1:
		return "gzip"
	case 2:
		return "snappy"
	case 3:
		return "lz4"
	case 4:
		return "zstd"
	}
	return fmt.Sprintf("codec-%d", c)
}

// batchHook collects kgo's per-batch fetch metrics by topic. It is safe
// for concurrent use (kgo calls it from its fetch goroutines).
type batchHook struct {
	mu    sync.Mutex
	stats map[string]*batchStats // guarded by mu
}

var _ kgo.HookFetchBatchRead = (*batchHook)(nil)

func (h *batchHook) OnFetchBatchRead(_ kgo.BrokerMetadata, topic string, _ int32, m kgo.FetchBatchMetrics) {
	if m.NumRecords == 0 || m.CompressedBytes == 0 { // a batch that failed to decode
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats[topic]
	if s == nil {
		s = &batchStats{codecs: make(map[uint8]bool)}
		h.stats[topic] = s
	}
	s.batches++
	s.records += int64(m.NumRecords)
	s.stored += int64(m.CompressedBytes) + recordBatchOverhead
	s.uncompressed += int64(m.UncompressedBytes) + recordBatchOverhead
	s.codecs[m.CompressionType] = true
}

// seen reports how many of topics have at least one batch.
func (h *batchHook) seen(topics []string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, t := range topics {
		if h.stats[t] != nil {
			n++
		}
	}
	return n
}

// batchTargets picks, per topic, the partition with the most recent
// data in snap and the offset to read its newest batches from: up to
// batchFetchRecords before its end, never below its local log start (a
// read from the object tier would cost GETs and skew nothing but time).
func batchTargets(snap snapshot) map[string]map[int32]int64 {
	best := make(map[string]topicPartition)
	for tp, p := range snap.parts {
		if p.end <= p.localStart || p.localStart < 0 {
			continue
		}
		cur, ok := best[tp.topic]
		if !ok || p.end > snap.parts[cur].end || (p.end == snap.parts[cur].end && tp.partition < cur.partition) {
			best[tp.topic] = tp
		}
	}
	out := make(map[string]map[int32]int64, len(best))
	for topic, tp := range best {
		p := snap.parts[tp]
		out[topic] = map[int32]int64{tp.partition: max(p.localStart, p.end-batchFetchRecords)}
	}
	return out
}

// fetchBatches reads recent batches of the targets with a consumer and
// returns what it read per topic. It stops once every topic gave at
// least one batch, or at wait; topics that gave none are absent. errs
// collects fetch errors by topic, for the notes.
func fetchBatches(ctx context.Context, co *clientOptions, stderr io.Writer, targets map[string]map[int32]int64, wait time.Duration) (map[string]*batchStats, map[string]error, error) {
	hook := &batchHook{stats: make(map[string]*batchStats)}
	if len(targets) == 0 {
		return hook.stats, nil, nil
	}
	offsets := make(map[string]map[int32]kgo.Offset, len(targets))
	for topic, parts := range targets {
		offsets[topic] = make(map[int32]kgo.Offset, len(parts))
		for p, at := range parts {
			offsets[topic][p] = kgo.NewOffset().At(at)
		}
	}
	opts, err := co.kgoOpts(stderr,
		kgo.ConsumePartitions(offsets),
		kgo.WithHooks(hook),
		kgo.FetchMaxBytes(batchFetchBytes),
		kgo.FetchMaxPartitionBytes(batchFetchBytes),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create Kafka client: %w", err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	topics := slices.Sorted(maps.Keys(targets))
	errs := make(map[string]error)
	for hook.seen(topics) < len(topics) {
		fs := cl.PollFetches(pctx)
		if pctx.Err() != nil {
			break
		}
		fs.EachError(func(topic string, _ int32, err error) { errs[topic] = err })
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err // interrupted, not merely out of time
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	return hook.stats, errs, nil
}
