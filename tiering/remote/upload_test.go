package remote

import (
	"bytes"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/tiering"
)

// checkUploaded checks that the catalogue holds exactly segs, that every
// .log object is the local file byte for byte with the recorded CRC, and
// that the entries describe the data.
func checkUploaded(t *testing.T, store tiering.ObjectStore, cat metadata.Catalogue, lg *testLog, segs []Segment, epoch int32) []metadata.RemoteSegment {
	t.Helper()
	got, err := cat.RemoteSegments(testContext(t), lg.tp)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(segs) {
		t.Fatalf("catalogue has %d entries, want %d", len(got), len(segs))
	}
	infos := lg.Segments()
	for i, rs := range got {
		s := segs[i]
		if rs.BaseOffset != s.BaseOffset || rs.LastOffset != s.LastOffset || rs.Size != s.Size || rs.LeaderEpoch != epoch || rs.UploadedBy != 7 {
			t.Errorf("entry %d = %+v, want segment %+v", i, rs, s)
		}
		keys, _ := tiering.NewSegmentKeys(testCluster, lg.tp, s.BaseOffset, epoch)
		if rs.LogKey != keys.Log || rs.IndexKey != keys.Index || rs.TimeIndexKey != keys.TimeIndex {
			t.Errorf("entry %d keys %q %q %q, want %+v", i, rs.LogKey, rs.IndexKey, rs.TimeIndexKey, keys)
		}
		local := readFile(t, s.LogPath)
		obj := readObject(t, store, rs.LogKey)
		if !bytes.Equal(obj, local) {
			t.Errorf("object %s differs from %s", rs.LogKey, s.LogPath)
		}
		if c := crc32.Checksum(local, castagnoli); c != rs.CRC32C {
			t.Errorf("entry %d CRC %#x, want %#x", i, rs.CRC32C, c)
		}
		if infos[i].MaxTimestamp != rs.MaxTimestamp {
			t.Errorf("entry %d MaxTimestamp %d, local segment says %d", i, rs.MaxTimestamp, infos[i].MaxTimestamp)
		}
		checkEpochs(t, local, rs)
		checkIndexes(t, store, local, rs)
	}
	return got
}

// checkEpochs recomputes the epoch starts from the batches.
func checkEpochs(t *testing.T, local []byte, rs metadata.RemoteSegment) {
	t.Helper()
	var want []metadata.EpochStart
	for pos := 0; pos < len(local); {
		h, err := parseBatchHeader(local[pos:])
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || h.leaderEpoch > want[len(want)-1].Epoch {
			want = append(want, metadata.EpochStart{Epoch: h.leaderEpoch, StartOffset: h.baseOffset})
		}
		pos += int(h.length)
	}
	if !slices.Equal(rs.EpochStarts, want) {
		t.Errorf("entry %d epoch starts %v, want %v", rs.BaseOffset, rs.EpochStarts, want)
	}
}

// checkIndexes checks that every index entry points at the batch it names
// and that the time index bounds the batches' timestamps.
func checkIndexes(t *testing.T, store tiering.ObjectStore, local []byte, rs metadata.RemoteSegment) {
	t.Helper()
	idx, err := decodeOffsetIndex(readObject(t, store, rs.IndexKey))
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) == 0 && rs.Size > 3*4096 {
		t.Errorf("segment %d of %d bytes has an empty offset index", rs.BaseOffset, rs.Size)
	}
	for _, e := range idx {
		h, err := parseBatchHeader(local[e.pos:])
		if err != nil || h.baseOffset != rs.BaseOffset+int64(e.rel) {
			t.Fatalf("index entry %+v points at batch %d (%v)", e, h.baseOffset, err)
		}
	}
	tidx, err := decodeTimeIndex(readObject(t, store, rs.TimeIndexKey))
	if err != nil {
		t.Fatal(err)
	}
	if len(tidx) == 0 || tidx[len(tidx)-1].ts != rs.MaxTimestamp {
		t.Fatalf("time index %v does not end at the max timestamp %d", tidx, rs.MaxTimestamp)
	}
	for pos, maxTS := 0, int64(-1); pos < len(local); {
		h, _ := parseBatchHeader(local[pos:])
		maxTS = max(maxTS, h.maxTimestamp)
		for _, e := range tidx {
			if rs.BaseOffset+int64(e.rel) == h.baseOffset && e.ts != maxTS {
				t.Fatalf("time entry %+v, but the max timestamp up to its batch is %d", e, maxTS)
			}
		}
		pos += int(h.length)
	}
}

