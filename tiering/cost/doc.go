// Package cost models what a topic costs per month on Strata — object
// storage, object-store requests, local disks and cross-zone traffic — and
// what the same topic would cost on classic Kafka, which keeps every
// retained byte on replicated disks. `strata cost` fills the inputs from a
// running cluster; WhatIf shows how a change of retention, local retention
// or segment size moves the cost.
//
// Everything here is a pure function of its inputs (a Topic, a Config with
// its Prices) except LoadPrices, which reads a price file. The values are
// plain data and safe for concurrent use.
//
// # Inputs
//
// A Topic carries what DescribeConfigs and the agents' figures give:
// partitions P, replication factor RF, stored ingress W bytes/s (after
// producer compression; all partitions together), retention.ms T and
// retention.bytes R, local.retention.ms Tl and local.retention.bytes Rl
// (-2 means "as the total"), segment.bytes S and segment.ms Sms,
// remote.storage.enable, the read fan-out F (bytes fetched per byte
// produced) and the fraction f of fetched bytes read from the object store.
// TopicFromConfigs maps DescribeConfigs output onto a Topic. A Config
// carries the prices and deployment assumptions: the month M (730 h), the
// multipart part size, the ranged-GET size G, objects per segment k
// (segment + index = 2), the disk headroom H, the fraction c of client
// traffic and r of follower copies that cross zones, and the classic
// deployment's replication factor.
//
// # Formulas
//
// Per partition, with w = W/P bytes/s:
//
//	segment size     s = min(S, w·Sms/1000)                segments close by size or by age
//	closed bytes     C = min(w·T/1000, R)                  -1 drops a limit
//	total retained   C + s/2                               plus the active segment, on average half full
//	remote (tiered)  C                                     every closed segment is uploaded at once
//	local (tiered)   min(w·Tl/1000, Rl, C) + s/2           per replica
//	local (not)      C + s/2                               per replica
//
// Why C + s/2: Kafka deletes whole segments, and only once the newest
// record of a segment is older than retention.ms (or once dropping it
// still leaves at least retention.bytes). So the oldest kept segment holds
// between 0 and s bytes past the limit, s/2 on average, and the active
// segment holds s/2 on average; for time that gives w·T + s/2 over the
// whole log, for size R + s/2 — the sawtooth's mean, exactly. The
// retention check interval and segment.ms jitter are ignored.
//
// Topic-wide, per month (produced bytes B = W·M):
//
//	remote bytes         P·C                          (tiered only; S3 keeps its own redundancy)
//	local bytes          P·RF·local
//	provisioned disk     local bytes · H
//	PUT-class requests   B/s · (p(s) + k − 1),        p(s) = 1 if s ≤ part size, else ceil(s/part)+2
//	GET-class requests   B·F·f/s · (ceil(s/G) + k − 1)  (each segment read: its index, then ranged GETs)
//	cross-zone bytes     B·c (produce) + B·(RF−1)·r (replication) + B·F·c (consume)
//
// and the cost multiplies each by its price: GB-months of object storage
// and of provisioned disk (1 GB = 2^30 bytes, as AWS bills), requests per
// 1,000, and cross-zone bytes at CrossAZPerGB in each direction, i.e.
// twice. Reads from S3 to an agent in the same region cost nothing but
// their GETs; the agent's answer to a consumer in another zone is counted
// in the consume traffic either way.
//
// The classic scenario keeps everything local: P·ClassicRF·(C + s/2) bytes
// on disk with the same headroom, no object store, and cross-zone traffic
// B·c + B·(ClassicRF−1)·r + B·F·c.
//
// Measured request rates (Topic.Observed) replace the derived ones; WhatIf
// scales them by the model's ratio after/before.
//
// # Edge cases
//
//   - Zero ingress keeps nothing and costs nothing, whatever the configs.
//   - retention.ms and retention.bytes both -1 keep data forever: there is
//     no steady state, so Estimate fails with ErrUnboundedRetention,
//     unless Config.UnboundedHorizon is set, in which case the topic is
//     priced as it will be holding that much history and the result is
//     marked Unbounded.
//   - Local retention looser than total retention is refused, as Kafka
//     refuses it.
//   - Partitions are assumed to receive equal shares of the ingress; a
//     skewed topic keeps about the same bytes under time retention, but
//     under retention.bytes its idle partitions keep less than modelled.
//
// Not modelled: gp3 IOPS and throughput above the included baseline,
// instance costs, S3 LIST requests of the sweeper and retention (a few
// per partition per hour), the object-store bytes of index files (about
// 0.2% of the data), S3's tiered storage discounts above 50 TB, and
// compaction.
package cost
