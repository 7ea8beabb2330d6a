package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/tiering"
)

func testListMany(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	// More keys than one S3 listing page (1000) holds.
	const n = 1100
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("many/%05d", i)
	}
	parallel(t, 8, n, func(i int) error {
		return s.Put(ctx, keys[i], strings.NewReader(keys[i]), int64(len(keys[i])))
	})
	if got := keysOf(listAll(t, ctx, s, "many/")); !slices.Equal(got, keys) {
		t.Errorf("List(\"many/\") = %d keys, want %d in order", len(got), n)
	}
	if got := keysOf(listAll(t, ctx, s, "many/01")); !slices.Equal(got, keys[1000:1100]) {
		t.Errorf("List(\"many/01\") = %d keys, want %d in order", len(got), 100)
	}
	// A callback can stop a walk that spans pages.
	count := 0
	err := s.List(ctx, "many/", func(tiering.ObjectInfo) error {
		count++
		if count == 1050 {
			return io.ErrShortBuffer
		}
		return nil
	})
	if !errors.Is(err, io.ErrShortBuffer) || count != 1050 {
		t.Errorf("List stopped at %d with %v, want 1050 and the callback's error", count, err)
	}
}

// parallel runs fn(0..n-1) on workers goroutines and fails t on errors.
func parallel(t *testing.T, workers, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, n)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testDelete(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	put(t, ctx, s, "del/a", []byte("a"))
	put(t, ctx, s, "del/b", []byte("b"))
	put(t, ctx, s, "del/deep/p/q", []byte("q"))
	if err := s.Delete(ctx, "del/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Stat(ctx, "del/a")
	checkErr(t, "Stat after Delete", err, tiering.ErrNotFound)
	_, err = tryGet(ctx, s, "del/a", 0, -1)
	checkErr(t, "Get after Delete", err, tiering.ErrNotFound)
	for _, key := range []string{"del/a", "del/never", "del", "del/deep/p"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) of no object = %v, want nil", key, err)
		}
	}
	if got := keysOf(listAll(t, ctx, s, "del/")); !slices.Equal(got, []string{"del/b", "del/deep/p/q"}) {
		t.Errorf("List after Delete = %q", got)
	}
	// A key can be written again after its object and the objects next
	// to it are gone.
	if err := s.Delete(ctx, "del/deep/p/q"); err != nil {
		t.Fatal(err)
	}
	put(t, ctx, s, "del/deep/p/q", []byte("again"))
	if got := get(t, ctx, s, "del/deep/p/q", 0, -1); string(got) != "again" {
		t.Errorf("Get after Delete and Put = %q", got)
	}
	if got := keysOf(listAll(t, ctx, s, "del/")); !slices.Equal(got, []string{"del/b", "del/deep/p/q"}) {
		t.Errorf("List after Delete and Put = %q", got)
	}
}

func testInvalidKeys(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	put(t, ctx, s, "valid/key", []byte("x"))
	for _, key := range []string{"", "/valid/key", "valid/key/", "valid//key", "../valid/key", "valid/../valid/key", "valid/./key", ".tmp/x", "a b", "a\\b", "a\x00b", "a?b", strings.Repeat("x", tiering.MaxKeyLen+1)} {
		err := s.Put(ctx, key, strings.NewReader("x"), 1)
		checkErr(t, fmt.Sprintf("Put(%q)", key), err, tiering.ErrInvalidKey)
		_, err = s.Get(ctx, key, 0, -1)
		checkErr(t, fmt.Sprintf("Get(%q)", key), err, tiering.ErrInvalidKey)
		_, err = s.Stat(ctx, key)
		checkErr(t, fmt.Sprintf("Stat(%q)", key), err, tiering.ErrInvalidKey)
		err = s.Delete(ctx, key)
		checkErr(t, fmt.Sprintf("Delete(%q)", key), err, tiering.ErrInvalidKey)
	}
	if err := s.Put(ctx, "valid/neg", strings.NewReader("x"), -1); err == nil {
		t.Error("Put with a negative size succeeded")
	}
	if got := keysOf(listAll(t, ctx, s, "")); !slices.Equal(got, []string{"valid/key"}) {
		t.Errorf("List after invalid calls = %q", got)
	}
}

