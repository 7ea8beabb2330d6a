package bench

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestFetchWriteHookKeepsFirstFetchWrite(t *testing.T) {
	now := t0
	h := &fetchWriteHook{now: func() time.Time { return now }}
	if !h.firstFetch().IsZero() {
		t.Fatal("first fetch set before any write")
	}
	var meta kgo.BrokerMetadata
	h.OnBrokerWrite(meta, kmsg.Metadata.Int16(), 100, 0, time.Millisecond, nil)
	h.OnBrokerWrite(meta, kmsg.ListOffsets.Int16(), 100, 0, time.Millisecond, nil)
	h.OnBrokerWrite(meta, kmsg.Fetch.Int16(), 0, 0, time.Millisecond, errors.New("broken pipe"))
	if !h.firstFetch().IsZero() {
		t.Fatalf("first fetch %v after only other requests and a failed fetch write", h.firstFetch())
	}
	// Written 2 ms after t0, taking 500 µs: the write began at t0+1.5ms.
	now = t0.Add(2 * time.Millisecond)
	h.OnBrokerWrite(meta, kmsg.Fetch.Int16(), 100, time.Second, 500*time.Microsecond, nil)
	want := t0.Add(1500 * time.Microsecond)
	if got := h.firstFetch(); !got.Equal(want) {
		t.Fatalf("first fetch %v, want %v", got, want)
	}
	// Later fetches do not move it; one reported late but begun earlier
	// (another broker's connection) does.
	now = t0.Add(10 * time.Millisecond)
	h.OnBrokerWrite(meta, kmsg.Fetch.Int16(), 100, 0, time.Millisecond, nil)
	if got := h.firstFetch(); !got.Equal(want) {
		t.Fatalf("a later fetch moved the first fetch to %v", got)
	}
	h.OnBrokerWrite(meta, kmsg.Fetch.Int16(), 100, 0, 9*time.Millisecond, nil)
	if got := h.firstFetch(); !got.Equal(t0.Add(time.Millisecond)) {
		t.Fatalf("first fetch %v, want the earlier write start %v", got, t0.Add(time.Millisecond))
	}
}

func TestCatchupTallyTimings(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	var c catchupTally
	c.started = ms(0)
	c.add(ms(5), 0, 0) // a poll without records counts for nothing
	c.add(ms(30), 100, 100_000)
	c.add(ms(40), 0, 0)
	c.add(ms(130), 900, 900_000)
	if c.records != 1000 || c.bytes != 1_000_000 {
		t.Fatalf("tally %d records / %d bytes, want 1000 / 1000000", c.records, c.bytes)
	}
	toFirst, fromStart, elapsed, err := c.timings(ms(10))
	if err != nil {
		t.Fatal(err)
	}
	if toFirst != 20*time.Millisecond || fromStart != 30*time.Millisecond || elapsed != 120*time.Millisecond {
		t.Fatalf("first record %v after the fetch, %v after start, elapsed %v; want 20ms, 30ms, 120ms", toFirst, fromStart, elapsed)
	}
	if got := mbPerSec(c.bytes, elapsed); got < 8.33 || got > 8.34 {
		t.Fatalf("%.3f MB/s, want 1 MB over 120 ms = 8.333", got)
	}

	if _, _, _, err := c.timings(time.Time{}); err == nil {
		t.Error("records delivered without a Fetch written: no error")
	}
	if _, _, _, err := c.timings(ms(31)); err == nil {
		t.Error("first Fetch written after the first record: no error")
	}
	empty := catchupTally{started: ms(0)}
	empty.add(ms(1), 0, 0)
	if _, _, _, err := empty.timings(ms(0)); !errors.Is(err, ErrNothingToConsume) {
		t.Errorf("no records: %v, want ErrNothingToConsume", err)
	}
}