func TestUploadHappyPath(t *testing.T) {
	store, cat := newFSStore(t), newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), 64<<10)
	lg.fill(t, 600<<10)
	segs := lg.closed(4)
	if len(segs) < 8 {
		t.Fatalf("only %d closed segments", len(segs))
	}
	u := startUploader(t, testUploaderConfig(t, store, cat))
	if got := u.UploadedUpTo(lg.tp, 0); got != 0 {
		t.Errorf("UploadedUpTo before uploading = %d", got)
	}
	enqueueAll(t, u, segs)
	drain(t, u)
	got := checkUploaded(t, store, cat, lg, segs, 4)
	end := segs[len(segs)-1].LastOffset + 1
	if up := u.UploadedUpTo(lg.tp, 0); up != end {
		t.Errorf("UploadedUpTo(0) = %d, want %d", up, end)
	}
	if up := u.UploadedUpTo(lg.tp, segs[3].BaseOffset+1); up != end {
		t.Errorf("UploadedUpTo(mid) = %d, want %d", up, end)
	}
	if up := u.UploadedUpTo(lg.tp, end+5); up != end+5 {
		t.Errorf("UploadedUpTo past the end = %d, want %d", up, end+5)
	}
	mem, err := u.RemoteSegments(testContext(t), lg.tp)
	if err != nil || len(mem) != len(got) {
		t.Fatalf("RemoteSegments = %d entries, %v", len(mem), err)
	}
	for i := range mem {
		if !mem[i].Equal(&got[i]) {
			t.Errorf("RemoteSegments[%d] = %+v, catalogue has %+v", i, mem[i], got[i])
		}
	}
	st := u.Stats()
	var total int64
	for _, s := range segs {
		total += s.Size
	}
	if st.SegmentsUploaded != int64(len(segs)) || st.BytesUploaded != total || st.Pending != 0 || st.Failures != 0 || st.Dropped != 0 || st.OldestPending != 0 {
		t.Errorf("Stats = %+v", st)
	}
	eps := LeaderEpochs(got)
	if len(eps) < 2 || eps[0].StartOffset != 0 {
		t.Errorf("LeaderEpochs = %v", eps)
	}
	for i := 1; i < len(eps); i++ {
		if eps[i].Epoch <= eps[i-1].Epoch || eps[i].StartOffset <= eps[i-1].StartOffset {
			t.Errorf("LeaderEpochs = %v is not increasing", eps)
		}
	}
}

func TestUploadDeduplicates(t *testing.T) {
	store, cat := newFSStore(t), newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), 32<<10)
	lg.fill(t, 200<<10)
	segs := lg.closed(1)
	u, err := NewUploader(testUploaderConfig(t, store, cat))
	if err != nil {
		t.Fatal(err)
	}
	// Before Run, the same segments many times over: one queue entry each.
	for range 5 {
		enqueueAll(t, u, segs)
	}
	if st := u.Stats(); st.Pending != len(segs) || st.Partitions != 1 {
		t.Fatalf("after enqueueing each segment 5 times: Stats = %+v, want %d pending", st, len(segs))
	}
	done := make(chan error, 1)
	go func() { done <- u.Run(t.Context()) }()
	defer func() { u.Close(); <-done }()
	drain(t, u)
	checkUploaded(t, store, cat, lg, segs, 1)
	puts := store.Stats().Requests[tiering.OpPut]
	if want := int64(3 * len(segs)); puts != want {
		t.Errorf("%d PUTs for %d segments, want %d", puts, len(segs), want)
	}
	// Enqueueing uploaded segments again costs nothing.
	enqueueAll(t, u, segs)
	drain(t, u)
	if p := store.Stats().Requests[tiering.OpPut]; p != puts {
		t.Errorf("re-enqueueing uploaded segments made %d more PUTs", p-puts)
	}
	if err := u.Run(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Run = %v, want ErrClosed", err)
	}
}

