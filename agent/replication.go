package agent

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metadata"
)

// replicaFetched records a follower's fetch on the partitions this agent
// leads: the fetch offset is the follower's log end offset, which can move
// the high watermark and bring the follower back into the ISR. A follower
// whose last fetched epoch disagrees with this log gets a diverging epoch
// instead of records.
func (a *Agent) replicaFetched(req *kmsg.FetchRequest, replicaID int32, parts []*fetchPart) {
	now := a.now()
	i := 0
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			fp := parts[i]
			i++
			fp.replica = true
			if fp.p == nil {
				continue
			}
			l := fp.p.leader.Load()
			if l == nil {
				fp.err, fp.p = errNotLeader, nil
				fp.resp.ErrorCode = errorCode(errNotLeader)
				continue
			}
			if req.Version >= 12 && rp.LastFetchedEpoch >= 0 {
				epoch, end := fp.p.log.EndOffsetForEpoch(rp.LastFetchedEpoch)
				if epoch != rp.LastFetchedEpoch || end < rp.FetchOffset {
					fp.diverged = true
					fp.resp.DivergingEpoch.Epoch, fp.resp.DivergingEpoch.EndOffset = epoch, end
					continue
				}
			}
			hw, known := l.OnFollowerFetch(replicaID, rp.FetchOffset, now)
			if !known {
				err := fmt.Errorf("%w: agent %d is not a replica of %s-%d", errNotLeader, replicaID, fp.p.topic, fp.p.index)
				fp.err, fp.p = err, nil
				fp.resp.ErrorCode = errorCode(err)
				continue
			}
			fp.p.advanceHighWatermark(hw)
			if !slices.Contains(l.ISR(), replicaID) && rp.FetchOffset >= hw {
				a.kickISR()
			}
		}
	}
}

// kickISR asks the ISR loop to run now (a follower caught up).
func (a *Agent) kickISR() {
	select {
	case a.isrKick <- struct{}{}:
	default:
	}
}

// isrLoop shrinks and expands the ISR of the partitions this agent leads:
// every quarter of the lag limit, and at once when a follower catches up.
func (a *Agent) isrLoop(ctx context.Context) {
	tick := time.NewTicker(max(a.cfg.ReplicaLagTimeMax/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.isrKick:
		}
		for _, p := range a.parts.all() {
			if ctx.Err() != nil {
				return
			}
			a.updateISR(ctx, p)
		}
	}
}

// updateISR writes the ISR the leader proposes for p, with a
// compare-and-swap on the partition state as this epoch's leader.
func (a *Agent) updateISR(ctx context.Context, p *partition) {
	l := p.leader.Load()
	if l == nil || !a.leaseValid() {
		return
	}
	isr, changed := l.ProposeISR(a.now(), a.cfg.ReplicaLagTimeMax)
	if !changed {
		return
	}
	st, ok := a.cache.Partition(p.topicID, p.index)
	if !ok || st.Leader != a.cfg.NodeID || st.LeaderEpoch != l.Epoch() {
		return // leadership moved; reconcile will catch up
	}
	next := metadata.PartitionState{Leader: st.Leader, LeaderEpoch: st.LeaderEpoch, ISR: isr, Revision: st.Revision}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rev, err := a.store.CompareAndSwapPartition(rctx, p.topicID, p.index, next)
	if err != nil {
		a.logger.Debug("update ISR", "topic", p.topic, "partition", p.index, "isr", isr, "err", err)
		return
	}
	a.logger.Info("ISR changed", "topic", p.topic, "partition", p.index, "from", st.ISR, "to", isr, "leader_epoch", st.LeaderEpoch)
	p.advanceHighWatermark(l.SetISR(isr))
	_ = a.cache.WaitForRevision(rctx, rev)
}

// leaseValid reports whether this agent's registration is certainly alive,
// so it may still act as leader (see metadata.Registration.ValidUntil).
func (a *Agent) leaseValid() bool {
	reg := a.registration()
	return reg != nil && a.now().Before(reg.ValidUntil())
}
