package agent

// InitProducerID, versions 0–5.
//
// A producer without a transactional id (an idempotent producer) gets a
// fresh producer id (from a block reserved in etcd, so ids are unique
// across agents and restarts) and epoch 0. A transactional producer is
// served by the coordinator of its transactional id (package agent/txn):
// the id's producer id with its epoch bumped, which fences the previous
// producer of the id (an ongoing transaction of it is aborted first, and
// the client is told CONCURRENT_TRANSACTIONS to retry meanwhile).
// transaction.timeout.ms must be positive and at most the agent's maximum
// (INVALID_TRANSACTION_TIMEOUT); v3+'s producer id and epoch (KIP-360)
// must be both set or both -1 (INVALID_REQUEST). Before v4, PRODUCER_FENCED
// is INVALID_PRODUCER_EPOCH. An empty transactional id is INVALID_REQUEST;
// errors answer producer id and epoch -1.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/txn"
)

func (a *Agent) handleInitProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		if a.txns == nil {
			resp.ErrorCode = errorCode(errNoTxnCoordinator)
			return resp, nil
		}
		pe, err := a.txns.InitProducerID(ctx, txn.InitRequest{
			TransactionalID: *req.TransactionalID,
			Timeout:         millis(req.TransactionTimeoutMillis),
			ProducerID:      req.ProducerID,
			ProducerEpoch:   req.ProducerEpoch,
		})
		if err != nil {
			resp.ErrorCode = txnErrorCode(err, req.Version, 4, noVersion)
			return resp, nil
		}
		resp.ProducerID, resp.ProducerEpoch = pe.ProducerID, pe.ProducerEpoch
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
