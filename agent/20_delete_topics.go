package agent

// DeleteTopics, versions 1–6 (v6 may name topics by id).
//
// The topic and its partition states are removed from metadata in one etcd
// transaction; every agent hosting a replica then deletes its local logs when
// its metadata watch sees the change (and at start-up, for agents that were
// down). The response is sent once this agent has applied the deletion.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metadata"
)

func (a *Agent) handleDeleteTopics(ctx context.Context, req *kmsg.DeleteTopicsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type target struct {
		name *string
		id   [16]byte
	}
	var targets []target
	if req.Version >= 6 {
		for _, t := range req.Topics {
			targets = append(targets, target{t.Topic, t.TopicID})
		}
	} else {
		for _, n := range req.TopicNames {
			targets = append(targets, target{name: kmsg.StringPtr(n)})
		}
	}
	for _, tg := range targets {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = tg.name, tg.id
		t, err := a.resolveTopicRef(tg.name, tg.id)
		if err == nil {
			st.Topic, st.TopicID = kmsg.StringPtr(t.Name), t.ID
			err = a.deleteTopic(ctx, t.Name)
		}
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errorMessage(err)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// resolveTopicRef finds a topic by name, or by id when no name is given.
func (a *Agent) resolveTopicRef(name *string, id [16]byte) (metadata.Topic, error) {
	if name != nil && *name != "" {
		if t, ok := a.cache.Topic(*name); ok {
			return t, nil
		}
		return metadata.Topic{}, fmt.Errorf("%w: %q", metadata.ErrUnknownTopic, *name)
	}
	if id != [16]byte{} {
		if t, ok := a.cache.TopicByID(metadata.TopicID(id)); ok {
			return t, nil
		}
		return metadata.Topic{}, fmt.Errorf("%w: %x", errUnknownTopicID, id)
	}
	return metadata.Topic{}, fmt.Errorf("%w: topic has neither name nor id", errInvalidRequest)
}

func (a *Agent) deleteTopic(ctx context.Context, name string) error {
	t, _ := a.cache.Topic(name)
	rev, err := a.store.DeleteTopic(ctx, name)
	if err != nil {
		return err
	}
	a.deleteRemoteTopic(t.ID, name)
	if err := a.cache.WaitForRevision(ctx, rev); err != nil {
		return err
	}
	a.parts.reconcile()
	a.logger.Info("deleted topic", "topic", name)
	return nil
}
