package agent

import (
	"slices"

	"github.com/strata-io/strata/agent/replica"
	"github.com/strata-io/strata/metadata"
)

// applyState makes p's role match its partition state in metadata: lead
// it (with fresh replication state whenever the leader epoch changes),
// follow the leader named there, or — with no live leader — neither.
// reconcile calls it whenever metadata changes.
func (s *partitionSet) applyState(t metadata.Topic, p *partition, st metadata.PartitionState) {
	a := s.a
	p.leaderEpoch.Store(st.LeaderEpoch)
	if st.Leader == a.cfg.NodeID {
		s.lead(t, p, st)
		return
	}
	if p.leader.Swap(nil) != nil {
		a.tierForget(p)
		p.wakeWaiters(true) // waiting produces and fetches answer NOT_LEADER
		a.logger.Info("no longer leader", "topic", t.Name, "partition", p.index, "leader", st.Leader, "leader_epoch", st.LeaderEpoch)
	}
	if st.Leader >= 0 && slices.Contains(a.liveAgentIDs(), st.Leader) {
		p.following.Store(st.Leader)
		a.fetchers.follow(p, st.Leader, st.LeaderEpoch)
		return
	}
	p.following.Store(-1)
	a.fetchers.remove(p)
}

// lead makes this agent p's leader for st's epoch, or brings the ISR of the
// current epoch up to date.
func (s *partitionSet) lead(t metadata.Topic, p *partition, st metadata.PartitionState) {
	a := s.a
	p.following.Store(-1)
	a.fetchers.remove(p)
	if cur := p.leader.Load(); cur != nil && cur.Epoch() == st.LeaderEpoch {
		// Same epoch: the controller or this agent changed the ISR, or a
		// reassignment changed the replicas.
		if replicas := t.Replicas[p.index]; !slices.Equal(cur.Replicas(), replicas) {
			cur.SetReplicas(replicas, a.now())
		}
		p.advanceHighWatermark(cur.SetISR(st.ISR))
		return
	}
	if st.LeaderEpoch > p.log.LatestEpoch() {
		if err := p.log.AssignLeaderEpoch(st.LeaderEpoch); err != nil {
			a.logger.Error("cannot lead: assign leader epoch", "topic", t.Name, "partition", p.index, "leader_epoch", st.LeaderEpoch, "err", err)
			p.leader.Store(nil)
			return
		}
	}
	l := replica.NewLeader(a.cfg.NodeID, st.LeaderEpoch, t.Replicas[p.index], st.ISR, p.log.LogEndOffset(), p.hw.Load(), a.now())
	p.leader.Store(l)
	p.advanceHighWatermark(l.HighWatermark())
	p.wakeWaiters(true)
	a.tierLead(p)
	if len(t.Replicas[p.index]) > 1 {
		a.logger.Info("leading", "topic", t.Name, "partition", p.index, "leader_epoch", st.LeaderEpoch, "isr", st.ISR, "log_end_offset", p.log.LogEndOffset())
	}
}
