package cost

import (
	"errors"
	"testing"
)

func TestWhatIfLocalRetention(t *testing.T) {
	o, err := ParseOverrides("local.retention.ms=6h")
	if err != nil {
		t.Fatal(err)
	}
	res, err := WhatIf([]Topic{tieredTopic()}, o, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Local per replica 21,600 + 128 = 21,728 MiB; × 3 = 65,184 MiB =
	// 63.65625 GiB; × 1.5 × $0.08 = $7.63875, up from $1.310625.
	checkValue(t, "local disk after", res.After.Strata.LocalDisk, 7.63875)
	checkBreakdown(t, "delta", res.Delta, Breakdown{LocalDisk: 7.63875 - 1.310625})
	checkBreakdown(t, "topic delta", res.TopicDeltas[0], res.Delta)
	// The input is not changed.
	if tieredTopic().LocalRetentionMS != 3600*1000 {
		t.Fatal("fixture changed")
	}
	checkValue(t, "before", res.Before.Strata.Total(), 221.3161875)
}

func TestWhatIfSegmentBytes(t *testing.T) {
	o, err := ParseOverrides("segment.bytes=64MiB")
	if err != nil {
		t.Fatal(err)
	}
	res, err := WhatIf([]Topic{tieredTopic()}, o, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	// PUTs: 2,628,000/64 = 41,062.5 segments × (4 parts + 2 + 1 index) =
	// 287,437.5 ($1.4371875). GETs: 1,314,000/64 = 20,531.25 segments ×
	// (16 + 1) = 349,031.25 ($0.1396125). Requests $1.5768, up $0.4681125.
	// Local: (3,600 + 32) MiB × 3 × 1.5 × $0.08 / 1024 = $1.276875, down
	// $0.03375. Remote is unchanged: closed segments cover 7 days either way.
	after := res.After.Topics[0].Strata
	checkValue(t, "puts", after.Usage.PutRequests, 287437.5)
	checkValue(t, "gets", after.Usage.GetRequests, 349031.25)
	checkBreakdown(t, "delta", res.Delta, Breakdown{Requests: 1.5768 - 1.1086875, LocalDisk: 1.276875 - 1.310625})
}

func TestWhatIfRetentionAndTierOff(t *testing.T) {
	// Turning the tier off keeps 7 days on three disks, as classic Kafka.
	o, err := ParseOverrides("remote.storage.enable=false")
	if err != nil {
		t.Fatal(err)
	}
	res, err := WhatIf([]Topic{tieredTopic()}, o, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	checkBreakdown(t, "after", res.After.Strata, res.After.Classic)

	// Cutting total retention below local retention is what Kafka
	// refuses; so does the model.
	o, err = ParseOverrides("retention.ms=30m")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WhatIf([]Topic{tieredTopic()}, o, NewConfig()); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("retention below local retention: err = %v, want ErrInvalidTopic", err)
	}
	// Both together are fine: 1 day total, 30 minutes local. Later
	// entries win: the first retention.ms is replaced.
	o, err = ParseOverrides("retention.ms=1h, retention.ms=1d,local.retention.ms=30m")
	if err != nil {
		t.Fatal(err)
	}
	res, err = WhatIf([]Topic{tieredTopic()}, o, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Remote: 86,400 MiB = 84.375 GiB × $0.023 = $1.940625.
	checkValue(t, "object storage", res.After.Strata.ObjectStorage, 1.940625)
}

func TestWhatIfScalesObservedRequests(t *testing.T) {
	topic := tieredTopic()
	topic.Observed = &Requests{PutsPerSec: 0.1, GetsPerSec: 0.2}
	o, err := ParseOverrides("segment.bytes=64MiB")
	if err != nil {
		t.Fatal(err)
	}
	res, err := WhatIf([]Topic{topic}, o, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	// The model says PUTs go from 195,046.875 to 287,437.5 a month and GETs
	// from 333,632.8125 to 349,031.25: the measured 262,800 PUTs and
	// 525,600 GETs scale by the same ratios.
	u := res.After.Topics[0].Strata.Usage
	checkValue(t, "puts", u.PutRequests, 262800*287437.5/195046.875)
	checkValue(t, "gets", u.GetRequests, 525600*349031.25/333632.8125)

	// With no remote reads before, measured GETs cannot be scaled: the
	// derived figure after is used.
	topic.RemoteReadFraction = 0
	o, err = ParseOverrides("segment.bytes=64MiB")
	if err != nil {
		t.Fatal(err)
	}
	res, err = WhatIf([]Topic{topic}, o, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	checkValue(t, "gets without remote reads", res.After.Topics[0].Strata.Usage.GetRequests, 0)
}

func TestParseOverrides(t *testing.T) {
	o, err := ParseOverrides(" retention.ms=2w , retention.bytes=1.5GiB,segment.ms=90000,partitions=12,replication.factor=2,")
	if err != nil {
		t.Fatal(err)
	}
	topic, err := o.Apply(NewTopic("x"))
	if err != nil {
		t.Fatal(err)
	}
	if topic.RetentionMS != 14*day || topic.RetentionBytes != 3*GiB/2 || topic.SegmentMS != 90000 ||
		topic.Partitions != 12 || topic.ReplicationFactor != 2 {
		t.Errorf("applied = %+v", topic)
	}
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"retention.ms", ErrUnknownSetting},
		{"retention.hours=3", ErrUnknownSetting},
		{"retention.ms=soon", ErrInvalidTopic},
		{"retention.ms=-5h", ErrInvalidTopic},
		{"retention.bytes=10GB", ErrInvalidTopic},
		{"retention.bytes=NaNGiB", ErrInvalidTopic},
		{"segment.ms=NaNd", ErrInvalidTopic},
		{"remote.storage.enable=maybe", ErrInvalidTopic},
		{"partitions=many", ErrInvalidTopic},
	} {
		if _, err := ParseOverrides(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("ParseOverrides(%q): err = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestTopicFromConfigs(t *testing.T) {
	// As DescribeConfigs returns them, with configs the model ignores.
	topic, err := TopicFromConfigs("orders", 6, 3, map[string]string{
		"retention.ms":          "259200000",
		"retention.bytes":       "-1",
		"local.retention.ms":    "-2",
		"local.retention.bytes": "1073741824",
		"segment.bytes":         "268435456",
		"remote.storage.enable": "true",
		"cleanup.policy":        "delete",
		"min.insync.replicas":   "2",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := NewTopic("orders")
	want.Partitions, want.ReplicationFactor = 6, 3
	want.RetentionMS, want.LocalRetentionBytes, want.SegmentBytes = 3*day, GiB, 256*mib
	if topic != want {
		t.Errorf("TopicFromConfigs = %+v\nwant %+v", topic, want)
	}
	if _, err := TopicFromConfigs("x", 1, 1, map[string]string{"segment.bytes": "big"}); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("bad segment.bytes: err = %v", err)
	}
	// Absent configs keep Kafka's defaults, and remote.storage.enable=false
	// is honoured.
	topic, err = TopicFromConfigs("y", 1, 1, map[string]string{"remote.storage.enable": "false"})
	if err != nil || topic.RemoteStorageEnable || topic.RetentionMS != DefaultRetentionMS || topic.SegmentBytes != DefaultSegmentBytes {
		t.Errorf("defaults: %+v, %v", topic, err)
	}
}
