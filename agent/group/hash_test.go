package group

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

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
