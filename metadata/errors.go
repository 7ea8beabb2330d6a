package metadata

import "errors"

var (
	// ErrTopicExists is returned when creating a topic whose name is taken.
	ErrTopicExists = errors.New("metadata: topic already exists")
	// ErrUnknownTopic is returned for a topic name or id that does not exist.
	ErrUnknownTopic = errors.New("metadata: unknown topic")
	// ErrUnknownPartition is returned for a partition index a topic lacks.
	ErrUnknownPartition = errors.New("metadata: unknown partition")
	// ErrConflict is returned when a compare-and-swap lost: the stored value
	// changed since the caller read it. Re-read and retry, or give up.
	ErrConflict = errors.New("metadata: revision conflict")
	// ErrInvalid is returned for a value that fails validation before it is
	// written (empty name, no partitions, mismatched lengths).
	ErrInvalid = errors.New("metadata: invalid value")
	// ErrUnavailable wraps failures to reach the metadata service.
	ErrUnavailable = errors.New("metadata: store unavailable")
	// ErrClosed is returned by a store after Close.
	ErrClosed = errors.New("metadata: store closed")
	// ErrFenced is returned by a write fenced by a coordinator claim that
	// is no longer current: another agent may own the shard now.
	ErrFenced = errors.New("metadata: coordinator claim is no longer current")
)
