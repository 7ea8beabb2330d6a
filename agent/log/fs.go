package log

import (
	"io"
	"os"
	"slices"
)

// FS is the log's only way to the disk, so tests can inject errors and
// simulate crashes (see MemFS). Paths are slash- or OS-separated absolute or
// relative paths as the caller passes them. Implementations must be safe for
// concurrent use.
type FS interface {
	// Open opens an existing file for reading.
	Open(name string) (File, error)
	// Create creates or truncates a file for reading and writing.
	Create(name string) (File, error)
	// OpenFile opens a file with os.O_* flags (os.O_RDWR, os.O_CREATE,
	// os.O_APPEND, os.O_TRUNC, os.O_EXCL are honoured).
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Rename atomically replaces newname with oldname. The change is durable
	// only after SyncDir of the directory.
	Rename(oldname, newname string) error
	// Remove deletes a file or an empty directory. Open handles keep
	// working. Durable only after SyncDir.
	Remove(name string) error
	// ReadDir returns the names of the entries of dir, sorted.
	ReadDir(dir string) ([]string, error)
	// MkdirAll creates dir and its parents.
	MkdirAll(dir string, perm os.FileMode) error
	// SyncDir makes the creations, renames and removals of entries of dir
	// durable.
	SyncDir(dir string) error
}

// File is an open file. ReadAt may be called concurrently with Write; Write
// appends at the file offset (at the end for os.O_APPEND files).
type File interface {
	io.ReaderAt
	io.Writer
	io.Closer
	Truncate(size int64) error
	Sync() error
	Stat() (os.FileInfo, error)
}

// NewOSFS returns the FS backed by the operating system.
func NewOSFS() FS { return osFS{} }

type osFS struct{}

func (osFS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFS) Create(name string) (File, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (osFS) Remove(name string) error             { return os.Remove(name) }
func (osFS) MkdirAll(dir string, perm os.FileMode) error {
	return os.MkdirAll(dir, perm)
}

func (osFS) ReadDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	slices.Sort(names)
	return names, nil
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
