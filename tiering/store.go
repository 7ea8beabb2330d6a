package tiering

import (
	"context"
	"io"
	"sync/atomic"
	"time"
)

// ObjectStore is the small interface every object store implements: the
// local file-system store (package tiering/fsstore) and S3 (package
// tiering/s3). The uploader, the remote reader and the sweeper are written
// against it and nothing more, and one conformance suite
// (tiering/storetest) holds every implementation to the same behaviour.
//
// Implementations are safe for concurrent use. Every method takes a context
// and returns promptly, with an error that matches ctx.Err() under
// errors.Is, once it is cancelled or its deadline passes. A key that breaks
// the key rules (ValidateKey) fails with ErrInvalidKey before any I/O.
// Failures to reach the store wrap ErrUnavailable, so callers know a retry
// may succeed.
type ObjectStore interface {
	// Put stores the first size bytes read from r under key, replacing any
	// object there. It is atomic: a concurrent or later reader sees the old
	// object, the new one, or (if there was none) no object — never a
	// partial one — and if Put fails, whatever was there before is still
	// there. If r ends before size bytes, Put fails and stores nothing.
	// When Put returns nil the object is durable. Put reads at most size
	// bytes from r; r's position afterwards is unspecified. A reader that
	// also implements io.ReaderAt and io.Seeker (an *os.File, a
	// *bytes.Reader, an *io.SectionReader) lets a store read parts in
	// parallel from the reader's current position and resend a part after
	// a network error.
	Put(ctx context.Context, key string, r io.Reader, size int64) error

	// Get returns the bytes of key from offset: length bytes, or all the
	// rest when length < 0. A range that reaches past the end is cut short
	// at the end, so the reader may return fewer than length bytes; an
	// offset equal to the object's size yields an empty reader (a reader
	// that follows a growing list of objects sees "nothing more here", not
	// an error). An offset beyond the size, or a negative one, is
	// ErrInvalidRange; a missing key is ErrNotFound.
	//
	// The reader is a snapshot: it returns bytes of the one object that was
	// current when Get was called even if the key is replaced meanwhile.
	// Cancelling ctx fails later Reads. The caller must Close it.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// Stat describes the object under key, or returns ErrNotFound.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// List calls fn for every object whose key starts with prefix (which
	// need not be a whole key or end at a '/'), in increasing byte order of
	// key. If fn returns an error the walk stops and List returns that
	// error. Objects put or deleted during the walk may or may not be
	// reported.
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error

	// Delete removes the object under key. Deleting a key that holds no
	// object is not an error, so a retried Delete is harmless.
	Delete(ctx context.Context, key string) error
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	// Key is the object's key, without any store-level prefix.
	Key string
	// Size is the object's length in bytes.
	Size int64
	// ModTime is when the object was last put.
	ModTime time.Time
	// ETag is an opaque version tag: it changes when the object is
	// replaced by different content. S3 returns its ETag (the MD5 of the
	// content for single-part puts); the file-system store derives one
	// from the file's identity. Compare ETags only from the same store.
	ETag string
}

// Op is a kind of object-store request, as counted in Stats.
type Op int

// The request kinds. An S3 store counts HTTP requests (a multipart upload
// is several PUT and POST requests, a listing one LIST request per page of
// up to 1000 keys); the file-system store counts calls.
const (
	OpPut    Op = iota // S3 PUT and POST; Put calls
	OpGet              // S3 GET of an object; Get calls
	OpHead             // S3 HEAD; Stat calls
	OpList             // S3 listing and other bucket GETs; List calls
	OpDelete           // S3 DELETE; Delete calls
	NumOps             // the number of request kinds
)

var opNames = [NumOps]string{"PUT", "GET", "HEAD", "LIST", "DELETE"}

// String returns the request kind in upper case, as in "PUT".
func (o Op) String() string {
	if o < 0 || o >= NumOps {
		return "UNKNOWN"
	}
	return opNames[o]
}

// Stats is a snapshot of a store's request counters. Counters only grow;
// a metrics exporter reports them as Prometheus counters.
type Stats struct {
	// Requests counts requests by kind, indexed by Op.
	Requests [NumOps]int64
	// Errors counts requests that failed for a reason other than the
	// request itself: no response, a server error (HTTP 5xx), an I/O
	// error. A missing key or a cancelled context is not counted.
	Errors [NumOps]int64
	// BytesWritten counts object bytes the store accepted.
	BytesWritten int64
	// BytesRead counts object bytes returned to readers.
	BytesRead int64
}

// Counters accumulates the numbers a Stats snapshot reports. The zero
// value is ready to use; it is safe for concurrent use. Stores keep one
// and return Counters.Stats from their Stats method.
type Counters struct {
	requests     [NumOps]atomic.Int64
	errors       [NumOps]atomic.Int64
	bytesWritten atomic.Int64
	bytesRead    atomic.Int64
}

// AddRequest counts one request of kind op, and one error if failed.
func (c *Counters) AddRequest(op Op, failed bool) {
	if op < 0 || op >= NumOps {
		return
	}
	c.requests[op].Add(1)
	if failed {
		c.errors[op].Add(1)
	}
}

// AddBytesWritten counts n object bytes stored.
func (c *Counters) AddBytesWritten(n int64) { c.bytesWritten.Add(n) }

// AddBytesRead counts n object bytes returned to a reader.
func (c *Counters) AddBytesRead(n int64) { c.bytesRead.Add(n) }

// Stats returns a snapshot of the counters. Each value is read atomically;
// the snapshot as a whole is not, which is fine for monotonic counters.
func (c *Counters) Stats() Stats {
	var s Stats
	for op := range NumOps {
		s.Requests[op] = c.requests[op].Load()
		s.Errors[op] = c.errors[op].Load()
	}
	s.BytesWritten = c.bytesWritten.Load()
	s.BytesRead = c.bytesRead.Load()
	return s
}
