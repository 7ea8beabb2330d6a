package agent

// IncrementalAlterConfigs, versions 0–1.
//
// Applies SET, DELETE, APPEND and SUBTRACT (the last two on list configs
// only) to a topic's config overrides, validating the result as CreateTopics
// does (INVALID_CONFIG). The update is a compare-and-swap on the topic, so
// concurrent changes to different keys both land. Agent (broker) resources
// get INVALID_REQUEST: agent settings are flags. validate_only changes
// nothing.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleIncrementalAlterConfigs(ctx context.Context, req *kmsg.IncrementalAlterConfigsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range req.Resources {
		rs := kmsg.NewIncrementalAlterConfigsResponseResource()
		rs.ResourceType, rs.ResourceName = rr.ResourceType, rr.ResourceName
		err := checkConfigResource(rr.ResourceType)
		if err == nil {
			err = a.alterTopicConfigs(ctx, rr.ResourceName, incrementalEdit(rr.Configs), req.ValidateOnly)
		}
		if err != nil {
			rs.ErrorCode = errorCode(err)
			rs.ErrorMessage = errorMessage(err)
		}
		resp.Resources = append(resp.Resources, rs)
	}
	return resp, nil
}
