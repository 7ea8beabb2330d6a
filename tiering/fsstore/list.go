package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/strata-io/strata/tiering"
)

// List implements tiering.ObjectStore. It walks the directory tree depth
// first, visiting each directory's entries in the byte order of the keys
// under them, and skips directories no key with prefix can be under.
// Files that are not objects (names starting with '.', anything not a
// regular file, names outside the key alphabet) are skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(tiering.ObjectInfo) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsstore: list %q: %w", prefix, err)
	}
	var cbErr error // fn's error, returned as is
	defer func() { s.stats.AddRequest(tiering.OpList, cbErr == nil && failed(ctx, err)) }()
	w := walker{ctx: ctx, prefix: prefix, fn: func(oi tiering.ObjectInfo) error {
		cbErr = fn(oi)
		return cbErr
	}}
	err = w.walk(s.root, "")
	if err != nil && cbErr == nil {
		return fmt.Errorf("fsstore: list %q: %w", prefix, err)
	}
	return err
}

type walker struct {
	ctx    context.Context
	prefix string
	fn     func(tiering.ObjectInfo) error
}

// entry is a directory entry with the key it sorts by: the object's key
// for a file, the key prefix ("a/b/") for a directory. Sorting by it puts
// "a-c" (a file) before the keys under directory "a" ("a/…"), as byte
// order of whole keys demands, where sorting by name would not.
type entry struct {
	sortKey string
	de      fs.DirEntry
}

// walk visits directory dir, whose keys start with keyPrefix ("" for the
// root, else ending in '/').
func (w *walker) walk(dir, keyPrefix string) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && keyPrefix != "" {
			return nil // pruned by a concurrent Delete
		}
		return err
	}
	entries := make([]entry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		k := keyPrefix + name
		switch {
		case strings.HasPrefix(name, ".") || tiering.ValidateKey(name) != nil:
			continue
		case de.IsDir():
			k += "/"
			if !strings.HasPrefix(k, w.prefix) && !strings.HasPrefix(w.prefix, k) {
				continue
			}
		case de.Type().IsRegular():
			if !strings.HasPrefix(k, w.prefix) {
				continue
			}
		default:
			continue
		}
		entries = append(entries, entry{sortKey: k, de: de})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	for _, e := range entries {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if err := w.visit(dir, e); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) visit(dir string, e entry) error {
	p := filepath.Join(dir, e.de.Name())
	if e.de.IsDir() {
		return w.walk(p, e.sortKey)
	}
	fi, err := e.de.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return nil // deleted since ReadDir
	}
	if err != nil {
		return err
	}
	return w.fn(objectInfo(e.sortKey, fi))
}
