// Package group is Strata's consumer-group coordinator: Kafka's classic
// group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) with
// committed offsets (OffsetCommit, OffsetFetch, OffsetDelete) and group
// administration (DescribeGroups, ListGroups, DeleteGroups). Package agent
// decodes the Kafka requests, calls a Coordinator and maps its errors to
// Kafka error codes. The coordinator never assigns partitions: the group's
// leader does, with whatever client-side assignor the members agreed on
// (range, roundrobin, sticky, cooperative-sticky, or a custom one).
//
// # Shards and ownership
//
// Groups are spread over shards.Count (50) shards by shards.Of (package
// metadata/shards), the hash Kafka uses to pick a group's
// __consumer_offsets partition. An agent coordinates a shard's groups while
// it holds the shard's claim in the metadata store (metadata.Coordinators):
// a key written under the agent's registration lease with a
// create-if-absent transaction, so at most one live agent holds it and it
// disappears when the agent does. FindCoordinator (Find) answers with the
// owner, claiming an unowned shard for the agent it was sent to; in the
// background every agent claims the unowned shards it is the preferred
// owner of (shard i: the (i mod n)-th of the n live agents by id), and any
// shard left unowned for two rounds, so every group has a coordinator
// (shards.Set does the claiming for both coordinators). Requests for a group whose shard this agent does not own get
// NOT_COORDINATOR; while a claimed shard loads from the store, requests get
// COORDINATOR_LOAD_IN_PROGRESS. The transaction coordinator (package
// agent/txn) uses the same kind of claims with its own CoordinatorKind.
//
// Every write for a shard is fenced by its claim (metadata.ErrFenced once
// it is gone, even if this agent claimed the shard again since): a write
// that is fenced, or a periodic check that finds the claim gone, makes the
// agent drop the shard, failing its waiting requests with NOT_COORDINATOR.
//
// # State machine
//
// Each owned shard has one goroutine that owns its groups (state): requests
// and store completions reach it as events, and it never waits on the store
// or holds a lock across I/O. A second goroutine per shard applies the
// shard's store writes one at a time, in the order they were queued, and
// hands each result back to the loop. The state machine follows Kafka's
// GroupCoordinator: groups move through Empty, PreparingRebalance,
// CompletingRebalance, Stable and Dead; a rebalance waits for every member
// to rejoin or for the longest rebalance timeout (members that did not
// rejoin are removed, static ones excepted), an empty group's first
// rebalance waits group.initial.rebalance.delay (again while new members
// keep arriving, up to the rebalance timeout); members are removed when
// their session times out without a heartbeat (not while they wait in a
// JoinGroup or SyncGroup), when they leave, or when they do not SyncGroup
// within the rebalance timeout. The leader's SyncGroup assignment is stored
// before anyone gets it, and the group becomes Stable. A v4+ JoinGroup
// without a member id gets one with MEMBER_ID_REQUIRED; static members
// (group.instance.id) that restart take their place and assignment back
// without a rebalance when the selected protocol does not change, fencing
// the old member id (FENCED_INSTANCE_ID). Timers are entries of one heap
// per shard, each checked against the state when it fires, so the state
// machine can be tested with a clock the test moves.
//
// # Persistence
//
// A group's membership snapshot (metadata.Group: generation, protocol,
// leader, members with their metadata and assignment) is stored when a
// generation's assignment is stored, when a static member rejoins, and
// when the group becomes empty; committed offsets are stored per partition
// with their metadata, leader epoch, commit time and the topic's id (an
// offset of a topic deleted and re-created under the same name does not
// apply to the new one). A coordinator that loads a shard restores its
// groups: those with members are Stable in their generation, so members
// carry on heartbeating after an agent restart or a move, and static
// members rejoin without a rebalance.
//
// # Transactional offsets
//
// TxnOffsetCommit (TxnCommit) stores offsets of a transactional producer
// as pending, per (group, producer id), apart from the committed offsets:
// OffsetFetch does not show them, and with require_stable answers
// UNSTABLE_OFFSET_COMMIT for their partitions (as for partitions whose
// commit is being stored). The committer is validated as Kafka validates
// transactional commits (a member of the current generation when a
// generation or member id is given, KIP-447; anyone otherwise), and a
// group that does not exist is created. When the producer's transaction
// ends, its coordinator calls CompleteTxn for the group's shard, as a
// Kafka transaction marker reaches a __consumer_offsets partition: a
// commit makes the producer's pending offsets the committed ones (unless a
// later plain commit of the same partition exists), an abort drops them;
// both are stored before they take effect, and pending offsets survive a
// restart or a move of the coordinator. Once a transaction of a producer
// epoch ended, commits of older epochs of that producer are refused
// (INVALID_PRODUCER_EPOCH) for a sweep interval, so a fenced producer's
// late commit cannot linger as pending.
//
// Every OffsetsRetentionCheckInterval the coordinator removes offsets of
// topics that no longer exist, and offsets past OffsetsRetention (KIP-211):
// for a group that uses the group protocol, counted from when it became
// empty; for a standalone consumer's group, from each commit; for a Stable
// consumer group, from the commit for topics it no longer subscribes to.
// Empty groups left without offsets, pending ones included, are then
// removed.
package group
