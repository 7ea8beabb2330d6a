package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

// remoteSegment returns a valid entry for offsets base to last.
func remoteSegment(base, last int64) metadata.RemoteSegment {
	name := fmt.Sprintf("c/t/0/%020d-3", base)
	epochs := []metadata.EpochStart{{Epoch: 2, StartOffset: base}}
	if last > base {
		epochs = append(epochs, metadata.EpochStart{Epoch: 3, StartOffset: last})
	}
	return metadata.RemoteSegment{
		BaseOffset:    base,
		LastOffset:    last,
		BaseTimestamp: 1_700_000_000_000 + base,
		MaxTimestamp:  1_700_000_000_000 + last,
		Size:          100 * (last - base + 1),
		LeaderEpoch:   3,
		EpochStarts:   epochs,
		CRC32C:        0xdeadbeef,
		LogKey:        name + ".log",
		IndexKey:      name + ".index",
		TimeIndexKey:  name + ".timeindex",
		UploadedAt:    time.Date(2025, 6, 7, 8, 9, 10, 11, time.UTC),
		UploadedBy:    1,
	}
}

func checkSegments(t *testing.T, what string, got []metadata.RemoteSegment, want ...metadata.RemoteSegment) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: entries %v, want %v", what, ranges(got), ranges(want))
	}
	for i := range got {
		if !got[i].Equal(&want[i]) {
			t.Errorf("%s: entry %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

// ranges lists the offset ranges of segs, for failure messages.
func ranges(segs []metadata.RemoteSegment) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = fmt.Sprintf("%d-%d", s.BaseOffset, s.LastOffset)
	}
	return out
}

func mustAddSegment(t *testing.T, s metadata.Store, tp metadata.TopicPartition, seg metadata.RemoteSegment) int64 {
	t.Helper()
	rev, err := s.AddRemoteSegment(testContext(t), tp, seg)
	if err != nil {
		t.Fatalf("AddRemoteSegment(%d-%d): %v", seg.BaseOffset, seg.LastOffset, err)
	}
	return rev
}

func testCatalogue(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	tp := metadata.TopicPartition{TopicID: metadata.NewTopicID(), Partition: 2}
	other := metadata.TopicPartition{TopicID: tp.TopicID, Partition: 10}
	if got, err := s.RemoteSegments(ctx, tp); err != nil || len(got) != 0 {
		t.Fatalf("RemoteSegments of an empty catalogue = %v, %v", got, err)
	}
	a, b, c := remoteSegment(0, 99), remoteSegment(100, 149), remoteSegment(1000, 1999)
	revC := mustAddSegment(t, s, tp, c)
	revA := mustAddSegment(t, s, tp, a)
	revB := mustAddSegment(t, s, tp, b)
	if !(revC > 0 && revA > revC && revB > revA) {
		t.Errorf("revisions %d, %d, %d do not increase", revC, revA, revB)
	}
	if rev, _ := s.Revision(ctx); rev != revB {
		t.Errorf("Revision = %d, want the last add's %d", rev, revB)
	}
	mustAddSegment(t, s, other, remoteSegment(50, 60))
	got, err := s.RemoteSegments(ctx, tp)
	if err != nil {
		t.Fatal(err)
	}
	checkSegments(t, "RemoteSegments", got, a, b, c)
	// The result is a copy.
	got[0].EpochStarts[0].Epoch = 99
	got, _ = s.RemoteSegments(ctx, tp)
	checkSegments(t, "RemoteSegments after changing a result", got, a, b, c)
	got, _ = s.RemoteSegments(ctx, other)
	checkSegments(t, "RemoteSegments of another partition", got, remoteSegment(50, 60))

	// An entry without epoch starts or timestamps round-trips too.
	bare := remoteSegment(2000, 2000)
	bare.EpochStarts, bare.BaseTimestamp, bare.MaxTimestamp, bare.UploadedBy = nil, -1, -1, -1
	mustAddSegment(t, s, tp, bare)
	got, _ = s.RemoteSegments(ctx, tp)
	checkSegments(t, "RemoteSegments with a bare entry", got, a, b, c, bare)
}

func testCatalogueIdempotent(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	tp := metadata.TopicPartition{TopicID: metadata.NewTopicID(), Partition: 0}
	seg := remoteSegment(10, 20)
	rev := mustAddSegment(t, s, tp, seg)
	// A retry of the same add, even with UploadedAt in another zone,
	// succeeds without writing.
	seg.UploadedAt = seg.UploadedAt.In(time.FixedZone("x", 3600))
	again := mustAddSegment(t, s, tp, seg)
	if again != rev {
		t.Errorf("repeated add returned revision %d, want %d", again, rev)
	}
	if now, _ := s.Revision(ctx); now != rev {
		t.Errorf("repeated add moved the revision from %d to %d", rev, now)
	}
}

func testCatalogueConflict(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	tp := metadata.TopicPartition{TopicID: metadata.NewTopicID(), Partition: 1}
	a, b := remoteSegment(100, 199), remoteSegment(300, 399)
	mustAddSegment(t, s, tp, a)
	mustAddSegment(t, s, tp, b)
	rev, _ := s.Revision(ctx)
	differ := remoteSegment(100, 199)
	differ.CRC32C++
	for _, tc := range []struct {
		name string
		seg  metadata.RemoteSegment
	}{
		{"same base, other content", differ},
		{"same base, other end", remoteSegment(100, 150)},
		{"inside an entry", remoteSegment(150, 160)},
		{"over a predecessor's end", remoteSegment(199, 250)},
		{"over a successor's start", remoteSegment(250, 300)},
		{"around an entry", remoteSegment(0, 1000)},
		{"over two entries", remoteSegment(150, 350)},
	} {
		_, err := s.AddRemoteSegment(ctx, tp, tc.seg)
		checkErr(t, "add "+tc.name, err, metadata.ErrConflict)
	}
	if now, _ := s.Revision(ctx); now != rev {
		t.Errorf("refused adds moved the revision from %d to %d", rev, now)
	}
	got, _ := s.RemoteSegments(ctx, tp)
	checkSegments(t, "after refused adds", got, a, b)
	// Entries right next to others fit.
	before, between, after := remoteSegment(0, 99), remoteSegment(200, 299), remoteSegment(400, 400)
	mustAddSegment(t, s, tp, between)
	mustAddSegment(t, s, tp, after)
	mustAddSegment(t, s, tp, before)
	got, _ = s.RemoteSegments(ctx, tp)
	checkSegments(t, "after adjacent adds", got, before, a, between, b, after)
}

func testCatalogueDelete(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	tp := metadata.TopicPartition{TopicID: metadata.NewTopicID(), Partition: 0}
	a, b, c := remoteSegment(0, 9), remoteSegment(10, 19), remoteSegment(20, 29)
	for _, seg := range []metadata.RemoteSegment{a, b, c} {
		mustAddSegment(t, s, tp, seg)
	}
	if err := s.DeleteRemoteSegment(ctx, tp, 10); err != nil {
		t.Fatal(err)
	}
	got, _ := s.RemoteSegments(ctx, tp)
	checkSegments(t, "after deleting the middle entry", got, a, c)
	rev, _ := s.Revision(ctx)
	for _, base := range []int64{10, 5, 1000} {
		if err := s.DeleteRemoteSegment(ctx, tp, base); err != nil {
			t.Errorf("deleting missing entry %d: %v", base, err)
		}
	}
	if now, _ := s.Revision(ctx); now != rev {
		t.Errorf("deleting missing entries moved the revision from %d to %d", rev, now)
	}
	// The freed range takes a different entry.
	wide := remoteSegment(10, 19)
	wide.LeaderEpoch, wide.EpochStarts = 7, nil
	mustAddSegment(t, s, tp, wide)
	got, _ = s.RemoteSegments(ctx, tp)
	checkSegments(t, "after re-adding", got, a, wide, c)
	err := s.DeleteRemoteSegment(ctx, tp, -1)
	checkErr(t, "DeleteRemoteSegment(-1)", err, metadata.ErrInvalid)
}

func testCatalogueDeleteTopic(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	gone, kept := metadata.NewTopicID(), metadata.NewTopicID()
	for p := range int32(3) {
		mustAddSegment(t, s, metadata.TopicPartition{TopicID: gone, Partition: p}, remoteSegment(0, 9))
		mustAddSegment(t, s, metadata.TopicPartition{TopicID: kept, Partition: p}, remoteSegment(0, 9))
	}
	rev, _ := s.Revision(ctx)
	if err := s.DeleteRemoteTopic(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if now, _ := s.Revision(ctx); now != rev+1 {
		t.Errorf("DeleteRemoteTopic moved the revision from %d to %d; want one write", rev, now)
	}
	for p := range int32(3) {
		if got, err := s.RemoteSegments(ctx, metadata.TopicPartition{TopicID: gone, Partition: p}); err != nil || len(got) != 0 {
			t.Errorf("deleted topic partition %d: %v, %v", p, got, err)
		}
		got, _ := s.RemoteSegments(ctx, metadata.TopicPartition{TopicID: kept, Partition: p})
		checkSegments(t, "other topic", got, remoteSegment(0, 9))
	}
	if err := s.DeleteRemoteTopic(ctx, gone); err != nil {
		t.Errorf("deleting an empty topic catalogue: %v", err)
	}
	checkErr(t, "DeleteRemoteTopic(zero id)", s.DeleteRemoteTopic(ctx, metadata.TopicID{}), metadata.ErrInvalid)
}

func testCatalogueInvalid(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	tp := metadata.TopicPartition{TopicID: metadata.NewTopicID(), Partition: 0}
	for _, bad := range []metadata.TopicPartition{{}, {TopicID: tp.TopicID, Partition: -1}} {
		_, err := s.AddRemoteSegment(ctx, bad, remoteSegment(0, 1))
		checkErr(t, fmt.Sprintf("AddRemoteSegment(%v)", bad), err, metadata.ErrInvalid)
		_, err = s.RemoteSegments(ctx, bad)
		checkErr(t, fmt.Sprintf("RemoteSegments(%v)", bad), err, metadata.ErrInvalid)
		checkErr(t, fmt.Sprintf("DeleteRemoteSegment(%v)", bad), s.DeleteRemoteSegment(ctx, bad, 0), metadata.ErrInvalid)
	}
	for name, change := range map[string]func(*metadata.RemoteSegment){
		"negative base":       func(s *metadata.RemoteSegment) { s.BaseOffset = -1 },
		"last before base":    func(s *metadata.RemoteSegment) { s.LastOffset = s.BaseOffset - 1 },
		"empty":               func(s *metadata.RemoteSegment) { s.Size = 0 },
		"negative epoch":      func(s *metadata.RemoteSegment) { s.LeaderEpoch = -1 },
		"no log key":          func(s *metadata.RemoteSegment) { s.LogKey = "" },
		"no index key":        func(s *metadata.RemoteSegment) { s.IndexKey = "" },
		"no time index key":   func(s *metadata.RemoteSegment) { s.TimeIndexKey = "" },
		"timestamp below -1":  func(s *metadata.RemoteSegment) { s.MaxTimestamp = -2 },
		"epoch start outside": func(s *metadata.RemoteSegment) { s.EpochStarts[1].StartOffset = s.LastOffset + 1 },
		"epochs decreasing":   func(s *metadata.RemoteSegment) { s.EpochStarts[1].Epoch = 1 },
		"epoch starts equal":  func(s *metadata.RemoteSegment) { s.EpochStarts[1].StartOffset = s.BaseOffset },
	} {
		seg := remoteSegment(10, 20)
		change(&seg)
		_, err := s.AddRemoteSegment(ctx, tp, seg)
		checkErr(t, "AddRemoteSegment with "+name, err, metadata.ErrInvalid)
	}
	if got, _ := s.RemoteSegments(ctx, tp); len(got) != 0 {
		t.Errorf("invalid adds stored %+v", got)
	}
}

func testCatalogueReopen(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	tp := metadata.TopicPartition{TopicID: metadata.NewTopicID(), Partition: 4}
	seg := remoteSegment(5, 50)
	mustAddSegment(t, s, tp, seg)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.RemoteSegments(ctx, tp)
	checkErr(t, "RemoteSegments after Close", err, metadata.ErrClosed)
	_, err = s.AddRemoteSegment(ctx, tp, remoteSegment(51, 60))
	checkErr(t, "AddRemoteSegment after Close", err, metadata.ErrClosed)
	checkErr(t, "DeleteRemoteSegment after Close", s.DeleteRemoteSegment(ctx, tp, 5), metadata.ErrClosed)
	checkErr(t, "DeleteRemoteTopic after Close", s.DeleteRemoteTopic(ctx, tp.TopicID), metadata.ErrClosed)
	s = newStore(t)
	got, err := s.RemoteSegments(ctx, tp)
	if err != nil {
		t.Fatal(err)
	}
	checkSegments(t, "after reopening", got, seg)
}

// testCatalogueRace has writers add segments of different lengths over
// the same offsets at once, as two agents that both believe they lead a
// partition might: whatever wins, the entries never overlap.
func testCatalogueRace(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	tp := metadata.TopicPartition{TopicID: metadata.NewTopicID(), Partition: 0}
	const writers, end = 4, 120
	var wg sync.WaitGroup
	var mu sync.Mutex
	var added []metadata.RemoteSegment
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			length := int64(7 + 3*w)
			for base := int64(0); base < end; base += length {
				seg := remoteSegment(base, base+length-1)
				seg.UploadedBy = int32(w)
				_, err := s.AddRemoteSegment(ctx, tp, seg)
				switch {
				case err == nil:
					mu.Lock()
					added = append(added, seg)
					mu.Unlock()
				case !errorsIs(err, metadata.ErrConflict):
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := s.RemoteSegments(ctx, tp)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(got); i++ {
		if got[i].BaseOffset <= got[i-1].LastOffset {
			t.Errorf("entries %d-%d and %d-%d overlap", got[i-1].BaseOffset, got[i-1].LastOffset, got[i].BaseOffset, got[i].LastOffset)
		}
	}
	slices.SortFunc(added, func(a, b metadata.RemoteSegment) int { return int(a.BaseOffset - b.BaseOffset) })
	checkSegments(t, "entries vs successful adds", got, added...)
}
