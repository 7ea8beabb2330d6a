package cost

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Special values of the retention settings, as Kafka spells them.
const (
	// Unlimited (-1) in retention.ms, retention.bytes and their local
	// counterparts means no limit of that kind.
	Unlimited int64 = -1
	// SameAsTotal (-2) in local.retention.ms and local.retention.bytes
	// means "use retention.ms" (resp. retention.bytes), Kafka's default.
	SameAsTotal int64 = -2
)

// Kafka's defaults for the topic configs the model reads, used where a
// config is missing (TopicFromConfigs, NewTopic).
const (
	DefaultRetentionMS    int64 = 7 * 24 * 3600 * 1000 // 7 days
	DefaultSegmentBytes   int64 = 1 << 30              // 1 GiB
	DefaultSegmentMS      int64 = 7 * 24 * 3600 * 1000 // 7 days
	DefaultRetentionBytes       = Unlimited
	DefaultLocalRetention       = SameAsTotal
)

// Topic is what the model knows of one topic: its traffic, its retention
// and segment configs, and how it is read. Each field maps onto something
// an operator can read from a running cluster:
//
//   - Partitions and ReplicationFactor: Metadata / DescribeTopics;
//   - the retention, segment and remote-storage fields: DescribeConfigs,
//     under the Kafka config names in their comments (TopicFromConfigs
//     parses them);
//   - IngressBytesPerSec: the growth of the partitions' log end, in
//     bytes, over an interval (DescribeLogDirs sizes sampled twice, with
//     nothing deleted in between, or the agent's bytes-in metric);
//   - CompressionRatio: the producers' uncompressed bytes over stored
//     bytes (the agent's metrics), for reporting only;
//   - ReadFanout and RemoteReadFraction: bytes fetched (bytes-out metric)
//     over bytes produced, and the share of them the remote tier served
//     (remote-read bytes metric) — cache hits count as local;
//   - Observed: the object store's request counters, when measured.
//
// The zero value is not valid; start from NewTopic or TopicFromConfigs.
type Topic struct {
	// Name is the topic's name, for reports.
	Name string
	// Partitions is the partition count (≥ 1).
	Partitions int
	// ReplicationFactor is the number of replicas of each partition (≥ 1).
	ReplicationFactor int

	// IngressBytesPerSec is the rate of produced bytes as stored — after
	// producer compression, one copy, all partitions together (≥ 0).
	// Partitions are assumed to receive equal shares.
	IngressBytesPerSec float64
	// CompressionRatio is uncompressed bytes over stored bytes, reported
	// alongside the cost (what the data would occupy uncompressed); it
	// does not change the cost. 0 means unknown.
	CompressionRatio float64

	// RetentionMS is retention.ms: how long data exists at all; Unlimited
	// keeps it forever.
	RetentionMS int64
	// RetentionBytes is retention.bytes: the most a partition keeps (one
	// copy, local and remote together); Unlimited means no size limit.
	RetentionBytes int64
	// LocalRetentionMS is local.retention.ms: how long data stays on the
	// agents' disks when remote storage is on; SameAsTotal uses
	// RetentionMS. Like Kafka, it may not exceed RetentionMS.
	LocalRetentionMS int64
	// LocalRetentionBytes is local.retention.bytes, per partition;
	// SameAsTotal uses RetentionBytes. It may not exceed RetentionBytes.
	LocalRetentionBytes int64
	// SegmentBytes is segment.bytes: a segment closes (and, with remote
	// storage on, is uploaded) when it reaches this size.
	SegmentBytes int64
	// SegmentMS is segment.ms: a segment also closes at this age, which
	// makes segments of a slow partition smaller than SegmentBytes.
	SegmentMS int64
	// RemoteStorageEnable is remote.storage.enable: closed segments go to
	// the object store and local retention applies.
	RemoteStorageEnable bool

	// ReadFanout is how many times each produced byte is fetched by
	// consumers (one per consumer group that reads everything; ≥ 0).
	ReadFanout float64
	// RemoteReadFraction is the fraction of fetched bytes read from the
	// object store, in [0, 1] (catch-up and replay reads that miss the
	// agents' cache). Ignored when remote storage is off.
	RemoteReadFraction float64
	// CrossAZFraction is the fraction of client traffic (produce and
	// fetch) that crosses availability zones, in [0, 1]; nil takes
	// Config.ClientCrossAZFraction.
	CrossAZFraction *float64

	// Observed, when not nil, replaces the derived object-store request
	// rates with measured ones.
	Observed *Requests
}

