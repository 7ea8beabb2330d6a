package cost

import (
	"errors"
	"math"
	"testing"
	"time"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	day = 24 * 3600 * 1000 // ms
)

// approx reports whether got is within a relative 1e-9 of want.
func approx(got, want float64) bool {
	if want == 0 {
		return math.Abs(got) < 1e-12
	}
	return math.Abs(got-want) <= 1e-9*math.Abs(want)
}

func checkBreakdown(t *testing.T, what string, got, want Breakdown) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"object storage", got.ObjectStorage, want.ObjectStorage},
		{"requests", got.Requests, want.Requests},
		{"local disk", got.LocalDisk, want.LocalDisk},
		{"cross zone", got.CrossZone, want.CrossZone},
	} {
		if !approx(f.got, f.want) {
			t.Errorf("%s %s = %.10g, want %.10g", what, f.name, f.got, f.want)
		}
	}
}

func checkValue(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !approx(got, want) {
		t.Errorf("%s = %.10g, want %.10g", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

// tieredTopic is the worked example of the tests below: one partition at
// 1 MiB/s, RF=3, 7 days in total and 1 hour locally, 256 MiB segments,
// read twice, a quarter of the reads from the object store.
func tieredTopic() Topic {
	t := NewTopic("orders")
	t.ReplicationFactor = 3
	t.IngressBytesPerSec = 1 * mib
	t.CompressionRatio = 4
	t.RetentionMS = 7 * day
	t.LocalRetentionMS = 3600 * 1000
	t.SegmentBytes = 256 * mib
	t.ReadFanout = 2
	t.RemoteReadFraction = 0.25
	return t
}

func TestEstimateTiered(t *testing.T) {
	tc, err := Estimate(tieredTopic(), NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Month M = 730 h = 2,628,000 s; produced B = 2,628,000 MiB =
	// 2,566.40625 GiB. Segment s = min(256 MiB, 1 MiB/s · 7 d) = 256 MiB.
	checkValue(t, "segment", tc.SegmentBytes, 256*mib)
	checkValue(t, "uncompressed rate", tc.UncompressedBytesPerSec, 4*mib)
	u := tc.Strata.Usage
	// Remote C = 1 MiB/s · 604,800 s = 604,800 MiB = 590.625 GiB;
	// × $0.023 = $13.584375.
	checkValue(t, "remote bytes", u.RemoteBytes, 604800*mib)
	// Local per replica = 3,600 MiB (1 h) + 128 MiB (half a segment) =
	// 3,728 MiB; × RF 3 = 11,184 MiB = 10.921875 GiB; × 1.5 headroom =
	// 16.3828125 GiB; × $0.08 = $1.310625.
	checkValue(t, "local bytes", u.LocalBytes, 3*3728*mib)
	checkValue(t, "provisioned", u.ProvisionedDiskBytes, 1.5*3*3728*mib)
	// PUTs: B/s = 10,265.625 segments, each 256/16 = 16 parts + create +
	// complete + 1 index = 19 → 195,046.875; × $0.005/1000 = $0.975234375.
	checkValue(t, "puts", u.PutRequests, 195046.875)
	// GETs: B·2·0.25 = 1,314,000 MiB = 5,132.8125 segments read, each 1
	// index GET + 256/4 = 64 ranged GETs → 333,632.8125; × $0.0004/1000
	// = $0.133453125. Requests: $1.1086875.
	checkValue(t, "gets", u.GetRequests, 333632.8125)
	// Cross-zone: produce B·2/3 = 1,710.9375 GiB, replication B·2·1 =
	// 5,132.8125 GiB, consume B·2·2/3 = 3,421.875 GiB; 10,265.625 GiB ×
	// $0.02 (out and in) = $205.3125.
	checkValue(t, "produce cross-zone", u.CrossZoneBytes.Produce, 1710.9375*GiB)
	checkValue(t, "replication cross-zone", u.CrossZoneBytes.Replication, 5132.8125*GiB)
	checkValue(t, "consume cross-zone", u.CrossZoneBytes.Consume, 3421.875*GiB)
	checkBreakdown(t, "strata", tc.Strata.Cost, Breakdown{
		ObjectStorage: 13.584375, Requests: 1.1086875, LocalDisk: 1.310625, CrossZone: 205.3125,
	})
	checkValue(t, "strata total", tc.Strata.Cost.Total(), 221.3161875)

	// Classic, RF 3: (604,800 + 128) MiB = 590.75 GiB per replica; × 3 ×
	// 1.5 = 2,658.375 GiB; × $0.08 = $212.67. Same cross-zone traffic.
	checkValue(t, "classic local bytes", tc.Classic.Usage.LocalBytes, 3*604928*mib)
	checkBreakdown(t, "classic", tc.Classic.Cost, Breakdown{LocalDisk: 212.67, CrossZone: 205.3125})
	checkValue(t, "classic total", tc.Classic.Cost.Total(), 417.9825)
	if tc.Unbounded {
		t.Error("bounded topic reported unbounded")
	}
}

func TestEstimateRetentionBytesLimitsFirst(t *testing.T) {
	// Two partitions at 1 MiB/s each, RF 3, not tiered, 1 GiB segments,
	// clients in the leaders' zones. retention.ms = 7 d would keep
	// 590.625 GiB per partition; retention.bytes = 10 GiB keeps less.
	topic := NewTopic("clicks")
	topic.Partitions, topic.ReplicationFactor = 2, 3
	topic.IngressBytesPerSec = 2 * mib
	topic.RetentionBytes = 10 * GiB
	topic.RemoteStorageEnable = false
	topic.RemoteReadFraction = 0.5 // ignored: nothing is remote
	topic.CrossAZFraction = ptr(0.0)
	tc, err := Estimate(topic, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Per replica and partition 10 + 0.5 GiB; × 2 partitions × RF 3 =
	// 63 GiB; × 1.5 = 94.5 GiB; × $0.08 = $7.56. Replication: B = 2 MiB/s
	// × 2,628,000 s = 5,132.8125 GiB, × 2 followers = 10,265.625 GiB ×
	// $0.02 = $205.3125.
	want := Breakdown{LocalDisk: 7.56, CrossZone: 205.3125}
	checkBreakdown(t, "strata", tc.Strata.Cost, want)
	// Not tiered and RF 3: exactly the classic deployment.
	checkBreakdown(t, "classic", tc.Classic.Cost, want)
	checkValue(t, "local bytes", tc.Strata.Usage.LocalBytes, 63*GiB)

	// With a looser retention.bytes, time limits first: 590.625 + 0.5 GiB
	// per replica and partition.
	topic.RetentionBytes = 1000 * GiB
	tc, err = Estimate(topic, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	checkValue(t, "local bytes, time-limited", tc.Strata.Usage.LocalBytes, 6*591.125*GiB)
}

func TestEstimateLocalRetentionBytes(t *testing.T) {
	// RF 2, 1 MiB/s, 7 days total, local.retention.ms as total (7 d) but
	// local.retention.bytes = 1 GiB, 128 MiB segments: per replica
	// min(604,800 MiB, 1,024 MiB) + 64 MiB = 1,088 MiB; × 2 = 2,176 MiB.
	topic := NewTopic("logs")
	topic.ReplicationFactor = 2
	topic.IngressBytesPerSec = mib
	topic.LocalRetentionBytes = GiB
	topic.SegmentBytes = 128 * mib
	tc, err := Estimate(topic, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	checkValue(t, "local bytes", tc.Strata.Usage.LocalBytes, 2176*mib)
	checkValue(t, "remote bytes", tc.Strata.Usage.RemoteBytes, 604800*mib)
}

func TestEstimateSegmentMSRollsSmallSegments(t *testing.T) {
	// 1 KiB/s with segment.ms = 1 h: segments close at 3,600 KiB, well
	// under segment.bytes (1 GiB) and under the 16 MiB part size, so each
	// is one PUT plus one for its index. Every byte is read once, from
	// the object store.
	topic := NewTopic("audit")
	topic.IngressBytesPerSec = kib
	topic.SegmentMS = 3600 * 1000
	topic.RemoteReadFraction = 1
	tc, err := Estimate(topic, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	checkValue(t, "segment", tc.SegmentBytes, 3600*kib)
	// B = 2,628,000 KiB = 730 segments: 1,460 PUTs ($0.0073) and 730 ×
	// (1 index + ceil(3,600/4,096) = 1) = 1,460 GETs ($0.000584).
	checkValue(t, "puts", tc.Strata.Usage.PutRequests, 1460)
	checkValue(t, "gets", tc.Strata.Usage.GetRequests, 1460)
	checkValue(t, "requests", tc.Strata.Cost.Requests, 0.0073+0.000584)
	// Local: local retention = total, so C + s/2 = 604,800 + 1,800 KiB.
	checkValue(t, "local bytes", tc.Strata.Usage.LocalBytes, 606600*kib)
}

func TestEstimateZeroIngress(t *testing.T) {
	topic := tieredTopic()
	topic.IngressBytesPerSec = 0
	topic.RetentionMS = Unlimited
	topic.RetentionBytes = 50 * GiB // a size limit never reached
	tc, err := Estimate(topic, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	if tc.Strata.Usage != (Usage{}) || tc.Classic.Usage != (Usage{}) {
		t.Errorf("zero ingress uses %+v / %+v, want nothing", tc.Strata.Usage, tc.Classic.Usage)
	}
	checkBreakdown(t, "strata", tc.Strata.Cost, Breakdown{})
	checkBreakdown(t, "classic", tc.Classic.Cost, Breakdown{})
}

func TestEstimateUnbounded(t *testing.T) {
	topic := tieredTopic()
	topic.RetentionMS, topic.RetentionBytes = Unlimited, Unlimited
	if _, err := Estimate(topic, NewConfig()); !errors.Is(err, ErrUnboundedRetention) {
		t.Fatalf("unbounded retention: err = %v, want ErrUnboundedRetention", err)
	}
	// Even with nothing produced yet the configuration is unbounded.
	idle := topic
	idle.IngressBytesPerSec = 0
	if _, err := Estimate(idle, NewConfig()); !errors.Is(err, ErrUnboundedRetention) {
		t.Fatalf("idle unbounded topic: err = %v, want ErrUnboundedRetention", err)
	}

	// At a 30-day horizon: C = 1 MiB/s · 2,592,000 s = 2,531.25 GiB;
	// × $0.023 = $58.21875. Local stays 1 h + half a segment.
	cfg := NewConfig()
	cfg.UnboundedHorizon = 30 * 24 * time.Hour
	tc, err := Estimate(topic, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !tc.Unbounded {
		t.Error("result not marked unbounded")
	}
	checkValue(t, "object storage", tc.Strata.Cost.ObjectStorage, 58.21875)
	checkValue(t, "local bytes", tc.Strata.Usage.LocalBytes, 3*3728*mib)

	// local.retention.ms = -1 is allowed when the total is unlimited; it
	// then keeps everything locally too, up to the horizon.
	topic.LocalRetentionMS = Unlimited
	tc, err = Estimate(topic, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkValue(t, "local bytes, local unlimited", tc.Strata.Usage.LocalBytes, 3*(2592000+128)*mib)
}

func TestEstimateObservedRequests(t *testing.T) {
	topic := tieredTopic()
	topic.Observed = &Requests{PutsPerSec: 0.1, GetsPerSec: 0.2}
	tc, err := Estimate(topic, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	// 0.1/s × 2,628,000 s = 262,800 PUTs ($1.314); 525,600 GETs ($0.21024).
	checkValue(t, "puts", tc.Strata.Usage.PutRequests, 262800)
	checkValue(t, "gets", tc.Strata.Usage.GetRequests, 525600)
	checkValue(t, "requests", tc.Strata.Cost.Requests, 1.314+0.21024)
}

func TestEstimateAllSums(t *testing.T) {
	a := tieredTopic()
	b := NewTopic("idle")
	r, err := EstimateAll([]Topic{a, b}, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Topics) != 2 || r.Currency != "USD" || r.Unbounded {
		t.Fatalf("report = %+v", r)
	}
	checkValue(t, "strata total", r.Strata.Total(), 221.3161875)
	checkValue(t, "classic total", r.Classic.Total(), 417.9825)
	if tc, ok := r.Topic("orders"); !ok || tc.Topic != "orders" {
		t.Errorf("Topic(orders) = %+v, %v", tc, ok)
	}

	bad := NewTopic("bad")
	bad.RetentionMS, bad.RetentionBytes = Unlimited, Unlimited
	if _, err := EstimateAll([]Topic{a, bad}, NewConfig()); !errors.Is(err, ErrUnboundedRetention) {
		t.Errorf("report with an unbounded topic: err = %v", err)
	}
}

func TestTopicValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Topic)
	}{
		{"no partitions", func(t *Topic) { t.Partitions = 0 }},
		{"no replicas", func(t *Topic) { t.ReplicationFactor = 0 }},
		{"negative ingress", func(t *Topic) { t.IngressBytesPerSec = -1 }},
		{"NaN ingress", func(t *Topic) { t.IngressBytesPerSec = math.NaN() }},
		{"infinite fan-out", func(t *Topic) { t.ReadFanout = math.Inf(1) }},
		{"remote fraction > 1", func(t *Topic) { t.RemoteReadFraction = 1.5 }},
		{"cross-AZ NaN", func(t *Topic) { t.CrossAZFraction = ptr(math.NaN()) }},
		{"zero segment", func(t *Topic) { t.SegmentBytes = 0 }},
		{"zero segment.ms", func(t *Topic) { t.SegmentMS = 0 }},
		{"retention.ms -2", func(t *Topic) { t.RetentionMS = -2 }},
		{"local.retention.bytes -3", func(t *Topic) { t.LocalRetentionBytes = -3 }},
		{"local ms above total", func(t *Topic) { t.LocalRetentionMS = 8 * day }},
		{"local ms unlimited, total not", func(t *Topic) { t.LocalRetentionMS = Unlimited }},
		{"local bytes above total", func(t *Topic) { t.RetentionBytes = GiB; t.LocalRetentionBytes = 2 * GiB }},
		{"negative observed", func(t *Topic) { t.Observed = &Requests{PutsPerSec: -1} }},
	} {
		topic := tieredTopic()
		tc.change(&topic)
		if _, err := Estimate(topic, NewConfig()); !errors.Is(err, ErrInvalidTopic) {
			t.Errorf("%s: err = %v, want ErrInvalidTopic", tc.name, err)
		}
	}
	if err := tieredTopic().Validate(); err != nil {
		t.Errorf("valid topic: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   error
	}{
		{"zero month", func(c *Config) { c.MonthHours = 0 }, ErrInvalidConfig},
		{"zero part size", func(c *Config) { c.PartSize = 0 }, ErrInvalidConfig},
		{"zero GET size", func(c *Config) { c.GetBytes = 0 }, ErrInvalidConfig},
		{"no objects", func(c *Config) { c.ObjectsPerSegment = 0 }, ErrInvalidConfig},
		{"headroom < 1", func(c *Config) { c.DiskHeadroom = 0.9 }, ErrInvalidConfig},
		{"client fraction NaN", func(c *Config) { c.ClientCrossAZFraction = math.NaN() }, ErrInvalidConfig},
		{"replica fraction > 1", func(c *Config) { c.ReplicaCrossAZFraction = 2 }, ErrInvalidConfig},
		{"classic RF 0", func(c *Config) { c.ClassicReplicationFactor = 0 }, ErrInvalidConfig},
		{"negative horizon", func(c *Config) { c.UnboundedHorizon = -time.Hour }, ErrInvalidConfig},
		{"negative price", func(c *Config) { c.Prices.DiskPerGBMonth = -1 }, ErrInvalidPrices},
	} {
		cfg := NewConfig()
		tc.change(&cfg)
		if _, err := Estimate(tieredTopic(), cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestConfigAssumptionsMoveTheCost(t *testing.T) {
	// Rack-unaware placement: 2/3 of the two follower copies cross zones.
	cfg := NewConfig()
	cfg.ReplicaCrossAZFraction = 2.0 / 3.0
	tc, err := Estimate(tieredTopic(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// B = 2,566.40625 GiB: replication B·2·2/3 = 3,421.875 GiB.
	checkValue(t, "replication cross-zone", tc.Strata.Usage.CrossZoneBytes.Replication, 3421.875*GiB)

	// Classic at RF 2 and no headroom: 2 × 590.75 GiB × $0.08 = $94.52.
	cfg = NewConfig()
	cfg.ClassicReplicationFactor, cfg.DiskHeadroom = 2, 1
	tc, err = Estimate(tieredTopic(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkValue(t, "classic disk", tc.Classic.Cost.LocalDisk, 94.52)
}