// TestUploadStoreDown: while PUTs fail, segments stay queued, nothing is
// recorded and UploadedUpTo does not move; when the store is back
// everything uploads once.
func TestUploadStoreDown(t *testing.T) {
	store := &faultyStore{ObjectStore: newFSStore(t)}
	cat := newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), 32<<10)
	lg.fill(t, 200<<10)
	segs := lg.closed(2)
	store.failPut.Store(true)
	u := startUploader(t, testUploaderConfig(t, store, cat))
	enqueueAll(t, u, segs)
	eventually(t, "failed attempts", func() bool { return u.Stats().Failures >= 3 })
	if st := u.Stats(); st.Pending != len(segs) || st.SegmentsUploaded != 0 || st.OldestPending <= 0 {
		t.Errorf("Stats while the store is down = %+v", st)
	}
	if up := u.UploadedUpTo(lg.tp, 0); up != 0 {
		t.Errorf("UploadedUpTo while the store is down = %d", up)
	}
	if got, _ := cat.RemoteSegments(testContext(t), lg.tp); len(got) != 0 {
		t.Errorf("catalogue has %d entries while the store is down", len(got))
	}
	store.failPut.Store(false)
	drain(t, u)
	checkUploaded(t, store.ObjectStore, cat, lg, segs, 2)
}

// TestUploadCatalogueDown: objects go up but the catalogue refuses the
// entries; nothing counts as uploaded until it accepts them, and no entry
// is duplicated.
func TestUploadCatalogueDown(t *testing.T) {
	store := newFSStore(t)
	cat := &faultyCatalogue{Catalogue: newCatalogue(t)}
	lg := newTestLog(t, t.TempDir(), newTP(), 32<<10)
	lg.fill(t, 100<<10)
	segs := lg.closed(0)
	cat.failAdd.Store(true)
	u := startUploader(t, testUploaderConfig(t, store, cat))
	enqueueAll(t, u, segs)
	eventually(t, "refused catalogue writes", func() bool { return cat.adds.Load() >= 3 })
	if up := u.UploadedUpTo(lg.tp, 0); up != 0 {
		t.Errorf("UploadedUpTo while the catalogue is down = %d", up)
	}
	if keys := listKeys(t, store, ""); len(keys) != 3 {
		t.Errorf("objects while the catalogue is down: %q, want the first segment's three", keys)
	}
	cat.failAdd.Store(false)
	drain(t, u)
	checkUploaded(t, store, cat, lg, segs, 0)
	if keys := listKeys(t, store, ""); len(keys) != 3*len(segs) {
		t.Errorf("%d objects after recovery, want %d", len(keys), 3*len(segs))
	}
}

func TestUploadVanishedAndCorrupt(t *testing.T) {
	store, cat := newFSStore(t), newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), 32<<10)
	lg.fill(t, 150<<10)
	segs := lg.closed(0)
	// The first segment is gone; the second has a flipped byte.
	copyDir := t.TempDir()
	gone := segs[0]
	gone.LogPath = filepath.Join(copyDir, "gone.log")
	corrupt := segs[1]
	corrupt.LogPath = filepath.Join(copyDir, "corrupt.log")
	b := readFile(t, segs[1].LogPath)
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(corrupt.LogPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	shrunk := segs[2]
	shrunk.Size++ // the file does not have the size the segment closed with
	u := startUploader(t, testUploaderConfig(t, store, cat))
	enqueueAll(t, u, []Segment{gone, corrupt, shrunk})
	drain(t, u)
	st := u.Stats()
	if st.Dropped != 3 || st.Corrupt != 1 || st.SegmentsUploaded != 0 {
		t.Errorf("Stats = %+v, want 3 dropped, 1 corrupt", st)
	}
	if keys := listKeys(t, store, ""); len(keys) != 0 {
		t.Errorf("objects stored for bad segments: %q", keys)
	}
	if got, _ := cat.RemoteSegments(testContext(t), lg.tp); len(got) != 0 {
		t.Errorf("catalogue entries for bad segments: %+v", got)
	}
	// Uploads after them still work (the partition is not stuck).
	enqueueAll(t, u, segs[3:])
	drain(t, u)
	if st := u.Stats(); st.SegmentsUploaded != int64(len(segs)-3) {
		t.Errorf("SegmentsUploaded = %d, want %d", st.SegmentsUploaded, len(segs)-3)
	}
}

