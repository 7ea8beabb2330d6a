package agent

// Heartbeat, versions 0–4: keeps a member's session alive. While the group
// rebalances the answer is REBALANCE_IN_PROGRESS, telling the member to
// rejoin; a stale generation gets ILLEGAL_GENERATION, an unknown member
// UNKNOWN_MEMBER_ID, a static member whose instance id now belongs to a
// newer member id FENCED_INSTANCE_ID (v3+ carries instance ids).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
)

func (a *Agent) handleHeartbeat(ctx context.Context, req *kmsg.HeartbeatRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	err := errNoCoordinator
	if a.groups != nil {
		err = a.groups.Heartbeat(ctx, group.HeartbeatRequest{
			Group:      req.Group,
			Generation: req.Generation,
			MemberID:   req.MemberID,
			InstanceID: req.InstanceID,
		})
	}
	resp.ErrorCode = errorCode(err)
	return resp, nil
}
