package agent

// FindCoordinator, versions 0–6 (v4+ finds several keys at once, KIP-699).
//
// Key type 0 (group): the agent that owns the group's coordinator shard;
// key type 1 (transaction): the agent that owns the transactional id's
// coordinator shard. An unowned shard is claimed by this agent (see
// packages agent/group and agent/txn). An empty transactional id, or any
// other key type, gets INVALID_REQUEST. Errors answer node id -1, host ""
// and port -1.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
)

// Coordinator key types.
const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
)

func (a *Agent) handleFindCoordinator(ctx context.Context, req *kmsg.FindCoordinatorRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if req.Version >= 4 {
		for _, key := range req.CoordinatorKeys {
			c := kmsg.NewFindCoordinatorResponseCoordinator()
			c.Key = key
			var err error
			if c.NodeID, c.Host, c.Port, err = a.findCoordinator(ctx, req.CoordinatorType, key); err != nil {
				c.ErrorCode, c.ErrorMessage = errorCode(err), errorMessage(err)
			}
			resp.Coordinators = append(resp.Coordinators, c)
		}
		return resp, nil
	}
	var err error
	if resp.NodeID, resp.Host, resp.Port, err = a.findCoordinator(ctx, req.CoordinatorType, req.CoordinatorKey); err != nil {
		resp.ErrorCode, resp.ErrorMessage = errorCode(err), errorMessage(err)
	}
	return resp, nil
}

// findCoordinator returns the coordinator of one key.
func (a *Agent) findCoordinator(ctx context.Context, keyType int8, key string) (int32, string, int32, error) {
	var id int32
	var err error
	switch keyType {
	case coordinatorGroup:
		if a.groups == nil {
			return -1, "", -1, errNoCoordinator
		}
		id, err = a.groups.Find(ctx, key)
	case coordinatorTransaction:
		if a.txns == nil {
			return -1, "", -1, errNoTxnCoordinator
		}
		id, err = a.txns.Find(ctx, key)
	default:
		return -1, "", -1, fmt.Errorf("%w: unknown coordinator key type %d", errInvalidRequest, keyType)
	}
	if err != nil {
		return -1, "", -1, err
	}
	host, port, ok := a.agentAddr(id)
	if !ok {
		return -1, "", -1, fmt.Errorf("%w: coordinator agent %d is not registered", group.ErrCoordinatorNotAvailable, id)
	}
	return id, host, port, nil
}
