// Package agent is the running Strata agent: it accepts Kafka connections,
// serves each Kafka API from one file named after the API (00_produce.go,
// 01_fetch.go, …), owns the partitions this agent hosts, and wires the
// metadata store, the local logs and (later) replication and tiering.
//
// Internal errors become Kafka error codes in exactly one place, errors.go.
//
// A partition's records become visible to consumers when the high watermark
// passes them. With one replica the high watermark follows the log end
// offset as soon as an append returns; waiting fetches are woken when it
// moves, so a long-polling consumer sees a record within microseconds of the
// producer's acknowledgement.
package agent
