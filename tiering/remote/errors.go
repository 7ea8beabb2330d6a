package remote

import "errors"

var (
	// ErrInvalidConfig is returned by the Validate methods and the
	// constructors for a config that cannot work.
	ErrInvalidConfig = errors.New("remote: invalid config")
	// ErrInvalidSegment is returned by Enqueue for a segment description
	// that cannot be right (offsets, size, path).
	ErrInvalidSegment = errors.New("remote: invalid segment")
	// ErrClosed is returned by an Uploader or Reader after Close.
	ErrClosed = errors.New("remote: closed")
	// ErrCorrupt marks segment data that does not have the structure it
	// must have: a local segment that fails its batch framing or CRCs
	// (it is not uploaded), or a remote object that does not decode.
	ErrCorrupt = errors.New("remote: corrupt segment data")
	// ErrOffsetOutOfRange is returned by Read for an offset the given
	// remote segments do not hold.
	ErrOffsetOutOfRange = errors.New("remote: offset out of range")
)
