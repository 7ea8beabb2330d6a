package main

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/strata-io/strata/tiering/cost"
)

// The JSON shape of `strata cost` is a stable interface, like those in
// output.go: fields are only added, slices are never null, -1 stands for
// an unknown byte count and null for a ratio that was not measured.

// costReport is the result of `strata cost`.
type costReport struct {
	Bootstrap     string  `json:"bootstrap"`
	SampleSeconds float64 `json:"sample_seconds"`
	Currency      string  `json:"currency"`
	// Prices are the unit prices used; PriceSource says where they come
	// from.
	Prices      cost.Prices `json:"prices"`
	PriceSource string      `json:"price_source"`
	// ReadFanout and RemoteReadFraction are the read assumptions
	// (--read-fanout, --remote-read-fraction).
	ReadFanout         float64 `json:"read_fanout"`
	RemoteReadFraction float64 `json:"remote_read_fraction"`
	// ClassicReplicationFactor is the replication factor of the classic
	// Kafka deployment compared with.
	ClassicReplicationFactor int `json:"classic_replication_factor"`
	// MetricsURLs are the agents' endpoints request rates were read from.
	MetricsURLs []string    `json:"metrics_urls"`
	Topics      []costTopic `json:"topics"`
	// Total sums the priced topics.
	Total costScenarios `json:"total"`
	// WhatIf is null without --what-if.
	WhatIf *costWhatIf `json:"what_if"`
	// Notes are caveats that concern the whole report.
	Notes []string `json:"notes"`
}

// costTopic is one topic of the report.
type costTopic struct {
	Name              string       `json:"name"`
	Partitions        int          `json:"partitions"`
	ReplicationFactor int          `json:"replication_factor"`
	Configs           costConfigs  `json:"configs"`
	Measured          costMeasured `json:"measured"`
	// Priced is false when the model could not price the topic; Error
	// says why, and the costs are zero.
	Priced  bool          `json:"priced"`
	Error   string        `json:"error,omitempty"`
	Monthly costScenarios `json:"monthly"`
	// StrataUsage and ClassicUsage are the quantities behind Monthly.
	StrataUsage  cost.Usage `json:"strata_usage"`
	ClassicUsage cost.Usage `json:"classic_usage"`
	// WhatIf is null without --what-if.
	WhatIf *costTopicWhatIf `json:"what_if"`
	Notes  []string         `json:"notes"`
}

// costConfigs are the topic configs the model reads, as Kafka spells
// them (-1 unlimited, -2 local retention as the total).
type costConfigs struct {
	RemoteStorageEnable bool  `json:"remote_storage_enable"`
	RetentionMS         int64 `json:"retention_ms"`
	RetentionBytes      int64 `json:"retention_bytes"`
	LocalRetentionMS    int64 `json:"local_retention_ms"`
	LocalRetentionBytes int64 `json:"local_retention_bytes"`
	SegmentBytes        int64 `json:"segment_bytes"`
	SegmentMS           int64 `json:"segment_ms"`
}

// costMeasured is what was read from the cluster.
type costMeasured struct {
	IngressBytesPerSec float64 `json:"ingress_bytes_per_sec"`
	RecordsPerSec      float64 `json:"records_per_sec"`
	// IngressSource says how bytes were measured: log_dirs, offsets,
	// fetched_batches (joined by "+" when partitions differed), none
	// (nothing produced) or unknown.
	IngressSource string `json:"ingress_source"`
	// CompressionRatio is uncompressed over stored bytes of recent
	// batches, null when none could be read; CompressionCodec names
	// their codecs.
	CompressionRatio *float64 `json:"compression_ratio"`
	CompressionCodec string   `json:"compression_codec"`
	// LocalBytes are on all replicas' disks, RemoteBytes in the object
	// tier, now; -1 when the brokers did not report them.
	LocalBytes  int64        `json:"local_bytes"`
	RemoteBytes int64        `json:"remote_bytes"`
	Requests    costRequests `json:"requests"`
}

// costRequests are the object-store request rates priced.
type costRequests struct {
	PutsPerSec float64 `json:"puts_per_sec"`
	GetsPerSec float64 `json:"gets_per_sec"`
	// PutsSource and GetsSource say where each rate comes from:
	// "observed" (the agents' metrics) or "model" (derived from ingress,
	// segment size and reads).
	PutsSource string `json:"puts_source"`
	GetsSource string `json:"gets_source"`
}

