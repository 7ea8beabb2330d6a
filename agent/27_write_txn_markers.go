package agent

// WriteTxnMarkers, versions 0–1.
//
// The transaction coordinator (another agent, or this one through
// markers.go) asks the leader of each partition of a transaction to append
// a commit or abort marker: a control batch of the producer, carrying the
// coordinator's epoch. Appending it closes the producer's transaction in
// the partition (the last stable offset moves; an abort is remembered for
// read_committed fetches). The response waits until the marker is
// replicated to the ISR, so a completed transaction survives a failover.
// Partitions not led here get NOT_LEADER_OR_FOLLOWER; a marker of a fenced
// producer epoch gets INVALID_PRODUCER_EPOCH. A marker for partition N of
// __consumer_offsets ends the producer's transaction in the groups of
// group-coordinator shard N instead (their pending TxnOffsetCommits).

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/agent/txn"
	"github.com/strata-io/strata/protocol"
)

// markerTimeout bounds waiting for a marker to be replicated.
const markerTimeout = 30 * time.Second

func (a *Agent) handleWriteTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, m := range req.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, rt := range m.Topics {
			st := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			st.Topic = rt.Topic
			for _, idx := range rt.Partitions {
				sp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				sp.Partition = idx
				var err error
				if rt.Topic == txn.OffsetsTopic {
					err = a.writeGroupMarker(ctx, idx, m.ProducerID, m.ProducerEpoch, m.Committed)
				} else {
					err = a.writeMarker(ctx, rt.Topic, idx, m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch)
				}
				sp.ErrorCode = errorCode(err)
				st.Partitions = append(st.Partitions, sp)
			}
			rm.Topics = append(rm.Topics, st)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp, nil
}

// writeMarker appends one commit or abort marker as the partition's leader
// and waits for it to be replicated.
func (a *Agent) writeMarker(ctx context.Context, topic string, idx int32, pid int64, epoch int16, commit bool, coordinatorEpoch int32) error {
	t, err := a.lookupTopic(ctx, topic, false)
	if err != nil {
		return err
	}
	p, err := a.leaderPartition(t, idx)
	if err != nil {
		return err
	}
	if !a.leaseValid() {
		return fmt.Errorf("%w: this agent cannot renew its registration", errNotLeader)
	}
	batch, err := markerBatch(pid, epoch, commit, coordinatorEpoch, a.now().UnixMilli())
	if err != nil {
		return err
	}
	res, err := p.append(batch, log.AppendOptions{LeaderEpoch: p.leaderEpoch.Load()})
	if err != nil {
		return err
	}
	return a.awaitReplication(ctx, p, res.LastOffset+1, time.Now().Add(markerTimeout))
}

// markerBatch builds a control batch holding one end-transaction marker:
// key [version 0][type 0 abort | 1 commit], value [version 0][coordinator
// epoch].
func markerBatch(pid int64, epoch int16, commit bool, coordinatorEpoch int32, now int64) ([]byte, error) {
	typ := byte(0)
	if commit {
		typ = 1
	}
	key := []byte{0, 0, 0, typ}
	value := []byte{0, 0, byte(coordinatorEpoch >> 24), byte(coordinatorEpoch >> 16), byte(coordinatorEpoch >> 8), byte(coordinatorEpoch)}
	h := protocol.BatchHeader{
		ProducerID: pid, ProducerEpoch: epoch, BaseSequence: -1,
		Attributes: protocol.AttrTransactional | protocol.AttrControl, FirstTimestamp: now, MaxTimestamp: now,
		PartitionLeaderEpoch: -1,
	}
	return protocol.AppendBatch(nil, h, protocol.CodecNone, []protocol.Record{{Key: key, Value: value, Timestamp: now}})
}
