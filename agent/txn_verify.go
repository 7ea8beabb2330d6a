package agent

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/protocol"
)

// verifyTxnPartition is KIP-890's check, made before a producer's first
// transactional write to a partition: the transaction coordinator must
// have the partition in that producer's ongoing transaction. It asks the
// coordinator of txnID (found through its shard's claim) with a
// verify-only AddPartitionsToTxn (v4+), locally or over the network, so a
// late write of a fenced or finished transaction cannot slip into the log.
func (a *Agent) verifyTxnPartition(ctx context.Context, txnID string, pid int64, epoch int16, topic string, idx int32) error {
	owner, err := a.txnCoordinatorOf(ctx, txnID)
	if err != nil {
		return err
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.SetVersion(4)
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = txnID, pid, epoch, true
	tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	tt.Topic, tt.Partitions = topic, []int32{idx}
	tx.Topics = append(tx.Topics, tt)
	req.Transactions = append(req.Transactions, tx)

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var resp kmsg.Response
	if owner == a.cfg.NodeID {
		resp, err = a.dispatch(ctx, &protocol.Request{Body: req})
	} else {
		host, port, ok := a.agentAddr(owner)
		if !ok {
			return fmt.Errorf("%w: transaction coordinator agent %d is not live", errCoordinatorNotAvailable, owner)
		}
		var c *peerConn
		if c, err = dialPeer(ctx, net.JoinHostPort(host, strconv.Itoa(int(port))), "strata-txn-verify"); err == nil {
			defer c.close()
			resp, err = c.request(ctx, req, 10*time.Second)
		}
	}
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
	shard := group.ShardOf(txnID)
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