// costBreakdown is a monthly cost by part.
type costBreakdown struct {
	ObjectStorage float64 `json:"object_storage"`
	Requests      float64 `json:"requests"`
	LocalDisk     float64 `json:"local_disk"`
	CrossZone     float64 `json:"cross_zone"`
	Total         float64 `json:"total"`
}

func breakdownOf(b cost.Breakdown) costBreakdown {
	return costBreakdown{ObjectStorage: b.ObjectStorage, Requests: b.Requests, LocalDisk: b.LocalDisk,
		CrossZone: b.CrossZone, Total: b.Total()}
}

// costScenarios is a monthly cost on Strata and on classic Kafka.
type costScenarios struct {
	Strata  costBreakdown `json:"strata"`
	Classic costBreakdown `json:"classic"`
}

// costTopicWhatIf is one topic with the --what-if settings.
type costTopicWhatIf struct {
	Priced bool          `json:"priced"`
	Error  string        `json:"error,omitempty"`
	After  costScenarios `json:"after"`
	// Delta is After minus the topic's Monthly cost on Strata.
	Delta costBreakdown `json:"delta"`
}

// costWhatIf sums the topics the --what-if settings could be applied to.
type costWhatIf struct {
	Overrides string        `json:"overrides"`
	Before    costScenarios `json:"before"`
	After     costScenarios `json:"after"`
	Delta     costBreakdown `json:"delta"`
}

// costInputs is everything the report is built from.
type costInputs struct {
	bootstrap                      string
	plan                           costPlan
	metas                          []costTopicMeta
	before, after                  snapshot
	batches                        map[string]*batchStats
	fetchErrs                      map[string]error
	readFanout, remoteReadFraction float64
}

// buildCostReport measures and prices every topic. It is a pure function
// of its inputs.
func buildCostReport(in costInputs) costReport {
	secs := in.after.at.Sub(in.before.at).Seconds()
	r := costReport{
		Bootstrap: in.bootstrap, SampleSeconds: secs, Currency: in.plan.cfg.Prices.Currency,
		Prices: in.plan.cfg.Prices, PriceSource: in.plan.priceSource,
		ReadFanout: in.readFanout, RemoteReadFraction: in.remoteReadFraction,
		ClassicReplicationFactor: in.plan.cfg.ClassicReplicationFactor,
		MetricsURLs:              append([]string{}, in.plan.urls...), Topics: []costTopic{}, Notes: []string{},
	}
	var obs *observed
	if len(in.plan.urls) > 0 {
		o := observedRequests(in.before.agents, in.after.agents, secs, shapesOf(in.metas))
		obs = &o
		r.Notes = append(r.Notes, o.notes...)
		if u := o.unattributed; u.PutsPerSec > 0 || u.GetsPerSec > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%.3g PUT-class and %.3g GET-class requests/s went to no topic "+
				"(nothing was produced, fetched or offloaded); they are not priced", u.PutsPerSec, u.GetsPerSec))
		}
	}
	if !in.after.logDirs {
		r.Notes = append(r.Notes, "the brokers do not serve DescribeLogDirs: local and remote bytes are unknown, "+
			"and ingress bytes come from the size of fetched batches")
	}
	if len(in.plan.overrides) > 0 {
		r.WhatIf = &costWhatIf{Overrides: in.plan.whatIf}
	}
	var total, classic cost.Breakdown
	var wBefore, wBeforeClassic, wAfter, wAfterClassic cost.Breakdown
	for _, m := range in.metas {
		ct, topic, tc := measureTopic(in, m, secs, obs)
		if ct.Priced {
			total, classic = total.Add(tc.Strata.Cost), classic.Add(tc.Classic.Cost)
		}
		if r.WhatIf != nil && ct.Priced {
			res, err := cost.WhatIf([]cost.Topic{topic}, in.plan.overrides, in.plan.cfg)
			w := &costTopicWhatIf{}
			if err != nil {
				w.Error = err.Error()
			} else {
				after := res.After.Topics[0]
				w.Priced = true
				w.After = costScenarios{breakdownOf(after.Strata.Cost), breakdownOf(after.Classic.Cost)}
				w.Delta = breakdownOf(res.TopicDeltas[0])
				wBefore, wBeforeClassic = wBefore.Add(tc.Strata.Cost), wBeforeClassic.Add(tc.Classic.Cost)
				wAfter, wAfterClassic = wAfter.Add(after.Strata.Cost), wAfterClassic.Add(after.Classic.Cost)
			}
			ct.WhatIf = w
		}
		r.Topics = append(r.Topics, ct)
	}
	r.Total = costScenarios{breakdownOf(total), breakdownOf(classic)}
	if r.WhatIf != nil {
		r.WhatIf.Before = costScenarios{breakdownOf(wBefore), breakdownOf(wBeforeClassic)}
		r.WhatIf.After = costScenarios{breakdownOf(wAfter), breakdownOf(wAfterClassic)}
		r.WhatIf.Delta = breakdownOf(wAfter.Sub(wBefore))
	}
	return r
}