func testShortReader(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	data := payload(3, 10_000)
	for _, r := range []io.Reader{bytes.NewReader(data[:5000]), struct{ io.Reader }{bytes.NewReader(data[:5000])}} {
		err := s.Put(ctx, "short/new", r, int64(len(data)))
		if err == nil {
			t.Errorf("Put of %d bytes from a reader of 5000 (%T) succeeded", len(data), r)
		}
		// A retry cannot cure a short reader.
		if errors.Is(err, tiering.ErrUnavailable) {
			t.Errorf("Put from a short reader = %v, which claims the store is unavailable", err)
		}
	}
	_, err := s.Stat(ctx, "short/new")
	checkErr(t, "Stat after a short Put", err, tiering.ErrNotFound)

	old := payload(4, 777)
	put(t, ctx, s, "short/old", old)
	if err := s.Put(ctx, "short/old", struct{ io.Reader }{bytes.NewReader(data[:5000])}, int64(len(data))); err == nil {
		t.Error("short Put over an object succeeded")
	}
	if got := get(t, ctx, s, "short/old", 0, -1); !bytes.Equal(got, old) {
		t.Errorf("a failed Put changed the object: %d bytes, want the old %d", len(got), len(old))
	}
	// Put reads no more than size bytes.
	put(t, ctx, s, "short/prefix", nil)
	if err := s.Put(ctx, "short/prefix", struct{ io.Reader }{bytes.NewReader(data)}, 100); err != nil {
		t.Fatalf("Put of the first 100 bytes of a longer reader: %v", err)
	}
	if got := get(t, ctx, s, "short/prefix", 0, -1); !bytes.Equal(got, data[:100]) {
		t.Errorf("Put of 100 bytes stored %d", len(got))
	}
}

func testCancelled(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	put(t, ctx, s, "cancel/obj", []byte("x"))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	dctx, dcancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer dcancel()
	for _, tc := range []struct {
		ctx  context.Context
		want error
	}{{cctx, context.Canceled}, {dctx, context.DeadlineExceeded}} {
		err := s.Put(tc.ctx, "cancel/new", strings.NewReader("y"), 1)
		checkErr(t, "Put", err, tc.want)
		_, err = s.Get(tc.ctx, "cancel/obj", 0, -1)
		checkErr(t, "Get", err, tc.want)
		_, err = s.Stat(tc.ctx, "cancel/obj")
		checkErr(t, "Stat", err, tc.want)
		err = s.List(tc.ctx, "", func(tiering.ObjectInfo) error { return nil })
		checkErr(t, "List", err, tc.want)
		err = s.Delete(tc.ctx, "cancel/obj")
		checkErr(t, "Delete", err, tc.want)
	}
	if got := keysOf(listAll(t, ctx, s, "")); !slices.Equal(got, []string{"cancel/obj"}) {
		t.Errorf("objects after cancelled calls = %q, want only cancel/obj", got)
	}
}

