package group

import "errors"

// Sentinels for the Kafka group errors the coordinator returns; package
// agent maps each to its Kafka error code (the name says which).
var (
	ErrNotCoordinator            = errors.New("group: this agent is not the group's coordinator")
	ErrCoordinatorLoadInProgress = errors.New("group: the coordinator is loading the group")
	ErrCoordinatorNotAvailable   = errors.New("group: the coordinator is not available")
	ErrInvalidGroupID            = errors.New("group: invalid group id")
	ErrInvalidSessionTimeout     = errors.New("group: session timeout outside the agent's allowed range")
	ErrInvalidRequest            = errors.New("group: invalid request")
	ErrUnknownMemberID           = errors.New("group: unknown member id")
	ErrMemberIDRequired          = errors.New("group: member id required")
	ErrIllegalGeneration         = errors.New("group: illegal generation")
	ErrRebalanceInProgress       = errors.New("group: rebalance in progress")
	ErrInconsistentGroupProtocol = errors.New("group: inconsistent group protocol")
	ErrFencedInstanceID          = errors.New("group: fenced instance id")
	ErrGroupMaxSizeReached       = errors.New("group: group max size reached")
	ErrNonEmptyGroup             = errors.New("group: group is not empty")
	ErrGroupIDNotFound           = errors.New("group: group id not found")
	ErrGroupSubscribedToTopic    = errors.New("group: group is subscribed to the topic")
	ErrOffsetMetadataTooLarge    = errors.New("group: offset metadata too large")
	ErrUnknownServer             = errors.New("group: storing the group failed")
	ErrInvalidProducerEpoch      = errors.New("group: invalid producer epoch")
	ErrUnstableOffsetCommit      = errors.New("group: unstable offset commit")
)
