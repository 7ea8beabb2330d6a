package agent

// AlterConfigs, versions 0–2.
//
// Replaces a topic's whole set of config overrides (Kafka's non-incremental
// semantics: configs not named revert to their defaults). Values are
// validated as in CreateTopics (INVALID_CONFIG). Agent (broker) resources
// get INVALID_REQUEST: agent settings are flags. validate_only changes
// nothing.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleAlterConfigs(ctx context.Context, req *kmsg.AlterConfigsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range req.Resources {
		rs := kmsg.NewAlterConfigsResponseResource()
		rs.ResourceType, rs.ResourceName = rr.ResourceType, rr.ResourceName
		err := checkConfigResource(rr.ResourceType)
		if err == nil {
			err = a.alterTopicConfigs(ctx, rr.ResourceName, replaceEdit(rr.Configs), req.ValidateOnly)
		}
		if err != nil {
			rs.ErrorCode = errorCode(err)
			rs.ErrorMessage = errorMessage(err)
		}
		resp.Resources = append(resp.Resources, rs)
	}
	return resp, nil
}
