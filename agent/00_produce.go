package agent

// Produce, versions 3–11 (magic v2 record batches only). Versions 0–2 are
// advertised only because librdkafka 2.x will not compress without seeing
// them; their old message sets are refused per partition with
// UNSUPPORTED_FOR_MESSAGE_FORMAT.
//
// Each partition must carry exactly one batch (Kafka's rule since v3). It is
// validated (magic 2, CRC32-C, lengths, record count, max.message.bytes,
// record framing inside the batch, zstd only from v7) before anything is
// written; a bad batch fails its partition with CORRUPT_MESSAGE,
// MESSAGE_TOO_LARGE, UNSUPPORTED_COMPRESSION_TYPE or INVALID_RECORD
// (CORRUPT_MESSAGE before v8, which lacks that code) and leaves the log
// untouched. Idempotent batches are checked against the
// producer's sequence state in the log: a retried duplicate is acknowledged
// with its original offsets and not written again. Batches are stored exactly
// as the producer sent them, compressed or not, with only the base offset and
// partition leader epoch filled in (and LogAppendTime when the topic asks).
//
// acks=0 gets no response; an error then closes the connection, which is
// how Kafka tells such a producer something went wrong.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/protocol"
)

func (a *Agent) handleProduce(ctx context.Context, req *kmsg.ProduceRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	var reqErr error
	switch {
	case req.Version < 3:
		reqErr = fmt.Errorf("%w: produce v%d carries magic v0/v1 message sets; use a client that produces record batches (Kafka 0.11+ format)", errOldMessageFormat, req.Version)
	case req.Acks != 0 && req.Acks != 1 && req.Acks != -1:
		reqErr = fmt.Errorf("%w: acks=%d; use 0, 1 or -1 (all)", errInvalidRequiredAcks, req.Acks)
	}
	// Append to every partition first, then wait for the acks=all ones, so
	// the partitions' replication overlaps.
	type pending struct {
		sp  *kmsg.ProduceResponseTopicPartition
		p   *partition
		res log.AppendResult
		err error
	}
	var all []pending
	var batches []protocol.Batch
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for ti, rt := range req.Topics {
		st := &resp.Topics[ti]
		*st = kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for pi, rp := range rt.Partitions {
			sp := &st.Partitions[pi]
			*sp = kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			pd := pending{sp: sp, err: reqErr}
			if pd.err == nil {
				pd.p, pd.res, batches, pd.err = a.produceTo(ctx, rt.Topic, rp.Partition, rp.Records, req.Acks, req.Version, req.TransactionID, batches)
			}
			all = append(all, pd)
		}
	}
	deadline := time.Now().Add(time.Duration(req.TimeoutMillis) * time.Millisecond)
	var failed error
	for _, pd := range all {
		if pd.err == nil && req.Acks == -1 {
			pd.err = a.awaitReplication(ctx, pd.p, pd.res.LastOffset+1, deadline)
		}
		sp := pd.sp
		if err := pd.err; err != nil {
			sp.ErrorCode = errorCode(err)
			if sp.ErrorCode == kerr.InvalidRecord.Code && req.Version < 8 {
				sp.ErrorCode = kerr.CorruptMessage.Code // INVALID_RECORD is new in v8
			}
			sp.BaseOffset = -1
			if req.Version >= 8 {
				sp.ErrorMessage = errorMessage(err)
			}
			failed = err
			continue
		}
		sp.BaseOffset = pd.res.BaseOffset
		sp.LogAppendTime = pd.res.LogAppendTime
		sp.LogStartOffset = pd.res.LogStartOffset
	}
	if req.Acks == 0 {
		if failed != nil {
			return nil, fmt.Errorf("acks=0 produce failed, closing connection: %w", failed)
		}
		return nil, nil
	}
	return resp, nil
}