func TestRemoteFraction(t *testing.T) {
	for _, tc := range []struct {
		name       string
		offs       map[int32]partitionOffsets
		want       float64
		wantRemote int64
	}{
		{"nothing", nil, 0, 0},
		{"empty partitions", map[int32]partitionOffsets{0: {5, 5, 5}, 1: {}}, 0, 0},
		{"all local", map[int32]partitionOffsets{0: {0, 0, 100}}, 0, 0},
		{"all remote", map[int32]partitionOffsets{0: {0, 100, 100}, 1: {0, 50, 50}}, 1, 150},
		{"local start over end is clamped", map[int32]partitionOffsets{0: {0, 120, 100}}, 1, 100},
		{"local start under log start is clamped", map[int32]partitionOffsets{0: {40, 10, 140}}, 0, 0},
		// 90 of 100 and 30 of 100, an empty partition ignored: 120 of 200.
		{"mixed", map[int32]partitionOffsets{0: {0, 90, 100}, 1: {100, 130, 200}, 2: {7, 7, 7}}, 0.6, 120},
	} {
		got, remote := remoteFraction(tc.offs)
		if got != tc.want || remote != tc.wantRemote {
			t.Errorf("%s: %v, %d remote records; want %v, %d", tc.name, got, remote, tc.want, tc.wantRemote)
		}
	}
}

func TestOffloadedCriterion(t *testing.T) {
	offs := map[int32]partitionOffsets{
		0: {Start: 0, LocalStart: 9000, End: 10000},  // 1000 local
		1: {Start: 0, LocalStart: 10000, End: 10000}, // none local
		2: {Start: 0, LocalStart: 0, End: 0},         // empty
		3: {Start: 0, LocalStart: 7000, End: 10000},  // 3000 local
	}
	for _, tc := range []struct {
		within int64
		ok     bool
		behind []int32
	}{
		{0, false, []int32{0, 3}},
		{999, false, []int32{0, 3}},
		{1000, false, []int32{3}},
		{2999, false, []int32{3}},
		{3000, true, nil},
		{1 << 40, true, nil},
	} {
		ok, behind := offloaded(offs, tc.within)
		if ok != tc.ok || !slices.Equal(behind, tc.behind) {
			t.Errorf("within %d: %v %v, want %v %v", tc.within, ok, behind, tc.ok, tc.behind)
		}
	}
	if got, want := offloadCriterion(8192), "local log start (ListOffsets -4) >= end offset - 8192 records on every partition"; got != want {
		t.Errorf("criterion %q, want %q", got, want)
	}
}

// scriptedOffsets returns an offsetsFunc that answers with each of steps
// in turn and then repeats the last, and counts its calls.
func scriptedOffsets(calls *atomic.Int64, steps ...map[int32]partitionOffsets) offsetsFunc {
	return func(ctx context.Context) (map[int32]partitionOffsets, error) {
		i := calls.Add(1) - 1
		return steps[min(int(i), len(steps)-1)], nil
	}
}

