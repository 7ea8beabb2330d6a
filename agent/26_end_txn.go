package agent

// EndTxn, versions 0–4: commits or aborts the producer's transaction. The
// answer comes once the outcome is stored at the transaction's
// coordinator (PrepareCommit or PrepareAbort); the coordinator then writes
// the commit or abort markers to every partition of the transaction and
// completes the offsets it committed to consumer groups (package
// agent/txn). A retry answers CONCURRENT_TRANSACTIONS until that is done
// and NONE afterwards; ending a transaction that does not exist, or with
// the other outcome, is INVALID_TXN_STATE. A stale epoch is
// PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2); v5, which bumps the
// epoch with every transaction (KIP-890 part 2), is not served.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/txn"
)

func (a *Agent) handleEndTxn(ctx context.Context, req *kmsg.EndTxnRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	err := errNoTxnCoordinator
	if a.txns != nil {
		err = a.txns.EndTxn(ctx, txn.EndRequest{
			TransactionalID: req.TransactionalID,
			ProducerID:      req.ProducerID,
			ProducerEpoch:   req.ProducerEpoch,
			Commit:          req.Commit,
		})
	}
	resp.ErrorCode = txnErrorCode(err, req.Version, 2, 4)
	return resp, nil
}
