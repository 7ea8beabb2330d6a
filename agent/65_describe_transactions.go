package agent

// DescribeTransactions, version 0: the state of transactional ids this
// agent coordinates — state, producer id and epoch, timeout, when the
// current (or last) transaction started (-1 before the first) and the
// partitions of the ongoing or completing transaction. Admin clients send
// each id to its coordinator; ids coordinated elsewhere get
// NOT_COORDINATOR, unknown ones TRANSACTIONAL_ID_NOT_FOUND, an empty one
// INVALID_REQUEST.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleDescribeTransactions(ctx context.Context, req *kmsg.DescribeTransactionsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range req.TransactionalIDs {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID = id
		st.ProducerID, st.ProducerEpoch, st.StartTimestamp = -1, -1, -1
		if a.txns == nil {
			st.ErrorCode = errorCode(errNoTxnCoordinator)
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		d, err := a.txns.Describe(ctx, id)
		if err != nil {
			st.ErrorCode = errorCode(err)
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		st.State, st.ProducerID, st.ProducerEpoch = d.State, d.ProducerID, d.ProducerEpoch
		st.TimeoutMillis = int32(d.Timeout.Milliseconds())
		if !d.StartTime.IsZero() {
			st.StartTimestamp = d.StartTime.UnixMilli()
		}
		for _, p := range d.Partitions {
			if n := len(st.Topics); n == 0 || st.Topics[n-1].Topic != p.Topic {
				t := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
				t.Topic = p.Topic
				st.Topics = append(st.Topics, t)
			}
			t := &st.Topics[len(st.Topics)-1]
			t.Partitions = append(t.Partitions, p.Partition)
		}
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp, nil
}