func TestWaitOffloadedPollsUntilCriterion(t *testing.T) {
	var calls atomic.Int64
	step := func(local0, local1 int64) map[int32]partitionOffsets {
		return map[int32]partitionOffsets{0: {0, local0, 10000}, 1: {0, local1, 8000}}
	}
	list := scriptedOffsets(&calls, step(0, 0), step(4000, 0), step(9000, 5000), step(9500, 7500), step(10000, 8000))
	offs, waited, err := waitOffloaded(context.Background(), list, 1000, time.Millisecond, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The fourth listing is the first with at most 1000 records local on
	// both partitions (500 and 500).
	if calls.Load() != 4 || offs[0].LocalStart != 9500 || offs[1].LocalStart != 7500 || waited <= 0 {
		t.Fatalf("returned after %d listings with %v (waited %v); want the 4th listing", calls.Load(), offs, waited)
	}
	if f, _ := remoteFraction(offs); f != 17000.0/18000 {
		t.Fatalf("remote fraction %v, want 17000/18000", f)
	}
}

func TestWaitOffloadedStallsWithoutProgress(t *testing.T) {
	var calls atomic.Int64
	// Progress once, then none: the wait fails after the stall timeout.
	list := scriptedOffsets(&calls,
		map[int32]partitionOffsets{0: {0, 0, 100}},
		map[int32]partitionOffsets{0: {0, 50, 100}})
	_, _, err := waitOffloaded(context.Background(), list, 10, time.Millisecond, 20*time.Millisecond)
	if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "0 (local start 50, end 100)") {
		t.Fatalf("%v, want ErrStalled naming partition 0", err)
	}

	boom := errors.New("listing failed")
	failing := func(context.Context) (map[int32]partitionOffsets, error) { return nil, boom }
	if _, _, err := waitOffloaded(context.Background(), failing, 0, time.Millisecond, time.Minute); !errors.Is(err, boom) {
		t.Fatalf("%v, want the listing error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stuck := scriptedOffsets(new(atomic.Int64), map[int32]partitionOffsets{0: {0, 0, 100}})
	if _, _, err := waitOffloaded(ctx, stuck, 0, time.Millisecond, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}

func TestTopicOffsetsAgainstKfake(t *testing.T) {
	c, adm := newCluster(t)
	ctx := context.Background()
	const topic = "offsets"
	if _, err := adm.CreateTopic(ctx, 2, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: []byte("v")})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// kfake does not tier: its earliest local offset is its log start
	// offset, which DeleteRecords moves.
	var del kadm.Offsets
	del.Add(kadm.Offset{Topic: topic, Partition: 1, At: 3})
	if _, err := adm.DeleteRecords(ctx, del); err != nil {
		t.Fatal(err)
	}
	offs, err := topicOffsets(newAdmin(cl), topic)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]partitionOffsets{0: {0, 0, 5}, 1: {3, 3, 5}}
	if len(offs) != 2 || offs[0] != want[0] || offs[1] != want[1] {
		t.Fatalf("offsets %v, want %v", offs, want)
	}
}

func TestRunCatchupAgainstKfake(t *testing.T) {
	c, adm := newCluster(t)
	cfg := testConfig(c)
	cfg.Rate = 0
	cfg.Records = 500
	cfg.Scenarios = []Scenario{ScenarioProduce, ScenarioConsume, ScenarioCatchup}
	cfg.WaitOffloaded = true
	cfg.OffloadedWithin = 501 // kfake keeps everything local: only "all may be local" holds
	var out bytes.Buffer
	rep, err := Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	cu := rep.Catchup
	if cu == nil {
		t.Fatal("no catchup result")
	}
	// The produced records and the producer's warm-up record, all local.
	if cu.Records != 501 || cu.Bytes != 501*256 || cu.RemoteRecords != 0 || cu.RemoteFraction != 0 {
		t.Errorf("catchup counted %d records, %d bytes, %d remote (%v); want 501, %d, 0", cu.Records, cu.Bytes, cu.RemoteRecords, cu.RemoteFraction, 501*256)
	}
	if cu.FirstRecord <= 0 || cu.FirstRecordFromStart < cu.FirstRecord || cu.Elapsed < cu.FirstRecord || cu.MBPerSec <= 0 || cu.RecsPerSec <= 0 {
		t.Errorf("implausible timings %+v", *cu)
	}
	if cu.FetchMaxBytes != 50<<20 || cu.FetchMaxPartitionBytes != 1<<20 {
		t.Errorf("fetch sizes %d/%d, want franz-go's defaults 50MiB/1MiB", cu.FetchMaxBytes, cu.FetchMaxPartitionBytes)
	}
	if !cu.WaitedOffloaded || rep.Offload == nil || rep.Offload.WithinRecords != 501 || cu.Topic != rep.Produce.Topic || cu.Partitions != 3 {
		t.Errorf("catchup %+v, offload %+v", *cu, rep.Offload)
	}
	if rep.Consume == nil || rep.Consume.Records != 501 {
		t.Errorf("consume %+v: catchup must not take the topic away from consume", rep.Consume)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if text.String() != out.String() {
		t.Errorf("streamed output differs from WriteText:\n%s\nvs\n%s", out.String(), text.String())
	}
	if left := benchTopics(t, adm); len(left) != 0 {
		t.Errorf("fresh topic not deleted after catchup: %v", left)
	}
}

func TestRunCatchupWaitFailsWhenNothingIsOffloaded(t *testing.T) {
	c, adm := newCluster(t)
	const topic = "untiered"
	if _, err := adm.CreateTopic(context.Background(), 1, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(c)
	cfg.Topic = topic
	cfg.Rate = 0
	cfg.Records = 50
	cfg.Scenarios = []Scenario{ScenarioProduce, ScenarioCatchup}
	cfg.WaitOffloaded = true
	cfg.StallTimeout = 300 * time.Millisecond
	rep, err := Run(context.Background(), cfg, nil)
	if !errors.Is(err, ErrStalled) {
		t.Fatalf("%v, want ErrStalled: kfake never moves its local log start", err)
	}
	if rep.Offload == nil || rep.Catchup != nil {
		t.Fatalf("offload %+v catchup %+v: want the criterion and no result", rep.Offload, rep.Catchup)
	}
}
