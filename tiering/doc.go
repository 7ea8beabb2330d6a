// Package tiering moves closed log segments to object storage and reads
// them back. This package holds the foundation: the ObjectStore interface
// that every object store implements, its errors, the key rules and the
// keys of a segment's objects. Package tiering/remote builds the tier on
// it: the uploader, the remote reader and its cache, remote retention and
// the orphan sweeper.
//
// Implementations:
//
//   - tiering/fsstore keeps objects as files under a directory. It is the
//     embedded default (<data-dir>/objects), so a single agent runs with no
//     external service.
//   - tiering/s3 speaks the S3 API (AWS S3, MinIO, versitygw, any
//     S3-compatible server) through minio-go.
//
// tiering/storetest is the conformance suite both pass, and tiering/s3test
// starts a real S3-compatible server process (versitygw) for tests.
//
// # Keys
//
// Object keys are slash-separated paths of a restricted ASCII alphabet
// (see ValidateKey): they map one-to-one onto file paths that cannot leave
// the store's directory and onto S3 keys that need no escaping. Keys are
// deterministic (a segment's key is derived from its topic, partition,
// base offset and leader epoch), so a retried upload overwrites the same
// object instead of creating a second one, and Put's atomic replacement
// makes that safe.
//
// A segment's objects are under
//
//	<cluster-id>/<topic-id>/<partition>/<base-offset %020d>-<leader-epoch>.log
//
// and the same stem with .index and .timeindex (NewSegmentKeys,
// ParseSegmentKey): the cluster id first, so clusters can share a bucket;
// the partition's objects under one prefix, sorted by base offset; the
// uploading leader's epoch last, so a retry by the same leader rewrites
// the same objects while a later leader never overwrites them.
//
// Two keys must not nest: "a/b" and "a/b/c" cannot both hold objects in a
// store backed by a file system (fsstore, versitygw's posix backend), which
// reports ErrKeyConflict or an error of its own. Keys that end in a file
// name with an extension (".log", ".index") never nest.
//
// # Semantics every store keeps
//
// Put is atomic and durable when it returns; Get reads a byte range of one
// version of an object; List walks keys in byte order; Delete is
// idempotent. Errors are the sentinels in errors.go, wrapped with context:
// ErrNotFound, ErrInvalidKey, ErrInvalidRange, ErrKeyConflict, and
// ErrUnavailable for failures a retry may cure.
//
// Both stores count their requests and bytes in a Counters and return a
// snapshot from a Stats method, for metrics and the cost model.
package tiering
