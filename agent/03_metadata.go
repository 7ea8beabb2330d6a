package agent

// Metadata, versions 0–12 (v0 because kafka-python's version probe sends it;
// there an empty topic list means all topics).
//
// Lists the live agents, the cluster id, the controller and the requested
// topics (all topics for a null list; v10+ may name topics by id). Unknown
// topics are created with the agent's defaults when the request allows it
// (v4+ allow_auto_topic_creation; always for v1–3) and the agent has
// auto-creation on; otherwise they get UNKNOWN_TOPIC_OR_PARTITION. Invalid
// names get INVALID_TOPIC_EXCEPTION. Authorized operations are not computed
// (ACLs do not exist yet) and are reported as Kafka's "not requested" value.

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metadata"
)

// authorizedOpsOmitted is the value Kafka uses when operations were not
// requested or are not computed.
const authorizedOpsOmitted = -2147483648

func (a *Agent) handleMetadata(ctx context.Context, req *kmsg.MetadataRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	for _, ag := range a.cache.Agents() {
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = ag.ID, ag.Host, ag.Port
		if ag.Rack != "" {
			b.Rack = kmsg.StringPtr(ag.Rack)
		}
		resp.Brokers = append(resp.Brokers, b)
	}
	if len(resp.Brokers) == 0 {
		// Our registration has not reached the cache yet; we are alive.
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = a.cfg.NodeID, a.advHost, a.advPort
		resp.Brokers = append(resp.Brokers, b)
	}
	resp.ClusterID = kmsg.StringPtr(a.clusterID)
	resp.ControllerID = a.controllerID()
	resp.AuthorizedOperations = authorizedOpsOmitted

	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		for _, t := range a.cache.Topics() {
			resp.Topics = append(resp.Topics, a.metadataTopic(t))
		}
		return resp, nil
	}
	autoCreate := req.Version < 4 || req.AllowAutoTopicCreation
	for _, rt := range req.Topics {
		var t metadata.Topic
		var err error
		switch {
		case rt.Topic != nil:
			t, err = a.lookupTopic(ctx, *rt.Topic, autoCreate)
		case rt.TopicID != [16]byte{}:
			var ok bool
			if t, ok = a.cache.TopicByID(metadata.TopicID(rt.TopicID)); !ok {
				err = fmt.Errorf("%w: %x", errUnknownTopicID, rt.TopicID)
			}
		default:
			err = fmt.Errorf("%w: topic has neither name nor id", errInvalidTopic)
		}
		if err != nil {
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic, mt.TopicID = rt.Topic, rt.TopicID
			mt.ErrorCode = errorCode(err)
			mt.AuthorizedOperations = authorizedOpsOmitted
			resp.Topics = append(resp.Topics, mt)
			continue
		}
		resp.Topics = append(resp.Topics, a.metadataTopic(t))
	}
	return resp, nil
}

// metadataTopic describes one topic: per partition its leader, epoch,
// replicas, in-sync replicas and offline replicas (replicas whose agent is
// not registered).
func (a *Agent) metadataTopic(t metadata.Topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = kmsg.StringPtr(t.Name)
	mt.TopicID = t.ID
	mt.AuthorizedOperations = authorizedOpsOmitted
	live := a.liveAgentIDs()
	for i, replicas := range t.Replicas {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(i)
		mp.Replicas = replicas
		st, ok := a.cache.Partition(t.ID, int32(i))
		if !ok || st.Leader < 0 || !slices.Contains(live, st.Leader) {
			mp.ErrorCode = errorCode(errLeaderNotAvailable)
			mp.Leader = -1
		} else {
			mp.Leader = st.Leader
		}
		mp.LeaderEpoch = st.LeaderEpoch
		mp.ISR = st.ISR
		if mp.ISR == nil {
			mp.ISR = []int32{}
		}
		mp.OfflineReplicas = []int32{}
		for _, r := range replicas {
			if !slices.Contains(live, r) {
				mp.OfflineReplicas = append(mp.OfflineReplicas, r)
			}
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}
