package agent

// JoinGroup, versions 0–9, the classic group protocol (package
// agent/group has the semantics).
//
// v0 has no rebalance timeout: the session timeout stands in for it (as it
// does for a non-positive one). From v4 a dynamic member's first join gets
// a member id and MEMBER_ID_REQUIRED (KIP-394); v5 adds group.instance.id
// (static membership, KIP-345); v7 the protocol type in the response; v9
// tells a restarted static leader to skip assignment (KIP-814). The
// request waits for the rebalance to complete. A failed join answers
// generation -1 with the member id the coordinator chose or was given.

import (
	"bytes"
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/protocol"
)

func (a *Agent) handleJoinGroup(ctx context.Context, pr *protocol.Request, req *kmsg.JoinGroupRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	jr := group.JoinRequest{
		Group:                  req.Group,
		MemberID:               req.MemberID,
		InstanceID:             req.InstanceID,
		ClientID:               clientID(pr),
		ClientHost:             clientHost(pr),
		SessionTimeout:         millis(req.SessionTimeoutMillis),
		RebalanceTimeout:       millis(req.RebalanceTimeoutMillis),
		ProtocolType:           req.ProtocolType,
		RequireKnownMemberID:   req.Version >= 4 && req.InstanceID == nil,
		SupportsSkipAssignment: req.Version >= 9,
	}
	if req.Version == 0 || jr.RebalanceTimeout <= 0 {
		jr.RebalanceTimeout = jr.SessionTimeout
	}
	for _, p := range req.Protocols {
		// Metadata aliases the request frame; the group keeps it.
		jr.Protocols = append(jr.Protocols, group.Protocol{Name: p.Name, Metadata: bytes.Clone(p.Metadata)})
	}
	res := group.JoinResult{Err: errNoCoordinator, MemberID: req.MemberID}
	if a.groups != nil {
		res = a.groups.Join(ctx, jr)
	}
	resp.MemberID = res.MemberID
	if res.Err != nil {
		resp.ErrorCode = errorCode(res.Err)
		resp.Generation = -1
		return resp, nil
	}
	resp.Generation = res.Generation
	resp.ProtocolType = kmsg.StringPtr(res.ProtocolType)
	resp.Protocol = kmsg.StringPtr(res.Protocol)
	resp.LeaderID = res.Leader
	resp.SkipAssignment = res.SkipAssignment
	for _, m := range res.Members {
		rm := kmsg.NewJoinGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ProtocolMetadata = m.MemberID, m.InstanceID, m.Metadata
		resp.Members = append(resp.Members, rm)
	}
	return resp, nil
}
