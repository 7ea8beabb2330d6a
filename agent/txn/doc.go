// Package txn is Strata's transaction coordinator: the coordinator side of
// Kafka's exactly-once transactions (KIP-98), with KIP-360's producer-id
// recovery, KIP-447's fencing through consumer-group metadata, KIP-588's
// PRODUCER_FENCED and KIP-890's partition verification. Package agent
// decodes InitProducerId (with a transactional id), AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn, DescribeTransactions and ListTransactions, calls
// a Coordinator and maps its errors to Kafka error codes. The partitions
// themselves (control records, the last stable offset, aborted
// transactions) are package agent's; the coordinator reaches them only
// through a MarkerWriter, and the consumer groups' pending offsets only
// through GroupOffsets.
//
// # Shards and ownership
//
// Transactional ids are spread over shards.Count (50) shards by shards.Of
// (package metadata/shards), Kafka's hash for picking an id's
// __transaction_state partition (and a group's __consumer_offsets one). An
// agent coordinates a shard's ids while it holds the shard's claim in the
// metadata store (metadata.Coordinators, kind CoordinatorTransaction),
// made under the agent's registration lease exactly as the group
// coordinator's (package agent/group) are: FindCoordinator (Find) claims
// an unowned shard, every agent claims in the background the unowned
// shards it is the preferred owner of and any left unowned for two
// rounds, every write is fenced by the claim, and a fenced write or a
// claim gone from the store makes the agent drop the shard. Requests for
// ids of a shard this agent does not own get NOT_COORDINATOR; while a
// claimed shard loads, COORDINATOR_LOAD_IN_PROGRESS.
//
// A coordinator that takes a shard first bumps the shard's coordinator
// epoch in the store (metadata.Transactions.BumpCoordinatorEpoch), so the
// epoch its markers carry grows every time the shard changes owner and a
// partition can refuse the markers of a coordinator that lost the shard.
//
// # State machine
//
// Each owned shard has one goroutine that owns its transactional ids;
// requests, store results and completions reach it as events. Every state
// change is stored before it takes effect (Kafka appends to the
// transaction log first): while the write is in flight the id is pending
// and other requests for it get CONCURRENT_TRANSACTIONS. The states and
// transitions are Kafka's TransactionMetadata's:
//
//	Empty ──AddPartitions/AddOffsets──▶ Ongoing ──EndTxn──▶ PrepareCommit ──markers──▶ CompleteCommit
//	  ▲                                    │                PrepareAbort  ──markers──▶ CompleteAbort
//	  └────────────InitProducerId──────────┼──────────────────────────────────────────────┘
//	                                       └─InitProducerId / timeout: epoch+1, PrepareAbort
//
// InitProducerId allocates a producer id for a new transactional id (from
// the agent's blocks of metadata.ProducerIDs) and bumps the epoch
// otherwise, fencing the previous producer of the id; an exhausted epoch
// (32766) rotates to a new producer id. Its producer id and epoch (KIP-360,
// v3+) let a producer resume after an error: the current epoch is bumped,
// the previous one gets the same answer again (a retry), any other is
// PRODUCER_FENCED. An ongoing transaction of the fenced producer is
// aborted with a bumped epoch, and the new producer gets
// CONCURRENT_TRANSACTIONS until the abort completes. EndTxn stores
// PrepareCommit or PrepareAbort and answers; then a goroutine writes the
// markers to every partition of the transaction (MarkerWriter), completes
// the offsets committed to each of its groups (GroupOffsets), and stores
// CompleteCommit or CompleteAbort, retrying each step until it succeeds. A
// coordinator that loads a shard resumes the completion of every prepared
// transaction. A retried EndTxn gets CONCURRENT_TRANSACTIONS while its
// outcome completes and success afterwards; the other outcome, or EndTxn
// without a transaction, is INVALID_TXN_STATE.
//
// Every AbortInterval, transactions that started longer ago than their
// transaction.timeout.ms are aborted with a bumped epoch, so their
// producer is fenced (Kafka's abortTimedOutTransactions). Every
// ExpireInterval, ids without a transaction whose state has not changed
// for IDExpiration (transactional.id.expiration.ms) are deleted.
//
// Verification (KIP-890): a partition leader asks, before a transactional
// producer's first write to a partition, whether the partition is part of
// that producer's ongoing transaction (VerifyPartitions); a group
// coordinator asks the same about a consumer group before a
// TxnOffsetCommit, naming the group's shard as a partition of
// OffsetsTopic, as Kafka names the group's __consumer_offsets partition.
//
// # Persistence
//
// One value per transactional id (metadata.Transaction): producer id and
// epoch, last producer id and epoch, timeout, state, the partitions and
// groups of the transaction, its start time and the time of the last
// change. Its layout in etcd is documented in package metadata/etcd.
package txn
