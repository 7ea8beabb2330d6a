package log

import "errors"

// Sentinel errors. Callers test them with errors.Is; the returned errors wrap
// them with context (file, position, offsets).
var (
	// ErrOffsetOutOfRange: a read or DeleteRecordsBefore asked for an offset
	// outside [LogStartOffset, LogEndOffset].
	ErrOffsetOutOfRange = errors.New("log: offset out of range")
	// ErrCorrupt: data that was durable does not parse or fails its checksum.
	// The message names the file and the byte position.
	ErrCorrupt = errors.New("log: corrupt data")
	// ErrOutOfOrderSequence: an idempotent producer's batch does not continue
	// its sequence (Kafka OUT_OF_ORDER_SEQUENCE_NUMBER).
	ErrOutOfOrderSequence = errors.New("log: out of order sequence number")
	// ErrInvalidProducerEpoch: a batch carries a producer epoch older than the
	// producer's current one (Kafka INVALID_PRODUCER_EPOCH).
	ErrInvalidProducerEpoch = errors.New("log: invalid producer epoch")
	// ErrClosed: the log was closed or deleted.
	ErrClosed = errors.New("log: closed")
	// ErrInvalidBatch: appended bytes are not complete magic-v2 record
	// batches, or a batch header is inconsistent.
	ErrInvalidBatch = errors.New("log: invalid record batch")
	// ErrFencedLeaderEpoch: an append or AssignLeaderEpoch carries a leader
	// epoch older than the newest epoch already in the log (Kafka
	// FENCED_LEADER_EPOCH).
	ErrFencedLeaderEpoch = errors.New("log: leader epoch older than the log's latest")
	// ErrInvalidConfig: Config.Validate rejected a value.
	ErrInvalidConfig = errors.New("log: invalid config")
	// ErrInjectedFault is returned by MemFS for an operation it was told to
	// fail.
	ErrInjectedFault = errors.New("log: injected fault")
)
