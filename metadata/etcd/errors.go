package etcd

import "errors"

var (
	// ErrInvalidConfig is returned by Config.Validate and
	// EmbedConfig.Validate.
	ErrInvalidConfig = errors.New("metadata/etcd: invalid config")
	// ErrCorrupt marks a stored key or value that does not decode: not
	// JSON, a value that fails validation, or a key that does not match
	// its value. Something other than Strata wrote it, or a bug did.
	ErrCorrupt = errors.New("metadata/etcd: corrupt value")
	// ErrVersion marks a stored value with a version this build does not
	// know, written by a newer Strata.
	ErrVersion = errors.New("metadata/etcd: unsupported value version")
	// ErrStart is returned when the embedded server fails to start.
	ErrStart = errors.New("metadata/etcd: embedded server failed to start")
)
