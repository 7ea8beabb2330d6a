package group

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-io/strata/metadata"
)

// commit handles an OffsetCommit: Kafka's handleCommitOffsets. reply gets
// one error per offset, in order, once they are stored (or refused).
func (s *state) commit(now time.Time, req CommitRequest, reply func([]error)) {
	all := func(err error) {
		errs := make([]error, len(req.Offsets))
		for i := range errs {
			errs[i] = err
		}
		reply(errs)
	}
	g := s.group(req.Group)
	if g == nil {
		if req.Generation >= 0 {
			all(fmt.Errorf("%w: group %q does not exist", ErrIllegalGeneration, req.Group))
			return
		}
		// A consumer that uses the group only to store offsets.
		g = newGroup(req.Group, now)
		s.groups[g.id] = g
	}
	if err := validateCommit(g, req); err != nil {
		all(err)
		return
	}
	switch g.state {
	case stateCompletingRebalance:
		// The member has its new generation but not yet its assignment.
		all(fmt.Errorf("%w: group %q is completing a rebalance", ErrRebalanceInProgress, g.id))
		return
	case stateStable, statePreparingRebalance:
		// Commits during a rebalance are allowed: the member learns of
		// the rebalance from its heartbeat.
		s.scheduleSession(g, g.members[req.MemberID], now)
	}
	s.storeOffsets(g, req.Offsets, now, reply)
}

// validateCommit is Kafka's validateOffsetCommit: a member's commit must
// come from a member of the current generation; a commit without member
// and generation only while the group is empty.
func validateCommit(g *group, req CommitRequest) error {
	if g.is(stateDead) {
		return fmt.Errorf("%w: group %q is being deleted", ErrCoordinatorNotAvailable, g.id)
	}
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
			return err
		}
		if req.Generation != g.generation {
			return fmt.Errorf("%w: generation %d, group %q is at %d", ErrIllegalGeneration, req.Generation, g.id, g.generation)
		}
		return nil
	}
	if !g.is(stateEmpty) {
		return fmt.Errorf("%w: group %q has members; only they may commit", ErrUnknownMemberID, g.id)
	}
	return nil
}

// storeOffsets writes the offsets whose metadata is not too long and
// applies them once stored.
func (s *state) storeOffsets(g *group, offsets []metadata.CommittedOffset, now time.Time, reply func([]error)) {
	errs := make([]error, len(offsets))
	var write []metadata.CommittedOffset
	var idx []int
	commitTime := now.Round(0).Truncate(time.Millisecond)
	for i, o := range offsets {
		if len(o.Metadata) > s.cfg.MaxMetadataBytes {
			errs[i] = fmt.Errorf("%w: %d bytes, offset.metadata.max.bytes is %d", ErrOffsetMetadataTooLarge, len(o.Metadata), s.cfg.MaxMetadataBytes)
			continue
		}
		o.CommitTime = commitTime
		write = append(write, o)
		idx = append(idx, i)
	}
	if len(write) == 0 {
		reply(errs)
		return
	}
	for _, o := range write {
		g.pendingCommits[partitionOf(o)]++
	}
	s.store.commitOffsets(g.id, write, func(_ time.Time, err error) {
		for _, o := range write {
			p := partitionOf(o)
			if g.pendingCommits[p]--; g.pendingCommits[p] <= 0 {
				delete(g.pendingCommits, p)
			}
		}
		if err != nil {
			err = storeErr(err)
			for _, i := range idx {
				errs[i] = err
			}
		} else if !g.is(stateDead) {
			for _, o := range write {
				g.offsets[partitionOf(o)] = o
			}
		}
		reply(errs)
	})
}

func partitionOf(o metadata.CommittedOffset) metadata.GroupPartition {
	return metadata.GroupPartition{Topic: o.Topic, Partition: o.Partition}
}

// live reports whether o belongs to a topic that exists now: one deleted,
// or deleted and created again, has left its offsets behind.
func (s *state) live(o metadata.CommittedOffset) bool {
	t, ok := s.topics.Topic(o.Topic)
	return ok && t.ID == o.TopicID && int(o.Partition) < t.Partitions()
}

// fetch handles an OffsetFetch for one group: the offsets of partitions,
// or all of the group's offsets when partitions is nil.
func (s *state) fetch(groupID string, partitions []metadata.GroupPartition) []FetchedOffset {
	g := s.group(groupID)
	if g != nil && g.is(stateDead) {
		g = nil
	}
	if partitions == nil {
		var out []FetchedOffset
		if g == nil {
			return out
		}
		for _, o := range g.offsets {
			if s.live(o) {
				out = append(out, fetched(o))
			}
		}
		slices.SortFunc(out, func(a, b FetchedOffset) int {
			return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
		})
		return out
	}
	out := noOffsets(partitions)
	for i, p := range partitions {
		if g == nil {
			continue
		}
		if o, ok := g.offsets[p]; ok && s.live(o) {
			out[i] = fetched(o)
		}
	}
	return out
}

