package tests

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// makeRecords builds n records for topic with keys, headers, a null value
// every 10th record, and values that compress (text-like) or not.
func makeRecords(topic string, n int, seed uint64) []*kgo.Record {
	rng := rand.New(rand.NewPCG(seed, seed))
	recs := make([]*kgo.Record, n)
	for i := range recs {
		r := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("key-%d", i%17))}
		if i%10 != 9 {
			v := make([]byte, 20+rng.IntN(500))
			for j := range v {
				v[j] = "abcdefgh ijklmnop"[rng.IntN(17)]
			}
			r.Value = append([]byte(fmt.Sprintf("value-%d:", i)), v...)
		}
		if i%3 == 0 {
			r.Headers = []kgo.RecordHeader{{Key: "h1", Value: []byte(fmt.Sprint(i))}, {Key: "empty", Value: nil}}
		}
		recs[i] = r
	}
	return recs
}

// checkSame fails unless got holds exactly want's records (matched by
// partition and offset) with the same key, value and headers, and each
// partition's offsets are dense and in order.
func checkSame(t *testing.T, want, got []*kgo.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	byPos := make(map[string]*kgo.Record, len(want))
	for _, r := range want {
		byPos[recordKey(r)] = r
	}
	next := map[int32]int64{}
	for _, r := range got {
		if _, seen := next[r.Partition]; !seen {
			next[r.Partition] = r.Offset
		}
		w, ok := byPos[recordKey(r)]
		if !ok {
			t.Fatalf("unexpected record at %s", recordKey(r))
		}
		if !bytes.Equal(r.Key, w.Key) || !bytes.Equal(r.Value, w.Value) || (r.Value == nil) != (w.Value == nil) {
			t.Fatalf("record %s: key/value %q/%q, want %q/%q", recordKey(r), r.Key, trunc(r.Value), w.Key, trunc(w.Value))
		}
		if len(r.Headers) != len(w.Headers) {
			t.Fatalf("record %s: %d headers, want %d", recordKey(r), len(r.Headers), len(w.Headers))
		}
		for i := range r.Headers {
			if r.Headers[i].Key != w.Headers[i].Key || !bytes.Equal(r.Headers[i].Value, w.Headers[i].Value) {
				t.Fatalf("record %s: header %d = %v, want %v", recordKey(r), i, r.Headers[i], w.Headers[i])
			}
		}
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: offset %d follows %d", r.Partition, r.Offset, next[r.Partition]-1)
		}
		next[r.Partition]++
	}
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func TestRoundTripCodecs(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	codecs := map[string]kgo.CompressionCodec{
		"none":   kgo.NoCompression(),
		"gzip":   kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(),
		"lz4":    kgo.Lz4Compression(),
		"zstd":   kgo.ZstdCompression(),
	}
	for name, codec := range codecs {
		t.Run(name, func(t *testing.T) {
			topic := "codec-" + name
			createTopic(t, ag.addr, topic, 3, nil)
			prod := newClient(t, ag.addr, kgo.ProducerBatchCompression(codec), kgo.ProducerLinger(5*time.Millisecond))
			want := produceSync(t, prod, makeRecords(topic, 500, 1)...)
			cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			checkSame(t, want, consumeN(t, cons, len(want), 20*time.Second))
		})
	}
}

func TestLargeRecords(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	topic := "large"
	createTopic(t, ag.addr, topic, 1, nil)
	prod := newClient(t, ag.addr, kgo.ProducerBatchMaxBytes(1<<20))
	var want []*kgo.Record
	for i := range 4 {
		v := make([]byte, 900<<10)
		for j := range v {
			v[j] = byte(i*31 + j*7)
		}
		want = append(want, &kgo.Record{Topic: topic, Key: []byte{byte(i)}, Value: v})
	}
	produceSync(t, prod, want...)
	// A small partition fetch size still returns each oversized batch whole.
	cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxPartitionBytes(64<<10), kgo.FetchMaxBytes(128<<10))
	checkSame(t, want, consumeN(t, cons, len(want), 20*time.Second))

	// A batch over max.message.bytes is refused with MESSAGE_TOO_LARGE.
	bigValue := make([]byte, 1100<<10)
	for i := range bigValue {
		bigValue[i] = byte(rand.Uint32()) // incompressible
	}
	big := &kgo.Record{Topic: topic, Value: bigValue}
	prod2 := newClient(t, ag.addr, kgo.ProducerBatchMaxBytes(2<<20), kgo.RecordRetries(0))
	err := prod2.ProduceSync(testCtx(t, 10*time.Second), big).FirstErr()
	if err == nil || !containsAny(err.Error(), "MESSAGE_TOO_LARGE") {
		t.Fatalf("oversized record: got %v, want MESSAGE_TOO_LARGE", err)
	}
}

