package agent

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnClient sends transactional requests to an in-process agent.
type txnClient struct {
	t  *testing.T
	a  *Agent
	id string
	// pid and epoch are the producer's, after initProducerID.
	pid   int64
	epoch int16
}

func (c *txnClient) initProducerID(version int16) *kmsg.InitProducerIDResponse {
	c.t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.SetVersion(version)
	req.TransactionalID = &c.id
	req.TransactionTimeoutMillis = 60000
	var resp *kmsg.InitProducerIDResponse
	checkFor(c.t, func() error {
		resp = handle(c.t, c.a, req).(*kmsg.InitProducerIDResponse)
		switch err := kerr.ErrorForCode(resp.ErrorCode); err {
		case kerr.NotCoordinator, kerr.CoordinatorLoadInProgress, kerr.CoordinatorNotAvailable, kerr.ConcurrentTransactions:
			return err
		}
		return nil
	})
	if resp.ErrorCode == 0 {
		c.pid, c.epoch = resp.ProducerID, resp.ProducerEpoch
	}
	return resp
}

func (c *txnClient) addPartitions(version int16, epoch int16, topic string, partitions ...int32) []int16 {
	c.t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.SetVersion(version)
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = c.id, c.pid, epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, partitions
	req.Topics = append(req.Topics, rt)
	resp := handle(c.t, c.a, req).(*kmsg.AddPartitionsToTxnResponse)
	var codes []int16
	for _, p := range resp.Topics[0].Partitions {
		codes = append(codes, p.ErrorCode)
	}
	return codes
}

func (c *txnClient) verify(version int16, topic string, partition int32) int16 {
	c.t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.SetVersion(version)
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = c.id, c.pid, c.epoch, true
	tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	tt.Topic, tt.Partitions = topic, []int32{partition}
	tx.Topics = append(tx.Topics, tt)
	req.Transactions = append(req.Transactions, tx)
	resp := handle(c.t, c.a, req).(*kmsg.AddPartitionsToTxnResponse)
	return resp.Transactions[0].Topics[0].Partitions[0].ErrorCode
}

func (c *txnClient) addOffsets(group string) int16 {
	c.t.Helper()
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.SetVersion(3)
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = c.id, c.pid, c.epoch, group
	return handle(c.t, c.a, req).(*kmsg.AddOffsetsToTxnResponse).ErrorCode
}

func (c *txnClient) endTxn(version int16, epoch int16, commit bool) int16 {
	c.t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.SetVersion(version)
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = c.id, c.pid, epoch, commit
	return handle(c.t, c.a, req).(*kmsg.EndTxnResponse).ErrorCode
}

func (c *txnClient) txnOffsetCommit(version int16, group, topic string, offset int64) int16 {
	c.t.Helper()
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.SetVersion(version)
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = c.id, group, c.pid, c.epoch
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	var code int16
	checkFor(c.t, func() error {
		resp := handle(c.t, c.a, req).(*kmsg.TxnOffsetCommitResponse)
		code = resp.Topics[0].Partitions[0].ErrorCode
		if err := kerr.ErrorForCode(code); err == kerr.NotCoordinator || err == kerr.CoordinatorLoadInProgress {
			return err
		}
		return nil
	})
	return code
}

