// Package log is Strata's local segmented partition log: the hot tail of one
// partition on an agent's disk. It appends Kafka record batches, assigns
// offsets, keeps sparse offset and time indexes, enforces Kafka's
// idempotent-producer rules, tracks leader epochs, recovers after crashes,
// applies local retention and implements the fsync policy. It imports no
// other Strata package and parses the few record-batch header fields it
// needs itself.
//
// # Directory layout
//
// A partition directory holds:
//
//	%020d.log                segment: raw record batches, named by base offset
//	%020d.index              sparse offset index of the segment
//	%020d.timeindex          time index of the segment
//	%020d.snapshot           producer-state snapshot at that offset
//	leader-epoch-checkpoint  leader epoch -> start offset
//	log-checkpoint           log start offset, recovery point, clean-shutdown flag
//	*.tmp                    an interrupted atomic write; removed by Open
//
// # Segment files (.log)
//
// A segment is the concatenation of Kafka RecordBatch (magic 2) byte
// strings exactly as the producer sent them, except that Append fills in the
// base offset and the partition leader epoch (and, for LogAppendTime, the
// attributes, maxTimestamp and CRC). There is no framing of Strata's own, so a
// segment can be served to consumers and uploaded as is. A batch's header,
// all fields big-endian:
//
//	offset size field
//	0      8    baseOffset           offset of the first record
//	8      4    batchLength          bytes after this field (total = 12 + batchLength)
//	12     4    partitionLeaderEpoch
//	16     1    magic                2
//	17     4    crc                  CRC32-C (Castagnoli) of bytes [21, end)
//	21     2    attributes           bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control
//	23     4    lastOffsetDelta      last offset = baseOffset + lastOffsetDelta
//	27     8    baseTimestamp
//	35     8    maxTimestamp
//	43     8    producerId           -1: not idempotent
//	51     2    producerEpoch
//	53     4    baseSequence
//	57     4    recordsCount
//	61          records
//
// The CRC does not cover baseOffset, batchLength or partitionLeaderEpoch,
// which is why Append can stamp them without recomputing it; recovery checks
// those fields by requiring offsets to be dense. Offsets within a segment are
// dense: each batch starts at the previous batch's last offset + 1, the first
// at the segment's base offset. A segment is rolled before it would exceed
// SegmentBytes (at most 2^31-1, so positions fit in 32 bits) or when its
// first batch is SegmentMS old.
//
// # Strata's own files: the common frame
//
// Every other file is one frame, versioned and checksummed:
//
//	offset size field
//	0      4    magic: "SIDX" offset index, "STIX" time index, "SPST" producer
//	            snapshot, "SLEC" leader epoch checkpoint, "SLCP" log checkpoint
//	4      2    format version, uint16 = 1
//	6      2    reserved, zero
//	8      4    payload length N, uint32 (the file is exactly 16+N bytes)
//	12     4    CRC32-C of bytes [0,12) followed by the payload
//	16     N    payload, big-endian fields as below
//
// A file whose frame does not check is treated as absent: indexes are
// rebuilt from the segment, an older snapshot is used, epochs are re-learnt
// from batch headers. Snapshots, checkpoints and their replacements are
// written to name.tmp and renamed over name; checkpoints are fsynced (file,
// then directory after the rename).
//
// Offset index (.index) payload: a sequence of 8-byte entries
//
//	0 4 relative offset, uint32: batch base offset - segment base offset
//	4 4 position, uint32: the batch's byte position in the .log
//
// strictly increasing in both fields. An entry is added for a batch when more
// than IndexIntervalBytes bytes of batches were appended since the previous
// entry (the segment's first batch needs none: it is at position 0). A
// lookup takes the last entry at or below the wanted offset and reads batch
// headers forward from there.
//
// Time index (.timeindex) payload: a sequence of 12-byte entries
//
//	0 8 timestamp, int64: the largest maxTimestamp of the segment so far
//	8 4 relative offset, uint32, of the batch holding that timestamp
//
// strictly increasing in both fields, added together with offset index
// entries when the maximum grew, plus a final entry for the segment's maximum
// when it closes. Every batch up to an entry's batch has maxTimestamp <= the
// entry's timestamp, so a search for the first batch with maxTimestamp >= T
// may start at the batch of the last entry below T.
//
// Index maintenance: indexes live in memory and are written to disk, from
// memory, only when a segment closes (roll) and for the active segment at
// Close. Append therefore costs one write(2) and no index I/O. Index files
// are fsynced with their segment by the flusher (MaybeFlush, Sync, Close).
// They can always be rebuilt from the .log, which Open does when they are
// missing or damaged, and always for the segments it scans after a crash.
//
// Producer snapshot (.snapshot, named by the offset it covers: all batches
// below it) payload:
//
//	0  8 snapshot offset, int64 (equals the file name)
//	8  4 producer count, uint32
//	12   producers, by strictly ascending producer id, each:
//	     0  8 producer id, int64
//	     8  2 producer epoch, int16
//	     10 4 coordinator epoch, int32 (-1; for transactions)
//	     14 8 first offset of the ongoing transaction, int64 (-1: none)
//	     22 8 last timestamp, int64
//	     30 1 retained batch count n, uint8 (at most 5)
//	     31   n batches, oldest first, 32 bytes each: first sequence int32,
//	          last sequence int32, first offset int64, last offset int64,
//	          max timestamp int64
//
// A snapshot is written at each roll (not fsynced: losing it only makes
// recovery replay more) and at Close (fsynced); the newest three are kept.
//
// leader-epoch-checkpoint payload: count uint32, then count entries of
// epoch int32 and start offset int64, strictly increasing in both. It is
// rewritten (fsynced) whenever an epoch is added (a new leader epoch, which
// the first Append or AssignLeaderEpoch of that epoch records before writing
// data) or removed (truncation, log start moving).
//
// log-checkpoint payload (20 bytes): log start offset int64, recovery point
// int64, flags uint32 (bit 0: clean shutdown). The recovery point is the base
// offset of the first segment that is not known to be durable with its index
// files; every segment below it is trusted at Open. Close sets the clean
// flag; Open clears it before the first append can happen.
//
// # Durability (fsync) policy
//
// The default is Kafka's: no fsync on the write path. Append returns once its
// bytes are in the operating system's page cache; durability comes from
// replication. A killed process loses nothing that Append accepted; a power
// loss or kernel crash can lose the unsynced tail, and recovery then
// truncates the log to the last complete batch.
//
//   - FlushMessages = N > 0: once N records were appended since the last
//     fsync, Append fsyncs the segments holding unsynced data (and the
//     directory when a segment file is new) before returning. N = 1 is
//     fsync-before-acknowledge. Concurrent appenders share fsyncs (group
//     commit): an fsync that already covers an append's bytes is not
//     repeated.
//   - FlushInterval > 0: MaybeFlush fsyncs when unsynced data exists and the
//     last fsync is at least that old.
//   - Closed segments are always flushed by the next MaybeFlush, Sync or
//     Close, off the append path, as Kafka flushes a rolled segment in the
//     background: data, index files, directory, then the recovery point.
//   - Truncation (TruncateTo) and checkpoints are durable when they return.
//
// After an fsync fails the log refuses appends (the kernel may have dropped
// the dirty pages); the owner reopens it, which runs recovery.
//
// # Recovery
//
// Open trusts every segment after a clean shutdown and every segment below
// the recovery point: it loads their indexes and verifies only the batches
// after the last offset index entry; a missing or damaged index is rebuilt by
// a strict scan. Any bad batch in a trusted segment fails Open with
// ErrCorrupt naming the file and position: that data was durable.
//
// After an unclean shutdown, the segment holding the recovery point and all
// later ones are scanned batch by batch, checking framing, magic, CRC and
// dense offsets, and their indexes are rebuilt. At the first bad batch:
//
//   - if a valid batch follows it in the same segment, the damage is not a
//     torn write: Open fails with ErrCorrupt naming file and position;
//   - otherwise it is a torn tail: the segment is truncated there and every
//     later segment is deleted (with the default policy a closed but unflushed
//     segment can lose its tail in a power loss while its successor kept
//     data; the log is cut at the first hole, as Kafka does).
//
// Segments must follow each other without gaps. Stray .tmp files and index
// files without a segment are removed; snapshots past the recovered end are
// deleted. Producer state is loaded from the newest valid snapshot at or
// below the log end and the batches after it are replayed; the leader epoch
// cache drops epochs that start past the log end and learns epochs from the
// scanned batches. If the recovered end is below a persisted log start
// offset (DeleteRecords followed by a power loss), the log restarts empty at
// the log start offset.
//
// # Idempotent producers and transactions
//
// producer.go follows Kafka's ProducerStateManager: per producer id the
// epoch and the metadata of its last five batches, the rules of
// ProducerAppendInfo, and expiration after ProducerIDExpiration (seven days
// by default; Kafka's producer.id.expiration.ms is one day). Transactions are
// not implemented: the state already carries a coordinator epoch and an
// ongoing transaction's first offset, persisted in snapshots, so ongoing
// transactions, the last stable offset and a .txnindex can be added there.
//
// # Concurrency
//
// A Log is safe for concurrent use. Appends are serialized by one mutex held
// across the append's write(2); readers never take it: they read an
// immutable snapshot of the segment list and the atomically published log
// end offset and use pread on reference-counted files, so a segment deleted
// by retention is unlinked at once but closed after its last reader.
package log
