package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/txn"
	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

// verifyTxnPartition is KIP-890's check, made before a producer's first
// transactional write to a partition: the transaction coordinator must
// have the partition in that producer's ongoing transaction. It asks this
// agent's coordinator when it owns txnID's shard, and otherwise the owner
// (found through the shard's claim) with a verify-only
// AddPartitionsToTxn (v4), so a late write of a fenced or finished
// transaction cannot slip into the log. A partition outside the
// transaction gets INVALID_TXN_STATE, as Kafka answers produce requests.
func (a *Agent) verifyTxnPartition(ctx context.Context, txnID string, pid int64, epoch int16, topic string, idx int32) error {
	if a.txns == nil {
		return errNoTxnCoordinator
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	errs, err := a.txns.VerifyPartitions(ctx, txn.AddRequest{
		TransactionalID: txnID, ProducerID: pid, ProducerEpoch: epoch,
		Partitions: []txn.TopicPartition{{Topic: topic, Partition: idx}},
	})
	if errors.Is(err, txn.ErrNotCoordinator) {
		err = a.verifyRemote(ctx, txnID, pid, epoch, topic, idx)
	} else if err == nil && len(errs) != 1 {
		err = fmt.Errorf("%w: verification answered %d partitions, want 1", txn.ErrUnknownServer, len(errs))
	} else if err == nil {
		err = errs[0]
	}
	if errors.Is(err, txn.ErrTransactionAbortable) {
		return fmt.Errorf("%w: %s-%d is not in the producer's transaction", txn.ErrInvalidTxnState, topic, idx)
	}
	return err
}

// verifyTimeout bounds a verification.
const verifyTimeout = 10 * time.Second

// verifyRemote asks the agent coordinating txnID to verify a partition.
func (a *Agent) verifyRemote(ctx context.Context, txnID string, pid int64, epoch int16, topic string, idx int32) error {
	owner, err := a.txnCoordinatorOf(ctx, txnID)
	if err != nil {
		return err
	}
	if owner == a.cfg.NodeID {
		// Our claim, not served yet (a moment after claiming it).
		return fmt.Errorf("%w: loading transactional id %q", txn.ErrCoordinatorLoadInProgress, txnID)
	}
	host, port, ok := a.agentAddr(owner)
	if !ok {
		return fmt.Errorf("%w: transaction coordinator agent %d is not live", errCoordinatorNotAvailable, owner)
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.SetVersion(4)
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = txnID, pid, epoch, true
	tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	tt.Topic, tt.Partitions = topic, []int32{idx}
	tx.Topics = append(tx.Topics, tt)
	req.Transactions = append(req.Transactions, tx)
	resp, err := a.txnPeers.request(ctx, net.JoinHostPort(host, strconv.Itoa(int(port))), req, verifyTimeout)
	if err != nil {
		return fmt.Errorf("%w: verify with the transaction coordinator: %v", errCoordinatorNotAvailable, err)
	}
	r := resp.(*kmsg.AddPartitionsToTxnResponse)
	if r.ErrorCode != 0 {
		return kerr.ErrorForCode(r.ErrorCode)
	}
	for _, t := range r.Transactions {
		for _, rt := range t.Topics {
			for _, rp := range rt.Partitions {
				if rp.ErrorCode != 0 {
					return kerr.ErrorForCode(rp.ErrorCode)
				}
			}
		}
	}
	return nil
}

// txnCoordinatorOf returns the agent coordinating transactional id txnID:
// the holder of its shard's claim (shards as Kafka's
// __transaction_state partitions, the same hash as groups).
func (a *Agent) txnCoordinatorOf(ctx context.Context, txnID string) (int32, error) {
	shard := shards.Of(txnID)
	claims, err := a.store.ListCoordinators(ctx, metadata.CoordinatorTransaction)
	if err != nil {
		return -1, fmt.Errorf("%w: %v", errCoordinatorNotAvailable, err)
	}
	for _, c := range claims {
		if c.Shard.Index == shard {
			return c.Agent, nil
		}
	}
	return -1, fmt.Errorf("%w: no agent coordinates transactional id %q yet", errCoordinatorNotAvailable, txnID)
}
