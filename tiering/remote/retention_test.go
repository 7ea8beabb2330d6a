package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/tiering"
)

// journal records the order of catalogue deletions and object deletions.
type journal struct {
	mu     sync.Mutex
	events []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, fmt.Sprintf(format, args...))
}

func (j *journal) index(ev string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Index(j.events, ev)
}

type journalStore struct {
	tiering.ObjectStore
	j *journal
}

func (s journalStore) Delete(ctx context.Context, key string) error {
	s.j.add("delete object %s", key)
	return s.ObjectStore.Delete(ctx, key)
}

type journalCatalogue struct {
	metadata.Catalogue
	j *journal
}

func (c journalCatalogue) DeleteRemoteSegment(ctx context.Context, tp metadata.TopicPartition, base int64) error {
	c.j.add("delete entry %d", base)
	return c.Catalogue.DeleteRemoteSegment(ctx, tp, base)
}

// retentionSetup uploads a log's closed segments through journaling
// wrappers.
func retentionSetup(t *testing.T, clock *testClock) (*Uploader, *testLog, []metadata.RemoteSegment, *journal, *faultyStore, metadata.Catalogue) {
	t.Helper()
	j := &journal{}
	fs := &faultyStore{ObjectStore: newFSStore(t)}
	cat := newCatalogue(t)
	cfg := testUploaderConfig(t, journalStore{fs, j}, journalCatalogue{cat, j})
	cfg.Now = clock.Now
	u := startUploader(t, cfg)
	lg := newTestLog(t, t.TempDir(), newTP(), 32<<10)
	lg.fill(t, 300<<10)
	enqueueAll(t, u, lg.closed(1))
	drain(t, u)
	segs, err := u.RemoteSegments(testContext(t), lg.tp)
	if err != nil {
		t.Fatal(err)
	}
	return u, lg, segs, j, fs, cat
}

