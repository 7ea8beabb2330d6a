package etcd

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

func TestKeys(t *testing.T) {
	k := keys{prefix: "/p/"}
	id := metadata.NewTopicID()
	good := []struct {
		key  string
		want parsedKey
	}{
		{k.topic("orders.v1"), parsedKey{kind: keyTopic, name: "orders.v1"}},
		{k.partition(id, 7), parsedKey{kind: keyPartition, id: id, partition: 7}},
		{k.agent(12), parsedKey{kind: keyAgent, agent: 12}},
		{k.topicID(id), parsedKey{}},
		{k.producerIDs(), parsedKey{}},
		{k.clusterID(), parsedKey{}},
		{"/q/topics/x", parsedKey{}},
	}
	for _, g := range good {
		got, err := k.parse(g.key)
		if err != nil || got != g.want {
			t.Errorf("parse(%q) = %+v, %v; want %+v", g.key, got, err, g.want)
		}
	}
	if got := k.partition(id, 7); got != "/p/partitions/"+id.String()+"/0000000007" {
		t.Errorf("partition key %q", got)
	}
	for _, bad := range []string{
		"/p/topics/a/b", "/p/topics/", "/p/partitions/xyz/0000000001",
		"/p/partitions/" + id.String() + "/1", "/p/partitions/" + id.String() + "/+000000001",
		"/p/partitions/" + id.String(), "/p/agents/-1", "/p/agents/+1", "/p/agents/01", "/p/agents/x",
	} {
		if _, err := k.parse(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parse(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	tp := metadata.Topic{
		Name:      "t",
		ID:        metadata.NewTopicID(),
		Replicas:  [][]int32{{1, 2}, {2, 3}},
		Configs:   map[string]string{"a": "b"},
		CreatedAt: time.Date(2025, 6, 7, 8, 9, 10, 11, time.UTC),
	}
	got, err := decodeTopic("t", []byte(encodeTopic(tp)), 42)
	tp.Revision = 42
	if err != nil || !reflect.DeepEqual(got, tp) {
		t.Errorf("topic round trip = %+v, %v; want %+v", got, err, tp)
	}
	st := metadata.PartitionState{Leader: 2, LeaderEpoch: 5, ISR: []int32{2, 3}}
	gotSt, err := decodePartition([]byte(encodePartition(st)), 9)
	st.Revision = 9
	if err != nil || !reflect.DeepEqual(gotSt, st) {
		t.Errorf("partition round trip = %+v, %v", gotSt, err)
	}
	a := metadata.Agent{ID: 3, Host: "h", Port: 9092, Rack: "r"}
	if got, err := decodeAgent(3, []byte(encodeAgent(a))); err != nil || got != a {
		t.Errorf("agent round trip = %+v, %v", got, err)
	}
	id := metadata.NewClusterID()
	if got, err := decodeClusterID([]byte(encodeClusterID(id))); err != nil || got != id {
		t.Errorf("cluster id round trip = %q, %v", got, err)
	}
	if got, err := decodeTopicID([]byte(encodeTopicID("t"))); err != nil || got != "t" {
		t.Errorf("topic id round trip = %q, %v", got, err)
	}
	if got, err := decodeProducerIDs([]byte(encodeProducerIDs(77))); err != nil || got != 77 {
		t.Errorf("producer ids round trip = %d, %v", got, err)
	}
	// The documented layout: a version field and the id as hex.
	want := `{"v":1,"leader":2,"leader_epoch":5,"isr":[2,3]}`
	if got := encodePartition(metadata.PartitionState{Leader: 2, LeaderEpoch: 5, ISR: []int32{2, 3}}); got != want {
		t.Errorf("partition value %s, want %s", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	id := metadata.NewTopicID().String()
	topicCases := map[string]error{
		``:                   ErrCorrupt,
		`{}`:                 ErrCorrupt,
		`{"v":0,"name":"t"}`: ErrCorrupt,
		`{"v":2,"name":"t"}`: ErrVersion,
		`{"v":1,"name":"t"}`: ErrCorrupt, // no id, no partitions
		`{"v":1,"name":"u","id":"` + id + `","replicas":[[1]]}`: ErrCorrupt,
		`{"v":1,"name":"t","id":"zz","replicas":[[1]]}`:         ErrCorrupt,
	}
	for in, want := range topicCases {
		if _, err := decodeTopic("t", []byte(in), 1); !errors.Is(err, want) {
			t.Errorf("decodeTopic(%s) = %v, want %v", in, err, want)
		}
	}
	if _, err := decodeAgent(1, []byte(`{"v":1,"id":2,"host":"h","port":1}`)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("agent under another id's key: %v", err)
	}
	if _, err := decodeProducerIDs([]byte("-1")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("negative producer id counter: %v", err)
	}
	if _, err := decodeClusterID([]byte(`{"v":1,"id":"short"}`)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short cluster id: %v", err)
	}
}

// FuzzDecode feeds arbitrary keys and values, as etcd could hold them, to
// every decoder: none may panic, and whatever decodes re-encodes to a value
// that decodes the same.
func FuzzDecode(f *testing.F) {
	id := metadata.NewTopicID()
	f.Add("/strata/topics/t", []byte(encodeTopic(metadata.Topic{Name: "t", ID: id, Replicas: [][]int32{{1}}})))
	f.Add("/strata/partitions/"+id.String()+"/0000000000", []byte(encodePartition(metadata.PartitionState{Leader: 1, ISR: []int32{1}})))
	f.Add("/strata/agents/1", []byte(encodeAgent(metadata.Agent{ID: 1, Host: "h", Port: 1})))
	f.Add("/strata/cluster/id", []byte(encodeClusterID(metadata.NewClusterID())))
	f.Add("/strata/producer-ids/next", []byte("12"))
	f.Add("/strata/topics/x", []byte(`{"v":1,"name":"x","id":"`+id.String()+`","replicas":[[1,1]]}`))
	f.Add("/strata/agents/007", []byte(`{"v":1e9}`))
	k := keys{prefix: DefaultPrefix}
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		pk, err := k.parse(key)
		if err != nil {
			return
		}
		switch pk.kind {
		case keyTopic:
			tp, err := decodeTopic(pk.name, value, 5)
			if err == nil {
				again, err := decodeTopic(pk.name, []byte(encodeTopic(tp)), 5)
				if err != nil || again.Name != tp.Name || again.ID != tp.ID || !reflect.DeepEqual(again.Replicas, tp.Replicas) {
					t.Fatalf("topic re-decode = %+v, %v; want %+v", again, err, tp)
				}
			}
		case keyPartition:
			st, err := decodePartition(value, 5)
			if err == nil {
				again, err := decodePartition([]byte(encodePartition(st)), 5)
				if err != nil || !reflect.DeepEqual(again, st) {
					t.Fatalf("partition re-decode = %+v, %v; want %+v", again, err, st)
				}
			}
		case keyAgent:
			a, err := decodeAgent(pk.agent, value)
			if err == nil {
				if again, err := decodeAgent(pk.agent, []byte(encodeAgent(a))); err != nil || again != a {
					t.Fatalf("agent re-decode = %+v, %v; want %+v", again, err, a)
				}
			}
		default:
			_, _ = decodeClusterID(value)
			_, _ = decodeTopicID(value)
			_, _ = decodeProducerIDs(value)
		}
	})
}
