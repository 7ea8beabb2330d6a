package agent

// ApiVersions, versions 0–3.
//
// Lists every API and version range in protocol.APIs. A request for a
// version newer than 3 is answered by protocol.ServeConn itself with a v0
// response carrying UNSUPPORTED_VERSION and the same list (KIP-511), so the
// client can retry with a version we have. v3 requests must name the client
// software in Kafka's format, or get INVALID_REQUEST.

import (
	"context"
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/protocol"
)

// softwareNameRE is Kafka's rule for ClientSoftwareName/Version.
var softwareNameRE = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

func (a *Agent) handleApiVersions(_ context.Context, req *kmsg.ApiVersionsRequest) (kmsg.Response, error) {
	code := int16(0)
	if req.Version >= 3 && (!softwareNameRE.MatchString(req.ClientSoftwareName) || !softwareNameRE.MatchString(req.ClientSoftwareVersion)) {
		code = kerr.InvalidRequest.Code
	}
	return protocol.ApiVersionsResponse(req.Version, code), nil
}
