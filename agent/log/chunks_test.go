package log

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// chunkBytes copies what chunks cover, as sending them would.
func chunkBytes(t *testing.T, cs []Chunk) []byte {
	t.Helper()
	var out []byte
	for _, c := range cs {
		b := make([]byte, c.Len)
		if _, err := c.File().ReadAt(b, c.Pos); err != nil {
			t.Fatalf("read chunk: %v", err)
		}
		out = append(out, b...)
	}
	return out
}

// TestReadChunksMatchesRead: for random offsets and limits across many
// segments, the chunks cover exactly the bytes Read returns.
func TestReadChunksMatchesRead(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes, cfg.IndexIntervalBytes = 2048, 256
	l := mustOpen(t, t.TempDir(), cfg)
	for i := range 80 {
		mustAppend(t, l, plain(1+i%4, 10+(i*7)%90, int64(i)), AppendOptions{LeaderEpoch: 0})
	}
	leo := l.LogEndOffset()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		off := rng.Int64N(leo + 1)
		maxBytes := rng.IntN(6000)
		maxOffset := off + rng.Int64N(leo-off+2)
		minOne := rng.IntN(2) == 0
		want, werr := l.Read(off, maxBytes, maxOffset, minOne)
		cs, err := l.ReadChunks(nil, off, maxBytes, maxOffset, minOne)
		if (err == nil) != (werr == nil) {
			t.Fatalf("ReadChunks(%d, %d, %d, %v) error %v, Read error %v", off, maxBytes, maxOffset, minOne, err, werr)
		}
		if got := chunkBytes(t, cs); !bytes.Equal(got, want) {
			t.Fatalf("ReadChunks(%d, %d, %d, %v): %d bytes, Read: %d bytes", off, maxBytes, maxOffset, minOne, len(got), len(want))
		}
		ReleaseChunks(cs)
	}
	if _, err := l.ReadChunks(nil, leo+1, 100, leo+1, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past the end: %v", err)
	}
}

// TestChunksOutliveDeletion: a chunk keeps its segment readable after
// retention deletes the segment, and releasing it closes the file.
func TestChunksOutliveDeletion(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1024
	l := mustOpen(t, t.TempDir(), cfg)
	for i := range 20 {
		mustAppend(t, l, plain(2, 50, int64(i)), AppendOptions{LeaderEpoch: 0})
	}
	want, err := l.Read(0, 1<<20, l.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := l.ReadChunks(nil, 0, 1<<20, l.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) < 2 {
		t.Fatalf("want chunks from several segments, got %d", len(cs))
	}
	if err := l.DeleteRecordsBefore(l.LogEndOffset() - 1); err != nil {
		t.Fatal(err)
	}
	if got := chunkBytes(t, cs); !bytes.Equal(got, want) {
		t.Fatal("chunk bytes changed after the segments were deleted")
	}
	ReleaseChunks(cs)
}