// TestUploadCommitted: a segment waits until the high watermark passes
// its last offset.
func TestUploadCommitted(t *testing.T) {
	store, cat := newFSStore(t), newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), 32<<10)
	lg.fill(t, 100<<10)
	segs := lg.closed(0)
	var hw, calls atomic.Int64
	cfg := testUploaderConfig(t, store, cat)
	cfg.Committed = func(tp metadata.TopicPartition) int64 {
		if tp != lg.tp {
			t.Errorf("Committed(%v)", tp)
		}
		calls.Add(1)
		return hw.Load()
	}
	u := startUploader(t, cfg)
	enqueueAll(t, u, segs)
	hw.Store(segs[1].LastOffset + 1) // the first two are committed
	eventually(t, "two uploads", func() bool { return u.Stats().Pending == len(segs)-2 })
	// The next segment is checked again and again, and waits.
	seen := calls.Load()
	eventually(t, "more checks of the high watermark", func() bool { return calls.Load() > seen+5 })
	if st := u.Stats(); st.Pending != len(segs)-2 || st.SegmentsUploaded != 2 || u.UploadedUpTo(lg.tp, 0) != segs[1].LastOffset+1 {
		t.Errorf("Stats with uncommitted segments = %+v", st)
	}
	hw.Store(segs[len(segs)-1].LastOffset + 1)
	drain(t, u)
	checkUploaded(t, store, cat, lg, segs, 0)
}

func TestUploadForget(t *testing.T) {
	store := &faultyStore{ObjectStore: newFSStore(t)}
	cat := newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), 32<<10)
	lg.fill(t, 100<<10)
	store.failPut.Store(true)
	u := startUploader(t, testUploaderConfig(t, store, cat))
	enqueueAll(t, u, lg.closed(0))
	eventually(t, "a failed attempt", func() bool { return u.Stats().Failures > 0 })
	u.Forget(lg.tp)
	if st := u.Stats(); st.Pending != 0 {
		t.Errorf("Stats after Forget = %+v", st)
	}
	drain(t, u)
	u.Forget(lg.tp) // forgetting twice is fine
}