// noOffsets is the answer for a group without offsets.
func noOffsets(partitions []metadata.GroupPartition) []FetchedOffset {
	var out []FetchedOffset
	for _, p := range partitions {
		out = append(out, FetchedOffset{Topic: p.Topic, Partition: p.Partition, Offset: -1, LeaderEpoch: -1})
	}
	return out
}

func fetched(o metadata.CommittedOffset) FetchedOffset {
	return FetchedOffset{Topic: o.Topic, Partition: o.Partition, Offset: o.Offset, LeaderEpoch: o.LeaderEpoch, Metadata: o.Metadata}
}

// deleteOffsets handles an OffsetDelete (KIP-496): offsets of an empty
// group, or of topics a consumer group does not subscribe to, are removed.
// reply gets a group error or one error per partition.
func (s *state) deleteOffsets(groupID string, partitions []metadata.GroupPartition, reply func(error, []error)) {
	g := s.group(groupID)
	if g == nil || g.is(stateDead) {
		reply(fmt.Errorf("%w: %q", ErrGroupIDNotFound, groupID), nil)
		return
	}
	errs := make([]error, len(partitions))
	var eligible []metadata.GroupPartition
	var idx []int
	switch {
	case g.is(stateEmpty):
		eligible = partitions
		for i := range partitions {
			idx = append(idx, i)
		}
	case g.protocolType == ConsumerProtocolType:
		for i, p := range partitions {
			if g.subscribed[p.Topic] {
				errs[i] = fmt.Errorf("%w: group %q consumes %q", ErrGroupSubscribedToTopic, g.id, p.Topic)
				continue
			}
			eligible = append(eligible, p)
			idx = append(idx, i)
		}
	default:
		reply(fmt.Errorf("%w: group %q is %v", ErrNonEmptyGroup, g.id, g.state), nil)
		return
	}
	if len(eligible) == 0 {
		reply(nil, errs)
		return
	}
	s.store.deleteOffsets(g.id, eligible, func(now time.Time, err error) {
		if err != nil {
			err = storeErr(err)
			for _, i := range idx {
				errs[i] = err
			}
			reply(nil, errs)
			return
		}
		for _, p := range eligible {
			delete(g.offsets, p)
		}
		reply(nil, errs)
		s.maybeRemoveEmpty(g, now)
	})
}

// sweep removes expired offsets and then empty groups without offsets
// (Kafka's cleanupGroupMetadata).
func (s *state) sweep(now time.Time) {
	s.pruneTxnFences(now)
	for _, g := range s.groups {
		if g.is(stateDead) {
			continue
		}
		expired := s.expiredOffsets(g, now)
		if len(expired) == 0 {
			s.maybeRemoveEmpty(g, now)
			continue
		}
		s.logger.Info("removing expired offsets", "group", g.id, "partitions", len(expired))
		s.store.deleteOffsets(g.id, expired, func(now time.Time, err error) {
			if err != nil {
				s.logger.Warn("removing expired offsets failed", "group", g.id, "err", err)
				return
			}
			for _, p := range expired {
				delete(g.offsets, p)
			}
			s.maybeRemoveEmpty(g, now)
		})
	}
}

// expiredOffsets returns g's offsets to remove: those of topics that no
// longer exist, and those past offsets.retention (KIP-211): measured from
// when the group became empty for a group that used the group protocol,
// from the commit for a standalone consumer, and for a Stable consumer
// group from the commit only for topics it no longer subscribes to.
// Offsets with commits in flight are kept.
func (s *state) expiredOffsets(g *group, now time.Time) []metadata.GroupPartition {
	var out []metadata.GroupPartition
	for p, o := range g.offsets {
		if g.pendingCommits[p] > 0 {
			continue
		}
		if !s.live(o) {
			out = append(out, p)
			continue
		}
		var base time.Time
		switch {
		case g.protocolType != "" && g.is(stateEmpty):
			base = g.stateSince
		case g.protocolType == ConsumerProtocolType && g.is(stateStable) && g.subscribed != nil && !g.subscribed[p.Topic]:
			base = o.CommitTime
		case g.protocolType == "":
			base = o.CommitTime
		default:
			continue
		}
		if now.Sub(base) >= s.cfg.OffsetsRetention {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b metadata.GroupPartition) int {
		return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out
}

// maybeRemoveEmpty removes g if it is empty and has no offsets left.
func (s *state) maybeRemoveEmpty(g *group, now time.Time) {
	if !g.is(stateEmpty) || g.hasOffsets() || len(g.pending) > 0 {
		return
	}
	since := g.stateSince
	g.transition(stateDead, now)
	if !g.stored {
		delete(s.groups, g.id)
		return
	}
	s.logger.Info("removing empty group without offsets", "group", g.id, "generation", g.generation)
	s.store.deleteGroup(g.id, func(_ time.Time, err error) {
		if err != nil {
			s.logger.Warn("removing empty group failed", "group", g.id, "err", err)
			g.state, g.stateSince = stateEmpty, since
			return
		}
		if s.groups[g.id] == g {
			delete(s.groups, g.id)
		}
	})
}
