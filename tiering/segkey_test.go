package tiering

import (
	"errors"
	"strings"
	"testing"

	"github.com/strata-io/strata/metadata"
)

func TestSegmentKeys(t *testing.T) {
	id, _ := metadata.ParseTopicID("0123456789abcdef0123456789abcdef")
	tp := metadata.TopicPartition{TopicID: id, Partition: 12}
	cluster := metadata.NewClusterID()
	k, err := NewSegmentKeys(cluster, tp, 4200, 7)
	if err != nil {
		t.Fatal(err)
	}
	stem := cluster + "/0123456789abcdef0123456789abcdef/12/00000000000000004200-7"
	if k.Log != stem+".log" || k.Index != stem+".index" || k.TimeIndex != stem+".timeindex" {
		t.Errorf("keys = %+v, want stem %s", k, stem)
	}
	for _, key := range []string{k.Log, k.Index, k.TimeIndex} {
		if err := ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q): %v", key, err)
		}
		if !strings.HasPrefix(key, PartitionPrefix(cluster, tp)) || !strings.HasPrefix(key, TopicPrefix(cluster, id)) || !strings.HasPrefix(key, ClusterPrefix(cluster)) {
			t.Errorf("%q is not under its prefixes", key)
		}
		obj, err := ParseSegmentKey(key)
		if err != nil {
			t.Fatal(err)
		}
		if obj.ClusterID != cluster || obj.TopicPartition != tp || obj.BaseOffset != 4200 || obj.LeaderEpoch != 7 || obj.Keys() != k {
			t.Errorf("ParseSegmentKey(%q) = %+v", key, obj)
		}
	}
	// Deterministic: the same inputs give the same keys.
	if again, _ := NewSegmentKeys(cluster, tp, 4200, 7); again != k {
		t.Errorf("keys differ between calls: %+v, %+v", again, k)
	}
	// Keys of one partition sort by base offset.
	a, _ := NewSegmentKeys(cluster, tp, 99, 1)
	b, _ := NewSegmentKeys(cluster, tp, 100, 0)
	if a.Log >= b.Log {
		t.Errorf("%q sorts after %q", a.Log, b.Log)
	}
	max, err := NewSegmentKeys(cluster, metadata.TopicPartition{TopicID: id, Partition: 1<<31 - 1}, 1<<63-1, 1<<31-1)
	if err != nil {
		t.Fatal(err)
	}
	if obj, err := ParseSegmentKey(max.TimeIndex); err != nil || obj.BaseOffset != 1<<63-1 || obj.LeaderEpoch != 1<<31-1 {
		t.Errorf("largest key %q parses to %+v, %v", max.TimeIndex, obj, err)
	}
	for name, call := range map[string]func() error{
		"cluster with slash": func() error { _, err := NewSegmentKeys("a/b", tp, 0, 0); return err },
		"empty cluster":      func() error { _, err := NewSegmentKeys("", tp, 0, 0); return err },
		"dot cluster":        func() error { _, err := NewSegmentKeys(".x", tp, 0, 0); return err },
		"zero topic":         func() error { _, err := NewSegmentKeys(cluster, metadata.TopicPartition{}, 0, 0); return err },
		"negative base":      func() error { _, err := NewSegmentKeys(cluster, tp, -1, 0); return err },
		"negative epoch":     func() error { _, err := NewSegmentKeys(cluster, tp, 0, -1); return err },
	} {
		if err := call(); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: error %v, want ErrInvalidKey", name, err)
		}
	}
}

func TestParseSegmentKeyRejects(t *testing.T) {
	const topic = "0123456789abcdef0123456789abcdef"
	for _, key := range []string{
		"",
		"c/" + topic + "/0/00000000000000000000-0.snapshot",
		"c/" + topic + "/0/00000000000000000000.log",
		"c/" + topic + "/0/0000000000000000000-0.log",
		"c/" + topic + "/0/00000000000000000000-01.log",
		"c/" + topic + "/0/00000000000000000000-+1.log",
		"c/" + topic + "/00/00000000000000000000-0.log",
		"c/" + topic + "/-1/00000000000000000000-0.log",
		"c/" + topic + "/2147483648/00000000000000000000-0.log",
		"c/" + topic + "/0/00000000000000000000-2147483648.log",
		"c/" + topic + "/0/99999999999999999999-0.log",
		"c/" + topic + "/0/0000000000000000000a-0.log",
		"c/" + strings.ToUpper(topic) + "/0/00000000000000000000-0.log",
		"c/00000000000000000000000000000000/0/00000000000000000000-0.log",
		"c/" + topic + "/0/x/00000000000000000000-0.log",
		topic + "/0/00000000000000000000-0.log",
	} {
		if obj, err := ParseSegmentKey(key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParseSegmentKey(%q) = %+v, %v; want ErrInvalidKey", key, obj, err)
		}
	}
}

// FuzzParseSegmentKey: a key that parses is exactly the key its parts
// make, so every segment object has one key.
func FuzzParseSegmentKey(f *testing.F) {
	f.Add("Zq3xLJTtRVyE1N1nVJ6_Ew/0123456789abcdef0123456789abcdef/12/00000000000000004200-7.log")
	f.Add("c/0123456789abcdef0123456789abcdef/0/00000000000000000000-0.timeindex")
	f.Add("c/0123456789abcdef0123456789abcdef/0/00000000000000000000-0.index")
	f.Fuzz(func(t *testing.T, key string) {
		obj, err := ParseSegmentKey(key)
		if err != nil {
			return
		}
		k, err := NewSegmentKeys(obj.ClusterID, obj.TopicPartition, obj.BaseOffset, obj.LeaderEpoch)
		if err != nil {
			t.Fatalf("%q parses to %+v, which makes no keys: %v", key, obj, err)
		}
		if want := map[string]string{LogSuffix: k.Log, IndexSuffix: k.Index, TimeIndexSuffix: k.TimeIndex}[obj.Suffix]; want != key {
			t.Fatalf("%q parses to %+v, whose key is %q", key, obj, want)
		}
	})
}
