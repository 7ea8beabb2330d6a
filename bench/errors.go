package bench

import "errors"

var (
	// ErrInvalidConfig is returned by Config.Validate for a configuration
	// that cannot be run.
	ErrInvalidConfig = errors.New("bench: invalid config")
	// ErrUnreachable is returned when no bootstrap broker answers.
	ErrUnreachable = errors.New("bench: bootstrap brokers unreachable")
	// ErrStalled is returned when a scenario makes no progress for
	// StallTimeout, for example when records that were acknowledged never
	// reach a consumer.
	ErrStalled = errors.New("bench: no progress")
	// ErrNothingToConsume is returned by the consume scenario when the topic
	// holds no records.
	ErrNothingToConsume = errors.New("bench: topic has no records to consume")
	// ErrTopic is returned when the benchmark topic cannot be created,
	// found or deleted.
	ErrTopic = errors.New("bench: topic")
	// ErrNotBenchRecord is returned when the e2e consumer reads a record
	// that bench did not write.
	ErrNotBenchRecord = errors.New("bench: not a bench e2e record")
	// ErrProcStatus is returned when /proc/PID/status cannot be parsed.
	ErrProcStatus = errors.New("bench: malformed /proc status")
	// ErrNoFailover is returned by the failover scenario when some
	// partition acknowledges no record sent after the kill within
	// Config.FailoverTimeout.
	ErrNoFailover = errors.New("bench: no failover")
	// ErrUnknownAgent is returned by the failover scenario when the leader
	// of partition 0 is not in Config.BrokerPIDs.
	ErrUnknownAgent = errors.New("bench: leader not in broker pids")
)
