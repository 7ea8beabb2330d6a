package group

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestShardOf: groups map to the shard Kafka puts their offsets in:
// abs(String.hashCode) % 50, with Integer.MIN_VALUE mapping to 0.
func TestShardOf(t *testing.T) {
	for _, tc := range []struct {
		group string
		hash  int32
		shard int32
	}{
		{"", 0, 0},
		{"g", 103, 3},
		{"my-group", -1906497762, 12},
		{"console-consumer-12345", 158455506, 6},
		{"grüße", 98768023, 23},
		{"😀emoji", -1233692477, 27},         // a surrogate pair in UTF-16
		{"polygenelubricants", -1 << 31, 0}, // hashCode is Integer.MIN_VALUE
	} {
		if h := javaStringHash(tc.group); h != tc.hash {
			t.Errorf("hash(%q) = %d, want %d", tc.group, h, tc.hash)
		}
		if s := ShardOf(tc.group); s != tc.shard {
			t.Errorf("ShardOf(%q) = %d, want %d", tc.group, s, tc.shard)
		}
	}
}

func TestSubscribedTopics(t *testing.T) {
	for v := int16(0); v <= 3; v++ {
		m := kmsg.NewConsumerMemberMetadata()
		m.Version = v
		m.Topics = []string{"a", "b.c"}
		m.UserData = []byte{1, 2}
		got, err := subscribedTopics(m.AppendTo(nil))
		if err != nil || !slices.Equal(got, m.Topics) {
			t.Errorf("v%d: %q, %v", v, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {0, 0}, {0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 1, 0, 5, 'a'}, {0xff, 0xff, 0, 0, 0, 0}, {0, 0, 0x7f, 0xff, 0xff, 0xff}} {
		if _, err := subscribedTopics(bad); err == nil {
			t.Errorf("subscribedTopics(%v) accepted", bad)
		}
	}
}

// FuzzSubscribedTopics: member metadata comes from clients; parsing it
// must never panic, and whatever kmsg can read must parse the same.
func FuzzSubscribedTopics(f *testing.F) {
	m := kmsg.NewConsumerMemberMetadata()
	m.Version = 1
	m.Topics = []string{"t"}
	f.Add(m.AppendTo(nil))
	f.Add([]byte{0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := subscribedTopics(b)
		var want kmsg.ConsumerMemberMetadata
		if kerr := want.ReadFrom(b); kerr == nil && err == nil && !slices.Equal(got, want.Topics) {
			t.Fatalf("topics %q, kmsg reads %q", got, want.Topics)
		}
	})
}
