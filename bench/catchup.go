package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchWriteHook is a kgo hook that remembers when the client began to
// write its first Fetch request. kgo calls it from its connection
// goroutines; it is safe for concurrent use.
type fetchWriteHook struct {
	now func() time.Time // time.Now, or a test clock

	mu    sync.Mutex
	first time.Time // guarded by mu; zero until a Fetch request was written
}

var _ kgo.HookBrokerWrite = (*fetchWriteHook)(nil)

// OnBrokerWrite implements kgo.HookBrokerWrite. The write began
// timeToWrite before the hook runs; a failed write is not a request the
// broker saw.
func (h *fetchWriteHook) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, timeToWrite time.Duration, err error) {
	if key != kmsg.Fetch.Int16() || err != nil {
		return
	}
	at := h.now().Add(-timeToWrite)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.first.IsZero() || at.Before(h.first) {
		h.first = at
	}
}

// firstFetch returns when the first Fetch request began to be written, or
// the zero time if none was.
func (h *fetchWriteHook) firstFetch() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.first
}

// catchupTally accounts for what the catchup consumer delivered: the
// record and byte counts, and when the first and the last record came. It
// is used by one goroutine.
type catchupTally struct {
	started     time.Time // the consumer client was created
	firstRecord time.Time // the first poll that delivered a counted record
	lastRecord  time.Time // the latest poll that delivered a counted record
	records     int64
	bytes       int64
}

// add records one poll, returned at now, that delivered records counted
// records of bytes value bytes.
func (t *catchupTally) add(now time.Time, records, bytes int64) {
	if records == 0 {
		return
	}
	if t.firstRecord.IsZero() {
		t.firstRecord = now
	}
	t.lastRecord = now
	t.records += records
	t.bytes += bytes
}

// timings returns the time from the first Fetch request to the first
// record delivered, from client creation to the first record, and from the
// first Fetch request to the last record delivered. It fails if no record
// was delivered or if firstFetch is not before the first record: a record
// cannot arrive without a Fetch.
func (t *catchupTally) timings(firstFetch time.Time) (toFirst, fromStart, elapsed time.Duration, err error) {
	switch {
	case t.firstRecord.IsZero():
		return 0, 0, 0, fmt.Errorf("%w: no record delivered", ErrNothingToConsume)
	case firstFetch.IsZero() || firstFetch.After(t.firstRecord):
		return 0, 0, 0, fmt.Errorf("bench: catchup: first record at %s but first Fetch written at %s",
			t.firstRecord.Format(time.RFC3339Nano), firstFetch.Format(time.RFC3339Nano))
	}
	return t.firstRecord.Sub(firstFetch), t.firstRecord.Sub(t.started), t.lastRecord.Sub(firstFetch), nil
}

// runCatchup runs the catchup scenario: a fresh client with franz-go's
// default fetch settings reads every partition of topic from its log start
// offset (as a consumer with auto.offset.reset=earliest does) up to the
// end offsets in offs, which were listed when the scenario started. offs
// also says which records were below the local log start then.
func runCatchup(ctx context.Context, cfg Config, topic topicInfo, offs map[int32]partitionOffsets) (*Catchup, error) {
	assign := make(map[int32]kgo.Offset)
	remaining := make(map[int32]int64) // partition -> end offset still to reach
	for p, o := range offs {
		if o.End > o.Start {
			assign[p] = kgo.NewOffset().AtStart()
			remaining[p] = o.End
		}
	}
	if len(remaining) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNothingToConsume, topic.name)
	}
	hook := &fetchWriteHook{now: time.Now}
	tally := catchupTally{started: time.Now()}
	cl, err := kgo.NewClient(append(cfg.baseOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic.name: assign}),
		kgo.WithHooks(hook),
	)...)
	if err != nil {
		return nil, fmt.Errorf("bench: catchup client: %w", err)
	}
	defer cl.Close()
	for len(remaining) > 0 {
		fetches, err := pollWithStall(ctx, cl, cfg.StallTimeout)
		if err != nil {
			return nil, fmt.Errorf("bench: catchup (%d partitions unfinished): %w", len(remaining), err)
		}
		now := time.Now()
		var records, bytes int64
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			end, ok := remaining[fp.Partition]
			if !ok {
				return
			}
			for _, r := range fp.Records {
				if r.Offset < end {
					records++
					bytes += int64(len(r.Value))
				}
			}
			if n := len(fp.Records); n > 0 && fp.Records[n-1].Offset+1 >= end {
				delete(remaining, fp.Partition)
			}
		})
		tally.add(now, records, bytes)
	}
	toFirst, fromStart, elapsed, err := tally.timings(hook.firstFetch())
	if err != nil {
		return nil, err
	}
	fraction, remote := remoteFraction(offs)
	c := &Catchup{
		Topic:                  topic.name,
		Partitions:             topic.partitions,
		ReplicationFactor:      topic.replicationFactor,
		Records:                tally.records,
		Bytes:                  tally.bytes,
		RemoteRecords:          remote,
		RemoteFraction:         fraction,
		FirstRecord:            toFirst,
		FirstRecordFromStart:   fromStart,
		Elapsed:                elapsed,
		MBPerSec:               mbPerSec(tally.bytes, elapsed),
		RecsPerSec:             perSec(tally.records, elapsed),
		FetchMaxBytes:          optInt32(cl, kgo.FetchMaxBytes),
		FetchMaxPartitionBytes: optInt32(cl, kgo.FetchMaxPartitionBytes),
	}
	return c, nil
}

// optInt32 returns the value of an int32 client option, or 0.
func optInt32(cl *kgo.Client, opt any) int32 {
	v, _ := cl.OptValue(opt).(int32)
	return v
}
