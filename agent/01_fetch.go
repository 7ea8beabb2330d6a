package agent

// Fetch, versions 4–16, without fetch sessions.
//
// Every request is served as a full fetch: the response carries session id
// 0, which tells KIP-227 clients that no session was created, so they keep
// sending full requests. A request naming a session id gets
// FETCH_SESSION_ID_NOT_FOUND. Topics are named (v4–12) or given by id (v13+).
//
// A partition returns whole batches from its fetch offset up to the high
// watermark, bounded by partition_max_bytes and the response's max_bytes;
// the first partition that has data returns at least one whole batch even if
// it is larger than both limits (KIP-74), so a consumer can never get stuck.
// With fewer than min_bytes available the fetch waits up to max_wait_ms and
// is woken the moment any of its partitions' high watermarks moves, so a
// long-polling consumer sees new records without waiting out the timeout.
// Records are never copied through the agent: the response carries file
// ranges of the segments, which the connection writer sends with
// sendfile(2); the segments stay open (even if retention deletes them) until
// the response is written. read_uncommitted reads up to the high
// watermark; read_committed up to the last stable offset (the first offset
// of the oldest open transaction), and the response lists the aborted
// transactions in the range so the consumer skips their records.

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/protocol"
)

// fetchPart is one partition of a fetch being served.
type fetchPart struct {
	resp     *kmsg.FetchResponseTopicPartition
	topic    int        // index in the response's topics
	p        *partition // nil when err is set
	offset   int64
	maxBytes int
	err      error
	chunks   []log.Chunk // the records to send, held until the response is written
	// replica is set when a follower fetches: it reads up to the log end
	// offset, not the high watermark, and waits for appends.
	replica bool
	// committed is read_committed: read up to the last stable offset and
	// list aborted transactions.
	committed bool
	// diverged is set when a follower's last fetched epoch disagrees with
	// the leader's log: the response carries the diverging epoch instead
	// of records.
	diverged bool
}

