package agent

// The controller is one agent at a time, elected through etcd: it holds the
// controller claim (metadata.CoordinatorController, shard 0) under its
// registration lease, so when it dies another agent takes the role within a
// lease TTL. It moves partition leadership:
//
//   - when a leader's agent is gone (its registration expired), it elects
//     the first live replica of the ISR, in replica order, bumping the
//     leader epoch; with no live ISR member the partition goes offline
//     (leader -1) unless the topic allows unclean leader election;
//   - it drops dead agents from ISRs, so acks=all does not wait for them;
//   - every LeaderRebalanceInterval, it gives leadership back to a
//     partition's preferred (first) replica when that one is live and in
//     sync.
//
// Every change is a compare-and-swap on the partition state, so it cannot
// overwrite a change by the leader (ISR updates) or by a deposed
// controller. An offline partition comes back when an agent of its last
// ISR returns.

import (
	"context"
	"slices"
	"time"

	"github.com/strata-io/strata/metadata"
)

var controllerShard = metadata.CoordinatorShard{Kind: metadata.CoordinatorController, Index: 0}

// controllerLoop claims the controller role and, while holding it, keeps
// partition leadership in line with live agents.
func (a *Agent) controllerLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastRebalance := a.now()
	for {
		changed := a.cache.Changed()
		claim, ours, err := a.store.ClaimCoordinator(ctx, a.registration(), controllerShard)
		if err == nil {
			a.controller.Store(claim.Agent)
		} else if ctx.Err() == nil {
			a.logger.Debug("claim controller", "err", err)
		}
		if ours && a.leaseValid() {
			rebalance := a.now().Sub(lastRebalance) >= a.cfg.LeaderRebalanceInterval
			if rebalance {
				lastRebalance = a.now()
			}
			a.electLeaders(ctx, rebalance)
			a.finishReassignments(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-changed:
		}
	}
}

// electLeaders writes the partition states the controller wants.
func (a *Agent) electLeaders(ctx context.Context, rebalance bool) {
	live := a.liveAgentIDs()
	for _, t := range a.cache.Topics() {
		unclean := t.Configs["unclean.leader.election.enable"] == "true"
		for i, replicas := range t.Replicas {
			st, ok := a.cache.Partition(t.ID, int32(i))
			if !ok {
				continue
			}
			next, changed := desiredState(st, replicas, live, unclean, rebalance)
			if !changed {
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := a.store.CompareAndSwapPartition(rctx, t.ID, int32(i), next)
			cancel()
			if err != nil {
				a.logger.Debug("controller: update partition", "topic", t.Name, "partition", i, "err", err)
				continue
			}
			a.logger.Info("controller: partition state changed", "topic", t.Name, "partition", i,
				"leader", next.Leader, "leader_epoch", next.LeaderEpoch, "isr", next.ISR,
				"old_leader", st.Leader, "old_isr", st.ISR)
		}
	}
}

// desiredState computes a partition's state given the live agents: a live
// leader (re-elected from the ISR if needed), and an ISR without dead
// agents. rebalance allows moving leadership back to the preferred replica.
func desiredState(st metadata.PartitionState, replicas, live []int32, unclean, rebalance bool) (metadata.PartitionState, bool) {
	alive := func(id int32) bool { return slices.Contains(live, id) }
	next := st
	next.ISR = slices.Clone(st.ISR)
	leaderAlive := st.Leader >= 0 && alive(st.Leader)
	liveISR := slices.DeleteFunc(slices.Clone(st.ISR), func(r int32) bool { return !alive(r) })
	switch {
	case leaderAlive:
		next.ISR = liveISR
		preferred := replicas[0]
		if rebalance && preferred != st.Leader && alive(preferred) && slices.Contains(liveISR, preferred) {
			next.Leader = preferred
			next.LeaderEpoch++
		}
	default:
		cand := int32(-1)
		for _, r := range replicas {
			if alive(r) && slices.Contains(liveISR, r) {
				cand = r
				break
			}
		}
		switch {
		case cand >= 0:
			next.Leader, next.LeaderEpoch, next.ISR = cand, st.LeaderEpoch+1, liveISR
		case unclean:
			for _, r := range replicas {
				if alive(r) {
					next.Leader, next.LeaderEpoch, next.ISR = r, st.LeaderEpoch+1, []int32{r}
					break
				}
			}
		case st.Leader >= 0:
			// Offline: keep the last ISR, whose agents may return.
			next.Leader, next.LeaderEpoch = -1, st.LeaderEpoch+1
		}
	}
	slices.Sort(next.ISR)
	changed := next.Leader != st.Leader || next.LeaderEpoch != st.LeaderEpoch || !slices.Equal(next.ISR, sorted(st.ISR))
	return next, changed
}

func sorted(s []int32) []int32 {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// resignLeadership is the controlled shutdown: for every partition this
// agent leads with another live ISR member, hand leadership to that member
// (a new epoch), so clients move over before the agent stops. It waits
// until this agent's metadata shows the changes.
func (a *Agent) resignLeadership(ctx context.Context) {
	live := a.liveAgentIDs()
	var last int64
	for _, p := range a.parts.all() {
		l := p.leader.Load()
		if l == nil {
			continue
		}
		st, ok := a.cache.Partition(p.topicID, p.index)
		t, tok := a.cache.TopicByID(p.topicID)
		if !ok || !tok || st.Leader != a.cfg.NodeID {
			continue
		}
		next := st
		next.Leader = -1
		for _, r := range t.Replicas[p.index] {
			if r != a.cfg.NodeID && slices.Contains(live, r) && slices.Contains(st.ISR, r) {
				next.Leader = r
				break
			}
		}
		if next.Leader < 0 {
			continue // no one to hand over to
		}
		next.LeaderEpoch++
		next.ISR = slices.DeleteFunc(slices.Clone(st.ISR), func(r int32) bool { return r == a.cfg.NodeID })
		// Stop accepting writes first: nothing may be acknowledged here
		// that the new leader will not have.
		p.leader.Store(nil)
		p.wakeWaiters(true)
		rev, err := a.store.CompareAndSwapPartition(ctx, p.topicID, p.index, next)
		if err != nil {
			a.logger.Warn("controlled shutdown: hand over leadership", "topic", p.topic, "partition", p.index, "err", err)
			continue
		}
		last = max(last, rev)
	}
	if last > 0 {
		if err := a.cache.WaitForRevision(ctx, last); err == nil {
			a.parts.reconcile()
		}
		a.logger.Info("controlled shutdown: leadership handed over")
	}
}