// measureTopic builds one topic's entry, and the model's topic and answer
// when it could be priced.
func measureTopic(in costInputs, m costTopicMeta, secs float64, obs *observed) (costTopic, cost.Topic, cost.TopicCost) {
	ct := costTopic{Name: m.name, Partitions: m.partitions, ReplicationFactor: m.replicationFactor, Notes: []string{}}
	note := func(format string, args ...any) { ct.Notes = append(ct.Notes, fmt.Sprintf(format, args...)) }

	bs := in.batches[m.name]
	in1, ingressNote := growthOf(m.name, in.before, in.after).rate(secs, bs.bytesPerRecord())
	if ingressNote != "" {
		note("%s", ingressNote)
	}
	ct.Measured = costMeasured{IngressBytesPerSec: in1.bytesPerSec, RecordsPerSec: in1.recordsPerSec,
		IngressSource: in1.source, CompressionCodec: bs.codec(), Requests: costRequests{PutsSource: "model", GetsSource: "model"}}
	ct.Measured.LocalBytes, ct.Measured.RemoteBytes = stored(m.name, in.after)
	if ratio := bs.ratio(); ratio > 0 {
		ct.Measured.CompressionRatio = &ratio
	} else {
		note("compression not measured: %s", compressionMissing(m.name, in))
	}

	topic, err := cost.TopicFromConfigs(m.name, m.partitions, m.replicationFactor, m.configs)
	if err != nil {
		ct.Error = err.Error()
		return ct, cost.Topic{}, cost.TopicCost{}
	}
	switch _, ok := m.configs["remote.storage.enable"]; {
	case m.configs == nil:
		note("the broker does not serve DescribeConfigs: Kafka's default configs are assumed")
	case !ok:
		note("remote.storage.enable is not reported by the broker: priced with remote storage on, as Strata runs by default")
	}
	ct.Configs = costConfigs{RemoteStorageEnable: topic.RemoteStorageEnable, RetentionMS: topic.RetentionMS,
		RetentionBytes: topic.RetentionBytes, LocalRetentionMS: topic.LocalRetentionMS,
		LocalRetentionBytes: topic.LocalRetentionBytes, SegmentBytes: topic.SegmentBytes, SegmentMS: topic.SegmentMS}
	topic.IngressBytesPerSec = in1.bytesPerSec
	topic.CompressionRatio = bs.ratio()
	topic.ReadFanout, topic.RemoteReadFraction = in.readFanout, in.remoteReadFraction
	if in1.source == "none" {
		note("nothing was produced during the sample: the model prices steady traffic, so the topic costs nothing " +
			"at this rate (its stored bytes are shown as measured); sample longer or at a busier time")
	}

	tc, err := cost.Estimate(topic, in.plan.cfg)
	if err != nil {
		ct.Error = err.Error()
		if errors.Is(err, cost.ErrUnboundedRetention) {
			ct.Error += " (--unbounded-horizon 8760h prices it as holding a year of history)"
		}
		return ct, topic, cost.TopicCost{}
	}
	month := in.plan.cfg.MonthHours * 3600
	ct.Measured.Requests.PutsPerSec = tc.Strata.Usage.PutRequests / month
	ct.Measured.Requests.GetsPerSec = tc.Strata.Usage.GetRequests / month
	if obs != nil {
		if r, ok := observedFor(&ct, topic, in.after, obs, secs, note); ok {
			topic.Observed = &r
			if tc, err = cost.Estimate(topic, in.plan.cfg); err != nil { // only finite rates changed: not expected
				ct.Error = err.Error()
				return ct, topic, cost.TopicCost{}
			}
		}
	}
	ct.Priced = true
	ct.Monthly = costScenarios{breakdownOf(tc.Strata.Cost), breakdownOf(tc.Classic.Cost)}
	ct.StrataUsage, ct.ClassicUsage = tc.Strata.Usage, tc.Classic.Usage
	if tc.Unbounded {
		note("retention is unbounded: priced as holding %v of history (--unbounded-horizon)", in.plan.cfg.UnboundedHorizon)
	}
	return ct, topic, tc
}

