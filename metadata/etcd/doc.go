// Package etcd implements metadata.Store on etcd v3, against an external
// etcd cluster (Dial) or an embedded member (StartEmbedded, whose
// in-process client lets a single agent keep its metadata without a
// network port).
//
// # Key layout
//
// Every key starts with Config.Prefix (default "/strata/"; shown as <p>).
// Names are Kafka topic names, which cannot contain '/'; topic ids are 32
// lowercase hex digits; numbers are decimal.
//
//	<p>cluster/id                        {"v":1,"id":"<22-char base64url UUID>"}
//	<p>agents/<agent id>                 {"v":1,"id":1,"host":"…","port":9092,"rack":"…"}
//	                                     attached to the agent's registration lease
//	<p>topics/<name>                     {"v":1,"name":…,"id":"<hex>","replicas":[[1,2],…],
//	                                      "configs":{…},"created_at":"<RFC 3339>"}
//	<p>topic-ids/<topic id>              {"v":1,"name":"<name>"}  (makes ids unique)
//	<p>partitions/<topic id>/<%010d>     {"v":1,"leader":1,"leader_epoch":0,"isr":[1,2]}
//	<p>producer-ids/next                 the next free producer id, a bare decimal int64
//	<p>coordinators/<kind>/<%04d shard>  {"v":1,"agent":1}  (kind: group, transaction, controller)
//	                                     attached to the owning agent's registration lease
//	<p>groups/<%04d shard>/<group>/meta  {"v":1,"protocol_type":"consumer","generation":3,
//	                                      "protocol":"range","leader":"<member id>",
//	                                      "state_timestamp":"<RFC 3339>","members":[
//	                                      {"member_id":…,"instance_id":…,"client_id":…,
//	                                       "client_host":…,"session_timeout_ms":45000,
//	                                       "rebalance_timeout_ms":60000,
//	                                       "metadata":"<base64>","assignment":"<base64>"},…]}
//	<p>groups/<%04d shard>/<group>/offsets/<topic>/<%010d partition>
//	                                     {"v":1,"topic_id":"<hex>","offset":42,"leader_epoch":0,
//	                                      "metadata":"…","commit_time":"<RFC 3339>"}
//	<p>groups/<%04d shard>/<group>/txn-offsets/<%020d producer id>/<topic>/<%010d partition>
//	                                     {"v":1,"producer_epoch":3,"topic_id":"<hex>","offset":42,
//	                                      "leader_epoch":0,"metadata":"…","commit_time":"<RFC 3339>"}
//	<p>txn/<%04d shard>/ids/<transactional id>
//	                                     {"v":1,"producer_id":7,"producer_epoch":2,
//	                                      "last_producer_id":-1,"last_producer_epoch":1,
//	                                      "timeout_ms":60000,"state":"Ongoing","partitions":
//	                                      [{"topic":"t","partitions":[0,2]},…],"groups":["g",…],
//	                                      "start_time":"<RFC 3339>","last_update":"<RFC 3339>"}
//	<p>txn/<%04d shard>/epoch            {"v":1,"epoch":4}  (the shard's coordinator epoch)
//	<p>catalogue/<topic id>/<%010d partition>/<%020d base offset>
//	                                     {"v":1,"base_offset":0,"last_offset":99,
//	                                      "base_timestamp":…,"max_timestamp":…,"size":1048576,
//	                                      "leader_epoch":3,"epoch_starts":[{"epoch":2,
//	                                      "start_offset":0},…],"crc32c":…,"log_key":"…",
//	                                      "index_key":"…","time_index_key":"…",
//	                                      "uploaded_at":"<RFC 3339>","uploaded_by":1}
//
// Group ids may hold any bytes, so <group> is the id path-escaped
// (url.PathEscape: '/' and '%' among others become %XX). A group's shard is
// chosen by the group coordinator (package agent/group) and fixed for the
// life of the cluster. The group snapshot ("meta") exists once the group
// has used the group protocol; a group that only commits offsets has only
// offsets. A catalogue entry describes one segment offloaded to the object
// store (metadata.RemoteSegment); base offsets are zero-padded so a
// partition's entries sort by offset.
//
// A group's txn-offsets are the offsets transactional producers committed
// (TxnOffsetCommit) in transactions that have not ended, by producer id
// (zero-padded, so they sort by it); ending the transaction moves them to
// offsets/ (commit) or deletes them (abort). Transactional ids are
// path-escaped like group ids and live in the transaction-coordinator
// shard chosen by package agent/txn; a value's state is one of Empty,
// Ongoing, PrepareCommit, PrepareAbort, CompleteCommit and
// CompleteAbort, partitions and groups are sorted and present only while a
// transaction is in progress, start_time is absent before the first
// transaction.
//
// Every JSON value carries "v", the value's format version (1). A reader
// rejects a larger version with ErrVersion instead of misreading it; fields
// may be added within a version and readers ignore those they do not know.
// The producer-id counter is the one bare value: its key fixes its format.
// Partition indexes are zero-padded to ten digits so that keys sort in
// partition order. Values are validated on read; one that does not decode
// is ErrCorrupt.
//
// # Transactions and revisions
//
// Revision fields (Topic.Revision, PartitionState.Revision) are the etcd
// mod revision of the value's key, and compare-and-swap compares it:
//
//   - ClusterID: create-if-absent transaction; the loser of a race reads
//     the winner's id.
//   - CreateTopic: one transaction requires both the topic key and the id
//     key to be absent, then writes the topic, the id key and every
//     partition state (N+2 operations: etcd's --max-txn-ops must allow
//     them; the embedded member allows 16384).
//   - DeleteTopic: one transaction, on the topic's revision, deletes the
//     topic, its id key and its partition range.
//   - UpdateTopic and CompareAndSwapPartition: on the key's revision.
//   - AllocateProducerIDs: compare-and-swap loop on the counter.
//   - RegisterAgent: a lease of Config.LeaseTTL and a create-if-absent
//     put under it; a goroutine keeps the lease alive and revokes it on
//     Close.
//   - ClaimCoordinator: a create-if-absent put under the registration's
//     lease, so the claim vanishes with the agent. A claim's Revision is
//     its key's create revision, and every group write is a transaction
//     that compares it (metadata.ErrFenced when it differs). Offset
//     commits and deletes of many partitions are split into transactions
//     of at most 128 operations (etcd's default --max-txn-ops).
//   - Transactional offsets are written like offsets; completing them puts
//     the committed offsets first and range-deletes the producer's
//     txn-offsets directory last, in transactions of at most 128
//     operations, so a retry after a failure part-way finishes the job.
//   - PutTransaction and DeleteTransaction: one put or delete, fenced by
//     the claim like group writes. BumpCoordinatorEpoch: a compare-and-swap
//     on the epoch key's mod revision that also requires the claim.
//   - LoadGroups, ListGroups and LoadTransactions read their range in
//     pages of 1,000 keys, all at the revision of the first page; so does
//     RemoteSegments.
//   - AddRemoteSegment reads the entry at the new base offset, the entries
//     up to its last offset and its predecessor in one transaction, then
//     puts the entry in a transaction that requires, by range compares,
//     that no entry starts in [base, last], that the predecessor is
//     unchanged and that nothing lies between the two: entries never
//     overlap. If that fails it reads again. DeleteRemoteTopic is one
//     range delete of the topic's catalogue directory.
//
// Watch runs one etcd watch on the whole prefix and turns its events into
// metadata.Events with the decoded values; changes to keys no event kind
// describes become EventProgress. A watch that falls behind a compaction
// sends EventReload and continues from the current revision.
//
// Every failure to reach etcd is wrapped in metadata.ErrUnavailable, and
// every request is bounded by Config.RequestTimeout as well as the
// caller's context.
//
// # Embedded member
//
// NewEmbedConfig gives a single member listening on 127.0.0.1 with ports
// the kernel picks, fast raft timing (one member elects itself within
// ~100 ms), a 1 GiB quota (bbolt maps 1.1 GiB of address space, resident
// only as used), revision auto-compaction keeping 10,000 revisions, and
// etcd's own logs forwarded to slog only at error level. Several members
// form a cluster given real peer ports and a common InitialCluster.
package etcd
