package remote

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/memstore"
	"github.com/strata-io/strata/protocol"
	"github.com/strata-io/strata/tiering"
	"github.com/strata-io/strata/tiering/fsstore"
)

const testCluster = "Zq3xLJTtRVyE1N1nVJ6_Ew"

var testTimeout = 60 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the test's deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// testClock is a wall clock tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testLog is a local partition log filled with batches of varied sizes,
// timestamps and leader epochs.
type testLog struct {
	*log.Log
	tp    metadata.TopicPartition
	rng   *rand.Rand
	ts    int64
	epoch int32
}

// newTestLog opens a log in dir whose segments roll at segmentBytes.
func newTestLog(t testing.TB, dir string, tp metadata.TopicPartition, segmentBytes int64) *testLog {
	t.Helper()
	cfg := log.NewConfig()
	cfg.SegmentBytes = segmentBytes
	cfg.IndexIntervalBytes = 1024
	cfg.RetentionMS = -1
	lg, err := log.Open(dir, cfg, log.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lg.Close() })
	return &testLog{Log: lg, tp: tp, rng: rand.New(rand.NewPCG(1, 2)), ts: 1_700_000_000_000}
}

// batch returns one batch of n records with values of about size bytes.
func (l *testLog) batch(t testing.TB, n, size int) []byte {
	t.Helper()
	recs := make([]protocol.Record, n)
	for i := range recs {
		l.ts += int64(l.rng.IntN(50)) - 10 // timestamps mostly grow
		v := make([]byte, l.rng.IntN(size+1))
		for j := range v {
			v[j] = byte(l.rng.Uint32())
		}
		recs[i] = protocol.Record{Timestamp: l.ts, Key: []byte("k"), Value: v}
	}
	b, err := protocol.AppendBatch(nil, protocol.BatchHeader{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, protocol.CodecNone, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fill appends batches until the log holds about bytes more bytes; the
// leader epoch goes up now and then.
func (l *testLog) fill(t testing.TB, bytes int64) {
	t.Helper()
	for target := l.Size() + bytes; l.Size() < target; {
		if l.rng.IntN(40) == 0 {
			l.epoch++
		}
		b := l.batch(t, 1+l.rng.IntN(8), 1+l.rng.IntN(700))
		if _, err := l.Append(b, log.AppendOptions{LeaderEpoch: l.epoch}); err != nil {
			t.Fatal(err)
		}
	}
}

// appendOpts are the options of an append to l as its leader.
func appendOpts(l *testLog) log.AppendOptions { return log.AppendOptions{LeaderEpoch: l.epoch} }

// closed returns the log's closed segments as upload descriptions.
func (l *testLog) closed(epoch int32) []Segment {
	var out []Segment
	for _, si := range l.Segments() {
		if !si.Closed {
			continue
		}
		out = append(out, Segment{
			TopicPartition: l.tp, Topic: "t", BaseOffset: si.BaseOffset, LastOffset: si.LastOffset,
			Size: si.Size, LogPath: si.LogPath, LeaderEpoch: epoch,
		})
	}
	return out
}

// remoteEnd is the end of the closed segments.
func (l *testLog) remoteEnd() int64 {
	segs := l.closed(0)
	return segs[len(segs)-1].LastOffset + 1
}

func newTP() metadata.TopicPartition {
	return metadata.TopicPartition{TopicID: metadata.NewTopicID(), Partition: 3}
}

func newFSStore(t testing.TB) *fsstore.Store {
	t.Helper()
	s, err := fsstore.Open(filepath.Join(t.TempDir(), "objects"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newCatalogue(t testing.TB) *memstore.Store {
	s := memstore.New()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// testUploaderConfig returns a config for fast tests.
func testUploaderConfig(t testing.TB, store tiering.ObjectStore, cat metadata.Catalogue) UploaderConfig {
	cfg := NewUploaderConfig()
	cfg.Store, cfg.Catalogue, cfg.ClusterID = store, cat, testCluster
	cfg.AgentID = 7
	cfg.MinBackoff, cfg.MaxBackoff = 5*time.Millisecond, 50*time.Millisecond
	cfg.AttemptTimeout = 20 * time.Second
	cfg.IndexIntervalBytes = 4096
	cfg.CommitPoll = 5 * time.Millisecond
	cfg.Logger = testLogger(t)
	return cfg
}

// startUploader creates an uploader and runs it until the test ends.
func startUploader(t testing.TB, cfg UploaderConfig) *Uploader {
	t.Helper()
	u, err := NewUploader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- u.Run(context.Background()) }()
	t.Cleanup(func() {
		u.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return u
}

func enqueueAll(t testing.TB, u *Uploader, segs []Segment) {
	t.Helper()
	for _, s := range segs {
		if err := u.Enqueue(s); err != nil {
			t.Fatal(err)
		}
	}
}

func drain(t testing.TB, u *Uploader) {
	t.Helper()
	if err := u.Drain(testContext(t)); err != nil {
		t.Fatalf("Drain: %v (stats %+v)", err, u.Stats())
	}
}

func readObject(t testing.TB, s tiering.ObjectStore, key string) []byte {
	t.Helper()
	rc, err := s.Get(testContext(t), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// faultyStore wraps a store and fails calls of the kinds switched on.
type faultyStore struct {
	tiering.ObjectStore
	failPut, failGet, failDelete atomic.Bool
	// getDelay, if set, makes every Get wait for it first.
	getDelay atomic.Pointer[time.Duration]
	// gate, if set, makes every Get wait until it is closed.
	mu   sync.Mutex
	gate chan struct{}
	gets atomic.Int64
}

var errInjected = errors.New("injected failure")

func (f *faultyStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if f.failPut.Load() {
		return errors.Join(tiering.ErrUnavailable, errInjected)
	}
	return f.ObjectStore.Put(ctx, key, r, size)
}

func (f *faultyStore) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	f.gets.Add(1)
	if f.failGet.Load() {
		return nil, errors.Join(tiering.ErrUnavailable, errInjected)
	}
	if d := f.getDelay.Load(); d != nil {
		select {
		case <-time.After(*d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.ObjectStore.Get(ctx, key, off, n)
}

func (f *faultyStore) Delete(ctx context.Context, key string) error {
	if f.failDelete.Load() {
		return errors.Join(tiering.ErrUnavailable, errInjected)
	}
	return f.ObjectStore.Delete(ctx, key)
}

// faultyCatalogue wraps a catalogue and fails adds while failAdd is set.
type faultyCatalogue struct {
	metadata.Catalogue
	failAdd atomic.Bool
	adds    atomic.Int64
}

func (f *faultyCatalogue) AddRemoteSegment(ctx context.Context, tp metadata.TopicPartition, s metadata.RemoteSegment) (int64, error) {
	f.adds.Add(1)
	if f.failAdd.Load() {
		return 0, errors.Join(metadata.ErrUnavailable, errInjected)
	}
	return f.Catalogue.AddRemoteSegment(ctx, tp, s)
}

// listKeys returns the keys under prefix.
func listKeys(t testing.TB, s tiering.ObjectStore, prefix string) []string {
	t.Helper()
	var keys []string
	if err := s.List(testContext(t), prefix, func(oi tiering.ObjectInfo) error {
		keys = append(keys, oi.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}
