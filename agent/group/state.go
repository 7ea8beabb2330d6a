package group

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/strata-io/strata/metadata"
)

// doneFunc receives the result of a store write, on the loop goroutine,
// with the time it is delivered.
type doneFunc func(now time.Time, err error)

// persister queues the store writes of one shard. Writes are applied in
// the order they are queued; each done runs on the shard's loop goroutine
// after its write.
type persister interface {
	putGroup(g metadata.Group, done doneFunc)
	commitOffsets(group string, offsets []metadata.CommittedOffset, done doneFunc)
	commitTxnOffsets(group string, producerID int64, producerEpoch int16, offsets []metadata.CommittedOffset, done doneFunc)
	completeTxnOffsets(group string, producerID int64, commit []metadata.CommittedOffset, done doneFunc)
	deleteOffsets(group string, partitions []metadata.GroupPartition, done doneFunc)
	deleteGroup(group string, done doneFunc)
}

// Topics is what the coordinator needs to know about topics: whether a
// committed offset still belongs to a live topic. *metadata.Cache
// implements it.
type Topics interface {
	Topic(name string) (metadata.Topic, bool)
}

// state is one shard's groups and timers: the coordinator's state machine.
// Its methods run on the shard's loop goroutine only (or a test's), take
// the current time, never block, and reach the store only through a
// persister, whose completions come back on the same goroutine. Kafka's
// GroupCoordinator is the model; comments name its methods where the
// behaviour follows one.
type state struct {
	cfg    Config
	logger *slog.Logger
	groups map[string]*group
	timers timers
	store  persister
	topics Topics
	// txnFences holds, per producer id, the latest epoch whose
	// transaction ended in this shard (see txnFence).
	txnFences map[int64]txnFence
	// newID returns a fresh member id with the given prefix.
	newID func(prefix string) string
}

func newState(cfg Config, logger *slog.Logger, store persister, topics Topics) *state {
	return &state{
		cfg:    cfg,
		logger: logger,
		groups: make(map[string]*group),
		store:  store,
		topics: topics,

		txnFences: make(map[int64]txnFence),
		newID:     func(prefix string) string { return prefix + "-" + uuid.NewString() },
	}
}

// restore adds the groups loaded from the store; members' sessions start
// at now.
func (s *state) restore(stored []metadata.StoredGroup, now time.Time) {
	for _, sg := range stored {
		g := restoreGroup(sg, now)
		s.groups[g.id] = g
		for _, m := range g.memberList() {
			s.scheduleSession(g, m, now)
		}
	}
}

// nextDeadline is when the earliest timer is due.
func (s *state) nextDeadline() (time.Time, bool) { return s.timers.next() }

// fire runs every timer due at now.
func (s *state) fire(now time.Time) {
	for t := s.timers.popDue(now); t != nil; t = s.timers.popDue(now) {
		g := t.g
		if s.groups[g.id] != g {
			continue // the group is gone
		}
		switch t.kind {
		case timerSession:
			s.onSessionTimer(g, t, now)
		case timerPending:
			if at, ok := g.pending[t.id]; ok && !at.After(now) {
				s.removePendingMember(g, t.id, now)
			}
		case timerJoin:
			if t.seq == g.joinSeq {
				s.onJoinTimer(g, now)
			}
		case timerSync:
			if t.seq == g.syncSeq {
				s.onSyncTimer(g, now)
			}
		}
	}
}

// scheduleSession restarts m's session: Kafka's
// completeAndScheduleNextHeartbeatExpiration.
func (s *state) scheduleSession(g *group, m *member, now time.Time) {
	s.scheduleMember(g, m, now.Add(m.sessionTimeout))
}

// scheduleMember sets m's deadline, queueing a timer entry unless one that
// fires no later is queued already.
func (s *state) scheduleMember(g *group, m *member, at time.Time) {
	m.deadline = at
	if m.timerAt.IsZero() || at.Before(m.timerAt) {
		m.timerAt = at
		s.timers.add(&timer{at: at, g: g, kind: timerSession, member: m})
	}
}

// onSessionTimer handles a member's timer: Kafka's onExpireHeartbeat.
func (s *state) onSessionTimer(g *group, t *timer, now time.Time) {
	m := t.member
	if g.members[m.id] != m || !t.at.Equal(m.timerAt) {
		return // the member left, or an earlier entry replaced this one
	}
	m.timerAt = time.Time{}
	if m.deadline.After(now) {
		s.scheduleMember(g, m, m.deadline)
		return
	}
	if !m.isNew && (m.awaitingJoin() || m.awaitingSync()) {
		// Members waiting in a rebalance satisfy their heartbeats; their
		// session restarts when the rebalance answers them.
		return
	}
	s.logger.Info("group member failed: session expired; removing it",
		"group", g.id, "member_id", m.id, "instance_id", m.instanceID, "generation", g.generation, "new_member", m.isNew)
	s.removeMemberAndUpdateGroup(g, m, now)
}

// scheduleJoin (re)starts the rebalance's join timer.
func (s *state) scheduleJoin(g *group, at time.Time) {
	g.joinSeq++
	s.timers.add(&timer{at: at, g: g, kind: timerJoin, seq: g.joinSeq})
}

// scheduleSync starts the timer for members that must SyncGroup.
func (s *state) scheduleSync(g *group, at time.Time) {
	g.syncSeq++
	s.timers.add(&timer{at: at, g: g, kind: timerSync, seq: g.syncSeq})
}

func (s *state) cancelJoin(g *group) { g.joinSeq++ }
func (s *state) cancelSync(g *group) { g.syncSeq++ }

// storeGroup writes g's snapshot with assignments: Kafka's storeGroup.
func (s *state) storeGroup(g *group, assignments map[string][]byte, done doneFunc) {
	s.store.putGroup(g.snapshot(assignments), func(now time.Time, err error) {
		if err == nil {
			g.stored = true
		}
		done(now, err)
	})
}

// storeErr turns a failed store write into the error a client gets.
func storeErr(err error) error {
	switch {
	case errors.Is(err, metadata.ErrFenced):
		return fmt.Errorf("%w: %v", ErrNotCoordinator, err)
	case errors.Is(err, metadata.ErrInvalid):
		return fmt.Errorf("%w: %v", ErrUnknownServer, err)
	}
	return fmt.Errorf("%w: %v", ErrCoordinatorNotAvailable, err)
}

// group returns the group named id, or nil.
func (s *state) group(id string) *group { return s.groups[id] }

// validateMember is Kafka's validateCurrentMember: a static member's
// instance id must map to memberID, and memberID must be a member.
func (g *group) validateMember(memberID string, instanceID *string) error {
	if instanceID != nil {
		cur, ok := g.static[*instanceID]
		if !ok {
			return fmt.Errorf("%w: no member with instance id %q in group %q", ErrUnknownMemberID, *instanceID, g.id)
		}
		if cur != memberID {
			return fmt.Errorf("%w: instance id %q belongs to member %q, not %q", ErrFencedInstanceID, *instanceID, cur, memberID)
		}
	}
	if _, ok := g.members[memberID]; !ok {
		return fmt.Errorf("%w: %q is not a member of group %q", ErrUnknownMemberID, memberID, g.id)
	}
	return nil
}
