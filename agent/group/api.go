package group

import (
	"time"

	"github.com/strata-io/strata/metadata"
)

// Protocol is one protocol (assignor) a member supports, with its metadata
// (for consumers, a ConsumerProtocolSubscription).
type Protocol struct {
	Name     string
	Metadata []byte
}

// JoinRequest is a JoinGroup request.
type JoinRequest struct {
	Group    string
	MemberID string // "" on a member's first join
	// InstanceID is group.instance.id of a static member; nil otherwise.
	InstanceID       *string
	ClientID         string
	ClientHost       string
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	ProtocolType     string
	Protocols        []Protocol
	// RequireKnownMemberID is set for JoinGroup v4+: a dynamic member's
	// first join gets a member id and MEMBER_ID_REQUIRED (KIP-394).
	RequireKnownMemberID bool
	// SupportsSkipAssignment is set for JoinGroup v9+ (KIP-814).
	SupportsSkipAssignment bool
}

// Member is a member as the leader learns it from JoinGroup.
type Member struct {
	MemberID   string
	InstanceID *string
	Metadata   []byte
}

// JoinResult is the answer to a JoinGroup. When Err is set, only MemberID
// is meaningful (the new member id with ErrMemberIDRequired).
type JoinResult struct {
	Err            error
	MemberID       string
	Generation     int32
	ProtocolType   string
	Protocol       string
	Leader         string
	SkipAssignment bool
	// Members is set for the leader only.
	Members []Member
}

// SyncRequest is a SyncGroup request. Assignments are the leader's
// (followers send none); ProtocolType and Protocol are checked when set
// (SyncGroup v5+).
type SyncRequest struct {
	Group        string
	Generation   int32
	MemberID     string
	InstanceID   *string
	ProtocolType *string
	Protocol     *string
	Assignments  map[string][]byte
}

// SyncResult is the answer to a SyncGroup.
type SyncResult struct {
	Err          error
	ProtocolType string
	Protocol     string
	Assignment   []byte
}

// HeartbeatRequest is a Heartbeat request.
type HeartbeatRequest struct {
	Group      string
	Generation int32
	MemberID   string
	InstanceID *string
}

// LeaveMember is one member leaving a group: by member id, or by instance
// id alone (MemberID "") for an administrative removal of a static member.
type LeaveMember struct {
	MemberID   string
	InstanceID *string
}

// CommitRequest is an OffsetCommit. Generation -1 with no member id and no
// instance id is a standalone (simple) consumer's commit, allowed while the
// group is empty.
type CommitRequest struct {
	Group      string
	Generation int32
	MemberID   string
	InstanceID *string
	// Offsets to commit; their CommitTime is set by the coordinator.
	Offsets []metadata.CommittedOffset
}

// TxnCommitRequest is a TxnOffsetCommit: offsets a transactional producer
// commits to a group as part of its ongoing transaction. Generation,
// MemberID and InstanceID (KIP-447, v3+) are -1, "" and nil for older
// requests.
type TxnCommitRequest struct {
	Group         string
	ProducerID    int64
	ProducerEpoch int16
	Generation    int32
	MemberID      string
	InstanceID    *string
	// Offsets to commit; their CommitTime is set by the coordinator.
	Offsets []metadata.CommittedOffset
}

// FetchedOffset is a committed offset as OffsetFetch returns it; Offset is
// -1 (and LeaderEpoch -1) when the partition has none. Err is set only by
// FetchStable, to ErrUnstableOffsetCommit.
type FetchedOffset struct {
	Topic       string
	Partition   int32
	Offset      int64
	LeaderEpoch int32
	Metadata    string
	Err         error
}

// Description is a group as DescribeGroups shows it.
type Description struct {
	Group        string
	State        string
	ProtocolType string
	Protocol     string
	Members      []MemberDescription
}

// MemberDescription is one member in a Description. Metadata and
// Assignment are set only for a Stable group, as in Kafka.
type MemberDescription struct {
	MemberID   string
	InstanceID *string
	ClientID   string
	ClientHost string
	Metadata   []byte
	Assignment []byte
}

// Listing is a group as ListGroups shows it.
type Listing struct {
	Group        string
	ProtocolType string
	State        string
}
