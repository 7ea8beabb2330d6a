// Package shards is what the coordinators that split their work into
// shards (packages agent/group and agent/txn) share: the shard a group or
// transactional id belongs to (Of, Kafka's hash), claiming shards through
// metadata.Coordinators and serving the claimed ones (Set), and the event
// and write plumbing of a served shard (Loop).
//
// A Set claims an unowned shard when asked for it (Find) and, every claim
// interval, those this agent is the preferred owner of (shard i's is the
// (i mod n)-th of the n live agents, by id) and any left unowned for two
// rounds; it stops serving a shard whose claim is gone from the store or
// whose write was fenced (Abandon).
package shards
