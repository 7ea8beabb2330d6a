package agent

// ListGroups, versions 0–5: the groups this agent coordinates, as in Kafka
// (admin clients ask every agent and merge the answers). v4 filters by
// state (KIP-518) and v5 by type (KIP-848); both filters are
// case-insensitive and every group here is a "classic" group. While some
// of the agent's coordinator shards are still loading, the groups of the
// others come with COORDINATOR_LOAD_IN_PROGRESS.

import (
	"context"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// classicGroupType is the type of every group Strata serves.
const classicGroupType = "classic"

func (a *Agent) handleListGroups(ctx context.Context, req *kmsg.ListGroupsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if a.groups == nil {
		resp.ErrorCode = errorCode(errNoCoordinator)
		return resp, nil
	}
	listed, err := a.groups.List(ctx)
	resp.ErrorCode = errorCode(err)
	if len(req.TypesFilter) > 0 && !slices.ContainsFunc(req.TypesFilter, func(t string) bool { return strings.EqualFold(t, classicGroupType) }) {
		return resp, nil
	}
	for _, l := range listed {
		if len(req.StatesFilter) > 0 && !slices.ContainsFunc(req.StatesFilter, func(s string) bool { return strings.EqualFold(s, l.State) }) {
			continue
		}
		rg := kmsg.NewListGroupsResponseGroup()
		rg.Group, rg.ProtocolType, rg.GroupState, rg.GroupType = l.Group, l.ProtocolType, l.State, classicGroupType
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, nil
}