// Requests are measured object-store request rates of one topic.
type Requests struct {
	// PutsPerSec counts PUT-class requests (PUT, POST, COPY, LIST) per
	// second.
	PutsPerSec float64
	// GetsPerSec counts GET-class requests (GET, HEAD) per second.
	GetsPerSec float64
}

// NewTopic returns a topic with Kafka's default configs (7-day retention,
// no size limit, local retention as total, 1 GiB segments), remote storage
// on, one partition, one replica, read once, and no traffic yet.
func NewTopic(name string) Topic {
	return Topic{
		Name:                name,
		Partitions:          1,
		ReplicationFactor:   1,
		RetentionMS:         DefaultRetentionMS,
		RetentionBytes:      DefaultRetentionBytes,
		LocalRetentionMS:    DefaultLocalRetention,
		LocalRetentionBytes: DefaultLocalRetention,
		SegmentBytes:        DefaultSegmentBytes,
		SegmentMS:           DefaultSegmentMS,
		RemoteStorageEnable: true,
		ReadFanout:          1,
	}
}

// TopicFromConfigs builds a Topic from what Metadata and DescribeConfigs
// return: the partition count, the replication factor, and the topic's
// configs by Kafka name. Configs the model does not use are ignored
// (DescribeConfigs returns dozens); the ones it uses and that are absent
// keep Kafka's defaults (NewTopic). Traffic fields are left for the
// caller to fill.
func TopicFromConfigs(name string, partitions, replicationFactor int, configs map[string]string) (Topic, error) {
	t := NewTopic(name)
	t.Partitions, t.ReplicationFactor = partitions, replicationFactor
	for _, k := range topicConfigNames {
		v, ok := configs[k]
		if !ok {
			continue
		}
		if err := t.SetConfig(k, v); err != nil {
			return Topic{}, err
		}
	}
	return t, nil
}

// topicConfigNames are the Kafka topic configs SetConfig understands.
var topicConfigNames = []string{
	"retention.ms", "retention.bytes", "local.retention.ms", "local.retention.bytes",
	"segment.bytes", "segment.ms", "remote.storage.enable",
}

// SetConfig sets the field a Kafka topic config names, parsing value as
// Kafka writes it (milliseconds, bytes, true/false). For what-if use it
// also accepts durations with a unit ("36h", "30d", "2w") for the .ms
// configs and sizes with a binary unit ("512MiB", "1TiB") for the .bytes
// ones, and two model settings that are not configs: "partitions" and
// "replication.factor". It does not validate the topic as a whole.
func (t *Topic) SetConfig(name, value string) error {
	value = strings.TrimSpace(value)
	bad := func(err error) error {
		return fmt.Errorf("%w: %s=%q: %v", ErrInvalidTopic, name, value, err)
	}
	var err error
	switch name {
	case "retention.ms":
		t.RetentionMS, err = parseMS(value)
	case "local.retention.ms":
		t.LocalRetentionMS, err = parseMS(value)
	case "segment.ms":
		t.SegmentMS, err = parseMS(value)
	case "retention.bytes":
		t.RetentionBytes, err = parseBytes(value)
	case "local.retention.bytes":
		t.LocalRetentionBytes, err = parseBytes(value)
	case "segment.bytes":
		t.SegmentBytes, err = parseBytes(value)
	case "remote.storage.enable":
		t.RemoteStorageEnable, err = strconv.ParseBool(value)
	case "partitions":
		t.Partitions, err = strconv.Atoi(value)
	case "replication.factor":
		t.ReplicationFactor, err = strconv.Atoi(value)
	default:
		return fmt.Errorf("%w: %q (known: %s, partitions, replication.factor)", ErrUnknownSetting, name, strings.Join(topicConfigNames, ", "))
	}
	if err != nil {
		return bad(err)
	}
	return nil
}

// durationUnits are the units parseMS accepts beyond time.ParseDuration's.
var durationUnits = []struct {
	suffix string
	unit   time.Duration
}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}}

