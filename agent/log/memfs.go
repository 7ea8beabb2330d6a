package log

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// MemFS is an in-memory FS for tests that can fail chosen operations and
// simulate a crash (in the style of pebble's strict vfs.MemFS).
//
// It keeps, per file, the content written so far and the content as of the
// last File.Sync, and per directory the entries as of the last SyncDir.
// Crash drops everything that was not synced; CrashPartial models a kernel
// that wrote some dirty data back before power was lost: each file keeps a
// random prefix of what was appended after its last sync, and a random prefix
// (in order) of the unsynced directory changes survives. Directories created
// with MkdirAll are durable at once.
//
// MemFS is safe for concurrent use. Handles opened before a crash stay
// usable but no longer reach the files a later Open sees.
type MemFS struct {
	mu      sync.Mutex
	live    map[string]*memNode // guarded by mu: current namespace
	durable map[string]*memNode // guarded by mu: namespace a crash returns to
	dirs    map[string]bool     // guarded by mu
	pending []memOp             // guarded by mu: unsynced namespace changes, oldest first

	writes, syncs         int64 // guarded by mu: operations so far
	failWriteAt, failSync int64 // guarded by mu: operation number to fail, 0 = none
	partialWrite          bool  // guarded by mu
}

type memNode struct {
	data     []byte
	synced   []byte // content as of the last Sync
	dirty    bool   // data differs from synced
	dirtyLow int    // lowest position changed since the last Sync
	modTime  time.Time
}

type memOpKind int

const (
	memCreate memOpKind = iota
	memRename
	memRemove
)

type memOp struct {
	kind memOpKind
	dir  string
	path string
	from string // memRename source
	node *memNode
}

// NewMemFS returns an empty MemFS whose root directory "/" exists.
func NewMemFS() *MemFS {
	return &MemFS{
		live:    make(map[string]*memNode),
		durable: make(map[string]*memNode),
		dirs:    map[string]bool{"/": true, ".": true},
	}
}

// FailWrite makes the n-th File.Write from now (n >= 1) fail with
// ErrInjectedFault. With partial the first half of that write's bytes land
// in the file first, as with a torn write.
func (m *MemFS) FailWrite(n int, partial bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failWriteAt = m.writes + int64(n)
	m.partialWrite = partial
}

// FailSync makes the n-th File.Sync or SyncDir from now (n >= 1) fail with
// ErrInjectedFault, changing nothing.
func (m *MemFS) FailSync(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failSync = m.syncs + int64(n)
}

// Crash simulates a power loss: only synced file content and synced
// directory entries remain. Pending injected faults are cleared.
func (m *MemFS) Crash() { m.crash(nil) }

// CrashPartial simulates a power loss after a partial writeback chosen by
// rng (see MemFS).
func (m *MemFS) CrashPartial(rng *rand.Rand) { m.crash(rng) }

func (m *MemFS) crash(rng *rand.Rand) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rng != nil {
		k := rng.IntN(len(m.pending) + 1)
		for _, op := range m.pending[:k] {
			m.applyDurable(op)
		}
	}
	m.pending = nil
	m.failWriteAt, m.failSync = 0, 0
	fresh := make(map[string]*memNode, len(m.durable))
	for p, n := range m.durable {
		content := n.synced
		if rng != nil && n.dirty && n.dirtyLow >= len(n.synced) && len(n.data) > len(n.synced) {
			content = n.data[:len(n.synced)+rng.IntN(len(n.data)-len(n.synced)+1)]
		}
		c := slices.Clone(content)
		fresh[p] = &memNode{data: c, synced: slices.Clone(c), modTime: n.modTime}
	}
	m.live = fresh
	m.durable = make(map[string]*memNode, len(fresh))
	for p, n := range fresh {
		m.durable[p] = n
	}
}

func (m *MemFS) applyDurable(op memOp) {
	switch op.kind {
	case memCreate:
		m.durable[op.path] = op.node
	case memRename:
		delete(m.durable, op.from)
		m.durable[op.path] = op.node
	case memRemove:
		delete(m.durable, op.path)
	}
}

func memPath(name string) string { return filepath.Clean(name) }

func notExist(op, name string) error {
	return &iofs.PathError{Op: op, Path: name, Err: iofs.ErrNotExist}
}

