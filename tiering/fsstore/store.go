package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/strata-io/strata/tiering"
)

// tmpDirName is the directory under the store's root that holds files
// being written. It starts with '.', so no key can name it.
const tmpDirName = ".tmp"

// copyChunk is how much Put copies between checks of its context. Each
// chunk is one io.CopyN, which lets the kernel copy file to file
// (copy_file_range) when the reader is an *os.File.
const copyChunk = 8 << 20

// Store is a tiering.ObjectStore on a local directory. It is safe for
// concurrent use.
type Store struct {
	root string
	tmp  string

	// durable holds the directories (absolute paths) known to exist with
	// their entry in the parent directory synced; see ensureDir.
	durable sync.Map // string → struct{}

	stats tiering.Counters
}

var _ tiering.ObjectStore = (*Store)(nil)

// Open returns a store on dir, creating it if needed, and removes the
// temporary files a crashed Put left behind. Only one Store may use a
// directory at a time.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("fsstore: empty directory")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fsstore: %w", err)
	}
	s := &Store{root: root, tmp: filepath.Join(root, tmpDirName)}
	if err := os.MkdirAll(s.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("fsstore: open %s: %w", root, err)
	}
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return nil, fmt.Errorf("fsstore: open %s: %w", root, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.tmp, e.Name())); err != nil {
			return nil, fmt.Errorf("fsstore: open %s: remove leftover: %w", root, err)
		}
	}
	s.durable.Store(root, struct{}{})
	return s, nil
}

// Dir returns the store's directory as an absolute path.
func (s *Store) Dir() string { return s.root }

// Stats returns a snapshot of the store's request counters.
func (s *Store) Stats() tiering.Stats { return s.stats.Stats() }

func (s *Store) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// Put implements tiering.ObjectStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (err error) {
	if err := tiering.ValidateKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("fsstore: put %q: negative size %d", key, size)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsstore: put %q: %w", key, err)
	}
	defer func() { s.stats.AddRequest(tiering.OpPut, failed(ctx, err)) }()
	tmp, err := s.writeTemp(ctx, r, size)
	if err != nil {
		return fmt.Errorf("fsstore: put %q: %w", key, err)
	}
	if err := s.install(tmp, key); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("fsstore: put %q: %w", key, err)
	}
	s.stats.AddBytesWritten(size)
	return nil
}

// writeTemp copies size bytes of r into a new synced file in the
// temporary directory and returns its path.
func (s *Store) writeTemp(ctx context.Context, r io.Reader, size int64) (string, error) {
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = copyN(ctx, f, r, size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return "", err
	}
	return name, nil
}

// copyN copies exactly n bytes from r to w, checking ctx between chunks.
func copyN(ctx context.Context, w io.Writer, r io.Reader, n int64) error {
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := io.CopyN(w, r, min(n-done, copyChunk))
		done += c
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("reader ended after %d of %d bytes: %w", done, n, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// install renames the synced temporary file tmp to key's path and makes
// the rename durable. A concurrent Delete may remove an emptied directory
// between ensureDir and the rename; install then tries again.
func (s *Store) install(tmp, key string) error {
	dst := s.path(key)
	dir := filepath.Dir(dst)
	for attempt := 0; ; attempt++ {
		if err := s.ensureDir(dir); err != nil {
			return err
		}
		err := os.Rename(tmp, dst)
		switch {
		case err == nil:
			return syncDir(dir)
		case errors.Is(err, fs.ErrNotExist) && attempt < 10:
			s.forget(dir)
		case errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, fs.ErrExist):
			// dst is a directory. An empty one is a leftover of
			// pruning cut short by a crash: remove it and retry.
			if attempt < 10 && os.Remove(dst) == nil {
				continue
			}
			return fmt.Errorf("%w: %s is a directory of other keys", tiering.ErrKeyConflict, key)
		case errors.Is(err, syscall.ENOTDIR):
			return fmt.Errorf("%w: a parent of %s is an object", tiering.ErrKeyConflict, key)
		default:
			return err
		}
	}
}

// ensureDir makes sure dir (inside the root) exists and that its entry,
// and those of all its parents, are durable: each directory not yet known
// durable is created if missing and its parent is synced, even if another
// Put created it, since that Put may not have synced it yet. A concurrent
// Delete may prune a directory on the way; ensureDir then starts over.
func (s *Store) ensureDir(dir string) error {
	for attempt := 0; ; attempt++ {
		err := s.ensureDirOnce(dir)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 10 {
			return err
		}
	}
}

func (s *Store) ensureDirOnce(dir string) error {
	if _, ok := s.durable.Load(dir); ok {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := s.ensureDirOnce(parent); err != nil {
		return err
	}
	err := os.Mkdir(dir, 0o755)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		if fi, err := os.Lstat(dir); err == nil && !fi.IsDir() {
			return fmt.Errorf("%w: %s is an object", tiering.ErrKeyConflict, s.keyOf(dir))
		}
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w: a parent of %s is an object", tiering.ErrKeyConflict, s.keyOf(dir))
	case errors.Is(err, fs.ErrNotExist):
		s.forget(parent)
		return err
	default:
		return err
	}
	if err := syncDir(parent); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.forget(parent)
		}
		return err
	}
	s.durable.Store(dir, struct{}{})
	return nil
}

// keyOf returns the key-style name of a path inside the root.
func (s *Store) keyOf(path string) string {
	rel, err := filepath.Rel(s.root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

// forget drops dir and its parents below the root from the durable set.
func (s *Store) forget(dir string) {
	for ; dir != s.root && strings.HasPrefix(dir, s.root); dir = filepath.Dir(dir) {
		s.durable.Delete(dir)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// failed reports whether err counts as a failed request in Stats: an
// error other than a missing key, a bad argument or the caller's context.
func failed(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil &&
		!errors.Is(err, tiering.ErrNotFound) && !errors.Is(err, tiering.ErrInvalidRange) &&
		!errors.Is(err, tiering.ErrKeyConflict) && !errors.Is(err, io.ErrUnexpectedEOF)
}
