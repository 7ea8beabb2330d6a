package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/strata-io/strata/tiering"
)

// NewStore returns an empty store for one test and registers its cleanup
// with t. Stores returned for different tests must not see each other's
// objects (an S3 store can use a fresh key prefix per test).
type NewStore func(t *testing.T) tiering.ObjectStore

// Options tune the suite to a store.
type Options struct {
	// LargeObjectSize is the size of the object the LargeObject test puts
	// and reads back. Set it above an S3 store's part size so the test
	// covers multipart uploads. Zero means 12 MiB + 123 bytes.
	LargeObjectSize int64
}

// Run runs the conformance suite against the stores newStore makes.
func Run(t *testing.T, newStore NewStore, opts Options) {
	if opts.LargeObjectSize == 0 {
		opts.LargeObjectSize = 12<<20 + 123
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s tiering.ObjectStore, opts Options)
	}{
		{"PutGet", testPutGet},
		{"RangedGet", testRangedGet},
		{"RangedGetEmpty", testRangedGetEmpty},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"ListOrder", testListOrder},
		{"ListStop", testListStop},
		{"ListMany", testListMany},
		{"Delete", testDelete},
		{"InvalidKeys", testInvalidKeys},
		{"ShortReader", testShortReader},
		{"Cancelled", testCancelled},
		{"CancelPut", testCancelPut},
		{"CancelGet", testCancelGet},
		{"LargeObject", testLargeObject},
		{"Concurrent", testConcurrent},
		{"Atomic", testAtomic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t), opts)
		})
	}
}

// testTimeout bounds each test; no step should come close.
const testTimeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// payload returns n pseudo-random bytes determined by seed.
func payload(seed uint64, n int64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}

func put(t *testing.T, ctx context.Context, s tiering.ObjectStore, key string, data []byte) {
	t.Helper()
	if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

// get reads key's range [off, off+n) and fails the test on any error.
func get(t *testing.T, ctx context.Context, s tiering.ObjectStore, key string, off, n int64) []byte {
	t.Helper()
	b, err := tryGet(ctx, s, key, off, n)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, off, n, err)
	}
	return b
}

func tryGet(ctx context.Context, s tiering.ObjectStore, key string, off, n int64) ([]byte, error) {
	rc, err := s.Get(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return b, err
}

func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

// listAll returns the objects List reports under prefix.
func listAll(t *testing.T, ctx context.Context, s tiering.ObjectStore, prefix string) []tiering.ObjectInfo {
	t.Helper()
	var got []tiering.ObjectInfo
	if err := s.List(ctx, prefix, func(oi tiering.ObjectInfo) error {
		got = append(got, oi)
		return nil
	}); err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
}

func keysOf(ois []tiering.ObjectInfo) []string {
	keys := make([]string, len(ois))
	for i, oi := range ois {
		keys[i] = oi.Key
	}
	return keys
}

func testPutGet(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	for i, n := range []int64{0, 1, 4096 + 7, 1 << 20} {
		key := fmt.Sprintf("putget/obj-%d.bin", n)
		data := payload(uint64(i), n)
		before := time.Now()
		put(t, ctx, s, key, data)
		if got := get(t, ctx, s, key, 0, -1); !bytes.Equal(got, data) {
			t.Errorf("Get(%q) returned %d bytes, not the %d put", key, len(got), n)
		}
		oi, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		if oi.Key != key || oi.Size != n || oi.ETag == "" {
			t.Errorf("Stat(%q) = %+v, want key %q, size %d and an ETag", key, oi, key, n)
		}
		// Object stores keep whole seconds; allow for clock skew with
		// a server on another machine.
		if d := oi.ModTime.Sub(before); d < -time.Minute || d > time.Minute {
			t.Errorf("Stat(%q).ModTime = %v, put at %v", key, oi.ModTime, before)
		}
	}
	// A reader without ReaderAt or Seek takes the streaming path.
	data := payload(9, 100_000)
	if err := s.Put(ctx, "putget/stream", struct{ io.Reader }{bytes.NewReader(data)}, int64(len(data))); err != nil {
		t.Fatalf("Put from a plain reader: %v", err)
	}
	if got := get(t, ctx, s, "putget/stream", 0, -1); !bytes.Equal(got, data) {
		t.Errorf("object put from a plain reader differs: %d bytes", len(got))
	}
	// Put reads size bytes from the reader's current position.
	r := bytes.NewReader(append([]byte("skip"), data...))
	if _, err := r.Seek(4, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "putget/seeked", r, 1000); err != nil {
		t.Fatalf("Put from a seeked reader: %v", err)
	}
	if got := get(t, ctx, s, "putget/seeked", 0, -1); !bytes.Equal(got, data[:1000]) {
		t.Errorf("object put from a seeked reader = %d bytes, want the 1000 after the position", len(got))
	}
}

func testRangedGet(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	const key = "ranged/obj"
	data := payload(1, 1000)
	put(t, ctx, s, key, data)
	for _, tc := range []struct {
		off, n int64
		want   []byte
	}{
		{0, -1, data},
		{0, 10, data[:10]},
		{500, 100, data[500:600]},
		{250, -1, data[250:]},
		{990, 10, data[990:]},
		{990, 100, data[990:]}, // cut short at the end
		{999, 1, data[999:]},
		{0, 1000, data},
		{0, 5000, data},
		{400, 0, nil},
		{1000, 10, nil}, // at the end: empty, not an error
		{1000, -1, nil},
		{1000, 0, nil},
	} {
		got := get(t, ctx, s, key, tc.off, tc.n)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("Get(%d, %d) = %d bytes, want %d", tc.off, tc.n, len(got), len(tc.want))
		}
	}
	for _, tc := range []struct{ off, n int64 }{{1001, 1}, {1001, -1}, {5000, 10}, {-1, 10}, {-1, -1}} {
		_, err := tryGet(ctx, s, key, tc.off, tc.n)
		checkErr(t, fmt.Sprintf("Get(%d, %d)", tc.off, tc.n), err, tiering.ErrInvalidRange)
	}
}