// parseMS reads milliseconds, or a duration with a unit (Go's units plus
// "d" for days and "w" for weeks). Negative values pass through for the
// caller's validation (-1, -2).
func parseMS(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, u := range durationUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(num, 64)
			ms := f * float64(u.unit/time.Millisecond)
			if err != nil || !(ms >= 0 && ms <= math.MaxInt64/2) { // also refuses NaN
				return 0, fmt.Errorf("want milliseconds or a duration such as 36h or 30d")
			}
			return int64(ms), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want milliseconds or a duration such as 36h or 30d")
	}
	return d.Milliseconds(), nil
}

// byteUnits are the binary size suffixes parseBytes accepts.
var byteUnits = []struct {
	suffix string
	size   float64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"PiB", 1 << 50}}

// parseBytes reads bytes, or a size with a binary unit ("512MiB").
func parseBytes(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			n := f * u.size
			if err != nil || !(n >= 0 && n <= math.MaxInt64/2) { // also refuses NaN
				break
			}
			return int64(n), nil
		}
	}
	return 0, fmt.Errorf("want bytes or a size such as 512MiB or 2TiB")
}

// Validate reports, wrapping ErrInvalidTopic, the first field out of
// range or retention combination Kafka refuses.
func (t Topic) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: topic %q: %s", ErrInvalidTopic, t.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case t.Partitions < 1:
		return bad("partitions %d < 1", t.Partitions)
	case t.ReplicationFactor < 1:
		return bad("replication factor %d < 1", t.ReplicationFactor)
	case !finiteNonNeg(t.IngressBytesPerSec):
		return bad("ingress %v bytes/s: want a finite rate ≥ 0", t.IngressBytesPerSec)
	case !finiteNonNeg(t.CompressionRatio):
		return bad("compression ratio %v: want a finite ratio ≥ 0 (0: unknown)", t.CompressionRatio)
	case !finiteNonNeg(t.ReadFanout):
		return bad("read fan-out %v: want a finite count ≥ 0", t.ReadFanout)
	case !fraction(t.RemoteReadFraction):
		return bad("remote read fraction %v: want a value in [0, 1]", t.RemoteReadFraction)
	case t.CrossAZFraction != nil && !fraction(*t.CrossAZFraction):
		return bad("cross-AZ fraction %v: want a value in [0, 1]", *t.CrossAZFraction)
	case t.SegmentBytes < 1:
		return bad("segment.bytes %d < 1", t.SegmentBytes)
	case t.SegmentMS < 1:
		return bad("segment.ms %d < 1", t.SegmentMS)
	case t.RetentionMS < Unlimited, t.RetentionBytes < Unlimited:
		return bad("retention.ms %d / retention.bytes %d: want -1 (unlimited) or ≥ 0", t.RetentionMS, t.RetentionBytes)
	case t.LocalRetentionMS < SameAsTotal, t.LocalRetentionBytes < SameAsTotal:
		return bad("local.retention.ms %d / local.retention.bytes %d: want -2 (as total), -1 (unlimited) or ≥ 0", t.LocalRetentionMS, t.LocalRetentionBytes)
	case t.Observed != nil && (!finiteNonNeg(t.Observed.PutsPerSec) || !finiteNonNeg(t.Observed.GetsPerSec)):
		return bad("observed request rates %+v: want finite rates ≥ 0", *t.Observed)
	}
	if localExceeds(t.LocalRetentionMS, t.RetentionMS) {
		return bad("local.retention.ms %d exceeds retention.ms %d", t.LocalRetentionMS, t.RetentionMS)
	}
	if localExceeds(t.LocalRetentionBytes, t.RetentionBytes) {
		return bad("local.retention.bytes %d exceeds retention.bytes %d", t.LocalRetentionBytes, t.RetentionBytes)
	}
	return nil
}

// localExceeds reports whether a local retention limit is looser than the
// total one, which Kafka refuses: -2 follows total, -1 is only allowed when
// total is -1 too.
func localExceeds(local, total int64) bool {
	switch {
	case local == SameAsTotal || total == Unlimited:
		return false
	case local == Unlimited:
		return true
	}
	return local > total
}

func finiteNonNeg(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }

func fraction(v float64) bool { return v >= 0 && v <= 1 } // false for NaN