// awaitReplication waits until the high watermark passes end (every ISR
// member has the records), the deadline passes (REQUEST_TIMED_OUT), the
// ISR shrinks below min.insync.replicas (NOT_ENOUGH_REPLICAS_AFTER_APPEND)
// or this agent stops leading the partition.
func (a *Agent) awaitReplication(ctx context.Context, p *partition, end int64, deadline time.Time) error {
	if p.hw.Load() >= end {
		return nil
	}
	w := newFetchWaiter()
	p.addWaiter(w, false)
	defer p.removeWaiter(w)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for p.hw.Load() < end {
		if !p.isLeader() {
			return fmt.Errorf("%w: %s-%d changed leader before the records were replicated", errNotLeader, p.topic, p.index)
		}
		if n, want := p.isrSize(), p.cfg.Load().minInsync; n < want {
			return fmt.Errorf("%w: %d in sync, min.insync.replicas=%d", errNotEnoughReplicasAfterAppend, n, want)
		}
		select {
		case <-w.ch:
		case <-timer.C:
			return fmt.Errorf("%w: records of %s-%d not replicated to the ISR in time", errRequestTimedOut, p.topic, p.index)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// produceTo validates and appends one partition's records. batches is
// scratch space reused across partitions.
func (a *Agent) produceTo(ctx context.Context, topic string, idx int32, records []byte, acks, version int16, txnID *string, batches []protocol.Batch) (*partition, log.AppendResult, []protocol.Batch, error) {
	var res log.AppendResult
	t, err := a.lookupTopic(ctx, topic, true)
	if err != nil {
		return nil, res, batches, err
	}
	p, err := a.leaderPartition(t, idx)
	if err != nil {
		return nil, res, batches, err
	}
	tc := p.cfg.Load()
	batches, err = protocol.SplitBatches(batches[:0], records, tc.maxMessageBytes)
	if err != nil {
		return p, res, batches, err
	}
	if len(batches) != 1 {
		// Kafka's rule for Produce v3+, which idempotence relies on.
		return p, res, batches, fmt.Errorf("%w: produce requests must carry exactly one record batch per partition, got %d", errInvalidRecord, len(batches))
	}
	b := &batches[0]
	if b.Header.Codec() == protocol.CodecZstd && version < 7 {
		return p, res, batches, fmt.Errorf("%w: zstd needs produce v7+, request is v%d", errUnsupportedCompression, version)
	}
	if b.Header.IsControl() {
		return p, res, batches, fmt.Errorf("%w: clients may not write control batches", errInvalidRecord)
	}
	if b.Header.IsTransactional() {
		if txnID == nil {
			return p, res, batches, fmt.Errorf("%w: a transactional batch needs the request's transactional id", errInvalidRecord)
		}
		if !p.log.HasOngoingTxn(b.Header.ProducerID) {
			// KIP-890: the first write of a transaction to a partition must
			// be one the coordinator knows about.
			if err := a.verifyTxnPartition(ctx, *txnID, b.Header.ProducerID, b.Header.ProducerEpoch, topic, idx); err != nil {
				return p, res, batches, err
			}
		}
	}
	if err := protocol.ValidateRecords(*b); err != nil {
		return p, res, batches, err
	}
	if n := p.isrSize(); acks == -1 && n < tc.minInsync {
		return p, res, batches, fmt.Errorf("%w: %d in sync, min.insync.replicas=%d", errNotEnoughReplicas, n, tc.minInsync)
	}
	if err := a.diskFull(); err != nil {
		return p, res, batches, err
	}
	if !a.leaseValid() {
		return p, res, batches, fmt.Errorf("%w: this agent cannot renew its registration, so it may no longer lead %s-%d", errNotLeader, topic, idx)
	}
	opts := log.AppendOptions{LeaderEpoch: p.leaderEpoch.Load()}
	if tc.logAppendTime {
		opts.LogAppendTime = a.now().UnixMilli()
	}
	res, err = p.append(records, opts)
	if errors.Is(err, log.ErrClosed) {
		err = fmt.Errorf("%w: %s-%d is closing", errNotLeader, topic, idx)
	}
	if err == nil && !res.Duplicate {
		p.counts.bytesIn.Add(float64(len(records)))
		p.counts.recordsIn.Add(float64(res.LastOffset - res.BaseOffset + 1))
	}
	return p, res, batches, err
}
