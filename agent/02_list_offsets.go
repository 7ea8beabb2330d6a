package agent

// ListOffsets, versions 1–9.
//
// Timestamps: -2 earliest (the log start offset, in the object tier when
// older data was offloaded), -1 latest (the high watermark, or the last
// stable offset for read_committed), -3 the record with the largest
// timestamp (v7+), -4 the earliest offset on local disk (v8+), -5 the end of
// the offsets in the object tier (v9+; -1 when nothing is offloaded). A
// timestamp t >= 0 returns the first record whose timestamp is >= t, looked
// up in the object tier first, or offset -1 when there is none. Any other
// negative timestamp gets INVALID_REQUEST.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/protocol"
)

const (
	offsetLatest       = -1
	offsetEarliest     = -2
	offsetMaxTime      = -3
	offsetEarliestLoc  = -4
	offsetLatestTiered = -5
)

func (a *Agent) handleListOffsets(ctx context.Context, req *kmsg.ListOffsetsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		t, terr := a.lookupTopic(ctx, rt.Topic, false)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			err := terr
			var p *partition
			if err == nil {
				p, err = a.leaderPartition(t, rp.Partition)
			}
			if err == nil {
				err = checkLeaderEpoch(p, rp.CurrentLeaderEpoch)
			}
			if err == nil {
				sp.Offset, sp.Timestamp, err = a.listOffset(ctx, p, rp.Timestamp, req.Version, req.IsolationLevel == 1)
				sp.LeaderEpoch = p.leaderEpoch.Load()
			}
			if err != nil {
				sp.ErrorCode = errorCode(err)
				sp.Offset, sp.Timestamp = -1, -1
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// listOffset resolves one ListOffsets timestamp to (offset, timestamp).
func (a *Agent) listOffset(ctx context.Context, p *partition, ts int64, version int16, committed bool) (int64, int64, error) {
	switch {
	case ts == offsetLatest && committed:
		return p.log.LastStableOffset(p.highWatermark()), -1, nil
	case ts == offsetLatest:
		return p.highWatermark(), -1, nil
	case ts == offsetEarliest:
		return a.logStartOffset(ctx, p), -1, nil
	case ts == offsetEarliestLoc && version >= 8:
		return p.log.LogStartOffset(), -1, nil
	case ts == offsetLatestTiered && version >= 9:
		if segs := a.remoteSegments(ctx, p); len(segs) > 0 {
			return segs[len(segs)-1].LastOffset, -1, nil
		}
		return -1, -1, nil
	case ts == offsetMaxTime && version >= 7:
		maxTS, off := p.log.MaxTimestamp()
		if off < 0 || off >= p.highWatermark() {
			return -1, -1, nil
		}
		return off, maxTS, nil
	case ts < 0:
		return -1, -1, fmt.Errorf("%w: timestamp %d is not a ListOffsets query this version supports", errInvalidRequest, ts)
	}
	start := a.logStartOffset(ctx, p)
	if segs := a.remoteSegments(ctx, p); len(segs) > 0 && segs[len(segs)-1].MaxTimestamp >= ts {
		if t := a.tier.Load(); t != nil {
			raw, found, err := t.rd.FindByTimestamp(ctx, segs, ts)
			if err != nil {
				return -1, -1, err
			}
			if found {
				return offsetInBatch(raw, ts, start, p.highWatermark())
			}
		}
	}
	raw, found, err := p.log.FindByTimestamp(ts)
	if err != nil || !found {
		return -1, -1, err
	}
	return offsetInBatch(raw, ts, start, p.highWatermark())
}

// offsetInBatch finds the first record at or after ts within one batch.
func offsetInBatch(raw []byte, ts, logStart, hw int64) (int64, int64, error) {
	h, err := protocol.ParseBatchHeader(raw)
	if err != nil {
		return -1, -1, err
	}
	if h.BaseOffset >= hw {
		return -1, -1, nil
	}
	if h.LogAppendTime() {
		return max(h.BaseOffset, logStart), h.MaxTimestamp, nil
	}
	recs, err := protocol.Records(protocol.Batch{Header: h, Raw: raw})
	if err != nil {
		return -1, -1, err
	}
	for _, r := range recs {
		if r.Offset >= logStart && r.Timestamp >= ts && r.Offset < hw {
			return r.Offset, r.Timestamp, nil
		}
	}
	return -1, -1, nil
}
