package agent

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/agent/txn"
	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/protocol"
)

// Sentinels for failures the agent itself detects.
var (
	errInvalidConfig                = errors.New("agent: invalid config")
	errInvalidTopic                 = errors.New("agent: invalid topic name")
	errInvalidPartitions            = errors.New("agent: invalid partition count")
	errInvalidReplication           = errors.New("agent: invalid replication factor")
	errInvalidReplicas              = errors.New("agent: invalid replica assignment")
	errInvalidRequest               = errors.New("agent: invalid request")
	errNotLeader                    = errors.New("agent: not the leader for the partition")
	errLeaderNotAvailable           = errors.New("agent: leader not available")
	errFencedLeaderEpoch            = errors.New("agent: fenced leader epoch")
	errUnknownLeaderEpoch           = errors.New("agent: unknown leader epoch")
	errNotEnoughReplicas            = errors.New("agent: not enough in-sync replicas")
	errNotEnoughReplicasAfterAppend = errors.New("agent: not enough in-sync replicas after append")
	errRequestTimedOut              = errors.New("agent: request timed out")
	errInvalidRequiredAcks          = errors.New("agent: invalid required acks")
	errInvalidRecord                = errors.New("agent: invalid record")
	errOldMessageFormat             = errors.New("agent: message format not supported")
	errUnknownTopicID               = errors.New("agent: unknown topic id")
	errOffsetOutOfRange             = errors.New("agent: offset out of range")
	errElectionNotNeeded            = errors.New("agent: election not needed")
	errPreferredLeaderNotAvailable  = errors.New("agent: preferred leader not available")
	errEligibleLeadersNotAvailable  = errors.New("agent: eligible leaders not available")
	errNoReassignment               = errors.New("agent: no reassignment in progress")
	errCoordinatorNotAvailable      = errors.New("agent: coordinator not available")
	errUnsupportedCompression       = errors.New("agent: unsupported compression type")
	errUnsupportedVersion           = errors.New("agent: not supported yet")
	errShuttingDown                 = errors.New("agent: shutting down")
)

// errorCode maps an internal error to the Kafka error code a client should
// see. It is the only place internal errors become Kafka codes.
func errorCode(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			return m.code.Code
		}
	}
	return kerr.UnknownServerError.Code
}

