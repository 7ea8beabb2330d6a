package agent

// ElectLeaders, versions 0–2.
//
// Preferred election (type 0; v0 has no type) makes a partition's first
// replica its leader when that replica is live and in sync
// (PREFERRED_LEADER_NOT_AVAILABLE otherwise, ELECTION_NOT_NEEDED when it
// already leads). Unclean election (type 1) applies only to a partition
// without a live leader: the first live replica becomes leader even if it
// is not in sync, possibly losing records (ELIGIBLE_LEADERS_NOT_AVAILABLE
// when no replica is live; ELECTION_NOT_NEEDED when the leader is live).
// A null topic list means every partition. Each change is a
// compare-and-swap that bumps the leader epoch.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metadata"
)

func (a *Agent) handleElectLeaders(ctx context.Context, req *kmsg.ElectLeadersRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	unclean := req.Version >= 1 && req.ElectionType == 1
	if req.Version >= 1 && req.ElectionType != 0 && req.ElectionType != 1 {
		resp.ErrorCode = errorCode(fmt.Errorf("%w: election type %d", errInvalidRequest, req.ElectionType))
		return resp, nil
	}
	topics := req.Topics
	if topics == nil {
		for _, t := range a.cache.Topics() {
			rt := kmsg.NewElectLeadersRequestTopic()
			rt.Topic = t.Name
			for p := range t.Partitions() {
				rt.Partitions = append(rt.Partitions, int32(p))
			}
			topics = append(topics, rt)
		}
	}
	for _, rt := range topics {
		st := kmsg.NewElectLeadersResponseTopic()
		st.Topic = rt.Topic
		t, terr := a.lookupTopic(ctx, rt.Topic, false)
		for _, p := range rt.Partitions {
			sp := kmsg.NewElectLeadersResponseTopicPartition()
			sp.Partition = p
			err := terr
			if err == nil {
				err = a.electLeader(ctx, t, p, unclean)
			}
			if err != nil {
				sp.ErrorCode = errorCode(err)
				sp.ErrorMessage = errorMessage(err)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// electLeader runs one preferred or unclean election.
func (a *Agent) electLeader(ctx context.Context, t metadata.Topic, p int32, unclean bool) error {
	if p < 0 || int(p) >= t.Partitions() {
		return fmt.Errorf("%w: %s-%d", metadata.ErrUnknownPartition, t.Name, p)
	}
	st, ok := a.cache.Partition(t.ID, p)
	if !ok {
		return fmt.Errorf("%w: %s-%d", metadata.ErrUnknownPartition, t.Name, p)
	}
	live := a.liveAgentIDs()
	next := st
	replicas := t.Replicas[p]
	if unclean {
		if st.Leader >= 0 && slices.Contains(live, st.Leader) {
			return fmt.Errorf("%w: %s-%d has a live leader", errElectionNotNeeded, t.Name, p)
		}
		next.Leader = -1
		for _, r := range replicas {
			if slices.Contains(live, r) {
				next.Leader = r
				break
			}
		}
		if next.Leader < 0 {
			return fmt.Errorf("%w: no replica of %s-%d is live", errEligibleLeadersNotAvailable, t.Name, p)
		}
		if !slices.Contains(st.ISR, next.Leader) {
			next.ISR = []int32{next.Leader}
		}
	} else {
		preferred := replicas[0]
		if st.Leader == preferred {
			return fmt.Errorf("%w: %s-%d is led by its preferred replica %d", errElectionNotNeeded, t.Name, p, preferred)
		}
		if !slices.Contains(live, preferred) || !slices.Contains(st.ISR, preferred) {
			return fmt.Errorf("%w: agent %d is not live and in sync for %s-%d", errPreferredLeaderNotAvailable, preferred, t.Name, p)
		}
		next.Leader = preferred
	}
	next.LeaderEpoch++
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rev, err := a.store.CompareAndSwapPartition(rctx, t.ID, p, next)
	if err != nil {
		return err
	}
	a.logger.Info("elected leader", "topic", t.Name, "partition", p, "leader", next.Leader, "leader_epoch", next.LeaderEpoch, "unclean", unclean)
	return a.cache.WaitForRevision(rctx, rev)
}
