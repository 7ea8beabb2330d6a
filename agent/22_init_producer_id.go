package agent

// InitProducerID, versions 0–5, for idempotent producers.
//
// A producer without a transactional id gets a fresh producer id (from a
// block reserved in etcd, so ids are unique across agents and restarts) and
// epoch 0. Transactions are not supported yet: a request with a
// transactional id gets UNSUPPORTED_VERSION with that explanation rather
// than an id that would later fail.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleInitProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = errorCode(errUnsupportedVersion)
		a.logger.Info("refused transactional producer: transactions are not supported yet", "transactional_id", *req.TransactionalID)
		return resp, nil
	}
	id, err := a.pids.nextID(ctx)
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp, nil
}
