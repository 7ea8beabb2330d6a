package cost

import (
	"fmt"
	"math"
)

// Breakdown is a monthly cost split the way a bill splits it, in the
// price sheet's currency.
type Breakdown struct {
	// ObjectStorage is the object store's storage (GB-months).
	ObjectStorage float64 `json:"object_storage"`
	// Requests are the object store's PUT- and GET-class requests.
	Requests float64 `json:"requests"`
	// LocalDisk is the agents' provisioned disks (GB-months).
	LocalDisk float64 `json:"local_disk"`
	// CrossZone is data crossing availability zones: produce, replication
	// and consumer traffic.
	CrossZone float64 `json:"cross_zone"`
}

// Total is the sum of the parts.
func (b Breakdown) Total() float64 {
	return b.ObjectStorage + b.Requests + b.LocalDisk + b.CrossZone
}

// Add returns b + o, part by part.
func (b Breakdown) Add(o Breakdown) Breakdown {
	return Breakdown{
		ObjectStorage: b.ObjectStorage + o.ObjectStorage,
		Requests:      b.Requests + o.Requests,
		LocalDisk:     b.LocalDisk + o.LocalDisk,
		CrossZone:     b.CrossZone + o.CrossZone,
	}
}

// Sub returns b - o, part by part: the change from o to b.
func (b Breakdown) Sub(o Breakdown) Breakdown {
	return b.Add(Breakdown{-o.ObjectStorage, -o.Requests, -o.LocalDisk, -o.CrossZone})
}

// Traffic is bytes per month that cross zones, by cause.
type Traffic struct {
	// Produce is producers' bytes reaching a leader in another zone.
	Produce float64 `json:"produce"`
	// Replication is followers' copies fetched from a leader in another
	// zone.
	Replication float64 `json:"replication"`
	// Consume is fetched bytes reaching a consumer in another zone.
	Consume float64 `json:"consume"`
}

// Total is all the bytes that cross zones.
func (t Traffic) Total() float64 { return t.Produce + t.Replication + t.Consume }

// Usage is what a topic uses in a month, behind its Breakdown. Byte
// amounts are steady-state averages over the month.
type Usage struct {
	// RemoteBytes are held in the object store (one copy).
	RemoteBytes float64 `json:"remote_bytes"`
	// LocalBytes are held on the agents' disks, all replicas.
	LocalBytes float64 `json:"local_bytes"`
	// ProvisionedDiskBytes is LocalBytes times the disk headroom.
	ProvisionedDiskBytes float64 `json:"provisioned_disk_bytes"`
	// PutRequests and GetRequests are object-store requests per month.
	PutRequests float64 `json:"put_requests"`
	GetRequests float64 `json:"get_requests"`
	// CrossZoneBytes are bytes per month crossing zones.
	CrossZoneBytes Traffic `json:"cross_zone_bytes"`
}

// Scenario is one way of running a topic: its usage and what that costs.
type Scenario struct {
	Usage Usage     `json:"usage"`
	Cost  Breakdown `json:"cost"`
}

// TopicCost is the model's answer for one topic.
type TopicCost struct {
	// Topic is the topic's name.
	Topic string `json:"topic"`
	// Unbounded is set when the topic keeps data forever and is priced
	// at Config.UnboundedHorizon of history: its real cost keeps growing.
	Unbounded bool `json:"unbounded"`
	// IngressBytesPerSec is the stored produce rate; UncompressedBytesPerSec
	// is that times the compression ratio (0 when the ratio is unknown).
	IngressBytesPerSec      float64 `json:"ingress_bytes_per_sec"`
	UncompressedBytesPerSec float64 `json:"uncompressed_bytes_per_sec"`
	// SegmentBytes is the average size segments close at: segment.bytes,
	// or less when segment.ms closes them first.
	SegmentBytes float64 `json:"segment_bytes"`
	// Strata is the topic as configured on Strata: tiered when
	// remote.storage.enable is set, all local otherwise.
	Strata Scenario `json:"strata"`
	// Classic is the same topic on classic Kafka: every retained byte on
	// disk on each of Config.ClassicReplicationFactor brokers.
	Classic Scenario `json:"classic"`
}

// Estimate prices one topic under cfg. It is a pure function of its
// arguments. It fails with ErrInvalidTopic or ErrInvalidConfig for bad
// input, and with ErrUnboundedRetention for a topic that keeps data
// forever when cfg.UnboundedHorizon is zero.
func Estimate(t Topic, cfg Config) (TopicCost, error) {
	if err := cfg.Validate(); err != nil {
		return TopicCost{}, err
	}
	if err := t.Validate(); err != nil {
		return TopicCost{}, err
	}
	s, err := shapeOf(t, cfg)
	if err != nil {
		return TopicCost{}, err
	}
	tc := TopicCost{
		Topic:                   t.Name,
		Unbounded:               s.unbounded,
		IngressBytesPerSec:      t.IngressBytesPerSec,
		UncompressedBytesPerSec: t.IngressBytesPerSec * t.CompressionRatio,
		SegmentBytes:            s.segment,
	}
	parts, month := float64(t.Partitions), cfg.monthSeconds()

	u := Usage{LocalBytes: parts * float64(t.ReplicationFactor) * s.localPerReplica}
	if t.RemoteStorageEnable {
		u.RemoteBytes = parts * s.remote
	}
	u.PutRequests, u.GetRequests = derivedRequests(t, cfg, s.segment)
	if t.Observed != nil {
		u.PutRequests, u.GetRequests = t.Observed.PutsPerSec*month, t.Observed.GetsPerSec*month
	}
	u.CrossZoneBytes = crossZone(t, cfg, t.ReplicationFactor)
	tc.Strata = price(u, cfg)

	classic := Usage{
		LocalBytes:     parts * float64(cfg.ClassicReplicationFactor) * s.total,
		CrossZoneBytes: crossZone(t, cfg, cfg.ClassicReplicationFactor),
	}
	tc.Classic = price(classic, cfg)
	return tc, nil
}