// Open implements FS.
func (m *MemFS) Open(name string) (File, error) { return m.OpenFile(name, os.O_RDONLY, 0) }

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) {
	return m.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// OpenFile implements FS.
func (m *MemFS) OpenFile(name string, flag int, _ os.FileMode) (File, error) {
	p := memPath(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.live[p]
	switch {
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &iofs.PathError{Op: "open", Path: name, Err: iofs.ErrExist}
	case !ok && flag&os.O_CREATE == 0:
		return nil, notExist("open", name)
	case !ok:
		if m.dirs[p] {
			return nil, &iofs.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
		}
		dir := filepath.Dir(p)
		if !m.dirs[dir] {
			return nil, notExist("open", name)
		}
		n = &memNode{modTime: time.Now()}
		m.live[p] = n
		m.pending = append(m.pending, memOp{kind: memCreate, dir: dir, path: p, node: n})
	}
	writable := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if ok && flag&os.O_TRUNC != 0 && writable {
		n.truncate(0)
	}
	return &memFile{fs: m, node: n, name: filepath.Base(p), writable: writable, append: flag&os.O_APPEND != 0}, nil
}

// Rename implements FS.
func (m *MemFS) Rename(oldname, newname string) error {
	from, to := memPath(oldname), memPath(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.live[from]
	if !ok {
		return notExist("rename", oldname)
	}
	if !m.dirs[filepath.Dir(to)] {
		return notExist("rename", newname)
	}
	delete(m.live, from)
	m.live[to] = n
	m.pending = append(m.pending, memOp{kind: memRename, dir: filepath.Dir(to), path: to, from: from, node: n})
	return nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	p := memPath(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live[p]; ok {
		delete(m.live, p)
		m.pending = append(m.pending, memOp{kind: memRemove, dir: filepath.Dir(p), path: p})
		return nil
	}
	if !m.dirs[p] {
		return notExist("remove", name)
	}
	for q := range m.live {
		if filepath.Dir(q) == p {
			return &iofs.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
		}
	}
	for d := range m.dirs {
		if d != p && filepath.Dir(d) == p {
			return &iofs.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
		}
	}
	delete(m.dirs, p)
	return nil
}

// ReadDir implements FS.
func (m *MemFS) ReadDir(dir string) ([]string, error) {
	p := memPath(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[p] {
		return nil, notExist("readdir", dir)
	}
	var names []string
	for q := range m.live {
		if filepath.Dir(q) == p {
			names = append(names, filepath.Base(q))
		}
	}
	for d := range m.dirs {
		if d != p && filepath.Dir(d) == p {
			names = append(names, filepath.Base(d))
		}
	}
	slices.Sort(names)
	return names, nil
}

// MkdirAll implements FS; directories are durable at once.
func (m *MemFS) MkdirAll(dir string, _ os.FileMode) error {
	p := memPath(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := p; !m.dirs[d]; d = filepath.Dir(d) {
		if _, isFile := m.live[d]; isFile {
			return &iofs.PathError{Op: "mkdir", Path: dir, Err: errors.New("not a directory")}
		}
		m.dirs[d] = true
		if filepath.Dir(d) == d {
			break
		}
	}
	return nil
}

// SyncDir implements FS.
func (m *MemFS) SyncDir(dir string) error {
	p := memPath(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.countSync(); err != nil {
		return err
	}
	if !m.dirs[p] {
		return notExist("syncdir", dir)
	}
	kept := m.pending[:0]
	for _, op := range m.pending {
		if op.dir == p {
			m.applyDurable(op)
		} else {
			kept = append(kept, op)
		}
	}
	clear(m.pending[len(kept):])
	m.pending = kept
	return nil
}

// countSync counts a sync and reports whether it must fail. m.mu is held.
func (m *MemFS) countSync() error {
	m.syncs++
	if m.syncs == m.failSync {
		return fmt.Errorf("sync: %w", ErrInjectedFault)
	}
	return nil
}

func (n *memNode) markDirty(pos int) {
	if !n.dirty || pos < n.dirtyLow {
		n.dirtyLow = pos
	}
	n.dirty = true
	n.modTime = time.Now()
}

func (n *memNode) truncate(size int) {
	old := len(n.data)
	if size <= old {
		n.data = n.data[:size]
		n.markDirty(size)
		return
	}
	n.data = slices.Grow(n.data, size-old)[:size]
	clear(n.data[old:])
	n.markDirty(old)
}

type memFile struct {
	fs       *MemFS
	node     *memNode
	name     string
	writable bool
	append   bool
	pos      int  // guarded by fs.mu
	closed   bool // guarded by fs.mu
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return 0, os.ErrClosed
	}
	if off < 0 {
		return 0, errors.New("memfs: negative offset")
	}
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return 0, os.ErrClosed
	}
	if !f.writable {
		return 0, &iofs.PathError{Op: "write", Path: f.name, Err: iofs.ErrPermission}
	}
	var injected error
	f.fs.writes++
	if f.fs.writes == f.fs.failWriteAt {
		injected = fmt.Errorf("write %s: %w", f.name, ErrInjectedFault)
		if !f.fs.partialWrite {
			return 0, injected
		}
		p = p[:len(p)/2]
	}
	n := f.node
	if f.append {
		f.pos = len(n.data)
	}
	end := f.pos + len(p)
	old := len(n.data)
	if end > old {
		n.data = slices.Grow(n.data, end-old)[:end]
		if f.pos > old {
			clear(n.data[old:f.pos])
		}
	}
	copy(n.data[f.pos:], p)
	n.markDirty(min(old, f.pos))
	f.pos = end
	if injected != nil {
		return len(p), injected
	}
	return len(p), nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return os.ErrClosed
	}
	if !f.writable {
		return &iofs.PathError{Op: "truncate", Path: f.name, Err: iofs.ErrPermission}
	}
	if size < 0 {
		return errors.New("memfs: negative size")
	}
	f.node.truncate(int(size))
	return nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return os.ErrClosed
	}
	if err := f.fs.countSync(); err != nil {
		return err
	}
	n := f.node
	if !n.dirty {
		return nil
	}
	low := min(n.dirtyLow, len(n.synced), len(n.data))
	n.synced = append(n.synced[:low], n.data[low:]...)
	n.dirty = false
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return nil, os.ErrClosed
	}
	return memFileInfo{name: f.name, size: int64(len(f.node.data)), modTime: f.node.modTime}, nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return os.ErrClosed
	}
	f.closed = true
	return nil
}

type memFileInfo struct {
	name    string
	size    int64
	modTime time.Time
}

func (i memFileInfo) Name() string       { return i.name }
func (i memFileInfo) Size() int64        { return i.size }
func (i memFileInfo) Mode() os.FileMode  { return 0o644 }
func (i memFileInfo) ModTime() time.Time { return i.modTime }
func (i memFileInfo) IsDir() bool        { return false }
func (i memFileInfo) Sys() any           { return nil }
