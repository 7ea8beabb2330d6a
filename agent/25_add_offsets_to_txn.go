package agent

// AddOffsetsToTxn, versions 0–4: the producer's transaction will commit
// offsets to a consumer group (with TxnOffsetCommit, sent to the group's
// coordinator next), so its end must complete them: commit makes them the
// group's committed offsets, abort drops them. It starts the transaction
// if none is ongoing. The errors are AddPartitionsToTxn's; a group id
// that is empty or longer than 1024 bytes is INVALID_GROUP_ID.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/metadata"
)

func (a *Agent) handleAddOffsetsToTxn(ctx context.Context, req *kmsg.AddOffsetsToTxnRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	var err error
	switch {
	case metadata.ValidateGroupName(req.Group) != nil:
		err = fmt.Errorf("%w: %v", group.ErrInvalidGroupID, metadata.ValidateGroupName(req.Group))
	case a.txns == nil:
		err = errNoTxnCoordinator
	default:
		err = a.txns.AddOffsets(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group)
	}
	resp.ErrorCode = txnErrorCode(err, req.Version, 2, 4)
	return resp, nil
}
