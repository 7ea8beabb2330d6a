package etcd

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

func TestGroupKeys(t *testing.T) {
	k := keys{prefix: "/p/"}
	for _, name := range []string{"g", "a/b", "%2F", "with space", "ünï/cödé", "..", "a\x00b", "?#&="} {
		meta := k.groupMeta(12, name)
		got, err := k.parseGroupKey(meta)
		if err != nil || got != (groupKey{shard: 12, name: name, meta: true}) {
			t.Errorf("parseGroupKey(%q) = %+v, %v", meta, got, err)
		}
		off := k.groupOffset(12, name, metadata.GroupPartition{Topic: "t.x", Partition: 3})
		got, err = k.parseGroupKey(off)
		want := groupKey{shard: 12, name: name, partition: metadata.GroupPartition{Topic: "t.x", Partition: 3}}
		if err != nil || got != want {
			t.Errorf("parseGroupKey(%q) = %+v, %v; want %+v", off, got, err, want)
		}
	}
	if got := k.groupOffset(3, "a/b", metadata.GroupPartition{Topic: "t", Partition: 1}); got != "/p/groups/0003/a%2Fb/offsets/t/0000000001" {
		t.Errorf("offset key %q", got)
	}
	if got := k.coordinator(metadata.CoordinatorShard{Kind: metadata.CoordinatorGroup, Index: 49}); got != "/p/coordinators/group/0049" {
		t.Errorf("coordinator key %q", got)
	}
	for _, bad := range []string{
		"/p/groups/12/g/meta", "/p/groups/0012//meta", "/p/groups/0012/a%2fb/meta", "/p/groups/0012/a%zz/meta",
		"/p/groups/0012/g/other", "/p/groups/0012/g/offsets/t/1", "/p/groups/0012/g/offsets/a%2Fb/0000000001",
		"/p/groups/0012/g/offsets/t", "/p/groups/-001/g/meta", "/p/groups/0012/g", "/q/groups/0012/g/meta",
	} {
		if _, err := k.parseGroupKey(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parseGroupKey(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
}

func TestGroupCodecRejects(t *testing.T) {
	for in, want := range map[string]error{
		`{"v":2}`: ErrVersion,
		`{"v":1,"generation":1,"protocol":"range","leader":"m","members":[]}`:                                                                           ErrCorrupt,
		`{"v":1,"generation":1,"protocol":"r","leader":"m","members":[{"member_id":"m","session_timeout_ms":0,"rebalance_timeout_ms":1}]}`:              ErrCorrupt,
		`{"v":1,"generation":1,"protocol":"r","leader":"m","members":[{"member_id":"m","session_timeout_ms":1e15,"rebalance_timeout_ms":1}]}`:           ErrCorrupt,
		`{"v":1,"generation":1,"protocol":"r","leader":"m","members":[{"member_id":"m","session_timeout_ms":1,"rebalance_timeout_ms":1,"metadata":5}]}`: ErrCorrupt,
	} {
		if _, err := decodeGroup("g", []byte(in)); !errors.Is(err, want) {
			t.Errorf("decodeGroup(%s) = %v, want %v", in, err, want)
		}
	}
	p := metadata.GroupPartition{Topic: "t"}
	for in, want := range map[string]error{
		`{"v":1,"offset":1}`: ErrCorrupt, // no topic id
		`{"v":1,"topic_id":"` + metadata.NewTopicID().String() + `","leader_epoch":-2}`: ErrCorrupt,
		`{"v":3}`: ErrVersion,
	} {
		if _, err := decodeOffset(p, []byte(in)); !errors.Is(err, want) {
			t.Errorf("decodeOffset(%s) = %v, want %v", in, err, want)
		}
	}
	if _, err := decodeClaim([]byte(`{"v":1,"agent":-1}`)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("claim by agent -1: %v", err)
	}
}

// FuzzDecodeGroups feeds arbitrary keys and values under groups/ and
// coordinators/ to their decoders: none may panic, and whatever decodes
// re-encodes to a value that decodes the same.
func FuzzDecodeGroups(f *testing.F) {
	k := keys{prefix: DefaultPrefix}
	id := metadata.NewTopicID()
	g := metadata.Group{Name: "g", ProtocolType: "consumer", Generation: 2, Protocol: "range", Leader: "m",
		StateTimestamp: time.Unix(1700000000, 5).UTC(),
		Members: []metadata.GroupMember{{MemberID: "m", InstanceID: "i", SessionTimeout: time.Second,
			RebalanceTimeout: time.Minute, Metadata: []byte{1}, Assignment: []byte{2}}}}
	f.Add(k.groupMeta(1, "g"), []byte(encodeGroup(g)))
	f.Add(k.groupOffset(1, "a/b", metadata.GroupPartition{Topic: "t", Partition: 2}),
		[]byte(encodeOffset(metadata.CommittedOffset{Topic: "t", TopicID: id, Partition: 2, Offset: 9, LeaderEpoch: -1, Metadata: "x"})))
	f.Add(k.coordinator(metadata.CoordinatorShard{Kind: metadata.CoordinatorGroup, Index: 1}), []byte(encodeClaim(3)))
	f.Add(k.groupMeta(1, "g"), []byte(`{"v":1,"generation":0,"members":null,"state_timestamp":"2025-01-01T00:00:00+02:00"}`))
	// Zone offsets that put the time, in UTC, outside what RFC 3339 carries.
	f.Add(k.groupMeta(1, "g"), []byte(`{"v":1,"generation":0,"members":null,"state_timestamp":"0000-01-01T00:00:00+01:00"}`))
	f.Add(k.groupOffset(1, "g", metadata.GroupPartition{Topic: "t", Partition: 0}),
		[]byte(`{"v":1,"topic_id":"`+id.String()+`","offset":1,"leader_epoch":-1,"commit_time":"9999-12-31T23:00:00-02:00"}`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		_, _ = decodeClaim(value)
		gk, err := k.parseGroupKey(key)
		if err != nil {
			return
		}
		if gk.meta {
			g, err := decodeGroup(gk.name, value)
			if err != nil {
				return
			}
			again, err := decodeGroup(gk.name, []byte(encodeGroup(g)))
			if err != nil || !sameGroup(g, again) {
				t.Fatalf("group re-decode = %+v, %v; want %+v", again, err, g)
			}
			return
		}
		o, err := decodeOffset(gk.partition, value)
		if err != nil {
			return
		}
		again, err := decodeOffset(gk.partition, []byte(encodeOffset(o)))
		if err != nil || !again.CommitTime.Equal(o.CommitTime) {
			t.Fatalf("offset re-decode = %+v, %v; want %+v", again, err, o)
		}
		again.CommitTime = o.CommitTime
		if again != o {
			t.Fatalf("offset re-decode = %+v; want %+v", again, o)
		}
	})
}

func sameGroup(a, b metadata.Group) bool {
	if a.Name != b.Name || a.ProtocolType != b.ProtocolType || a.Generation != b.Generation || a.Protocol != b.Protocol ||
		a.Leader != b.Leader || !a.StateTimestamp.Equal(b.StateTimestamp) || len(a.Members) != len(b.Members) {
		return false
	}
	for i, m := range a.Members {
		n := b.Members[i]
		if m.MemberID != n.MemberID || m.InstanceID != n.InstanceID || m.ClientID != n.ClientID || m.ClientHost != n.ClientHost ||
			m.SessionTimeout != n.SessionTimeout || m.RebalanceTimeout != n.RebalanceTimeout ||
			!bytes.Equal(m.Metadata, n.Metadata) || !bytes.Equal(m.Assignment, n.Assignment) {
			return false
		}
	}
	return true
}
