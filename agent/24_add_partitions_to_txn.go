package agent

// AddPartitionsToTxn, versions 0–5.
//
// v0–3 come from transactional producers: the partitions join the
// producer's transaction at the coordinator of its transactional id,
// starting the transaction if none is ongoing. v4+ carries several
// transactions and comes from agents (KIP-890): a verify-only transaction
// adds nothing and answers, per partition, whether it is part of the
// producer's ongoing transaction (NONE, or TRANSACTION_ABORTABLE —
// INVALID_TXN_STATE before v5); partition N of __consumer_offsets stands
// for the consumer groups of group-coordinator shard N, which a group
// coordinator verifies before a TxnOffsetCommit. A transaction that names
// an unknown topic, or a partition past a topic's last, gets
// UNKNOWN_TOPIC_OR_PARTITION for those and OPERATION_NOT_ATTEMPTED for the
// others: nothing is added, as in Kafka. Coordinator errors
// (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS,
// INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED — INVALID_PRODUCER_EPOCH
// before v2) are every partition's of the transaction.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/txn"
	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

// txnTopic is one topic of an AddPartitionsToTxn transaction, whatever the
// version's struct.
type txnTopic struct {
	topic      string
	partitions []int32
}

func (a *Agent) handleAddPartitionsToTxn(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if req.Version < 4 {
		topics := make([]txnTopic, len(req.Topics))
		for i, t := range req.Topics {
			topics[i] = txnTopic{t.Topic, t.Partitions}
		}
		codes := a.addTxnPartitions(ctx, req.Version, txn.AddRequest{
			TransactionalID: req.TransactionalID, ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch,
		}, false, topics)
		for i, t := range topics {
			st := kmsg.NewAddPartitionsToTxnResponseTopic()
			st.Topic = t.topic
			for j, p := range t.partitions {
				sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				sp.Partition, sp.ErrorCode = p, codes[i][j]
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil
	}
	for _, tx := range req.Transactions {
		topics := make([]txnTopic, len(tx.Topics))
		for i, t := range tx.Topics {
			topics[i] = txnTopic{t.Topic, t.Partitions}
		}
		codes := a.addTxnPartitions(ctx, req.Version, txn.AddRequest{
			TransactionalID: tx.TransactionalID, ProducerID: tx.ProducerID, ProducerEpoch: tx.ProducerEpoch,
		}, tx.VerifyOnly, topics)
		rt := kmsg.NewAddPartitionsToTxnResponseTransaction()
		rt.TransactionalID = tx.TransactionalID
		for i, t := range topics {
			st := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			st.Topic = t.topic
			for j, p := range t.partitions {
				sp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				sp.Partition, sp.ErrorCode = p, codes[i][j]
				st.Partitions = append(st.Partitions, sp)
			}
			rt.Topics = append(rt.Topics, st)
		}
		resp.Transactions = append(resp.Transactions, rt)
	}
	return resp, nil
}

// addTxnPartitions adds (or, with verify, checks) the partitions of one
// transaction and returns the error code of each, in request order.
func (a *Agent) addTxnPartitions(ctx context.Context, version int16, req txn.AddRequest, verify bool, topics []txnTopic) [][]int16 {
	codes := make([][]int16, len(topics))
	type slot struct{ t, p int }
	var slots []slot
	unknown := false
	for i, t := range topics {
		codes[i] = make([]int16, len(t.partitions))
		topic, known := a.cache.Topic(t.topic)
		for j, p := range t.partitions {
			switch {
			case verify && t.topic == txn.OffsetsTopic && p >= 0 && p < shards.Count:
			case !known || p < 0 || int(p) >= topic.Partitions():
				codes[i][j] = errorCode(fmt.Errorf("%w: %s-%d", metadata.ErrUnknownTopic, t.topic, p))
				unknown = true
				continue
			}
			slots = append(slots, slot{i, j})
			req.Partitions = append(req.Partitions, txn.TopicPartition{Topic: t.topic, Partition: p})
		}
	}
	set := func(k int, err error) {
		s := slots[k]
		codes[s.t][s.p] = txnErrorCode(err, version, 2, 5)
	}
	switch {
	case len(slots) == 0:
		return codes
	case unknown:
		for _, s := range slots {
			codes[s.t][s.p] = kerr.OperationNotAttempted.Code
		}
		return codes
	case a.txns == nil:
		for k := range slots {
			set(k, errNoTxnCoordinator)
		}
		return codes
	}
	if !verify {
		err := a.txns.AddPartitions(ctx, req)
		for k := range slots {
			set(k, err)
		}
		return codes
	}
	errs, err := a.txns.VerifyPartitions(ctx, req)
	for k := range slots {
		if err == nil {
			set(k, errs[k])
		} else {
			set(k, err)
		}
	}
	return codes
}