func TestManyPartitionsOrdering(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	topic := "many"
	const parts = 64
	createTopic(t, ag.addr, topic, parts, nil)
	prod := newClient(t, ag.addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var want []*kgo.Record
	for i := range 20 * parts {
		want = append(want, &kgo.Record{Topic: topic, Partition: int32(i % parts), Value: []byte(fmt.Sprintf("%d-%d", i%parts, i/parts))})
	}
	produceSync(t, prod, want...)
	cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consumeN(t, cons, len(want), 30*time.Second)
	checkSame(t, want, got)
	// Within each partition, records arrive in the order produced.
	seq := map[int32]int{}
	for _, r := range got {
		if w := fmt.Sprintf("%d-%d", r.Partition, seq[r.Partition]); string(r.Value) != w {
			t.Fatalf("partition %d: got %q, want %q", r.Partition, r.Value, w)
		}
		seq[r.Partition]++
	}
}

func TestReplayFromOffset(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	topic := "replay"
	createTopic(t, ag.addr, topic, 1, nil)
	prod := newClient(t, ag.addr, kgo.ProducerLinger(2*time.Millisecond))
	want := produceSync(t, prod, makeRecords(topic, 1000, 2)...)
	for _, from := range []int64{0, 1, 537, 999} {
		cons := newClient(t, ag.addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {0: kgo.NewOffset().At(from)},
		}))
		got := consumeN(t, cons, int(1000-from), 20*time.Second)
		if got[0].Offset != from {
			t.Fatalf("replay from %d started at %d", from, got[0].Offset)
		}
		checkSame(t, want[from:], got)
	}
}

func TestListOffsetsByTimestamp(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	topic := "bytime"
	createTopic(t, ag.addr, topic, 1, nil)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	prod := newClient(t, ag.addr, kgo.ProducerLinger(20*time.Millisecond))
	var recs []*kgo.Record
	for i := range 100 {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte{byte(i)}, Timestamp: base.Add(time.Duration(i) * time.Second)})
	}
	produceSync(t, prod, recs...)
	adm := kadm.NewClient(newClient(t, ag.addr))
	ctx := testCtx(t, 20*time.Second)
	cases := []struct {
		at   time.Time
		want int64
	}{
		{base.Add(-time.Minute), 0},
		{base, 0},
		{base.Add(42 * time.Second), 42},
		{base.Add(42*time.Second + time.Millisecond), 43},
		{base.Add(99 * time.Second), 99},
		{base.Add(100 * time.Second), -1},
	}
	for _, c := range cases {
		res, err := adm.ListOffsetsAfterMilli(ctx, c.at.UnixMilli(), topic)
		if err != nil {
			t.Fatal(err)
		}
		lo, _ := res.Lookup(topic, 0)
		if lo.Err != nil {
			t.Fatalf("at %v: %v", c.at, lo.Err)
		}
		want := c.want
		if want == -1 {
			// Kafka answers "no such record" with -1; kadm reports it as the end offset.
			if lo.Offset != -1 && lo.Offset != 100 {
				t.Fatalf("after last record: offset %d, want -1 or end", lo.Offset)
			}
			continue
		}
		if lo.Offset != want {
			t.Fatalf("ListOffsets at +%v: offset %d, want %d", c.at.Sub(base), lo.Offset, want)
		}
	}
	start, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := start.Lookup(topic, 0); s.Offset != 0 {
		t.Fatalf("start offset %d", s.Offset)
	}
	if e, _ := end.Lookup(topic, 0); e.Offset != 100 {
		t.Fatalf("end offset %d", e.Offset)
	}
}

// TestRestartKeepsData checks that a clean stop and a kill -9 both keep every
// acknowledged record and every topic.
func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	topics := []string{"keep-a", "keep-b"}
	var want []*kgo.Record
	for _, tp := range topics {
		createTopic(t, ag.addr, tp, 2, nil)
	}
	for round, how := range []string{"stop", "kill"} {
		cl := newClient(t, ag.addr)
		for _, tp := range topics {
			want = append(want, produceSync(t, cl, makeRecords(tp, 300, uint64(round))...)...)
		}
		cl.Close()
		if how == "stop" {
			ag.stop()
		} else {
			ag.kill()
		}
		ag.restart()
		adm := kadm.NewClient(newClient(t, ag.addr))
		listed, err := adm.ListTopics(testCtx(t, 20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range topics {
			if !listed.Has(tp) {
				t.Fatalf("after %s: topic %s is gone (have %v)", how, tp, listed.Names())
			}
		}
		cons := newClient(t, ag.addr, kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		got := consumeN(t, cons, len(want), 30*time.Second)
		slices.SortFunc(got, func(a, b *kgo.Record) int { return cmpRecord(a, b) })
		checkSameMulti(t, want, got)
	}
}

func cmpRecord(a, b *kgo.Record) int {
	if a.Topic != b.Topic {
		if a.Topic < b.Topic {
			return -1
		}
		return 1
	}
	if a.Partition != b.Partition {
		return int(a.Partition - b.Partition)
	}
	return int(a.Offset - b.Offset)
}

// checkSameMulti is checkSame across several topics.
func checkSameMulti(t *testing.T, want, got []*kgo.Record) {
	t.Helper()
	byTopic := func(rs []*kgo.Record) map[string][]*kgo.Record {
		m := map[string][]*kgo.Record{}
		for _, r := range rs {
			m[r.Topic] = append(m[r.Topic], r)
		}
		return m
	}
	w, g := byTopic(want), byTopic(got)
	if len(w) != len(g) {
		t.Fatalf("got records of %d topics, want %d", len(g), len(w))
	}
	for tp := range w {
		checkSame(t, w[tp], g[tp])
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if bytes.Contains([]byte(s), []byte(sub)) {
			return true
		}
	}
	return false
}