// shape is one partition's steady state, one copy, in bytes.
type shape struct {
	segment         float64 // average size at which segments close
	total           float64 // retained bytes, local and remote, active segment included
	remote          float64 // closed segments still within total retention
	localPerReplica float64 // bytes one replica keeps on disk
	unbounded       bool    // retention is unlimited; priced at the horizon
}

// shapeOf derives a partition's steady state from its ingress and
// retention (see doc.go for the formulas).
func shapeOf(t Topic, cfg Config) (shape, error) {
	w := t.IngressBytesPerSec / float64(t.Partitions)
	var s shape
	s.segment = math.Min(float64(t.SegmentBytes), w*float64(t.SegmentMS)/1000)
	totalMS := t.RetentionMS
	if t.RetentionMS == Unlimited && t.RetentionBytes == Unlimited {
		if cfg.UnboundedHorizon == 0 {
			return shape{}, fmt.Errorf("topic %q: %w; set a retention or price it at a horizon", t.Name, ErrUnboundedRetention)
		}
		s.unbounded = true
		totalMS = cfg.UnboundedHorizon.Milliseconds()
	}
	if w == 0 {
		return s, nil // nothing produced, nothing kept
	}
	closed := bound(w, totalMS, t.RetentionBytes)
	s.total = closed + s.segment/2
	if !t.RemoteStorageEnable {
		s.localPerReplica = s.total
		return s, nil
	}
	s.remote = closed

	localMS, localBytes := t.LocalRetentionMS, t.LocalRetentionBytes
	if localMS == SameAsTotal {
		localMS = totalMS
	}
	if localBytes == SameAsTotal {
		localBytes = t.RetentionBytes
	}
	if s.unbounded && localMS == Unlimited && localBytes == Unlimited {
		localMS = totalMS
	}
	s.localPerReplica = math.Min(bound(w, localMS, localBytes), closed) + s.segment/2
	return s, nil
}

// bound is the closed-segment bytes a partition growing w bytes/s keeps
// under a time limit of ms and a size limit of bytes, either Unlimited:
// min(w·ms/1000, bytes). Both unlimited is +Inf.
func bound(w float64, ms, bytes int64) float64 {
	byTime, bySize := math.Inf(1), math.Inf(1)
	if ms != Unlimited {
		byTime = w * float64(ms) / 1000
	}
	if bytes != Unlimited {
		bySize = float64(bytes)
	}
	return math.Min(byTime, bySize)
}

// derivedRequests returns the PUT- and GET-class requests per month that
// uploading every closed segment and the topic's remote reads make.
func derivedRequests(t Topic, cfg Config, segment float64) (puts, gets float64) {
	if !t.RemoteStorageEnable || segment <= 0 {
		return 0, 0
	}
	produced := t.IngressBytesPerSec * cfg.monthSeconds()
	extra := float64(cfg.ObjectsPerSegment - 1)

	putsPerSegment := 1.0
	if segment > float64(cfg.PartSize) {
		putsPerSegment = math.Ceil(segment/float64(cfg.PartSize)) + 2 // create, parts, complete
	}
	puts = produced / segment * (putsPerSegment + extra)

	remoteRead := produced * t.ReadFanout * t.RemoteReadFraction
	gets = remoteRead / segment * (math.Ceil(segment/float64(cfg.GetBytes)) + extra)
	return puts, gets
}

// crossZone returns the bytes per month that cross zones with rf replicas.
func crossZone(t Topic, cfg Config, rf int) Traffic {
	client := cfg.ClientCrossAZFraction
	if t.CrossAZFraction != nil {
		client = *t.CrossAZFraction
	}
	produced := t.IngressBytesPerSec * cfg.monthSeconds()
	return Traffic{
		Produce:     produced * client,
		Replication: produced * float64(rf-1) * cfg.ReplicaCrossAZFraction,
		Consume:     produced * t.ReadFanout * client,
	}
}

// price fills in the provisioned disk and multiplies usage by prices.
func price(u Usage, cfg Config) Scenario {
	p := cfg.Prices
	u.ProvisionedDiskBytes = u.LocalBytes * cfg.DiskHeadroom
	return Scenario{
		Usage: u,
		Cost: Breakdown{
			ObjectStorage: u.RemoteBytes / GiB * p.S3StoragePerGBMonth,
			Requests:      u.PutRequests/1000*p.S3PutPer1000 + u.GetRequests/1000*p.S3GetPer1000,
			LocalDisk:     u.ProvisionedDiskBytes / GiB * p.DiskPerGBMonth,
			CrossZone:     u.CrossZoneBytes.Total() / GiB * 2 * p.CrossAZPerGB,
		},
	}
}
