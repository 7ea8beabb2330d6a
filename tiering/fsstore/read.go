package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/strata-io/strata/tiering"
)

// Get implements tiering.ObjectStore. The reader holds the file open, so
// it keeps returning the bytes of the object it opened even if a Put
// replaces the key or a Delete removes it meanwhile.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (_ io.ReadCloser, err error) {
	if err := tiering.ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fsstore: get %q: %w", key, err)
	}
	defer func() { s.stats.AddRequest(tiering.OpGet, failed(ctx, err)) }()
	f, fi, err := s.open(key)
	if err != nil {
		return nil, fmt.Errorf("fsstore: get %q: %w", key, err)
	}
	size := fi.Size()
	if offset < 0 || offset > size {
		f.Close()
		return nil, fmt.Errorf("fsstore: get %q: offset %d of a %d-byte object: %w", key, offset, size, tiering.ErrInvalidRange)
	}
	n := size - offset
	if length >= 0 && length < n {
		n = length
	}
	return &reader{ctx: ctx, f: f, r: io.NewSectionReader(f, offset, n), stats: &s.stats}, nil
}

// open opens key's file and checks that it is a regular file.
func (s *Store) open(key string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, nil, notFound(err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = tiering.ErrNotFound // a directory of other keys
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// notFound maps the errors of a path lookup that mean "no such object" to
// tiering.ErrNotFound, keeping the original error in the chain.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", tiering.ErrNotFound, err)
	}
	return err
}

// reader is Get's io.ReadCloser: a section of an open file that stops
// returning data once its context is done.
type reader struct {
	ctx   context.Context
	f     *os.File
	r     *io.SectionReader
	stats *tiering.Counters
}

func (r *reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := r.r.Read(p)
	r.stats.AddBytesRead(int64(n))
	return n, err
}

func (r *reader) Close() error { return r.f.Close() }

// Stat implements tiering.ObjectStore.
func (s *Store) Stat(ctx context.Context, key string) (_ tiering.ObjectInfo, err error) {
	if err := tiering.ValidateKey(key); err != nil {
		return tiering.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return tiering.ObjectInfo{}, fmt.Errorf("fsstore: stat %q: %w", key, err)
	}
	defer func() { s.stats.AddRequest(tiering.OpHead, failed(ctx, err)) }()
	fi, err := os.Stat(s.path(key))
	if err == nil && !fi.Mode().IsRegular() {
		err = tiering.ErrNotFound
	}
	if err != nil {
		return tiering.ObjectInfo{}, fmt.Errorf("fsstore: stat %q: %w", key, notFound(err))
	}
	return objectInfo(key, fi), nil
}

// objectInfo describes the regular file fi as the object under key. The
// ETag joins the file's inode number, modification time and size: a Put
// always writes a new file, so a replaced object gets a new ETag.
func objectInfo(key string, fi fs.FileInfo) tiering.ObjectInfo {
	etag := fmt.Sprintf("%x-%x", fi.ModTime().UnixNano(), fi.Size())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		etag = fmt.Sprintf("%x-%s", st.Ino, etag)
	}
	return tiering.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime(), ETag: etag}
}

// Delete implements tiering.ObjectStore. It syncs the object's directory,
// then removes the directories the deletion left empty.
func (s *Store) Delete(ctx context.Context, key string) (err error) {
	if err := tiering.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsstore: delete %q: %w", key, err)
	}
	defer func() { s.stats.AddRequest(tiering.OpDelete, failed(ctx, err)) }()
	p := s.path(key)
	// unlink(2), not os.Remove: it fails on a directory of other keys
	// (EISDIR) instead of removing an empty one.
	err = syscall.Unlink(p)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR):
		return nil // nothing to delete
	default:
		return fmt.Errorf("fsstore: delete %q: %w", key, &fs.PathError{Op: "unlink", Path: p, Err: err})
	}
	dir := filepath.Dir(p)
	if err := syncDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsstore: delete %q: %w", key, err)
	}
	s.prune(dir)
	return nil
}

// prune removes dir and its parents below the root while they are empty.
// rmdir(2) refuses a non-empty directory, so a racing Put either lands its
// file first (and the directory stays) or finds the directory gone and
// creates it again (see install).
func (s *Store) prune(dir string) {
	for ; dir != s.root; dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			return
		}
		s.durable.Delete(dir)
	}
}