var errorCodes = []struct {
	err  error
	code *kerr.Error
}{
	// protocol: bad record batches from producers
	{protocol.ErrUnsupportedMagic, kerr.InvalidRecord},
	{protocol.ErrBatchTooLarge, kerr.MessageTooLarge},
	{protocol.ErrCorruptBatch, kerr.CorruptMessage},
	{protocol.ErrCorruptRecord, kerr.CorruptMessage},
	{protocol.ErrUnknownCodec, kerr.CorruptMessage},
	{protocol.ErrUnsupportedVersion, kerr.UnsupportedVersion},

	// the local log
	{log.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{log.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber},
	{log.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{log.ErrInvalidBatch, kerr.CorruptMessage},
	{log.ErrCorrupt, kerr.KafkaStorageError},
	{log.ErrClosed, kerr.NotLeaderForPartition},
	{log.ErrFencedLeaderEpoch, kerr.FencedLeaderEpoch},

	// metadata
	{metadata.ErrTopicExists, kerr.TopicAlreadyExists},
	{metadata.ErrUnknownTopic, kerr.UnknownTopicOrPartition},
	{metadata.ErrUnknownPartition, kerr.UnknownTopicOrPartition},
	{metadata.ErrUnavailable, kerr.RequestTimedOut},
	{metadata.ErrConflict, kerr.RequestTimedOut},

	// the agent
	{errInvalidConfig, kerr.InvalidConfig},
	{errInvalidTopic, kerr.InvalidTopicException},
	{errInvalidPartitions, kerr.InvalidPartitions},
	{errInvalidReplication, kerr.InvalidReplicationFactor},
	{errInvalidReplicas, kerr.InvalidReplicaAssignment},
	{errInvalidRequest, kerr.InvalidRequest},
	{errNotLeader, kerr.NotLeaderForPartition},
	{errLeaderNotAvailable, kerr.LeaderNotAvailable},
	{errFencedLeaderEpoch, kerr.FencedLeaderEpoch},
	{errUnknownLeaderEpoch, kerr.UnknownLeaderEpoch},
	{errNotEnoughReplicas, kerr.NotEnoughReplicas},
	{errNotEnoughReplicasAfterAppend, kerr.NotEnoughReplicasAfterAppend},
	{errRequestTimedOut, kerr.RequestTimedOut},
	{errDiskFull, kerr.KafkaStorageError},
	{errTierUnavailable, kerr.KafkaStorageError},
	{errInvalidRequiredAcks, kerr.InvalidRequiredAcks},
	{errInvalidRecord, kerr.InvalidRecord},
	{errOldMessageFormat, kerr.UnsupportedForMessageFormat},
	{errUnknownTopicID, kerr.UnknownTopicID},
	{errOffsetOutOfRange, kerr.OffsetOutOfRange},
	{errElectionNotNeeded, kerr.ElectionNotNeeded},
	{errPreferredLeaderNotAvailable, kerr.PreferredLeaderNotAvailable},
	{errEligibleLeadersNotAvailable, kerr.EligibleLeadersNotAvailable},
	{errNoReassignment, kerr.NoReassignmentInProgress},
	{errCoordinatorNotAvailable, kerr.CoordinatorNotAvailable},
	{errUnsupportedCompression, kerr.UnsupportedCompressionType},
	{errUnsupportedVersion, kerr.UnsupportedVersion},
	{errShuttingDown, kerr.NotLeaderForPartition},

	// the group coordinator
	{group.ErrNotCoordinator, kerr.NotCoordinator},
	{group.ErrCoordinatorLoadInProgress, kerr.CoordinatorLoadInProgress},
	{group.ErrCoordinatorNotAvailable, kerr.CoordinatorNotAvailable},
	{group.ErrInvalidGroupID, kerr.InvalidGroupID},
	{group.ErrInvalidSessionTimeout, kerr.InvalidSessionTimeout},
	{group.ErrInvalidRequest, kerr.InvalidRequest},
	{group.ErrUnknownMemberID, kerr.UnknownMemberID},
	{group.ErrMemberIDRequired, kerr.MemberIDRequired},
	{group.ErrIllegalGeneration, kerr.IllegalGeneration},
	{group.ErrRebalanceInProgress, kerr.RebalanceInProgress},
	{group.ErrInconsistentGroupProtocol, kerr.InconsistentGroupProtocol},
	{group.ErrFencedInstanceID, kerr.FencedInstanceID},
	{group.ErrGroupMaxSizeReached, kerr.GroupMaxSizeReached},
	{group.ErrNonEmptyGroup, kerr.NonEmptyGroup},
	{group.ErrGroupIDNotFound, kerr.GroupIDNotFound},
	{group.ErrGroupSubscribedToTopic, kerr.GroupSubscribedToTopic},
	{group.ErrOffsetMetadataTooLarge, kerr.OffsetMetadataTooLarge},
	{group.ErrUnknownServer, kerr.UnknownServerError},
	{group.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{group.ErrUnstableOffsetCommit, kerr.UnstableOffsetCommit},

	// the transaction coordinator
	{txn.ErrNotCoordinator, kerr.NotCoordinator},
	{txn.ErrCoordinatorLoadInProgress, kerr.CoordinatorLoadInProgress},
	{txn.ErrCoordinatorNotAvailable, kerr.CoordinatorNotAvailable},
	{txn.ErrInvalidRequest, kerr.InvalidRequest},
	{txn.ErrInvalidTransactionTimeout, kerr.InvalidTransactionTimeout},
	{txn.ErrConcurrentTransactions, kerr.ConcurrentTransactions},
	{txn.ErrInvalidProducerIDMapping, kerr.InvalidProducerIDMapping},
	{txn.ErrProducerFenced, kerr.ProducerFenced},
	{txn.ErrInvalidTxnState, kerr.InvalidTxnState},
	{txn.ErrTransactionalIDNotFound, kerr.TransactionalIDNotFound},
	{txn.ErrTransactionAbortable, kerr.TransactionAbortable},
	{txn.ErrUnknownServer, kerr.UnknownServerError},

	{context.DeadlineExceeded, kerr.RequestTimedOut},
	{context.Canceled, kerr.RequestTimedOut},
}

// errorMessage returns a client-facing message for err, or nil for success.
func errorMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}
