// Package protocol speaks the Kafka wire protocol for Strata: framing,
// request headers, dispatch by API key and version onto kmsg request types,
// the ApiVersions table, a per-connection serving loop, size limits, magic
// v2 record batches (parsing, CRC32-C validation, record decoding and
// building) and the compression codecs. It imports no other Strata package;
// package agent implements Handler on top of it.
//
// # Framing
//
// Every request and response is a frame: a big-endian int32 size followed
// by that many bytes. ReadFrame rejects a size above the configured maximum
// (socket.request.max.bytes, 100 MiB by default) before reading or
// allocating the body; the connection is then closed, as Kafka does,
// because the stream cannot be resynchronised.
//
// # Request header
//
//	v0: api_key int16 | api_version int16 | correlation_id int32
//	v1: v0 | client_id nullable string (int16 length, -1 = null)
//	v2: v1 | tagged fields (uvarint count, then uvarint tag, uvarint size, bytes)
//
// Header v2 is used exactly when the request version is a flexible version
// of its API (KIP-482); the client id stays a non-compact string even then
// so that any broker can read an ApiVersions header. Header v0 is used only
// by ControlledShutdown v0. The body follows and is decoded by kmsg at the
// request's version.
//
// # Response header
//
//	v0: correlation_id int32
//	v1: v0 | tagged fields (Strata writes none: a single 0 byte)
//
// Responses to flexible requests use v1, except ApiVersions, whose response
// always uses v0 so a client can read it before it knows the broker's
// versions. A request for ApiVersions at a version newer than served is
// answered per KIP-511 with an ApiVersions v0 response carrying
// UNSUPPORTED_VERSION (35) and ApiVersions' own version range, so the
// client retries at a version we serve; any other unknown key or
// unsupported version closes the connection, as in Kafka.
//
// # Connections
//
// ServeConn runs one reader goroutine that reads and parses frames ahead
// (at most a few requests), handles requests one at a time in arrival
// order, and runs one writer goroutine that writes responses in request
// order through a buffered writer flushed when no response is pending.
//
// # Record batch (magic v2)
//
// All integers are big-endian. CRC32-C (Castagnoli) covers bytes 21 to the
// end of the batch, so the base offset, batch length, partition leader
// epoch and magic can be rewritten without recomputing it.
//
//	offset  size  field
//	     0     8  BaseOffset
//	     8     4  BatchLength: bytes after this field (batch size - 12)
//	    12     4  PartitionLeaderEpoch
//	    16     1  Magic: 2 (0 and 1 are the old MessageSet formats, whose
//	              magic sits at the same offset; Strata rejects them)
//	    17     4  CRC: CRC32-C of bytes 21..end
//	    21     2  Attributes: bits 0-2 codec, bit 3 timestamp type
//	              (1 = LogAppendTime), bit 4 transactional, bit 5 control,
//	              bit 6 delete horizon set (FirstTimestamp is the delete
//	              horizon after compaction)
//	    23     4  LastOffsetDelta
//	    27     8  FirstTimestamp
//	    35     8  MaxTimestamp
//	    43     8  ProducerID (-1 = none)
//	    51     2  ProducerEpoch
//	    53     4  BaseSequence
//	    57     4  NumRecords
//	    61     …  records, compressed as a whole by the codec
//
// Each record (varint and varlong are zig-zag encoded, as in protobuf):
//
//	length          varint  bytes of the record after this field
//	attributes      int8    unused, 0
//	timestampDelta  varlong from FirstTimestamp
//	offsetDelta     varint  from BaseOffset
//	keyLength       varint  -1 = null key
//	key             bytes
//	valueLength     varint  -1 = null value
//	value           bytes
//	headerCount     varint
//	headers         headerCount × (keyLength varint (not null), key,
//	                valueLength varint (-1 = null), value)
//
// In a LogAppendTime batch every record's timestamp is MaxTimestamp.
//
// # Compression codecs
//
// The codec compresses the records section (bytes 61..end) as one payload:
//
//   - gzip (1): an RFC 1952 gzip stream.
//   - snappy (2): the Java client writes xerial framing: the 8-byte magic
//     0x82 "SNAPPY" 0x00, int32 version 1, int32 minimum compatible
//     version 1, then per block of at most 32 KiB input an int32 length
//     and a raw snappy block. Some clients send one raw snappy block;
//     Decompress accepts both (standard snappy only: the s2 extensions no
//     Kafka client can read are rejected), Compress writes xerial.
//   - lz4 (3): an LZ4 frame (magic 0x184D2204, frame descriptor, blocks,
//     end mark, optional content checksum), not raw LZ4 blocks.
//   - zstd (4): one or more zstd frames (Produce v7+).
//
// Decompression is bounded (MaxDecompressedBytes, or DecompressLimit's
// argument) so a decompression bomb fails with ErrCorruptRecord instead of
// exhausting memory.
package protocol
