package agent

// DeleteGroups, versions 0–2: deletes empty groups with all their
// committed offsets. A group with members gets NON_EMPTY_GROUP, one that
// does not exist GROUP_ID_NOT_FOUND; each group is deleted by its
// coordinator (NOT_COORDINATOR elsewhere).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleDeleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = id
		err := errNoCoordinator
		if a.groups != nil {
			err = a.groups.DeleteGroup(ctx, id)
		}
		rg.ErrorCode = errorCode(err)
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, nil
}
