package fsstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/strata-io/strata/tiering"
	"github.com/strata-io/strata/tiering/storetest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "objects"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tiering.ObjectStore { return newStore(t) }, storetest.Options{})
}

func TestLayout(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if err := s.Put(ctx, "c1/topic/0/00000000000000000000-1.log", strings.NewReader("batch"), 5); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir(), "c1", "topic", "0", "00000000000000000000-1.log"))
	if err != nil || string(b) != "batch" {
		t.Fatalf("object file = %q, %v", b, err)
	}
	tmp, err := os.ReadDir(filepath.Join(s.Dir(), tmpDirName))
	if err != nil || len(tmp) != 0 {
		t.Errorf("temporary directory after Put = %v, %v; want empty", tmp, err)
	}
}

func TestKeyConflict(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	put := func(key string) error { return s.Put(ctx, key, strings.NewReader("x"), 1) }
	if err := put("a/b"); err != nil {
		t.Fatal(err)
	}
	if err := put("a/b/c"); !errors.Is(err, tiering.ErrKeyConflict) {
		t.Errorf("Put below an object = %v, want ErrKeyConflict", err)
	}
	if err := put("a/b/c/d"); !errors.Is(err, tiering.ErrKeyConflict) {
		t.Errorf("Put two levels below an object = %v, want ErrKeyConflict", err)
	}
	if err := put("x/y/z"); err != nil {
		t.Fatal(err)
	}
	if err := put("x/y"); !errors.Is(err, tiering.ErrKeyConflict) {
		t.Errorf("Put over a directory of keys = %v, want ErrKeyConflict", err)
	}
	if got, err := s.Stat(ctx, "a/b"); err != nil || got.Size != 1 {
		t.Errorf("object after conflicting Puts = %+v, %v", got, err)
	}
	// An empty directory left by an interrupted Delete does not block a
	// Put of its name.
	if err := os.MkdirAll(filepath.Join(s.Dir(), "e", "f"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := put("e/f"); err != nil {
		t.Errorf("Put over an empty directory: %v", err)
	}
}

func TestOpenRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "k", strings.NewReader("v"), 1); err != nil {
		t.Fatal(err)
	}
	// A crash mid-Put leaves a temporary file behind.
	left := filepath.Join(dir, tmpDirName, "put-123")
	if err := os.WriteFile(left, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file after Open: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "k")); err != nil || string(b) != "v" {
		t.Errorf("object after reopening = %q, %v", b, err)
	}
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestListSkipsForeignFiles(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if err := s.Put(ctx, "p/obj", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".hidden", "p/.partial", "p/with space", "p/caf\u00e9"} {
		if err := os.WriteFile(filepath.Join(s.Dir(), name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("obj", filepath.Join(s.Dir(), "p", "link")); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := s.List(ctx, "", func(oi tiering.ObjectInfo) error {
		keys = append(keys, oi.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"p/obj"}) {
		t.Errorf("List = %q, want only p/obj", keys)
	}
}

func TestDeletePrunesDirectories(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	for _, k := range []string{"t/1/a", "t/1/b", "t/2/a"} {
		if err := s.Put(ctx, k, strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"t/1/a", "t/1/b"} {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "t", "1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("emptied directory t/1 remains: %v", err)
	}
	if err := s.Delete(ctx, "t/2/a"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != tmpDirName {
		t.Errorf("store directory after deleting everything holds %v", entries)
	}
}

// TestPutDeleteRace puts and deletes keys in one directory from several
// goroutines, so Delete's pruning races Put's directory creation.
func TestPutDeleteRace(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprintf("race/d%d/k%d", i%2, w)
				if err := s.Put(ctx, key, strings.NewReader("v"), 1); err != nil {
					t.Errorf("Put(%q): %v", key, err)
					return
				}
				if err := s.Delete(ctx, key); err != nil {
					t.Errorf("Delete(%q): %v", key, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			if err := s.List(ctx, "race/", func(tiering.ObjectInfo) error { return nil }); err != nil {
				t.Errorf("List during races: %v", err)
				return
			}
		}
	})
	wg.Wait()
}

// TestGetSnapshot checks that an open reader keeps the object it opened
// across a replacement and a delete.
func TestGetSnapshot(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if err := s.Put(ctx, "snap", strings.NewReader("first"), 5); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "snap", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := s.Put(ctx, "snap", strings.NewReader("second"), 6); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "snap"); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(rc); err != nil || string(b) != "first" {
		t.Errorf("reader opened before the overwrite read %q, %v", b, err)
	}
}

func TestStats(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	data := bytes.Repeat([]byte("x"), 1000)
	if err := s.Put(ctx, "k", bytes.NewReader(data), 1000); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "k", 100, 300)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	_, _ = s.Stat(ctx, "k")
	_, _ = s.Stat(ctx, "missing")
	_ = s.List(ctx, "", func(tiering.ObjectInfo) error { return nil })
	_ = s.Delete(ctx, "k")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_ = s.Put(cctx, "k", bytes.NewReader(data), 1000) // not sent: not counted
	want := tiering.Stats{
		Requests:     [tiering.NumOps]int64{tiering.OpPut: 1, tiering.OpGet: 1, tiering.OpHead: 2, tiering.OpList: 1, tiering.OpDelete: 1},
		BytesWritten: 1000,
		BytesRead:    300,
	}
	if got := s.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func BenchmarkPut(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 64<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Put(b.Context(), "bench/obj", bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 64<<20)
	if err := s.Put(b.Context(), "bench/obj", bytes.NewReader(data), int64(len(data))); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rc, err := s.Get(b.Context(), "bench/obj", 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{rc}, buf); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}
