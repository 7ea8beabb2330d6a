package agent

// ListTransactions, versions 0–2: the transactional ids this agent
// coordinates (admin clients ask every agent and merge the answers), with
// Kafka's filters: by state (names Kafka does not know are listed in
// UnknownStateFilters and match nothing), by producer id, v1+ by how long
// the transaction has been running (KIP-994), v2+ by an RE2 regular
// expression over the id (KIP-1152; INVALID_REGULAR_EXPRESSION when it
// does not compile). While some of the agent's coordinator shards are
// still loading the answer is COORDINATOR_LOAD_IN_PROGRESS, as in Kafka.

import (
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/txn"
)

func (a *Agent) handleListTransactions(ctx context.Context, req *kmsg.ListTransactionsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	f := txn.ListFilter{States: req.StateFilters, ProducerIDs: req.ProducerIDFilters}
	for _, s := range req.StateFilters {
		if !slices.Contains(txn.States, s) && !slices.Contains(resp.UnknownStateFilters, s) {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, s)
		}
	}
	if req.Version >= 1 && req.DurationFilterMillis >= 0 {
		f.ByDuration, f.MinDuration = true, time.Duration(req.DurationFilterMillis)*time.Millisecond
	}
	if req.Version >= 2 && req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		re, err := regexp.Compile(*req.TransactionalIDPattern)
		if err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			return resp, nil
		}
		f.Match = re.MatchString
	}
	if a.txns == nil {
		resp.ErrorCode = errorCode(errNoTxnCoordinator)
		return resp, nil
	}
	listed, err := a.txns.List(ctx, f)
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp, nil
	}
	for _, l := range listed {
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = l.TransactionalID, l.ProducerID, l.State
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp, nil
}