func TestRetention(t *testing.T) {
	clock := newTestClock()
	u, lg, segs, j, fs, cat := retentionSetup(t, clock)
	ctx := testContext(t)
	var total int64
	for _, s := range segs {
		total += s.Size
	}
	// Nothing is due: unlimited retention.
	res, err := u.ApplyRetention(ctx, lg.tp, time.Now(), RetentionPolicy{RetentionMS: -1, RetentionBytes: -1})
	if err != nil || res.Deleted != 0 || res.RemoteLogStart != 0 || res.DeletedUpTo != -1 {
		t.Fatalf("ApplyRetention with no limits = %+v, %v", res, err)
	}
	// By time: segments whose newest timestamp is older than now-ms go.
	now := time.UnixMilli(segs[1].MaxTimestamp + 1000)
	res, err = u.ApplyRetention(ctx, lg.tp, now, RetentionPolicy{RetentionMS: 999 * time.Millisecond, RetentionBytes: -1})
	if err != nil || res.Deleted != 2 || res.DeletedUpTo != segs[1].LastOffset+1 || res.RemoteLogStart != segs[2].BaseOffset || res.DeletedBytes != segs[0].Size+segs[1].Size {
		t.Fatalf("ApplyRetention by time = %+v, %v", res, err)
	}
	// Catalogue entry first, then the objects (invariant 4).
	for _, s := range segs[:2] {
		entry := j.index(fmt.Sprintf("delete entry %d", s.BaseOffset))
		for _, key := range []string{s.LogKey, s.IndexKey, s.TimeIndexKey} {
			if obj := j.index("delete object " + key); entry < 0 || obj < entry {
				t.Errorf("object %s deleted at step %d, its entry at step %d", key, obj, entry)
			}
		}
	}
	if keys := listKeys(t, fs, tiering.PartitionPrefix(testCluster, lg.tp)); len(keys) != 3*(len(segs)-2) {
		t.Errorf("%d objects left, want %d", len(keys), 3*(len(segs)-2))
	}
	mem, _ := u.RemoteSegments(ctx, lg.tp)
	stored, _ := cat.RemoteSegments(ctx, lg.tp)
	if len(mem) != len(segs)-2 || len(stored) != len(segs)-2 {
		t.Errorf("after retention: %d entries in memory, %d stored; want %d", len(mem), len(stored), len(segs)-2)
	}
	// By size: keep at least 3 segments' worth (plus local-only bytes).
	local := segs[len(segs)-1].Size
	keep := segs[len(segs)-1].Size + segs[len(segs)-2].Size + segs[len(segs)-3].Size
	res, err = u.ApplyRetention(ctx, lg.tp, now, RetentionPolicy{RetentionMS: -1, RetentionBytes: keep + local, LocalOnlyBytes: local})
	if err != nil || res.RemoteLogStart != segs[len(segs)-3].BaseOffset {
		t.Fatalf("ApplyRetention by size = %+v, %v; want start %d", res, err, segs[len(segs)-3].BaseOffset)
	}
	// By log start offset: everything below it.
	res, err = u.ApplyRetention(ctx, lg.tp, now, RetentionPolicy{RetentionMS: -1, RetentionBytes: -1, LogStartOffset: segs[len(segs)-2].BaseOffset + 1})
	if err != nil || res.Deleted != 1 || res.RemoteLogStart != segs[len(segs)-2].BaseOffset {
		t.Fatalf("ApplyRetention by log start = %+v, %v", res, err)
	}
	if up := u.UploadedUpTo(lg.tp, segs[len(segs)-2].BaseOffset); up != segs[len(segs)-1].LastOffset+1 {
		t.Errorf("UploadedUpTo after retention = %d", up)
	}
	// Objects that fail to delete stay as orphans; the entry is gone.
	fs.failDelete.Store(true)
	res, err = u.ApplyRetention(ctx, lg.tp, now, RetentionPolicy{RetentionMS: -1, RetentionBytes: 0})
	fs.failDelete.Store(false)
	if err != nil || res.Deleted != 2 || res.RemoteLogStart != -1 || res.DeletedUpTo != segs[len(segs)-1].LastOffset+1 {
		t.Fatalf("ApplyRetention of everything = %+v, %v", res, err)
	}
	if stored, _ := cat.RemoteSegments(ctx, lg.tp); len(stored) != 0 {
		t.Errorf("%d entries left", len(stored))
	}
	if keys := listKeys(t, fs, ""); len(keys) != 6 {
		t.Fatalf("orphans after failed deletes: %q", keys)
	}
	// The sweeper removes them once they are old enough.
	clock.Add(time.Hour)
	sr, err := u.SweepPartition(ctx, lg.tp, time.Minute)
	if err != nil || sr.Deleted != 6 {
		t.Fatalf("SweepPartition = %+v, %v", sr, err)
	}
	if st := u.Stats(); st.RetentionSegments != int64(len(segs)) || st.RetentionBytes != total || st.Swept != 6 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestSweepCrashBetweenPutAndCatalogue: an upload that put its objects and
// crashed before the catalogue write leaves orphans; the sweeper keeps them
// during the grace period and deletes them after it; the retried upload
// writes the same keys and is recorded.
func TestSweepCrashBetweenPutAndCatalogue(t *testing.T) {
	store, cat := newFSStore(t), newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), 32<<10)
	lg.fill(t, 100<<10)
	segs := lg.closed(3)
	clock := newTestClock()
	cfg := testUploaderConfig(t, store, cat)
	cfg.Now = clock.Now
	u := startUploader(t, cfg)
	ctx := testContext(t)
	// Segment 0 is uploaded properly; segment 1 "crashed" after its PUTs.
	enqueueAll(t, u, segs[:1])
	drain(t, u)
	keys, _ := tiering.NewSegmentKeys(testCluster, lg.tp, segs[1].BaseOffset, 3)
	data := readFile(t, segs[1].LogPath)
	for _, k := range []string{keys.Log, keys.Index, keys.TimeIndex} {
		if err := store.Put(ctx, k, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	// A key that is not a segment object is never touched.
	foreign := tiering.PartitionPrefix(testCluster, lg.tp) + "notes.txt"
	if err := store.Put(ctx, foreign, bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	const grace = time.Hour
	if _, err := u.SweepPartition(ctx, lg.tp, time.Second); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SweepPartition with a grace below AttemptTimeout = %v", err)
	}
	res, err := u.SweepPartition(ctx, lg.tp, grace)
	if err != nil || res.Deleted != 0 || res.Young != 3 || res.Scanned != 6 {
		t.Fatalf("sweep within the grace period = %+v, %v", res, err)
	}
	clock.Add(grace + time.Minute)
	res, err = u.SweepPartition(ctx, lg.tp, grace)
	if err != nil || res.Deleted != 3 || res.Young != 0 {
		t.Fatalf("sweep after the grace period = %+v, %v", res, err)
	}
	left := listKeys(t, store, "")
	if len(left) != 4 || !slices.Contains(left, foreign) {
		t.Fatalf("objects after the sweep: %q", left)
	}
	// The upload is retried (after a restart, say): same keys, recorded.
	enqueueAll(t, u, segs[1:2])
	drain(t, u)
	got, _ := cat.RemoteSegments(ctx, lg.tp)
	if len(got) != 2 || got[1].LogKey != keys.Log || !bytes.Equal(readObject(t, store, keys.Log), data) {
		t.Fatalf("after the retried upload: %+v", got)
	}
	clock.Add(10 * grace)
	if res, err := u.SweepPartition(ctx, lg.tp, grace); err != nil || res.Deleted != 0 {
		t.Errorf("sweep of a clean partition = %+v, %v", res, err)
	}
}

// TestSweepWaitsForUpload: a sweep does not run while an upload of the
// partition is in flight, and no upload starts while it runs.
func TestSweepWaitsForUpload(t *testing.T) {
	fs := newFSStore(t)
	store := &blockingStore{ObjectStore: fs, entered: make(chan struct{}, 10), release: make(chan struct{})}
	cat := newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), 32<<10)
	lg.fill(t, 50<<10)
	u := startUploader(t, testUploaderConfig(t, store, cat))
	enqueueAll(t, u, lg.closed(0)[:1])
	<-store.entered // the upload is inside its first PUT
	done := make(chan error, 1)
	go func() {
		_, err := u.SweepPartition(context.Background(), lg.tp, time.Hour)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("sweep ran during an upload: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(store.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	drain(t, u)
	if st := u.Stats(); st.SegmentsUploaded != 1 || st.Swept != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// blockingStore holds every Put until release is closed.
type blockingStore struct {
	tiering.ObjectStore
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.ObjectStore.Put(ctx, key, r, size)
}

func TestDeleteTopic(t *testing.T) {
	store, cat := newFSStore(t), newCatalogue(t)
	u := startUploader(t, testUploaderConfig(t, store, cat))
	ctx := testContext(t)
	gone := newTP()
	kept := newTP()
	for _, tp := range []metadata.TopicPartition{gone, {TopicID: gone.TopicID, Partition: 0}, kept} {
		lg := newTestLog(t, t.TempDir(), tp, 32<<10)
		lg.fill(t, 70<<10)
		enqueueAll(t, u, lg.closed(0))
	}
	drain(t, u)
	before := len(listKeys(t, store, ""))
	keptKeys := listKeys(t, store, tiering.TopicPrefix(testCluster, kept.TopicID))
	res, err := u.DeleteTopic(ctx, gone.TopicID)
	if err != nil || res.Deleted != before-len(keptKeys) {
		t.Fatalf("DeleteTopic = %+v, %v (had %d objects, %d of the other topic)", res, err, before, len(keptKeys))
	}
	if left := listKeys(t, store, ""); !slices.Equal(left, keptKeys) {
		t.Errorf("objects left: %q, want %q", left, keptKeys)
	}
	for _, tp := range []metadata.TopicPartition{gone, {TopicID: gone.TopicID, Partition: 0}} {
		if segs, _ := cat.RemoteSegments(ctx, tp); len(segs) != 0 {
			t.Errorf("catalogue of %v has %d entries", tp, len(segs))
		}
		if up := u.UploadedUpTo(tp, 0); up != 0 {
			t.Errorf("UploadedUpTo of a deleted partition = %d", up)
		}
	}
	if segs, _ := cat.RemoteSegments(ctx, kept); len(segs) == 0 {
		t.Error("the other topic's catalogue is gone")
	}
}

// TestSweepDeletedTopics: a topic deleted from the metadata whose remote
// data a crash left behind is cleaned up, once older than the grace
// period; live topics are not touched.
func TestSweepDeletedTopics(t *testing.T) {
	store, cat := newFSStore(t), newCatalogue(t)
	clock := newTestClock()
	cfg := testUploaderConfig(t, store, cat)
	cfg.Now = clock.Now
	u := startUploader(t, cfg)
	ctx := testContext(t)
	gone, live := newTP(), newTP()
	for _, tp := range []metadata.TopicPartition{gone, live} {
		lg := newTestLog(t, t.TempDir(), tp, 32<<10)
		lg.fill(t, 70<<10)
		enqueueAll(t, u, lg.closed(0))
	}
	drain(t, u)
	u.Forget(gone)
	exists := func(id metadata.TopicID) bool { return id == live.TopicID }
	liveKeys := listKeys(t, store, tiering.TopicPrefix(testCluster, live.TopicID))
	res, err := u.SweepDeletedTopics(ctx, time.Hour, exists)
	if err != nil || res.Deleted != 0 || res.Young == 0 {
		t.Fatalf("sweep within the grace period = %+v, %v", res, err)
	}
	clock.Add(2 * time.Hour)
	res, err = u.SweepDeletedTopics(ctx, time.Hour, exists)
	if err != nil || res.Deleted == 0 {
		t.Fatalf("sweep after the grace period = %+v, %v", res, err)
	}
	if left := listKeys(t, store, ""); !slices.Equal(left, liveKeys) {
		t.Errorf("objects left %q, want %q", left, liveKeys)
	}
	if segs, _ := cat.RemoteSegments(ctx, gone); len(segs) != 0 {
		t.Errorf("deleted topic still has %d catalogue entries", len(segs))
	}
	if segs, _ := cat.RemoteSegments(ctx, live); len(segs) == 0 {
		t.Error("live topic lost its catalogue")
	}
}