// observedFor returns the topic's request rates from the agents'
// metrics, and sets them in ct, when the scraped agents lead all its
// partitions; it notes why not otherwise. ct holds the model's rates on
// entry. The PUT rate stays the model's when the sample is shorter than
// two segment fills: too short to observe uploads, which come one
// segment at a time.
func observedFor(ct *costTopic, topic cost.Topic, after snapshot, obs *observed, secs float64, note func(string, ...any)) (cost.Requests, bool) {
	led, total := 0, 0
	for tp := range after.parts {
		if tp.topic == topic.Name {
			total++
			if obs.covered[tp] {
				led++
			}
		}
	}
	if led < total {
		note("object-store requests derived by the model: the scraped agents lead %d of %d partitions "+
			"(give every agent's --metrics-url)", led, total)
		return cost.Requests{}, false
	}
	r := obs.byTopic[topic.Name]
	req := costRequests{PutsPerSec: r.PutsPerSec, GetsPerSec: r.GetsPerSec, PutsSource: "observed", GetsSource: "observed"}
	if topic.RemoteStorageEnable && topic.IngressBytesPerSec > 0 {
		perPartition := topic.IngressBytesPerSec / float64(topic.Partitions)
		fill := math.Min(float64(topic.SegmentBytes)/perPartition, float64(topic.SegmentMS)/1000)
		if secs < 2*fill {
			req.PutsPerSec, req.PutsSource = ct.Measured.Requests.PutsPerSec, "model"
			note("PUT rate from the model: the sample (%.0fs) is shorter than two segment fills (%.0fs each), "+
				"too short to observe uploads (sample longer with --sample); the GET rate is observed", secs, fill)
		}
	}
	ct.Measured.Requests = req
	return cost.Requests{PutsPerSec: req.PutsPerSec, GetsPerSec: req.GetsPerSec}, true
}

// shapesOf tells the request split each topic's segment size and which
// topics are not tiered, from their configs.
func shapesOf(metas []costTopicMeta) topicShapes {
	s := topicShapes{segmentBytes: make(map[string]float64), untiered: make(map[string]bool)}
	for _, m := range metas {
		t, err := cost.TopicFromConfigs(m.name, max(m.partitions, 1), max(m.replicationFactor, 1), m.configs)
		if err != nil {
			continue
		}
		s.segmentBytes[m.name] = float64(t.SegmentBytes)
		s.untiered[m.name] = !t.RemoteStorageEnable
	}
	return s
}

// compressionMissing says why no batch of topic was read.
func compressionMissing(topic string, in costInputs) string {
	if err := in.fetchErrs[topic]; err != nil {
		return "fetching recent batches failed: " + err.Error()
	}
	for tp, p := range in.after.parts {
		if tp.topic == topic && p.end > p.localStart && p.localStart >= 0 {
			return "no batch could be fetched in time"
		}
	}
	return "the topic holds no records on the agents' disks"
}

// sortedNotes returns notes with each topic's notes prefixed by its name,
// after the report's own, for the table view.
func sortedNotes(r costReport) []string {
	out := slices.Clone(r.Notes)
	for _, t := range r.Topics {
		if t.Error != "" {
			out = append(out, t.Name+": not priced: "+t.Error)
		}
		if t.WhatIf != nil && t.WhatIf.Error != "" {
			out = append(out, t.Name+": --what-if not applicable: "+t.WhatIf.Error)
		}
		for _, n := range t.Notes {
			out = append(out, t.Name+": "+n)
		}
	}
	return out
}
