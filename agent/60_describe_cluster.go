package agent

// DescribeCluster, versions 0–1.
//
// Lists live agents, the cluster id and the controller. v1 clients may ask
// for controller endpoints (endpoint type 2); like a Kafka broker, an agent
// answers that with UNSUPPORTED_ENDPOINT_TYPE (controllers are not
// addressable: etcd is the coordination service).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleDescribeCluster(_ context.Context, req *kmsg.DescribeClusterRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.ClusterID = a.clusterID
	resp.ControllerID = a.controllerID()
	resp.EndpointType = req.EndpointType
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		resp.ErrorMessage = kmsg.StringPtr("only broker endpoints (type 1) can be described")
		return resp, nil
	}
	resp.ClusterAuthorizedOperations = authorizedOpsOmitted
	for _, ag := range a.cache.Agents() {
		b := kmsg.NewDescribeClusterResponseBroker()
		b.NodeID, b.Host, b.Port = ag.ID, ag.Host, ag.Port
		if ag.Rack != "" {
			b.Rack = kmsg.StringPtr(ag.Rack)
		}
		resp.Brokers = append(resp.Brokers, b)
	}
	return resp, nil
}
