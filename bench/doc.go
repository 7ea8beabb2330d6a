// Package bench is Strata's load generator: it drives any Kafka bootstrap
// address with public Kafka clients only (franz-go's kgo and kadm, with its
// kmsg and kerr protocol types) and reports throughput, latency and
// failover times for a fixed set of scenarios. It imports no other Strata
// package, so the same numbers can be taken against Strata, Apache Kafka
// or anything else that speaks the protocol.
//
// # Scenarios
//
// Run executes the selected scenarios in this fixed order ("all" selects
// every one but catchup and failover):
//
//   - loopback: one sender goroutine writes 1 MiB buffers over a loopback
//     TCP connection to one receiver for Config.LoopbackDuration. Every
//     throughput figure is also printed as a fraction of it, which makes
//     runs on different machines comparable.
//   - produce: as fast as possible (or at Config.Rate) for Config.Duration or
//     Config.Records records, from Config.Producers franz-go clients. The
//     figure counts acknowledged record value bytes over the time from the
//     first send to the last acknowledgement.
//   - consume: one franz-go client reads every partition of the produce
//     topic from its log start offset to the end offset seen when the
//     scenario starts, with large fetches.
//   - catchup: a fresh franz-go client with the library's default fetch
//     sizes replays the produce topic (or Config.Topic) from its log start
//     offset up to the end offsets listed when the scenario starts, as a
//     consumer with auto.offset.reset=earliest would. With
//     Config.WaitOffloaded it first polls ListOffsets with timestamp -4
//     (the earliest offset on the broker's local disk, KIP-405) until every
//     partition's local log start is at least its end offset minus
//     Config.OffloadedWithin records. It reports the time from the first
//     Fetch request the client writes to the first record a poll delivers,
//     MB/s and records/s from that Fetch to the last record, and the
//     fraction of the records that were below the local log start (served
//     from the object tier) when the replay began.
//   - latency: records are sent on a fixed timeline at Config.Rate
//     (DefaultLatencyRate when zero); the latency of a record is measured
//     from its intended send time to its acknowledgement, so a stall of the
//     broker (or of the generator) is charged to every record that should
//     have been sent during it (no coordinated omission).
//   - e2e: the same timeline, with a concurrent long-polling consumer; the
//     latency of a record is measured from its intended send time to the
//     moment the consumer receives it.
//   - failover: the latency timeline, round-robin over the partitions of a
//     fresh topic, from two idempotent acks=all producers (one for
//     partition 0 alone, one for the rest) that retry and refresh metadata
//     every 100 ms. After Config.FailoverWarmup the agent that Metadata
//     names leader of partition 0 is killed (SIGKILL to its process from
//     Config.BrokerPIDs; it is not restarted). A partition has recovered
//     when a record due after the kill is acknowledged; the scenario
//     reports the time from the kill to the recovery of partition 0 and of
//     the last partition, when Metadata first named a new leader, the
//     latency of every record of the run, and how many records failed. It
//     sends for at least Config.Duration and until every partition has
//     recovered, and fails with ErrNoFailover if that takes longer than
//     Config.FailoverTimeout.
//
// With Config.BrokerPID set, the broker process's VmRSS and VmHWM are read
// from /proc/PID/status after every scenario; with Config.BrokerPIDs, those
// of every agent not killed by the run.
//
// Metadata that decides what bench does (which brokers exist, whether a
// topic is ready, who leads partition 0) is always requested from a
// broker, never answered from the client's metadata cache.
//
// # Units
//
// 1 MB is 10^6 bytes of record value: keys (there are none), headers and
// protocol overhead are not counted. Latencies are wall-clock durations
// measured on the monotonic clock.
//
// # Payloads
//
// Throughput records carry values cut from a pre-generated pool of distinct
// payloads (at least 4 MiB, larger than any record batch, so no batch repeats
// a payload). Without compression the pool is random bytes from a fixed seed
// and is incompressible; with --compression it is text-like (words from a
// small skewed vocabulary, spaces, numbers and newlines), which gzip
// compresses to about a third, like log lines. The fixed seed makes runs
// reproducible.
//
// # e2e record layout
//
// The value of an e2e record is at least 8 bytes long:
//
//	offset 0, 8 bytes: intended send time, Unix nanoseconds, big-endian int64
//	offset 8:          payload filler up to Config.RecordSize bytes
//
// A send time of 0 marks a warm-up record, which the consumer counts but does
// not measure; a shorter value or a negative send time is not a bench record
// and fails the scenario. The send time is derived from one wall-clock reading taken at
// the start of the scenario plus monotonic elapsed time, so a wall-clock step
// during the run does not distort latencies measured in this process.
package bench
