// Package metadata holds Strata's cluster metadata model — topics, partition
// leadership, agents, producer-id blocks, coordinator shard claims, consumer
// groups and their committed offsets, transactions — and the small store
// interfaces the agent uses to read and change it.
//
// The interfaces are implemented on etcd by package metadata/etcd (embedded or
// external) and in memory by package metadata/memstore for unit tests. Both
// pass the same conformance suite (metadata/storetest).
//
// Every write that several agents may race on is a compare-and-swap on a
// revision, so leadership changes and partition-state updates are fenced: a
// caller that read a stale PartitionState cannot overwrite a newer one.
// Coordinator shards (Coordinators) are claimed under an agent's
// registration, and every write a coordinator makes for its shard (Groups,
// Transactions) is fenced by that claim, so an agent that lost a shard cannot overwrite
// what its successor writes.
//
// A Store has one revision that every write advances. Watch streams every
// change with its new value, and the events of one atomic write share a
// revision, so Cache can keep an exact, consistent in-memory copy of all
// topics, partition states and agents that the agent reads on its hot
// paths without touching the store.
package metadata
