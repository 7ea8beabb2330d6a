package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func strp(s string) *string { return &s }

func sampleDescription() topicDescription {
	return topicDescription{
		Name:              "orders",
		TopicID:           "AAECAwQFBgcICQoLDA0ODw",
		ReplicationFactor: 3,
		Partitions: []partitionDescription{
			{Partition: 0, Leader: 1, LeaderEpoch: 4, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2},
				OfflineReplicas: []int32{}, LogStartOffset: 10, HighWatermark: 250},
			{Partition: 1, Leader: -1, LeaderEpoch: -1, Replicas: []int32{2, 3, 1}, ISR: []int32{},
				OfflineReplicas: []int32{2}, LogStartOffset: -1, HighWatermark: -1,
				Error: "LEADER_NOT_AVAILABLE: There is no leader for this topic-partition."},
		},
		Configs: []configEntry{
			{Name: "cleanup.policy", Value: strp("compact"), Source: "DYNAMIC_TOPIC_CONFIG"},
			{Name: "sasl.secret", Source: "DYNAMIC_TOPIC_CONFIG", Sensitive: true},
		},
	}
}

func TestPrintTopicDescriptionsTable(t *testing.T) {
	var b bytes.Buffer
	if err := printTopicDescriptions(&b, outputTable, []topicDescription{sampleDescription()}); err != nil {
		t.Fatal(err)
	}
	want := `Topic:               orders
Topic ID:            AAECAwQFBgcICQoLDA0ODw
Partitions:          2
Replication factor:  3
Configs:             cleanup.policy=compact (DYNAMIC_TOPIC_CONFIG)
                     sasl.secret=(sensitive) (DYNAMIC_TOPIC_CONFIG)

PARTITION  LEADER  LEADER-EPOCH  REPLICAS  ISR  LOG-START-OFFSET  HIGH-WATERMARK  ERROR
0          1       4             1,2,3     1,2  10                250             -
1          -1      -1            2,3,1     -    -                 -               LEADER_NOT_AVAILABLE: There is no leader for this topic-partition.
`
	if got := b.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestPrintTopicDescriptionsJSON(t *testing.T) {
	var b bytes.Buffer
	if err := printTopicDescriptions(&b, outputJSON, []topicDescription{sampleDescription()}); err != nil {
		t.Fatal(err)
	}
	// The JSON keys are an interface for scripts: check them literally.
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("invalid JSON %q: %v", b.String(), err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d topics", len(got))
	}
	wantKeys := []string{"configs", "internal", "name", "partitions", "replication_factor", "topic_id"}
	if keys := sortedKeys(got[0]); !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("topic keys %v, want %v", keys, wantKeys)
	}
	parts := got[0]["partitions"].([]any)
	wantPartKeys := []string{"high_watermark", "isr", "leader", "leader_epoch", "log_start_offset",
		"offline_replicas", "partition", "replicas"}
	if keys := sortedKeys(parts[0].(map[string]any)); !reflect.DeepEqual(keys, wantPartKeys) {
		t.Errorf("partition keys %v, want %v (error omitted when empty)", keys, wantPartKeys)
	}
	if e := parts[1].(map[string]any)["error"]; e == nil {
		t.Error("partition 1: error missing")
	}
	cfgs := got[0]["configs"].([]any)
	secret := cfgs[1].(map[string]any)
	if v, ok := secret["value"]; !ok || v != nil || secret["sensitive"] != true {
		t.Errorf("sensitive config = %v, want value null and sensitive true", secret)
	}

	// No topics is an empty array, never null.
	b.Reset()
	if err := printTopicDescriptions(&b, outputJSON, nil); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("empty = %q, want []", b.String())
	}
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