func (a *Agent) handleFetch(ctx context.Context, req *kmsg.FetchRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	if req.Version >= 7 {
		if req.SessionID != 0 {
			resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
			return resp, nil
		}
		if req.SessionEpoch > 0 {
			resp.ErrorCode = kerr.InvalidFetchSessionEpoch.Code
			return resp, nil
		}
	}
	parts := a.resolveFetch(req, resp)
	replicaID := req.ReplicaID
	if req.Version >= 15 {
		replicaID = req.ReplicaState.ID
	}
	if replicaID >= 0 {
		a.replicaFetched(req, replicaID, parts)
	}
	maxBytes := int(req.MaxBytes)
	if maxBytes <= 0 {
		maxBytes = math.MaxInt32
	}
	minBytes := max(int(req.MinBytes), 1)
	deadline := time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)

	var w *fetchWaiter
	defer func() {
		if w != nil {
			for _, fp := range parts {
				if fp.p != nil {
					fp.p.removeWaiter(w)
				}
			}
		}
	}()
	for {
		total, failed := a.readFetch(ctx, parts, maxBytes)
		if total >= minBytes || failed || req.MaxWaitMillis <= 0 || ctx.Err() != nil {
			break
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		if w == nil {
			// Register, then read once more: an append between the read
			// above and the registration must not be missed.
			w = newFetchWaiter()
			for _, fp := range parts {
				if fp.p != nil {
					fp.p.addWaiter(w, fp.replica)
				}
			}
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-w.ch:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	return fetchStream(resp, parts), nil
}

// fetchStream wraps resp so that each partition's records are sent straight
// from the segment files (sendfile) and the segments are released once the
// response is written.
func fetchStream(resp *kmsg.FetchResponse, parts []*fetchPart) *protocol.FetchStream {
	sections := make([][][]protocol.FileSection, len(resp.Topics))
	for i := range resp.Topics {
		sections[i] = make([][]protocol.FileSection, len(resp.Topics[i].Partitions))
	}
	next := make([]int, len(resp.Topics)) // parts are in response order
	for _, fp := range parts {
		pi := next[fp.topic]
		next[fp.topic]++
		var bytes int64
		for _, c := range fp.chunks {
			sections[fp.topic][pi] = append(sections[fp.topic][pi], protocol.FileSection{File: c.File(), Offset: c.Pos, Length: c.Len})
			bytes += c.Len
		}
		if n := len(fp.chunks); n > 0 && !fp.replica {
			fp.p.counts.bytesOut.Add(float64(bytes))
			fp.p.counts.recordsOut.Add(float64(max(0, fp.chunks[n-1].Last+1-fp.offset)))
		} else if data := fp.resp.RecordBatches; len(data) > 0 && !fp.replica {
			fp.p.counts.bytesOut.Add(float64(len(data)))
			fp.p.counts.recordsOut.Add(float64(max(0, lastOffsetIn(data)+1-fp.offset)))
		}
	}
	return protocol.NewFetchStream(resp, sections, func() {
		for _, fp := range parts {
			log.ReleaseChunks(fp.chunks)
			fp.chunks = nil
		}
	})
}

// resolveFetch builds the response skeleton and finds each partition.
func (a *Agent) resolveFetch(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) []*fetchPart {
	var parts []*fetchPart
	resp.Topics = make([]kmsg.FetchResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		var t metadata.Topic
		var terr error
		if req.Version >= 13 {
			var ok bool
			if t, ok = a.cache.TopicByID(metadata.TopicID(rt.TopicID)); !ok {
				terr = fmt.Errorf("%w: %x", errUnknownTopicID, rt.TopicID)
			}
		} else {
			var ok bool
			if t, ok = a.cache.Topic(rt.Topic); !ok {
				terr = fmt.Errorf("%w: %q", metadata.ErrUnknownTopic, rt.Topic)
			}
		}
		st.Partitions = make([]kmsg.FetchResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			fp := &fetchPart{resp: sp, topic: i, offset: rp.FetchOffset, maxBytes: int(rp.PartitionMaxBytes), err: terr, committed: req.IsolationLevel == 1}
			if fp.err == nil {
				fp.p, fp.err = a.leaderPartition(t, rp.Partition)
			}
			if fp.err == nil {
				fp.err = checkLeaderEpoch(fp.p, rp.CurrentLeaderEpoch)
			}
			sp.RecordBatches = []byte{}
			if fp.err != nil {
				fp.p = nil
				sp.ErrorCode = errorCode(fp.err)
				sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
			}
			if req.IsolationLevel == 1 {
				sp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			}
			parts = append(parts, fp)
		}
	}
	return parts
}

// readFetch fills every partition's records within the byte budget. It
// reports the bytes collected and whether any partition failed (a failed
// partition answers the fetch at once, as Kafka does).
func (a *Agent) readFetch(ctx context.Context, parts []*fetchPart, maxBytes int) (total int, failed bool) {
	for _, fp := range parts {
		if fp.p == nil {
			failed = true
			continue
		}
		sp, p := fp.resp, fp.p
		log.ReleaseChunks(fp.chunks) // from an earlier pass of a long poll
		fp.chunks = fp.chunks[:0]
		hw := p.highWatermark()
		lso := p.log.LastStableOffset(hw)
		sp.HighWatermark, sp.LastStableOffset = hw, lso
		localStart := p.log.LogStartOffset()
		sp.LogStartOffset = localStart
		if !fp.replica {
			sp.LogStartOffset = a.logStartOffset(ctx, p)
		}
		// Kafka sends an empty, never a null, record set: librdkafka rejects
		// a null one (size -1) as a protocol error.
		sp.RecordBatches = []byte{}
		sp.ErrorCode = 0
		if fp.diverged {
			failed = true // answer at once
			continue
		}
		upTo := hw
		switch {
		case fp.replica:
			upTo = p.log.LogEndOffset()
		case fp.committed:
			upTo = lso
			sp.AbortedTransactions = a.abortedTxns(ctx, p, fp.offset, upTo)
		}
		if fp.offset == upTo && fp.offset >= sp.LogStartOffset {
			continue // caught up: nothing to read
		}
		limit := min(fp.maxBytes, maxBytes-total)
		if limit <= 0 && total > 0 {
			continue
		}
		if !fp.replica && fp.offset < localStart {
			// Older than the local log: from the object tier.
			data, err := a.readRemote(ctx, p, fp.offset, max(limit, 0), upTo, total == 0)
			if err != nil {
				sp.ErrorCode = errorCode(err)
				failed = true
				continue
			}
			if len(data) > 0 {
				sp.RecordBatches = data
				total += len(data)
			}
			continue
		}
		var err error
		fp.chunks, err = p.log.ReadChunks(fp.chunks, fp.offset, max(limit, 0), upTo, total == 0)
		if err != nil {
			sp.ErrorCode = errorCode(err)
			failed = true
			continue
		}
		for _, c := range fp.chunks {
			total += int(c.Len)
		}
	}
	return total, failed
}

// lastOffsetIn returns the last offset of the last whole batch in data, -1
// if there is none.
func lastOffsetIn(data []byte) int64 {
	last := int64(-1)
	for len(data) >= protocol.RecordBatchOverhead {
		h, err := protocol.ParseBatchHeader(data)
		if err != nil || int(h.Size()) > len(data) {
			break
		}
		last = h.LastOffset()
		data = data[h.Size():]
	}
	return last
}

// abortedTxns lists the aborted transactions with records in [from, to),
// from the object tier and the local log.
func (a *Agent) abortedTxns(ctx context.Context, p *partition, from, to int64) []kmsg.FetchResponseTopicPartitionAbortedTransaction {
	out := []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
	type key struct{ pid, first int64 }
	seen := map[key]bool{}
	add := func(pid, first int64) {
		if seen[key{pid, first}] {
			return // in both tiers
		}
		seen[key{pid, first}] = true
		t := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		t.ProducerID, t.FirstOffset = pid, first
		out = append(out, t)
	}
	if from < p.log.LogStartOffset() {
		for _, s := range a.remoteSegments(ctx, p) {
			for _, t := range s.AbortedTxns {
				if t.LastOffset >= from && t.FirstOffset < to {
					add(t.ProducerID, t.FirstOffset)
				}
			}
		}
	}
	for _, t := range p.log.AbortedTxns(from, to) {
		add(t.ProducerID, t.FirstOffset)
	}
	return out
}
