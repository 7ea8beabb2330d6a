package agent

// DescribeGroups, versions 0–5: each group's state, protocol type, and
// members (with instance ids from v4). As in Kafka, members' metadata and
// assignments, and the selected protocol, are shown only while the group
// is Stable, and a group that does not exist is described as Dead with no
// members and no error. Authorized operations (v3+) are not computed (ACLs
// do not exist yet) and answer Kafka's "not requested" value.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
)

func (a *Agent) handleDescribeGroups(ctx context.Context, req *kmsg.DescribeGroupsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		sg := kmsg.NewDescribeGroupsResponseGroup()
		sg.Group = id
		sg.AuthorizedOperations = authorizedOpsOmitted
		d, err := group.Description{}, errNoCoordinator
		if a.groups != nil {
			d, err = a.groups.Describe(ctx, id)
		}
		if err != nil {
			sg.ErrorCode = errorCode(err)
			resp.Groups = append(resp.Groups, sg)
			continue
		}
		sg.State, sg.ProtocolType, sg.Protocol = d.State, d.ProtocolType, d.Protocol
		for _, m := range d.Members {
			sm := kmsg.NewDescribeGroupsResponseGroupMember()
			sm.MemberID, sm.InstanceID, sm.ClientID, sm.ClientHost = m.MemberID, m.InstanceID, m.ClientID, m.ClientHost
			sm.ProtocolMetadata, sm.MemberAssignment = m.Metadata, m.Assignment
			if sm.ProtocolMetadata == nil {
				sm.ProtocolMetadata = []byte{}
			}
			if sm.MemberAssignment == nil {
				sm.MemberAssignment = []byte{}
			}
			sg.Members = append(sg.Members, sm)
		}
		resp.Groups = append(resp.Groups, sg)
	}
	return resp, nil
}
