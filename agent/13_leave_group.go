package agent

// LeaveGroup, versions 0–5. v0–2 name one member; v3+ (KIP-345) name
// several, by member id or, to remove a static member administratively, by
// group.instance.id alone, and answer per member. A leaving member makes
// the rest of the group rebalance at once instead of after its session
// timeout. Before v3 the member's error is the response's error.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
)

func (a *Agent) handleLeaveGroup(ctx context.Context, req *kmsg.LeaveGroupRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	var members []group.LeaveMember
	if req.Version < 3 {
		members = []group.LeaveMember{{MemberID: req.MemberID}}
	} else {
		for _, m := range req.Members {
			members = append(members, group.LeaveMember{MemberID: m.MemberID, InstanceID: m.InstanceID})
		}
	}
	errs, err := []error(nil), errNoCoordinator
	if a.groups != nil {
		errs, err = a.groups.Leave(ctx, req.Group, members)
	}
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp, nil
	}
	if req.Version < 3 {
		resp.ErrorCode = errorCode(errs[0])
		return resp, nil
	}
	for i, m := range req.Members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = m.MemberID, m.InstanceID, errorCode(errs[i])
		resp.Members = append(resp.Members, rm)
	}
	return resp, nil
}