// offsetFetch fetches partition 0 of topic with require_stable.
func offsetFetch(t *testing.T, a *Agent, group, topic string) kmsg.OffsetFetchResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.SetVersion(7)
	req.Group, req.RequireStable = group, true
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{0}
	req.Topics = append(req.Topics, rt)
	resp := handle(t, a, req).(*kmsg.OffsetFetchResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("OffsetFetch: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	return resp.Topics[0].Partitions[0]
}

// checkFor polls cond until it returns nil, failing after 20 s.
func checkFor(t *testing.T, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wantCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	var w int16
	if want != nil {
		w = want.Code
	}
	if got != w {
		t.Errorf("%s: %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

// TestTxnRequests drives the transactional APIs of one agent with raw
// requests: the error codes of each version, and a transaction that only
// commits consumer offsets, which completes without any marker.
func TestTxnRequests(t *testing.T) {
	a := startTestAgent(t)
	createTopic(t, a, "t", 2)
	c := &txnClient{t: t, a: a, id: "app-1"}

	find := kmsg.NewPtrFindCoordinatorRequest()
	find.SetVersion(3)
	find.CoordinatorType, find.CoordinatorKey = 1, c.id
	if r := handle(t, a, find).(*kmsg.FindCoordinatorResponse); r.ErrorCode != 0 || r.NodeID != a.cfg.NodeID {
		t.Fatalf("FindCoordinator(transaction) = %+v", r)
	}
	find.CoordinatorKey = ""
	wantCode(t, "FindCoordinator of an empty transactional id", handle(t, a, find).(*kmsg.FindCoordinatorResponse).ErrorCode, kerr.InvalidRequest)

	if r := c.initProducerID(4); r.ErrorCode != 0 || r.ProducerEpoch != 0 {
		t.Fatalf("InitProducerId = %+v", r)
	}
	wantCode(t, "EndTxn without a transaction", c.endTxn(3, c.epoch, true), kerr.InvalidTxnState)
	codes := c.addPartitions(3, c.epoch, "nope", 0)
	wantCode(t, "AddPartitionsToTxn of an unknown topic", codes[0], kerr.UnknownTopicOrPartition)
	codes = c.addPartitions(3, c.epoch, "t", 0, 5)
	wantCode(t, "AddPartitionsToTxn of a partition that exists", codes[0], kerr.OperationNotAttempted)
	wantCode(t, "AddPartitionsToTxn of a partition past the last", codes[1], kerr.UnknownTopicOrPartition)
	wantCode(t, "AddPartitionsToTxn v2 with a stale epoch", c.addPartitions(2, c.epoch-1, "t", 0)[0], kerr.ProducerFenced)
	wantCode(t, "AddPartitionsToTxn v1 with a stale epoch", c.addPartitions(1, c.epoch-1, "t", 0)[0], kerr.InvalidProducerEpoch)
	wantCode(t, "AddPartitionsToTxn", c.addPartitions(3, c.epoch, "t", 1)[0], nil)
	wantCode(t, "verify v5 of a partition in the transaction", c.verify(5, "t", 1), nil)
	wantCode(t, "verify v5 of a partition not in it", c.verify(5, "t", 0), kerr.TransactionAbortable)
	wantCode(t, "verify v4 of a partition not in it", c.verify(4, "t", 0), kerr.InvalidTxnState)

	// A group the producer did not add refuses its offsets.
	g := "consumers"
	wantCode(t, "TxnOffsetCommit v3 for a group not added", c.txnOffsetCommit(3, g, "t", 5), kerr.InvalidTxnState)
	wantCode(t, "TxnOffsetCommit v4 for a group not added", c.txnOffsetCommit(4, g, "t", 5), kerr.TransactionAbortable)
	wantCode(t, "AddOffsetsToTxn of an empty group", c.addOffsets(""), kerr.InvalidGroupID)
	wantCode(t, "AddOffsetsToTxn", c.addOffsets(g), nil)
	wantCode(t, "TxnOffsetCommit", c.txnOffsetCommit(4, g, "t", 5), nil)
	if p := offsetFetch(t, a, g, "t"); p.ErrorCode != kerr.UnstableOffsetCommit.Code || p.Offset != -1 {
		t.Errorf("require_stable OffsetFetch while the transaction is open = %+v", p)
	}

	// A second producer fences the first: the open transaction is aborted
	// (its epoch bumped, its marker written to t-1) and, once it is, the
	// new producer gets the next epoch.
	old := *c
	r := kmsg.NewPtrInitProducerIDRequest()
	r.SetVersion(4)
	r.TransactionalID, r.TransactionTimeoutMillis = &c.id, 60000
	wantCode(t, "InitProducerId fencing an open transaction", handle(t, a, r).(*kmsg.InitProducerIDResponse).ErrorCode, kerr.ConcurrentTransactions)
	wantCode(t, "the fenced producer's commit", old.endTxn(3, old.epoch, true), kerr.ProducerFenced)
	wantCode(t, "the fenced producer's commit, v1", old.endTxn(1, old.epoch, true), kerr.InvalidProducerEpoch)
	wantCode(t, "the fenced producer's offsets", old.txnOffsetCommit(4, g, "t", 6), kerr.InvalidProducerEpoch)

	d := kmsg.NewPtrDescribeTransactionsRequest()
	d.TransactionalIDs = []string{c.id, "unknown"}
	var dr *kmsg.DescribeTransactionsResponse
	checkFor(t, func() error { // until the abort's marker is written
		dr = handle(t, a, d).(*kmsg.DescribeTransactionsResponse)
		if s := dr.TransactionStates[0].State; s != "CompleteAbort" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
	if s := dr.TransactionStates[0]; s.ErrorCode != 0 || s.ProducerEpoch != old.epoch+1 || s.TimeoutMillis != 60000 {
		t.Errorf("DescribeTransactions = %+v", s)
	}
	wantCode(t, "DescribeTransactions of an unknown id", dr.TransactionStates[1].ErrorCode, kerr.TransactionalIDNotFound)
	if p := offsetFetch(t, a, g, "t"); p.ErrorCode != 0 || p.Offset != -1 {
		t.Errorf("OffsetFetch after the abort = %+v, want no offset", p)
	}
	if ir := handle(t, a, r).(*kmsg.InitProducerIDResponse); ir.ErrorCode != 0 || ir.ProducerEpoch != old.epoch+2 {
		t.Errorf("InitProducerId after the abort = %+v, want epoch %d", ir, old.epoch+2)
	}

	l := kmsg.NewPtrListTransactionsRequest()
	l.SetVersion(1)
	l.StateFilters = []string{"Empty", "Bogus"}
	var lr *kmsg.ListTransactionsResponse
	checkFor(t, func() error { // until every shard the agent claimed has loaded
		lr = handle(t, a, l).(*kmsg.ListTransactionsResponse)
		return kerr.ErrorForCode(lr.ErrorCode)
	})
	if len(lr.TransactionStates) != 1 || lr.TransactionStates[0].TransactionalID != c.id ||
		len(lr.UnknownStateFilters) != 1 || lr.UnknownStateFilters[0] != "Bogus" {
		t.Errorf("ListTransactions = %+v", lr)
	}
	l.SetVersion(2)
	bad := "("
	l.TransactionalIDPattern = &bad
	wantCode(t, "ListTransactions with a bad pattern", handle(t, a, l).(*kmsg.ListTransactionsResponse).ErrorCode, kerr.InvalidRegularExpression)
}

// TestTxnOffsetsOnly: a transaction that only commits consumer offsets
// completes without markers; its offsets become visible on commit.
func TestTxnOffsetsOnly(t *testing.T) {
	a := startTestAgent(t)
	createTopic(t, a, "t", 1)
	c := &txnClient{t: t, a: a, id: "offsets-only"}
	if r := c.initProducerID(5); r.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	wantCode(t, "AddOffsetsToTxn", c.addOffsets("g"), nil)
	wantCode(t, "TxnOffsetCommit", c.txnOffsetCommit(4, "g", "t", 42), nil)
	wantCode(t, "EndTxn", c.endTxn(4, c.epoch, true), nil)
	checkFor(t, func() error {
		if p := offsetFetch(t, a, "g", "t"); p.ErrorCode != 0 || p.Offset != 42 {
			return fmt.Errorf("offset %d, %v", p.Offset, kerr.ErrorForCode(p.ErrorCode))
		}
		return nil
	})
	checkFor(t, func() error {
		if code := c.endTxn(4, c.epoch, true); code != 0 {
			return kerr.ErrorForCode(code)
		}
		return nil
	})
	wantCode(t, "abort after the commit", c.endTxn(4, c.epoch, false), kerr.InvalidTxnState)
}

// createTopic creates topic with n partitions and waits until the agent
// knows it.
func createTopic(t *testing.T, a *Agent, topic string, n int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(5)
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, n, 1
	req.Topics = append(req.Topics, rt)
	resp := handle(t, a, req).(*kmsg.CreateTopicsResponse)
	if code := resp.Topics[0].ErrorCode; code != 0 {
		t.Fatalf("create topic %q: %v", topic, kerr.ErrorForCode(code))
	}
	checkFor(t, func() error {
		if _, ok := a.cache.Topic(topic); !ok {
			return fmt.Errorf("topic %q not known yet", topic)
		}
		return nil
	})
}
