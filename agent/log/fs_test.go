package log

import (
	"errors"
	"io"
	iofs "io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFS runs one suite against every FS implementation.
func TestFS(t *testing.T) {
	impls := map[string]func(t *testing.T) (FS, string){
		"os":  func(t *testing.T) (FS, string) { return NewOSFS(), t.TempDir() },
		"mem": func(t *testing.T) (FS, string) { return NewMemFS(), "/tmp/x" },
	}
	for name, mk := range impls {
		t.Run(name, func(t *testing.T) {
			fs, root := mk(t)
			testFSSuite(t, fs, root)
		})
	}
}

func readAllFile(t *testing.T, fs FS, name string) []byte {
	t.Helper()
	b, err := readWholeFile(fs, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

func testFSSuite(t *testing.T, fs FS, root string) {
	dir := filepath.Join(root, "a", "b")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fs.MkdirAll(dir, 0o755))
	must(fs.MkdirAll(dir, 0o755)) // idempotent
	p := filepath.Join(dir, "f")
	if _, err := fs.Open(p); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("Open of a missing file: %v", err)
	}
	f, err := fs.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	must(err)
	if _, err := fs.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("O_EXCL on an existing file: %v", err)
	}
	for _, s := range []string{"hello ", "world"} {
		if n, err := f.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	buf := make([]byte, 5)
	if n, err := f.ReadAt(buf, 6); n != 5 || err != nil || string(buf) != "world" {
		t.Fatalf("ReadAt = %d %v %q", n, err, buf)
	}
	if n, err := f.ReadAt(buf, 8); n != 3 || err != io.EOF {
		t.Fatalf("short ReadAt = %d, %v", n, err)
	}
	must(f.Truncate(5))
	_, err = f.Write([]byte("!")) // O_APPEND: at the new end
	must(err)
	must(f.Sync())
	st, err := f.Stat()
	must(err)
	if st.Size() != 6 {
		t.Fatalf("size %d", st.Size())
	}
	must(f.Close())
	if got := readAllFile(t, fs, p); string(got) != "hello!" {
		t.Fatalf("content %q", got)
	}
	c, err := fs.Create(p) // truncates
	must(err)
	_, err = c.Write([]byte("new"))
	must(err)
	must(c.Close())
	if got := readAllFile(t, fs, p); string(got) != "new" {
		t.Fatalf("after Create: %q", got)
	}
	q := filepath.Join(dir, "g")
	must(fs.Rename(p, q))
	must(fs.SyncDir(dir))
	names, err := fs.ReadDir(dir)
	must(err)
	if !slices.Equal(names, []string{"g"}) {
		t.Fatalf("ReadDir = %v", names)
	}
	r, err := fs.Open(q)
	must(err)
	if _, err := r.Write([]byte("x")); err == nil {
		t.Fatalf("Write on a read-only file succeeded")
	}
	must(fs.Remove(q))
	// An open handle keeps reading an unlinked file.
	if n, err := r.ReadAt(buf[:3], 0); n != 3 || err != nil || string(buf[:3]) != "new" {
		t.Fatalf("ReadAt after Remove = %d, %v", n, err)
	}
	must(r.Close())
	if err := fs.Remove(q); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("second Remove: %v", err)
	}
	must(fs.Remove(dir))
	if _, err := fs.ReadDir(dir); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("ReadDir of a removed dir: %v", err)
	}
}

func TestMemFSCrash(t *testing.T) {
	m := NewMemFS()
	dir := "/d"
	if err := m.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string, sync bool) File {
		f, err := m.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(s))
		if sync {
			f.Sync()
		}
		return f
	}
	a := write("a", "durable", true)
	m.SyncDir(dir)
	a.Write([]byte("+lost"))
	c := write("c", "x", true)
	m.SyncDir(dir)
	write("b", "synced data, unsynced entry", true)
	c.Truncate(0) // unsynced truncation
	m.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "a2"))
	m.Crash()
	names, _ := m.ReadDir(dir)
	if !slices.Equal(names, []string{"a", "c"}) {
		t.Fatalf("after crash: %v", names)
	}
	if got := readAllFile(t, m, "/d/a"); string(got) != "durable" {
		t.Fatalf("a = %q", got)
	}
	if got := readAllFile(t, m, "/d/c"); string(got) != "x" {
		t.Fatalf("c = %q", got)
	}
	// Old handles no longer reach the new files.
	a.Write([]byte("zombie"))
	if got := readAllFile(t, m, "/d/a"); string(got) != "durable" {
		t.Fatalf("a after a zombie write = %q", got)
	}
}

func TestMemFSCrashPartialKeepsPrefix(t *testing.T) {
	for seed := range 50 {
		m := NewMemFS()
		m.MkdirAll("/d", 0o755)
		f, _ := m.Create("/d/f")
		f.Write([]byte("0123"))
		f.Sync()
		m.SyncDir("/d")
		f.Write([]byte("456789"))
		m.CrashPartial(rand.New(rand.NewPCG(uint64(seed), 0)))
		got := string(readAllFile(t, m, "/d/f"))
		if len(got) < 4 || got != "0123456789"[:len(got)] {
			t.Fatalf("seed %d: %q is not a prefix of the writes", seed, got)
		}
	}
}

func TestMemFSFaults(t *testing.T) {
	m := NewMemFS()
	m.MkdirAll("/d", 0o755)
	f, _ := m.Create("/d/f")
	m.FailWrite(2, true)
	if _, err := f.Write([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Write([]byte("cdef")); !errors.Is(err, ErrInjectedFault) || n != 2 {
		t.Fatalf("failing partial write = %d, %v", n, err)
	}
	if got := readAllFile(t, m, "/d/f"); string(got) != "abcd" {
		t.Fatalf("content %q", got)
	}
	m.FailSync(1)
	if err := f.Sync(); !errors.Is(err, ErrInjectedFault) {
		t.Fatalf("failing sync: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("next sync: %v", err)
	}
}
