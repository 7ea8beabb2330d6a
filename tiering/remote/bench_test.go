package remote

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/protocol"
	"github.com/strata-io/strata/tiering"
	"github.com/strata-io/strata/tiering/s3test"
)

// fillFast appends batches of 16 records of 1 KiB (random bytes, taken
// from a pool) until the log holds total bytes.
func fillFast(tb testing.TB, lg *testLog, total int64) {
	tb.Helper()
	pool := make([]byte, 4<<20)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(pool)
	recs := make([]protocol.Record, 16)
	for lg.Size() < total {
		for i := range recs {
			off := lg.rng.IntN(len(pool) - 1024)
			lg.ts++
			recs[i] = protocol.Record{Timestamp: lg.ts, Value: pool[off : off+1024]}
		}
		b, err := protocol.AppendBatch(nil, protocol.BatchHeader{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, protocol.CodecNone, recs)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := lg.Append(b, appendOpts(lg)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := lg.Roll(); err != nil {
		tb.Fatal(err)
	}
}

// benchUploaded fills a log with total bytes in segments of segmentBytes
// and uploads it to store; it reports the upload throughput.
func benchUploaded(b *testing.B, store tiering.ObjectStore, total, segmentBytes int64) (*testLog, []metadata.RemoteSegment) {
	b.Helper()
	lg := newTestLog(b, b.TempDir(), newTP(), segmentBytes)
	fillFast(b, lg, total)
	cfg := testUploaderConfig(b, store, newCatalogue(b))
	cfg.IndexIntervalBytes = DefaultIndexIntervalBytes
	u := startUploader(b, cfg)
	start := time.Now()
	enqueueAll(b, u, lg.closed(1))
	drain(b, u)
	b.Logf("uploaded %d MiB in %v: %.0f MB/s", total>>20, time.Since(start).Round(time.Millisecond), float64(u.Stats().BytesUploaded)/time.Since(start).Seconds()/1e6)
	segs, err := u.RemoteSegments(b.Context(), lg.tp)
	if err != nil {
		b.Fatal(err)
	}
	return lg, segs
}

func benchReader(b *testing.B, store tiering.ObjectStore, readAhead int) *Reader {
	cfg := NewReaderConfig()
	cfg.Store, cfg.ReadAhead = store, readAhead
	r, err := NewReader(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// catchUp reads segs from the start to the end, maxBytes per fetch, as a
// consumer catching up on one partition does, and returns the bytes read.
func catchUp(b *testing.B, r *Reader, segs []metadata.RemoteSegment, maxBytes int) int64 {
	end := segs[len(segs)-1].LastOffset + 1
	var buf []byte
	var total int64
	for off := int64(0); off < end; {
		var err error
		buf, err = r.ReadInto(b.Context(), buf[:0], segs, off, maxBytes, end, true)
		if err != nil {
			b.Fatal(err)
		}
		h, _ := lastBatch(b, buf)
		off = h.lastOffset() + 1
		total += int64(len(buf))
	}
	return total
}

// BenchmarkCatchUpS3 measures cold catch-up reads from a local S3 server
// (versitygw): a consumer reads 256 MiB that are only in the object
// store, from the first offset, 1 MiB per fetch (Kafka's default
// max.partition.fetch.bytes), with a cold cache each time.
func BenchmarkCatchUpS3(b *testing.B) {
	srv := s3test.Start(b)
	store := newS3Store(b, srv)
	_, segs := benchUploaded(b, store, 256<<20, 64<<20)
	var size int64
	for _, s := range segs {
		size += s.Size
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r := benchReader(b, store, DefaultReadAhead)
		if n := catchUp(b, r, segs, 1<<20); n != size {
			b.Fatalf("read %d bytes of %d", n, size)
		}
		r.Close()
	}
}

// BenchmarkFirstBatchS3 measures the time to the first batch of a cold
// read at a random offset in the middle of a segment (index GET, then
// one block GET) from a local S3 server.
func BenchmarkFirstBatchS3(b *testing.B) {
	srv := s3test.Start(b)
	store := newS3Store(b, srv)
	_, segs := benchUploaded(b, store, 128<<20, 64<<20)
	end := segs[len(segs)-1].LastOffset + 1
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		r := benchReader(b, store, DefaultReadAhead)
		out, err := r.Read(b.Context(), segs, 1+rng.Int64N(end-1), 1<<20, end, true)
		if err != nil || len(out) == 0 {
			b.Fatalf("Read = %d bytes, %v", len(out), err)
		}
		r.Close()
	}
}

// BenchmarkReadAhead shows what read-ahead does for a sequential reader
// when every GET takes 2 ms: fetches of one block each, with and
// without read-ahead.
func BenchmarkReadAhead(b *testing.B) {
	store := &faultyStore{ObjectStore: newFSStore(b)}
	_, segs := benchUploaded(b, store, 16<<20, 4<<20)
	d := 2 * time.Millisecond
	store.getDelay.Store(&d)
	var size int64
	for _, s := range segs {
		size += s.Size
	}
	for _, ra := range []int{0, 4, 8} {
		b.Run(fmt.Sprintf("readahead=%d", ra), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				cfg := NewReaderConfig()
				cfg.Store, cfg.ReadAhead, cfg.BlockSize = store, ra, 256<<10
				r, err := NewReader(cfg)
				if err != nil {
					b.Fatal(err)
				}
				catchUp(b, r, segs, 256<<10)
				r.Close()
			}
		})
	}
}

// BenchmarkUploadS3 measures uploading 64 MiB segments to a local S3
// server: streaming each through the scanner, its index objects and its
// catalogue entry.
func BenchmarkUploadS3(b *testing.B) {
	srv := s3test.Start(b)
	store := newS3Store(b, srv)
	lg := newTestLog(b, b.TempDir(), newTP(), 64<<20)
	fillFast(b, lg, 128<<20)
	segs := lg.closed(1)
	var size int64
	for _, s := range segs {
		size += s.Size
	}
	b.SetBytes(size)
	b.ReportAllocs()
	epoch := int32(1)
	for b.Loop() {
		cfg := testUploaderConfig(b, store, newCatalogue(b))
		u, err := NewUploader(cfg)
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- u.Run(b.Context()) }()
		for _, s := range segs {
			s.LeaderEpoch = epoch
			if err := u.Enqueue(s); err != nil {
				b.Fatal(err)
			}
		}
		if err := u.Drain(b.Context()); err != nil {
			b.Fatal(err)
		}
		u.Close()
		<-done
		epoch++
	}
}
