package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/agent/txn"
	"github.com/strata-io/strata/metadata"
)

// markerWriter returns the transaction coordinator's txn.MarkerWriter: it
// sends a transaction's commit or abort marker to the leader of each of
// its partitions, this agent (appended directly) or another (one
// WriteTxnMarkers request per agent), all leaders at once.
func (a *Agent) markerWriter() txn.MarkerWriter { return leaderMarkers{a} }

type leaderMarkers struct{ a *Agent }

// WriteMarkers implements txn.MarkerWriter. A partition whose topic was
// deleted is skipped, as is one that has seen a newer epoch of the
// producer (a later transaction of it, which only a completed or fenced
// one allows, has been written there). Any other failure (no leader, a
// leader that moved, a timeout) fails the call, to be retried; markers
// already written are idempotent to write again.
func (w leaderMarkers) WriteMarkers(ctx context.Context, m txn.Marker) error {
	a := w.a
	byLeader := make(map[int32][]txn.TopicPartition)
	for _, tp := range m.Partitions {
		t, err := a.lookupTopic(ctx, tp.Topic, false)
		if errors.Is(err, metadata.ErrUnknownTopic) {
			continue
		}
		if err != nil {
			return err
		}
		if tp.Partition < 0 || int(tp.Partition) >= t.Partitions() {
			continue
		}
		st, ok := a.cache.Partition(t.ID, tp.Partition)
		if !ok || st.Leader < 0 {
			return fmt.Errorf("%w: %s-%d has no leader", errLeaderNotAvailable, tp.Topic, tp.Partition)
		}
		byLeader[st.Leader] = append(byLeader[st.Leader], tp)
	}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for leader, parts := range byLeader {
		if leader == a.cfg.NodeID {
			for _, tp := range parts {
				wg.Go(func() {
					err := a.writeMarker(ctx, tp.Topic, tp.Partition, m.ProducerID, m.ProducerEpoch, m.Commit, m.CoordinatorEpoch)
					if err := markerOutcome(tp, errorCode(err)); err != nil {
						fail(err)
					}
				})
			}
			continue
		}
		wg.Go(func() {
			if err := a.writeRemoteMarkers(ctx, leader, m, parts); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// writeRemoteMarkers sends agent leader one WriteTxnMarkers request for
// parts.
func (a *Agent) writeRemoteMarkers(ctx context.Context, leader int32, m txn.Marker, parts []txn.TopicPartition) error {
	host, port, ok := a.agentAddr(leader)
	if !ok {
		return fmt.Errorf("%w: leader agent %d is not registered", errLeaderNotAvailable, leader)
	}
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.SetVersion(1)
	rm := kmsg.NewWriteTxnMarkersRequestMarker()
	rm.ProducerID, rm.ProducerEpoch, rm.Committed, rm.CoordinatorEpoch = m.ProducerID, m.ProducerEpoch, m.Commit, m.CoordinatorEpoch
	for _, tp := range parts { // sorted by topic, as m.Partitions is
		if n := len(rm.Topics); n == 0 || rm.Topics[n-1].Topic != tp.Topic {
			t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			t.Topic = tp.Topic
			rm.Topics = append(rm.Topics, t)
		}
		t := &rm.Topics[len(rm.Topics)-1]
		t.Partitions = append(t.Partitions, tp.Partition)
	}
	req.Markers = append(req.Markers, rm)
	kresp, err := a.txnPeers.request(ctx, net.JoinHostPort(host, strconv.Itoa(int(port))), req, markerTimeout)
	if err != nil {
		return fmt.Errorf("write markers at agent %d: %w", leader, err)
	}
	resp := kresp.(*kmsg.WriteTxnMarkersResponse)
	answered := 0
	var errs []error
	for _, rm := range resp.Markers {
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				answered++
				if err := markerOutcome(txn.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}, rp.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("agent %d: %w", leader, err))
				}
			}
		}
	}
	if answered != len(parts) {
		errs = append(errs, fmt.Errorf("agent %d answered %d of %d markers", leader, answered, len(parts)))
	}
	return errors.Join(errs...)
}

// markerOutcome says whether a partition's marker answer (a Kafka error
// code) needs the marker to be sent again: nil when it was written or need
// not be (the partition was deleted, or a newer producer epoch wrote
// there, as Kafka's coordinator treats those answers).
func markerOutcome(tp txn.TopicPartition, code int16) error {
	switch code {
	case 0, kerr.UnknownTopicOrPartition.Code, kerr.InvalidProducerEpoch.Code:
		return nil
	}
	return fmt.Errorf("marker for %s-%d: %w", tp.Topic, tp.Partition, kerr.ErrorForCode(code))
}
