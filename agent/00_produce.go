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
	case req.TransactionID != nil:
		reqErr = fmt.Errorf("%w (transactional.id %q)", errTransactionsUnsupported, *req.TransactionID)
	}
	var failed error
	var batches []protocol.Batch
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			var res log.AppendResult
			err := reqErr
			if err == nil {
				res, batches, err = a.produceTo(ctx, rt.Topic, rp.Partition, rp.Records, req.Acks, req.Version, batches)
			}
			if err != nil {
				sp.ErrorCode = errorCode(err)
				if sp.ErrorCode == kerr.InvalidRecord.Code && req.Version < 8 {
					sp.ErrorCode = kerr.CorruptMessage.Code // INVALID_RECORD is new in v8
				}
				sp.BaseOffset = -1
				if req.Version >= 8 {
					sp.ErrorMessage = errorMessage(err)
				}
				failed = err
			} else {
				sp.BaseOffset = res.BaseOffset
				sp.LogAppendTime = res.LogAppendTime
				sp.LogStartOffset = res.LogStartOffset
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if req.Acks == 0 {
		if failed != nil {
			return nil, fmt.Errorf("acks=0 produce failed, closing connection: %w", failed)
		}
		return nil, nil
	}
	return resp, nil
}

// produceTo validates and appends one partition's records. batches is scratch
// space reused across partitions.
func (a *Agent) produceTo(ctx context.Context, topic string, idx int32, records []byte, acks, version int16, batches []protocol.Batch) (log.AppendResult, []protocol.Batch, error) {
	var res log.AppendResult
	t, err := a.lookupTopic(ctx, topic, true)
	if err != nil {
		return res, batches, err
	}
	p, err := a.leaderPartition(t, idx)
	if err != nil {
		return res, batches, err
	}
	tc := p.cfg.Load()
	batches, err = protocol.SplitBatches(batches[:0], records, tc.maxMessageBytes)
	if err != nil {
		return res, batches, err
	}
	if len(batches) != 1 {
		// Kafka's rule for Produce v3+, which idempotence relies on.
		return res, batches, fmt.Errorf("%w: produce requests must carry exactly one record batch per partition, got %d", errInvalidRecord, len(batches))
	}
	b := &batches[0]
	if b.Header.Codec() == protocol.CodecZstd && version < 7 {
		return res, batches, fmt.Errorf("%w: zstd needs produce v7+, request is v%d", errUnsupportedCompression, version)
	}
	if b.Header.IsTransactional() || b.Header.IsControl() {
		return res, batches, fmt.Errorf("%w: batch is transactional", errTransactionsUnsupported)
	}
	if err := protocol.ValidateRecords(*b); err != nil {
		return res, batches, err
	}
	if acks == -1 && int(p.isrSize.Load()) < tc.minInsync {
		return res, batches, fmt.Errorf("%w: %d in sync, min.insync.replicas=%d", errNotEnoughReplicas, p.isrSize.Load(), tc.minInsync)
	}
	opts := log.AppendOptions{LeaderEpoch: p.leaderEpoch.Load()}
	if tc.logAppendTime {
		opts.LogAppendTime = a.now().UnixMilli()
	}
	res, err = p.append(records, opts)
	if errors.Is(err, log.ErrClosed) {
		err = fmt.Errorf("%w: %s-%d is closing", errNotLeader, topic, idx)
	}
	return res, batches, err
}