// cancelReader serves r and cancels a context once after bytes. It hides
// any ReaderAt of r, so a store reads it as a stream.
type cancelReader struct {
	r      io.Reader
	after  int64
	n      int64
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.n >= c.after {
		c.cancel()
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// testCancelPut cancels a Put halfway through reading its data. Whatever
// Put returns, the key must hold a whole object: the old one or, if the
// Put completed before it noticed, the new one. Put fails with the
// context's error in the usual case; the S3 store can only report what
// its request did, and a server may complete a request the client gave up.
func testCancelPut(t *testing.T, s tiering.ObjectStore, opts Options) {
	ctx := testContext(t)
	for _, size := range []int64{1 << 20, opts.LargeObjectSize} {
		key := fmt.Sprintf("cancelput/%d", size)
		old, data := payload(5, 999), payload(6, size)
		put(t, ctx, s, key, old)
		cctx, cancel := context.WithCancel(ctx)
		err := s.Put(cctx, key, &cancelReader{r: bytes.NewReader(data), after: size / 2, cancel: cancel}, size)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Put cancelled halfway = %v, want context.Canceled", err)
		}
		got := get(t, ctx, s, key, 0, -1)
		switch {
		case bytes.Equal(got, old):
			if err == nil {
				t.Errorf("Put of %d bytes returned nil but the old object is still there", size)
			}
		case bytes.Equal(got, data):
		default:
			t.Errorf("after a cancelled Put the object has %d bytes: neither the old nor the new object", len(got))
		}
	}
}

func testCancelGet(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	// Larger than socket buffers, so the data cannot all be in flight.
	data := payload(7, 16<<20)
	put(t, ctx, s, "cancelget/obj", data)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rc, err := s.Get(cctx, "cancelget/obj", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	cancel()
	n, err := io.Copy(io.Discard, rc)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("reading after cancel: %d bytes, err = %v; want context.Canceled", n, err)
	}
}

func testLargeObject(t *testing.T, s tiering.ObjectStore, opts Options) {
	ctx := testContext(t)
	size := opts.LargeObjectSize
	for i, mk := range []func([]byte) io.Reader{
		func(b []byte) io.Reader { return bytes.NewReader(b) },                      // parallel parts
		func(b []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(b)} }, // a stream
	} {
		data := payload(uint64(10+i), size)
		if err := s.Put(ctx, "large/obj", mk(data), size); err != nil {
			t.Fatalf("Put of %d bytes: %v", size, err)
		}
		got := get(t, ctx, s, "large/obj", 0, -1)
		if sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("Get of a %d-byte object returned %d bytes that differ", size, len(got))
		}
		oi, err := s.Stat(ctx, "large/obj")
		if err != nil || oi.Size != size {
			t.Errorf("Stat = %+v, %v; want size %d", oi, err, size)
		}
		// Ranges across the 5 MiB boundaries where S3 parts may end.
		for _, off := range []int64{5<<20 - 10, 10<<20 - 3, size - 7} {
			if got := get(t, ctx, s, "large/obj", off, 20); !bytes.Equal(got, data[off:min(off+20, size)]) {
				t.Errorf("Get(%d, 20) of the large object differs", off)
			}
		}
	}
}

func testConcurrent(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	const workers, rounds = 8, 10
	parallel(t, workers, workers, func(w int) error {
		for r := range rounds {
			key := fmt.Sprintf("conc/%d/%d", w, r%3)
			data := payload(uint64(w*rounds+r), int64(1000+(w*rounds+r)*997%65536))
			if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
				return err
			}
			got, err := tryGet(ctx, s, key, 0, -1)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, data) {
				return fmt.Errorf("%s: read %d bytes that differ from the %d put", key, len(got), len(data))
			}
			if _, err := s.Stat(ctx, key); err != nil {
				return err
			}
		}
		return nil
	})
	if got := listAll(t, ctx, s, "conc/"); len(got) != workers*3 {
		t.Errorf("List after concurrent puts = %d keys, want %d", len(got), workers*3)
	}
}

// testAtomic overwrites one key again and again while readers read it
// whole: each read must be exactly one of the versions written.
func testAtomic(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	const key, versions, readers = "atomic/obj", 16, 4
	version := func(v int) []byte { return bytes.Repeat([]byte{byte(v)}, 256<<10+v*4099) }
	put(t, ctx, s, key, version(0))
	done := make(chan struct{})
	var wg sync.WaitGroup
	var reads [readers]int
	for r := range readers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					if reads[r] > 0 {
						return
					}
				default:
				}
				got, err := tryGet(ctx, s, key, 0, -1)
				if err != nil {
					t.Errorf("Get during overwrites: %v", err)
					return
				}
				reads[r]++
				if len(got) == 0 || !bytes.Equal(got, version(int(got[0]))) {
					t.Errorf("Get during overwrites returned %d bytes, not one whole version", len(got))
					return
				}
			}
		})
	}
	for v := 1; v < versions; v++ {
		if err := s.Put(ctx, key, bytes.NewReader(version(v)), int64(len(version(v)))); err != nil {
			t.Errorf("Put version %d: %v", v, err)
			break
		}
	}
	close(done)
	wg.Wait()
	if got := get(t, ctx, s, key, 0, -1); !bytes.Equal(got, version(versions-1)) {
		t.Errorf("after the overwrites the object has %d bytes, not the last version", len(got))
	}
}
