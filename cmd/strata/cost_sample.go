package main

// Sampling a cluster for `strata cost`: two snapshots of every partition's
// offsets and sizes, --sample apart, turned into per-topic rates. Only
// plain Kafka APIs are used (Metadata, ListOffsets, DescribeLogDirs), so the
// figures come from any Kafka-compatible broker; Strata adds the object
// tier to DescribeLogDirs as an extra directory named by its URL.

import (
	"context"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// topicPartition names one partition.
type topicPartition struct {
	topic     string
	partition int32
}

// partitionState is one partition at one instant, as the cluster reports
// it. -1 marks a figure no broker reported.
type partitionState struct {
	leader int32
	// logStart is the earliest offset (ListOffsets -2), on disk or in the
	// object tier; localStart the earliest on the leader's disk (-4,
	// KIP-405), or logStart where the broker does not answer -4.
	logStart, localStart int64
	// end is the high watermark (ListOffsets -1).
	end int64
	// local is the bytes of the partition on its leader's disk, replicas
	// on the disks of all its replicas, remote in the object tier.
	local, replicas, remote int64
}

// snapshot is the cluster at one instant.
type snapshot struct {
	// at is the midpoint of the requests that built the snapshot.
	at    time.Time
	parts map[topicPartition]partitionState
	// logDirs is set when the brokers described their log directories,
	// remoteDir when one of them listed an object-tier directory.
	logDirs, remoteDir bool
	// agents holds one scrape per --metrics-url, in order.
	agents []agentMetrics
}

// sampler takes snapshots of a set of topics.
type sampler struct {
	adm     *kadm.Client
	topics  []string
	logDirs bool // the brokers serve DescribeLogDirs
	scrape  *scraper
	timeout time.Duration // bounds each request
}

// take builds a snapshot. A partition whose leader does not answer keeps
// -1 in the figures that leader owes; a failure of a whole request fails
// the snapshot.
func (s *sampler) take(ctx context.Context) (snapshot, error) {
	start := time.Now()
	snap := snapshot{parts: make(map[topicPartition]partitionState)}
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tds, err := s.adm.ListTopics(rctx, s.topics...)
	if err != nil {
		return snapshot{}, fmt.Errorf("metadata: %w", err)
	}
	for _, t := range s.topics {
		for _, pd := range tds[t].Partitions {
			snap.parts[topicPartition{t, pd.Partition}] = partitionState{
				leader: pd.Leader, logStart: -1, localStart: -1, end: -1, local: -1, replicas: -1, remote: -1,
			}
		}
	}
	if err := s.offsets(rctx, &snap); err != nil {
		return snapshot{}, err
	}
	if s.logDirs {
		if err := s.sizes(rctx, &snap); err != nil {
			return snapshot{}, err
		}
	}
	if s.scrape != nil {
		if snap.agents, err = s.scrape.all(ctx); err != nil {
			return snapshot{}, err
		}
	}
	snap.at = start.Add(time.Since(start) / 2)
	return snap, nil
}

// offsets fills the log start, local log start and end offsets.
func (s *sampler) offsets(ctx context.Context, snap *snapshot) error {
	for _, l := range []struct {
		what     string
		list     func(context.Context, ...string) (kadm.ListedOffsets, error)
		set      func(*partitionState, int64)
		optional bool // brokers before Kafka 3.4 do not answer -4
	}{
		{"high watermarks", s.adm.ListEndOffsets, func(p *partitionState, o int64) { p.end = o }, false},
		{"log start offsets", s.adm.ListStartOffsets, func(p *partitionState, o int64) { p.logStart = o }, false},
		{"local log start offsets", s.adm.ListLocalLogStartOffsets, func(p *partitionState, o int64) { p.localStart = o }, true},
	} {
		listed, err := l.list(ctx, s.topics...)
		if err := partialOK(err); err != nil {
			if !l.optional {
				return fmt.Errorf("list %s: %w", l.what, err)
			}
			listed = nil // the log start stands in, below
		}
		listed.Each(func(lo kadm.ListedOffset) {
			tp := topicPartition{lo.Topic, lo.Partition}
			p, ok := snap.parts[tp]
			if ok && lo.Err == nil && lo.Offset >= 0 {
				l.set(&p, lo.Offset)
				snap.parts[tp] = p
			}
		})
	}
	for tp, p := range snap.parts {
		if p.localStart < 0 || (p.logStart >= 0 && p.localStart < p.logStart) {
			p.localStart = p.logStart
			snap.parts[tp] = p
		}
	}
	return nil
}

// remoteDirName matches the directory Strata reports for its object tier:
// a URL such as file:///data/objects or s3://bucket/prefix.
var remoteDirName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// sizes fills the local, replica and remote sizes from DescribeLogDirs.
// Brokers that do not answer leave their partitions' figures unknown.
func (s *sampler) sizes(ctx context.Context, snap *snapshot) error {
	set := make(kadm.TopicsSet)
	for tp := range snap.parts {
		set.Add(tp.topic, tp.partition)
	}
	all, err := s.adm.DescribeAllLogDirs(ctx, set)
	if err := partialOK(err); err != nil {
		return fmt.Errorf("describe log dirs: %w", err)
	}
	snap.logDirs = true
	add := func(v *int64, n int64) { *v = max(*v, 0) + n }
	for broker, dirs := range all {
		for name, d := range dirs {
			if d.Err != nil {
				continue
			}
			remote := remoteDirName.MatchString(name)
			snap.remoteDir = snap.remoteDir || remote
			d.Topics.Each(func(dp kadm.DescribedLogDirPartition) {
				tp := topicPartition{dp.Topic, dp.Partition}
				p, ok := snap.parts[tp]
				if !ok || dp.IsFuture {
					return
				}
				switch {
				case remote:
					add(&p.remote, dp.Size)
				case broker == p.leader:
					add(&p.local, dp.Size)
					add(&p.replicas, dp.Size)
				default:
					add(&p.replicas, dp.Size)
				}
				snap.parts[tp] = p
			})
		}
	}
	if snap.remoteDir {
		for tp, p := range snap.parts {
			p.remote = max(p.remote, 0) // listed nothing: nothing offloaded yet
			snap.parts[tp] = p
		}
	}
	return nil
}

// How a partition's added bytes were found.
const (
	sizedByLogDirs = "log_dirs"        // growth of the leader's local size
	sizedByOffsets = "offsets"         // records × local size / local records
	sizedByBatches = "fetched_batches" // records × bytes per record of recent batches
)

// growth is what one partition added between two snapshots.
type growth struct {
	// records is the growth of the high watermark; -1 when an end offset
	// is unknown.
	records int64
	// bytes is the stored bytes added when sized is set; how says how
	// they were found ("" when nothing was added).
	bytes int64
	sized bool
	how   string
}

// partitionGrowth measures what a partition added from a to b. The bytes
// are the growth of its leader's local size, unless that is unusable: a
// leader change, or segments deleted from the leader's disk in between
// (its local log start moved: retention, DeleteRecords, or tiered
// storage's local retention) — then the records added times the average
// stored record of the local log, size / (end - local start). When that
// is unknown too, sized is false and the caller may size the records by
// other means.
func partitionGrowth(a, b partitionState) growth {
	if a.end < 0 || b.end < 0 {
		return growth{records: -1}
	}
	g := growth{records: max(0, b.end-a.end)} // a truncated log adds nothing
	if g.records == 0 {
		g.sized = true
		return g
	}
	if a.leader == b.leader && a.local >= 0 && b.local > a.local && a.localStart >= 0 && a.localStart == b.localStart {
		g.bytes, g.sized, g.how = b.local-a.local, true, sizedByLogDirs
		return g
	}
	if b.local > 0 && b.localStart >= 0 && b.end > b.localStart {
		avg := float64(b.local) / float64(b.end-b.localStart)
		g.bytes, g.sized, g.how = int64(math.Round(float64(g.records)*avg)), true, sizedByOffsets
	}
	return g
}

// topicGrowth sums the growth of a topic's partitions.
type topicGrowth struct {
	records, bytes int64
	// unsized are records added whose bytes could not be found;
	// unknown counts partitions whose offsets were not reported.
	unsized int64
	unknown int
	how     map[string]bool
}

// growthOf sums partitionGrowth over topic's partitions in a and b.
func growthOf(topic string, a, b snapshot) topicGrowth {
	tg := topicGrowth{how: make(map[string]bool)}
	for tp, pb := range b.parts {
		if tp.topic != topic {
			continue
		}
		pa, ok := a.parts[tp]
		if !ok { // a partition added during the sample grew from nothing
			pa = partitionState{leader: pb.leader, logStart: 0, localStart: 0, end: 0, local: 0, replicas: 0, remote: 0}
		}
		g := partitionGrowth(pa, pb)
		switch {
		case g.records < 0:
			tg.unknown++
		case !g.sized:
			tg.unsized += g.records
			tg.records += g.records
		default:
			tg.records += g.records
			tg.bytes += g.bytes
			if g.how != "" {
				tg.how[g.how] = true
			}
		}
	}
	return tg
}

// ingress is a topic's measured produce rate.
type ingress struct {
	bytesPerSec, recordsPerSec float64
	// source says how the bytes were found: sizedBy* constants joined
	// by "+", "none" when nothing was produced, "unknown" when offsets
	// were not reported.
	source string
}

// rate turns the growth over secs seconds into rates, sizing records
// whose bytes are unknown at bytesPerRecord (0: unknown). It returns a
// note when some of the ingress could not be measured.
func (tg topicGrowth) rate(secs, bytesPerRecord float64) (ingress, string) {
	var note string
	bytes := float64(tg.bytes)
	how := maps.Clone(tg.how)
	if tg.unsized > 0 {
		if bytesPerRecord > 0 {
			bytes += float64(tg.unsized) * bytesPerRecord
			how[sizedByBatches] = true
		} else {
			note = fmt.Sprintf("the bytes of %d records produced during the sample could not be measured "+
				"(no log-dir sizes and no batch could be fetched); the ingress leaves them out", tg.unsized)
		}
	}
	in := ingress{bytesPerSec: bytes / secs, recordsPerSec: float64(tg.records) / secs}
	switch {
	case len(how) > 0:
		in.source = strings.Join(slices.Sorted(maps.Keys(how)), "+")
	case tg.unknown > 0 && tg.records == 0:
		in.source = "unknown"
	default:
		in.source = "none"
	}
	if tg.unknown > 0 {
		note = strings.TrimPrefix(note+fmt.Sprintf("; the offsets of %d partitions were not reported (leader unavailable?); "+
			"the ingress leaves them out", tg.unknown), "; ")
	}
	return in, note
}

// stored sums, over topic's partitions in snap, the bytes on all
// replicas' disks and in the object tier; -1 when no broker reported them.
func stored(topic string, snap snapshot) (local, remote int64) {
	local, remote = -1, -1
	for tp, p := range snap.parts {
		if tp.topic != topic {
			continue
		}
		if p.replicas >= 0 {
			local = max(local, 0) + p.replicas
		}
		if p.remote >= 0 {
			remote = max(remote, 0) + p.remote
		}
	}
	return local, remote
}

// sleepCtx waits d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