func testRangedGetEmpty(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	const key = "ranged/empty"
	put(t, ctx, s, key, nil)
	for _, tc := range []struct{ off, n int64 }{{0, -1}, {0, 0}, {0, 10}} {
		if got := get(t, ctx, s, key, tc.off, tc.n); len(got) != 0 {
			t.Errorf("Get(%d, %d) of an empty object = %d bytes", tc.off, tc.n, len(got))
		}
	}
	_, err := tryGet(ctx, s, key, 1, 1)
	checkErr(t, "Get(1, 1) of an empty object", err, tiering.ErrInvalidRange)
}

func testOverwrite(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	const key = "overwrite/obj"
	a, b := payload(1, 3000), payload(2, 1234)
	put(t, ctx, s, key, a)
	oa, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	put(t, ctx, s, key, b)
	if got := get(t, ctx, s, key, 0, -1); !bytes.Equal(got, b) {
		t.Errorf("Get after overwrite = %d bytes, want the second object's %d", len(got), len(b))
	}
	ob, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if ob.Size != int64(len(b)) || ob.ETag == oa.ETag {
		t.Errorf("Stat after overwrite = %+v; before = %+v", ob, oa)
	}
	if got := keysOf(listAll(t, ctx, s, "overwrite/")); !slices.Equal(got, []string{key}) {
		t.Errorf("List after overwrite = %q", got)
	}
}

func testNotFound(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	put(t, ctx, s, "nf/dir/obj", []byte("x"))
	// "nf/dir" is a prefix of a key, not an object.
	for _, key := range []string{"nf/missing", "nf/dir", "nf/dir/obj/below", "nf/di"} {
		_, err := s.Stat(ctx, key)
		checkErr(t, fmt.Sprintf("Stat(%q)", key), err, tiering.ErrNotFound)
		_, err = tryGet(ctx, s, key, 0, -1)
		checkErr(t, fmt.Sprintf("Get(%q)", key), err, tiering.ErrNotFound)
		_, err = tryGet(ctx, s, key, 10, 10)
		checkErr(t, fmt.Sprintf("Get(%q, 10, 10)", key), err, tiering.ErrNotFound)
	}
}

func testListOrder(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	if got := listAll(t, ctx, s, ""); len(got) != 0 {
		t.Fatalf("List of an empty store = %q", keysOf(got))
	}
	// Byte order puts '-' (0x2d) and '.' (0x2e) before '/' (0x2f), so
	// "a-c" and "a.d" come before the keys under "a/", and "a0" after.
	keys := []string{"x/y/z", "a0", "a/b", "a.d", "b", "a-c", "a/a=1", "a/A", "B", "a/b0/c"}
	for i, k := range keys {
		put(t, ctx, s, k, payload(uint64(i), int64(i)))
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	all := listAll(t, ctx, s, "")
	if got := keysOf(all); !slices.Equal(got, want) {
		t.Errorf("List(\"\") = %q, want %q", got, want)
	}
	for _, oi := range all {
		i := slices.Index(keys, oi.Key)
		if oi.Size != int64(i) || oi.ETag == "" || oi.ModTime.IsZero() {
			t.Errorf("List reported %+v, want size %d, an ETag and a ModTime", oi, i)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"a", []string{"a-c", "a.d", "a/A", "a/a=1", "a/b", "a/b0/c", "a0"}},
		{"a/", []string{"a/A", "a/a=1", "a/b", "a/b0/c"}},
		{"a/b", []string{"a/b", "a/b0/c"}},
		{"a/b0/", []string{"a/b0/c"}},
		{"a/b/", nil},
		{"x/y/", []string{"x/y/z"}},
		{"x/y/z", []string{"x/y/z"}},
		{"x/y/z/", nil},
		{"nope", nil},
		{"B", []string{"B"}},
	} {
		if got := keysOf(listAll(t, ctx, s, tc.prefix)); !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

func testListStop(t *testing.T, s tiering.ObjectStore, _ Options) {
	ctx := testContext(t)
	for i := range 5 {
		put(t, ctx, s, fmt.Sprintf("stop/%d", i), nil)
	}
	stop := errors.New("enough")
	var seen []string
	err := s.List(ctx, "stop/", func(oi tiering.ObjectInfo) error {
		seen = append(seen, oi.Key)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("List whose callback fails = %v, want the callback's error", err)
	}
	if !slices.Equal(seen, []string{"stop/0", "stop/1"}) {
		t.Errorf("List went on after the callback failed: %q", seen)
	}
}