// TestUploadTail: a new leader whose segments are cut at other offsets
// uploads only what the previous leader did not, and remote reads return
// the same bytes as either log.
func TestUploadTail(t *testing.T) {
	store, cat := newFSStore(t), newCatalogue(t)
	tp := newTP()
	a := newTestLog(t, t.TempDir(), tp, 48<<10)
	b := newTestLog(t, t.TempDir(), tp, 20<<10)
	// The same batches in both logs: b replicates a.
	for range 400 {
		batch := a.batch(t, 1+a.rng.IntN(5), 300)
		if _, err := a.Append(slices.Clone(batch), appendOpts(a)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Append(batch, appendOpts(a)); err != nil {
			t.Fatal(err)
		}
	}
	ua := startUploader(t, testUploaderConfig(t, store, cat))
	enqueueAll(t, ua, a.closed(1)[:2])
	drain(t, ua)
	aEnd := a.closed(1)[1].LastOffset + 1
	ua.Forget(tp)

	ub := startUploader(t, testUploaderConfig(t, store, cat))
	bsegs := b.closed(2)
	enqueueAll(t, ub, bsegs)
	drain(t, ub)
	got, err := cat.RemoteSegments(testContext(t), tp)
	if err != nil {
		t.Fatal(err)
	}
	end := bsegs[len(bsegs)-1].LastOffset + 1
	for i, rs := range got {
		switch {
		case i > 0 && rs.BaseOffset != got[i-1].LastOffset+1:
			t.Errorf("entries %d-%d and %d-%d are not adjacent", got[i-1].BaseOffset, got[i-1].LastOffset, rs.BaseOffset, rs.LastOffset)
		case rs.LastOffset < aEnd && rs.LeaderEpoch != 1, rs.BaseOffset >= aEnd && rs.LeaderEpoch != 2:
			t.Errorf("entry %d-%d has epoch %d", rs.BaseOffset, rs.LastOffset, rs.LeaderEpoch)
		}
	}
	if got[0].BaseOffset != 0 || got[len(got)-1].LastOffset != end-1 {
		t.Fatalf("entries cover %d-%d, want 0-%d", got[0].BaseOffset, got[len(got)-1].LastOffset, end-1)
	}
	if up := ub.UploadedUpTo(tp, 0); up != end {
		t.Errorf("UploadedUpTo = %d, want %d", up, end)
	}
	r := newTestReader(t, store, 4096, 1<<20)
	for _, off := range []int64{0, aEnd - 1, aEnd, end - 1} {
		want, err := b.Read(off, 1<<20, end, true)
		if err != nil {
			t.Fatal(err)
		}
		gotB, err := r.Read(testContext(t), got, off, 1<<20, end, true)
		if err != nil || !bytes.Equal(gotB, want) {
			t.Errorf("Read(%d): %d bytes, %v; local log has %d", off, len(gotB), err, len(want))
		}
	}
}

// TestUploadRace: two uploaders racing on the same
// segments (a leader and a zombie) leave one non-overlapping catalogue.
func TestUploadRace(t *testing.T) {
	store, cat := newFSStore(t), newCatalogue(t)
	tp := newTP()
	a := newTestLog(t, t.TempDir(), tp, 40<<10)
	b := newTestLog(t, t.TempDir(), tp, 25<<10)
	for range 300 {
		batch := a.batch(t, 1+a.rng.IntN(5), 300)
		if _, err := a.Append(slices.Clone(batch), appendOpts(a)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Append(batch, appendOpts(a)); err != nil {
			t.Fatal(err)
		}
	}
	ua := startUploader(t, testUploaderConfig(t, store, cat))
	ub := startUploader(t, testUploaderConfig(t, store, cat))
	enqueueAll(t, ua, a.closed(5))
	enqueueAll(t, ub, b.closed(6))
	drain(t, ua)
	drain(t, ub)
	got, _ := cat.RemoteSegments(testContext(t), tp)
	end := min(a.remoteEnd(), b.remoteEnd())
	if up := coveredEnd(got, 0); up < end {
		t.Errorf("catalogue covers up to %d, want at least %d", up, end)
	}
	for i := 1; i < len(got); i++ {
		if got[i].BaseOffset <= got[i-1].LastOffset {
			t.Errorf("entries overlap: %+v, %+v", got[i-1], got[i])
		}
	}
}

func TestEnqueueInvalid(t *testing.T) {
	u, err := NewUploader(testUploaderConfig(t, newFSStore(t), newCatalogue(t)))
	if err != nil {
		t.Fatal(err)
	}
	good := Segment{TopicPartition: newTP(), BaseOffset: 5, LastOffset: 9, Size: 100, LogPath: "x.log", LeaderEpoch: 1}
	for name, change := range map[string]func(*Segment){
		"zero topic":  func(s *Segment) { s.TopicID = metadata.TopicID{} },
		"last < base": func(s *Segment) { s.LastOffset = 4 },
		"tiny":        func(s *Segment) { s.Size = 10 },
		"no path":     func(s *Segment) { s.LogPath = "" },
		"epoch":       func(s *Segment) { s.LeaderEpoch = -1 },
	} {
		s := good
		change(&s)
		if err := u.Enqueue(s); !errors.Is(err, ErrInvalidSegment) {
			t.Errorf("Enqueue with %s = %v, want ErrInvalidSegment", name, err)
		}
	}
	u.Close()
	if err := u.Enqueue(good); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after Close = %v", err)
	}
	if _, err := u.RemoteSegments(t.Context(), good.TopicPartition); !errors.Is(err, ErrClosed) {
		t.Errorf("RemoteSegments after Close = %v", err)
	}
	cfg := testUploaderConfig(t, newFSStore(t), newCatalogue(t))
	cfg.ClusterID = "a/b"
	if _, err := NewUploader(cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewUploader with cluster id a/b = %v", err)
	}
}

func TestBackoff(t *testing.T) {
	cfg := testUploaderConfig(t, newFSStore(t), newCatalogue(t))
	cfg.MinBackoff, cfg.MaxBackoff = 100*time.Millisecond, 2*time.Second
	u, _ := NewUploader(cfg)
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 5: 1600 * time.Millisecond, 6: 2 * time.Second, 100: 2 * time.Second} {
		for range 20 {
			if d := u.backoff(n); d < want/2 || d > want {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}
