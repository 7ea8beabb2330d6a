package agent

// DeleteRecords, versions 0–2.
//
// Advances a partition's log start offset (its "low watermark") to the
// requested offset — -1 means the high watermark — on the leader; records
// below it can no longer be read, and whole segments below it are deleted.
// Followers follow the leader's log start offset when they next fetch. An
// offset above the high watermark, or negative other than -1, gets
// OFFSET_OUT_OF_RANGE; an offset at or below the current start changes
// nothing and answers with the current start.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleDeleteRecords(ctx context.Context, req *kmsg.DeleteRecordsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		t, terr := a.lookupTopic(ctx, rt.Topic, false)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = rp.Partition, -1
			err := terr
			var p *partition
			if err == nil {
				p, err = a.leaderPartition(t, rp.Partition)
			}
			if err == nil {
				sp.LowWatermark, err = a.deleteRecordsBefore(ctx, p, rp.Offset)
			}
			if err != nil {
				sp.ErrorCode = errorCode(err)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// deleteRecordsBefore advances p's log start to offset and returns it.
// Below the local log start the offset only moves the log start within the
// object tier; remote segments wholly below it are deleted at once.
func (a *Agent) deleteRecordsBefore(ctx context.Context, p *partition, offset int64) (int64, error) {
	hw := p.highWatermark()
	if offset == -1 {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return -1, fmt.Errorf("%w: delete records before %d; the high watermark is %d", errOffsetOutOfRange, offset, hw)
	}
	advance(&p.remoteStart, offset)
	if offset > p.log.LogStartOffset() {
		if err := p.log.DeleteRecordsBefore(offset); err != nil {
			return -1, err
		}
	}
	if a.remoteSegments(ctx, p) != nil {
		a.tierRetention(ctx, p, a.now(), false)
	}
	return a.logStartOffset(ctx, p), nil
}
