package protocol

import "errors"

var (
	// ErrFrameTooLarge is returned by ReadFrame when a frame's size prefix
	// exceeds the configured maximum. The body is neither read nor
	// allocated; the connection must be closed because the stream can no
	// longer be resynchronised.
	ErrFrameTooLarge = errors.New("protocol: frame too large")
	// ErrMalformedFrame is returned for a negative size prefix, a frame
	// too short for its request header, a truncated header, or a request
	// body that does not decode at its declared version.
	ErrMalformedFrame = errors.New("protocol: malformed frame")
	// ErrUnknownAPIKey is returned for a request whose API key is not in
	// the table Strata serves (see APIs).
	ErrUnknownAPIKey = errors.New("protocol: unknown api key")
	// ErrUnsupportedVersion is returned for a request whose version is
	// outside the range Strata serves for its API key.
	ErrUnsupportedVersion = errors.New("protocol: unsupported api version")
	// ErrCorruptBatch is returned for a record batch whose length, CRC or
	// header fields are inconsistent.
	ErrCorruptBatch = errors.New("protocol: corrupt record batch")
	// ErrUnsupportedMagic is returned for a message set of magic 0 or 1;
	// Strata accepts only magic 2 record batches.
	ErrUnsupportedMagic = errors.New("protocol: unsupported record batch magic")
	// ErrBatchTooLarge is returned for a record batch larger than the
	// caller's limit (the topic's max.message.bytes).
	ErrBatchTooLarge = errors.New("protocol: record batch too large")
	// ErrCorruptRecord is returned when a record inside a batch does not
	// decode, the batch's records disagree with its header, or a
	// compressed batch does not decompress (including exceeding the
	// decompression limit).
	ErrCorruptRecord = errors.New("protocol: corrupt record")
	// ErrUnknownCodec is returned for a compression codec id other than
	// none, gzip, snappy, lz4 and zstd.
	ErrUnknownCodec = errors.New("protocol: unknown compression codec")
)
