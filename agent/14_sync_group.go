package agent

// SyncGroup, versions 0–5. The leader sends the assignment it computed;
// every member, leader included, waits until that assignment is stored
// and gets its own part of it. In a Stable group a member gets its current
// assignment at once (whatever a restarted static leader sends is
// ignored). v5 checks the protocol type and name the member thinks the
// group uses (INCONSISTENT_GROUP_PROTOCOL if they differ) and returns
// them. A failed sync answers an empty assignment.

import (
	"bytes"
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
)

func (a *Agent) handleSyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	sr := group.SyncRequest{
		Group:        req.Group,
		Generation:   req.Generation,
		MemberID:     req.MemberID,
		InstanceID:   req.InstanceID,
		ProtocolType: req.ProtocolType,
		Protocol:     req.Protocol,
	}
	if len(req.GroupAssignment) > 0 {
		sr.Assignments = make(map[string][]byte, len(req.GroupAssignment))
		for _, ga := range req.GroupAssignment {
			// Assignments alias the request frame; the group keeps them.
			sr.Assignments[ga.MemberID] = bytes.Clone(ga.MemberAssignment)
		}
	}
	res := group.SyncResult{Err: errNoCoordinator}
	if a.groups != nil {
		res = a.groups.Sync(ctx, sr)
	}
	resp.MemberAssignment = []byte{}
	if res.Err != nil {
		resp.ErrorCode = errorCode(res.Err)
		return resp, nil
	}
	resp.ProtocolType = kmsg.StringPtr(res.ProtocolType)
	resp.Protocol = kmsg.StringPtr(res.Protocol)
	if res.Assignment != nil {
		resp.MemberAssignment = res.Assignment
	}
	return resp, nil
}
