package agent

// Reassignment moves a partition's replicas to other agents, as Kafka's
// AlterPartitionReassignments does. Starting one (alterReassignment)
// records the target in the topic and widens the partition's replicas to
// original ∪ target, so the new agents open the partition and start
// following its leader. The controller finishes it (finishReassignments)
// once every target replica is in the ISR: it moves leadership into the
// target set if needed and narrows the ISR to it, then sets the replicas
// to the target; the removed agents then delete their copies. Cancelling
// goes back to the original replicas.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/strata-io/strata/metadata"
)

// alterReassignment starts (target non-nil) or cancels (target nil) the
// reassignment of t's partition p.
func (a *Agent) alterReassignment(ctx context.Context, name string, p int32, target []int32, allowRFChange bool) error {
	for attempt := 0; ; attempt++ {
		t, err := a.lookupTopic(ctx, name, false)
		if err != nil {
			return err
		}
		if p < 0 || int(p) >= t.Partitions() {
			return fmt.Errorf("%w: %s-%d", metadata.ErrUnknownPartition, name, p)
		}
		next := t.Clone()
		cur, busy := next.Reassignments[p]
		original := next.Replicas[p]
		if busy {
			original = cur.Original
		}
		if target == nil {
			if !busy {
				return fmt.Errorf("%w for %s-%d", errNoReassignment, name, p)
			}
			next.Replicas[p] = slices.Clone(original)
			delete(next.Reassignments, p)
		} else {
			if err := a.checkTarget(target, original, allowRFChange); err != nil {
				return err
			}
			if slices.Equal(target, original) {
				if !busy {
					return nil // already there
				}
				next.Replicas[p] = slices.Clone(original)
				delete(next.Reassignments, p)
			} else {
				if next.Reassignments == nil {
					next.Reassignments = map[int32]metadata.Reassignment{}
				}
				next.Reassignments[p] = metadata.Reassignment{Target: slices.Clone(target), Original: slices.Clone(original)}
				next.Replicas[p] = union(target, original)
			}
		}
		if err := a.updateTopic(ctx, next); errors.Is(err, metadata.ErrConflict) && attempt < 5 {
			continue
		} else if err != nil {
			return err
		}
		if target == nil {
			a.trimToReplicas(ctx, next, p)
		}
		a.logger.Info("partition reassignment", "topic", name, "partition", p, "target", target, "original", original)
		return nil
	}
}

// checkTarget validates a reassignment target.
func (a *Agent) checkTarget(target, original []int32, allowRFChange bool) error {
	if len(target) == 0 {
		return fmt.Errorf("%w: empty replica list", errInvalidReplicas)
	}
	if len(target) != len(original) && !allowRFChange {
		return fmt.Errorf("%w: target has %d replicas, the partition %d (set allow_replication_factor_change)", errInvalidReplication, len(target), len(original))
	}
	_, err := validateAssignment([][]int32{target}, a.liveAgentIDs())
	return err
}

// union returns first followed by the members of second not in it.
func union(first, second []int32) []int32 {
	out := slices.Clone(first)
	for _, r := range second {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// updateTopic writes t (compare-and-swap on its revision) and waits until
// this agent's metadata has it.
func (a *Agent) updateTopic(ctx context.Context, t metadata.Topic) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rev, err := a.store.UpdateTopic(rctx, t, nil)
	if err != nil {
		return err
	}
	if err := a.cache.WaitForRevision(rctx, rev); err != nil {
		return err
	}
	a.parts.reconcile()
	return nil
}

// trimToReplicas drops agents that are no longer replicas from the ISR
// (after a cancel) and gives leadership to a remaining one if needed.
func (a *Agent) trimToReplicas(ctx context.Context, t metadata.Topic, p int32) {
	st, ok := a.cache.Partition(t.ID, p)
	if !ok {
		return
	}
	next, changed := narrowTo(st, t.Replicas[p], a.liveAgentIDs())
	if !changed {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := a.store.CompareAndSwapPartition(rctx, t.ID, p, next); err != nil {
		a.logger.Warn("reassignment: narrow ISR", "topic", t.Name, "partition", p, "err", err)
	}
}

// narrowTo limits a partition state to replicas: the ISR keeps only them,
// and a leader outside them hands over to the first live in-sync one.
func narrowTo(st metadata.PartitionState, replicas, live []int32) (metadata.PartitionState, bool) {
	next := st
	next.ISR = slices.DeleteFunc(slices.Clone(st.ISR), func(r int32) bool { return !slices.Contains(replicas, r) })
	if !slices.Contains(replicas, st.Leader) {
		next.Leader = -1
		for _, r := range replicas {
			if slices.Contains(next.ISR, r) && slices.Contains(live, r) {
				next.Leader = r
				break
			}
		}
		next.LeaderEpoch++
	}
	if len(next.ISR) == 0 && next.Leader >= 0 {
		next.ISR = []int32{next.Leader}
	}
	changed := next.Leader != st.Leader || !slices.Equal(sorted(next.ISR), sorted(st.ISR))
	return next, changed
}

// finishReassignments is the controller's part: complete every
// reassignment whose target replicas are all in sync.
func (a *Agent) finishReassignments(ctx context.Context) {
	live := a.liveAgentIDs()
	for _, t := range a.cache.Topics() {
		for p, r := range t.Reassignments {
			st, ok := a.cache.Partition(t.ID, p)
			if !ok {
				continue
			}
			inSync := true
			for _, id := range r.Target {
				if !slices.Contains(st.ISR, id) {
					inSync = false
				}
			}
			if !inSync {
				continue // the new replicas are still catching up
			}
			if next, changed := narrowTo(st, r.Target, live); changed {
				if next.Leader < 0 {
					continue
				}
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := a.store.CompareAndSwapPartition(rctx, t.ID, p, next)
				cancel()
				if err != nil {
					a.logger.Debug("reassignment: move leadership", "topic", t.Name, "partition", p, "err", err)
				}
				continue // the topic is updated next round, once this shows
			}
			next := t.Clone()
			next.Replicas[p] = slices.Clone(r.Target)
			delete(next.Reassignments, p)
			if err := a.updateTopic(ctx, next); err != nil {
				a.logger.Debug("reassignment: finish", "topic", t.Name, "partition", p, "err", err)
				continue
			}
			a.logger.Info("partition reassignment finished", "topic", t.Name, "partition", p, "replicas", r.Target)
		}
	}
}
