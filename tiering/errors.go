package tiering

import "errors"

var (
	// ErrNotFound is returned for a key that holds no object.
	ErrNotFound = errors.New("tiering: object not found")
	// ErrInvalidKey is returned for a key that breaks the key rules (see
	// ValidateKey); no store is touched.
	ErrInvalidKey = errors.New("tiering: invalid object key")
	// ErrInvalidRange is returned by Get for a negative offset or one past
	// the end of the object.
	ErrInvalidRange = errors.New("tiering: range not satisfiable")
	// ErrKeyConflict is returned by a store backed by a file system when a
	// key would be both an object and a directory of another key ("a/b"
	// and "a/b/c"). Real S3 allows such pairs; the project's key layouts
	// never create them.
	ErrKeyConflict = errors.New("tiering: key conflicts with the path of another key")
	// ErrUnavailable wraps failures to reach the object store or errors the
	// store reports as its own (network errors, timeouts, HTTP 5xx,
	// throttling). The operation may succeed if retried later.
	ErrUnavailable = errors.New("tiering: object store unavailable")
)
