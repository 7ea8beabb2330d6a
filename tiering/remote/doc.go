// Package remote is the object-storage tier of a partition's log: the
// Uploader offloads closed local segments and records them in the
// catalogue (metadata.Catalogue), applies remote retention and sweeps
// orphans; the Reader serves fetches of offsets that only the object
// store still holds, through a bounded block cache with read-ahead.
//
// # Objects
//
// A remote segment is three objects under the keys of
// tiering.NewSegmentKeys (<cluster-id>/<topic-id>/<partition>/
// <base-offset %020d>-<leader-epoch>.log, .index, .timeindex):
//
//   - .log: the segment's record batches, byte for byte as the local
//     segment holds them (Kafka RecordBatch magic 2, no framing of
//     Strata's own; agent/log's doc.go gives the batch header). It holds
//     offsets BaseOffset to LastOffset of the catalogue entry, densely,
//     and its CRC-32C is the entry's CRC32C.
//   - .index: a sparse offset index;
//   - .timeindex: a time index.
//
// The index objects use the local log's frame format:
//
//	offset size field
//	0      4    magic: "SIDX" offset index, "STIX" time index
//	4      2    format version, uint16 = 1
//	6      2    reserved, zero
//	8      4    payload length N, uint32 (the object is 16+N bytes)
//	12     4    CRC-32C of bytes [0,12) followed by the payload
//	16     N    payload
//
// The offset index payload is 8-byte entries, strictly increasing in both
// fields:
//
//	0 4 relative offset, uint32: batch base offset - BaseOffset
//	4 4 position, uint32: the batch's byte position in the .log object
//
// The time index payload is 12-byte entries, strictly increasing in both
// fields, plus a last entry for the segment's maximum:
//
//	0 8 timestamp, int64: the largest batch MaxTimestamp so far
//	8 4 relative offset, uint32, of the batch holding that timestamp
//
// All fields are big-endian. The uploader builds both indexes itself
// while it streams the .log (an entry for the first batch at least
// UploaderConfig.IndexIntervalBytes after the previous one), rather than
// uploading the local index files: the remote indexes then describe
// exactly the uploaded bytes, also when only the tail of a local segment
// is uploaded, and do not depend on the local files being present.
//
// # Uploading, and what a crash leaves
//
// The agent enqueues a closed segment (Enqueue) of a partition it leads.
// A partition's segments upload one at a time, in offset order; different
// partitions upload in parallel (UploaderConfig.Concurrency). One attempt:
//
//  1. read the partition's catalogue afresh and find the first range of
//     the segment that no entry covers (all of it, unless a previous
//     leader offloaded part of it: segment boundaries differ between
//     replicas, batch boundaries do not);
//  2. PUT the .log object, streaming the range through a scanner that
//     computes its CRC-32C and checks its framing — dense offsets, magic,
//     every batch's CRC, nothing cut off — so that a damaged local
//     segment is never offloaded (a failed check makes the PUT fail:
//     the store keeps nothing);
//  3. PUT the .index and .timeindex objects;
//  4. add the catalogue entry (create-if-absent, refused if it overlaps
//     an entry, so two agents that both think they lead cannot offload
//     the same offsets twice); then repeat from 1 until the segment is
//     covered.
//
// A failed attempt is retried, from step 1, after a backoff that doubles
// up to a cap, forever: while the object store or etcd is unavailable
// segments wait in the queue (one entry per segment) and the local log
// keeps them, since UploadedUpTo does not advance. A segment whose file
// vanished or changed, or that fails its checks, is dropped with a log
// line (a corrupt one stays on local disk). Each attempt puts its objects
// again, so no object waits for its catalogue entry longer than
// UploaderConfig.AttemptTimeout.
//
// A crash between 2 and 4 leaves objects no entry names: orphans.
// SweepPartition deletes a partition's orphans once they are older than a
// grace period (at least AttemptTimeout), with the partition's uploads
// held off meanwhile; SweepDeletedTopics and DeleteTopic remove what
// deleted topics leave. Local segments are deleted only below
// UploadedUpTo, that is after both the objects and the entry are durable
// (invariant 4).
//
// # Retention
//
// ApplyRetention deletes the oldest remote segments past retention.ms or
// beyond retention.bytes (counting remote plus local-only bytes, as
// Kafka does) or below the log start offset: the catalogue entry first,
// then the objects. A crash in between leaves orphans for the sweeper;
// readers that still held the old catalogue get tiering.ErrNotFound and
// read it again.
//
// # Reading
//
// Reader.Read takes the partition's catalogue (the caller has it from
// Uploader.RemoteSegments, which keeps it in memory while the partition
// is led here) and returns whole batches with the local log's fetch
// semantics. It finds the starting batch through the segment's offset
// index (fetched once and cached, parsed) and reads the .log object with
// ranged GETs of whole blocks (ReaderConfig.BlockSize). Blocks and
// parsed indexes share one LRU cache bounded by ReaderConfig.CacheBytes;
// a block that several readers want at once is fetched by one GET, in a
// goroutine the Reader owns, which the readers wait for under their own
// contexts. A read that continues where an earlier read ended (or starts
// a segment) fetches the next ReaderConfig.ReadAhead blocks in the
// background, across segment boundaries, using only free GET slots.
// FindByTimestamp serves ListOffsets by timestamp from the catalogue's
// MaxTimestamp and the time index.
//
// # Concurrency
//
// Uploader and Reader are safe for concurrent use. No lock is held across
// object-store or catalogue I/O. Every goroutine has an owner: the
// Uploader's workers run inside Run and stop when its context ends or
// Close is called; the Reader's fetches stop at Close, which waits for
// them.
package remote