func TestPrintTopicList(t *testing.T) {
	topics := []topicSummary{
		{Name: "__consumer_offsets", Partitions: 50, ReplicationFactor: 1, Internal: true},
		{Name: "orders", TopicID: "AAECAwQFBgcICQoLDA0ODw", Partitions: 3, ReplicationFactor: 1},
	}
	var b bytes.Buffer
	if err := printTopicList(&b, outputTable, topics); err != nil {
		t.Fatal(err)
	}
	want := `NAME                           PARTITIONS  REPLICATION-FACTOR  TOPIC-ID
__consumer_offsets (internal)  50          1                   -
orders                         3           1                   AAECAwQFBgcICQoLDA0ODw
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	if err := printTopicList(&b, outputJSON, topics[1:]); err != nil {
		t.Fatal(err)
	}
	want = `[
  {
    "name": "orders",
    "topic_id": "AAECAwQFBgcICQoLDA0ODw",
    "partitions": 3,
    "replication_factor": 1,
    "internal": false
  }
]
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestTopicSummariesFiltersInternal(t *testing.T) {
	tds := kadm.TopicDetails{
		"b":                  {Topic: "b", Partitions: kadm.PartitionDetails{0: {Replicas: []int32{1, 2}}}},
		"a":                  {Topic: "a", ID: kadm.TopicID{1}, Partitions: kadm.PartitionDetails{0: {}, 1: {}}},
		"__consumer_offsets": {Topic: "__consumer_offsets", IsInternal: true},
	}
	got := topicSummaries(tds, false)
	want := []topicSummary{
		{Name: "a", TopicID: "AQAAAAAAAAAAAAAAAAAAAA", Partitions: 2},
		{Name: "b", Partitions: 1, ReplicationFactor: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got := topicSummaries(tds, true); len(got) != 3 || got[0].Name != "__consumer_offsets" {
		t.Fatalf("with internal: %+v", got)
	}
}

func TestDescribePartitionOffsets(t *testing.T) {
	pd := kadm.PartitionDetail{Topic: "t", Partition: 0, Leader: 1, LeaderEpoch: 2, Replicas: []int32{1}, ISR: []int32{1}}
	starts := kadm.ListedOffsets{"t": {0: {Topic: "t", Partition: 0, Offset: 5}}}
	ends := kadm.ListedOffsets{"t": {0: {Topic: "t", Partition: 0, Offset: 9}}}
	got := describePartition(pd, starts, ends)
	if got.LogStartOffset != 5 || got.HighWatermark != 9 || got.Error != "" || got.OfflineReplicas == nil {
		t.Fatalf("got %+v", got)
	}

	ends = kadm.ListedOffsets{"t": {0: {Topic: "t", Partition: 0, Offset: -1, Err: kerr.NotLeaderForPartition}}}
	got = describePartition(pd, kadm.ListedOffsets{}, ends)
	if got.LogStartOffset != -1 || got.HighWatermark != -1 {
		t.Fatalf("offsets of a failed listing must be -1: %+v", got)
	}
	for _, want := range []string{"log start offset: no answer", "high watermark: NOT_LEADER_FOR_PARTITION"} {
		if !strings.Contains(got.Error, want) {
			t.Errorf("error %q does not contain %q", got.Error, want)
		}
	}
}

func TestNonDefaultConfigs(t *testing.T) {
	got := nonDefaultConfigs([]kadm.Config{
		{Key: "segment.bytes", Value: strp("1073741824"), Source: kmsg.ConfigSourceDefaultConfig},
		{Key: "retention.ms", Value: strp("1000"), Source: kmsg.ConfigSourceDynamicTopicConfig},
		{Key: "log.retention.hours", Value: strp("1"), Source: kmsg.ConfigSourceStaticBrokerConfig},
		{Key: "password", Value: strp("leaked?"), Sensitive: true, Source: kmsg.ConfigSourceDynamicTopicConfig},
	})
	want := []configEntry{
		{Name: "log.retention.hours", Value: strp("1"), Source: "STATIC_BROKER_CONFIG"},
		{Name: "password", Source: "DYNAMIC_TOPIC_CONFIG", Sensitive: true},
		{Name: "retention.ms", Value: strp("1000"), Source: "DYNAMIC_TOPIC_CONFIG"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got := nonDefaultConfigs(nil); got == nil {
		t.Fatal("no configs must be an empty slice (JSON []), not nil")
	}
}
