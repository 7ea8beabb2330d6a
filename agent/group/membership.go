package group

import (
	"fmt"
	"time"
)

// sync handles a SyncGroup: Kafka's doSyncGroup. reply is called once: at
// once, or when the leader's assignment is stored.
func (s *state) sync(now time.Time, req SyncRequest, reply func(SyncResult)) {
	g := s.group(req.Group)
	if g == nil {
		reply(SyncResult{Err: fmt.Errorf("%w: group %q does not exist", ErrUnknownMemberID, req.Group)})
		return
	}
	if err := s.validateSync(g, req); err != nil {
		reply(SyncResult{Err: err})
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case stateEmpty:
		reply(SyncResult{Err: fmt.Errorf("%w: group %q is empty", ErrUnknownMemberID, g.id)})
	case statePreparingRebalance:
		reply(SyncResult{Err: fmt.Errorf("%w: group %q", ErrRebalanceInProgress, g.id)})
	case stateCompletingRebalance:
		g.replySync(m, SyncResult{Err: fmt.Errorf("%w: superseded by a newer SyncGroup", ErrRebalanceInProgress)})
		m.syncReply = reply
		s.removePendingSync(g, m.id)
		if g.leader == m.id {
			s.storeAssignment(g, req.Assignments)
		}
	case stateStable:
		s.removePendingSync(g, m.id)
		reply(SyncResult{ProtocolType: g.protocolType, Protocol: g.protocol, Assignment: m.assignment})
		s.scheduleSession(g, m, now)
	}
}

// validateSync is Kafka's validateSyncGroup.
func (s *state) validateSync(g *group, req SyncRequest) error {
	if g.is(stateDead) {
		return fmt.Errorf("%w: group %q is being deleted", ErrCoordinatorNotAvailable, g.id)
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		return err
	}
	if req.Generation != g.generation {
		return fmt.Errorf("%w: generation %d, group %q is at %d", ErrIllegalGeneration, req.Generation, g.id, g.generation)
	}
	if req.ProtocolType != nil && *req.ProtocolType != g.protocolType {
		return fmt.Errorf("%w: protocol type %q, group %q uses %q", ErrInconsistentGroupProtocol, *req.ProtocolType, g.id, g.protocolType)
	}
	if req.Protocol != nil && (g.protocol == "" || *req.Protocol != g.protocol) {
		return fmt.Errorf("%w: protocol %q, group %q uses %q", ErrInconsistentGroupProtocol, *req.Protocol, g.id, g.protocol)
	}
	return nil
}

// storeAssignment stores the leader's assignment (members it left out get
// an empty one) and then makes the group Stable and answers every waiting
// SyncGroup, unless the group moved on meanwhile.
func (s *state) storeAssignment(g *group, leaderAssignments map[string][]byte) {
	assignments := make(map[string][]byte, len(g.members))
	var missing []string
	for id := range g.members {
		a, ok := leaderAssignments[id]
		if !ok {
			missing = append(missing, id)
			a = []byte{}
		}
		assignments[id] = a
	}
	if len(missing) > 0 {
		s.logger.Warn("leader's assignment leaves out members; they get empty assignments", "group", g.id, "generation", g.generation, "members", missing)
	}
	s.logger.Info("assignment received from leader", "group", g.id, "generation", g.generation, "leader", g.leader, "members", len(g.members))
	gen := g.generation
	s.storeGroup(g, assignments, func(now time.Time, err error) {
		if !g.is(stateCompletingRebalance) || g.generation != gen {
			return
		}
		if err != nil {
			s.logger.Warn("storing the group's assignment failed", "group", g.id, "generation", gen, "err", err)
			s.resetAndPropagateAssignmentError(g, storeErr(err), now)
			s.maybePrepareRebalance(g, now, "storing the assignment failed")
			return
		}
		for _, m := range g.members {
			m.assignment = assignments[m.id]
		}
		s.propagateAssignment(g, nil, now)
		g.transition(stateStable, now)
	})
}

// propagateAssignment answers every waiting SyncGroup with the member's
// assignment, or with err, and restarts their sessions.
func (s *state) propagateAssignment(g *group, err error, now time.Time) {
	for _, m := range g.memberList() {
		if !m.awaitingSync() {
			continue
		}
		res := SyncResult{Err: err}
		if err == nil {
			res = SyncResult{ProtocolType: g.protocolType, Protocol: g.protocol, Assignment: m.assignment}
		}
		g.replySync(m, res)
		s.scheduleSession(g, m, now)
	}
}

// resetAndPropagateAssignmentError clears the assignments and fails every
// waiting SyncGroup with err.
func (s *state) resetAndPropagateAssignmentError(g *group, err error, now time.Time) {
	for _, m := range g.members {
		m.assignment = nil
	}
	s.propagateAssignment(g, err, now)
}

func (s *state) removePendingSync(g *group, id string) {
	delete(g.pendingSync, id)
	if len(g.pendingSync) == 0 {
		s.cancelSync(g)
	}
}

// onSyncTimer removes the members that did not SyncGroup within the
// rebalance timeout and rebalances (Kafka's onExpirePendingSync).
func (s *state) onSyncTimer(g *group, now time.Time) {
	if !g.is(stateCompletingRebalance) && !g.is(stateStable) || len(g.pendingSync) == 0 {
		return
	}
	var gone []string
	for _, id := range g.order {
		if g.pendingSync[id] {
			gone = append(gone, id)
		}
	}
	for _, id := range gone {
		s.dropMember(g, g.members[id])
	}
	s.logger.Info("removed group members that did not sync in time", "group", g.id, "generation", g.generation, "members", gone)
	s.prepareRebalance(g, now, "members did not sync in time")
}

// heartbeat handles a Heartbeat: Kafka's handleHeartbeat.
func (s *state) heartbeat(now time.Time, req HeartbeatRequest) error {
	g := s.group(req.Group)
	if g == nil {
		return fmt.Errorf("%w: group %q does not exist", ErrUnknownMemberID, req.Group)
	}
	if g.is(stateDead) {
		return fmt.Errorf("%w: group %q is being deleted", ErrCoordinatorNotAvailable, g.id)
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		return err
	}
	if req.Generation != g.generation {
		return fmt.Errorf("%w: generation %d, group %q is at %d", ErrIllegalGeneration, req.Generation, g.id, g.generation)
	}
	m := g.members[req.MemberID]
	switch g.state {
	case stateEmpty:
		return fmt.Errorf("%w: group %q is empty", ErrUnknownMemberID, g.id)
	case statePreparingRebalance:
		s.scheduleSession(g, m, now)
		return fmt.Errorf("%w: rejoin group %q", ErrRebalanceInProgress, g.id)
	}
	s.scheduleSession(g, m, now)
	return nil
}

// leave handles a LeaveGroup: Kafka's handleLeaveGroup. It returns one
// error per member, or a group-level error.
func (s *state) leave(now time.Time, groupID string, members []LeaveMember) ([]error, error) {
	errs := make([]error, len(members))
	g := s.group(groupID)
	if g == nil {
		for i := range errs {
			errs[i] = fmt.Errorf("%w: group %q does not exist", ErrUnknownMemberID, groupID)
		}
		return errs, nil
	}
	if g.is(stateDead) {
		return nil, fmt.Errorf("%w: group %q is being deleted", ErrCoordinatorNotAvailable, g.id)
	}
	for i, lm := range members {
		_, pending := g.pending[lm.MemberID]
		switch {
		case lm.MemberID == "":
			// An administrative removal of a static member by instance id.
			id, ok := "", false
			if lm.InstanceID != nil {
				id, ok = g.static[*lm.InstanceID]
			}
			if !ok {
				errs[i] = fmt.Errorf("%w: no member id, and no static member with that instance id", ErrUnknownMemberID)
				continue
			}
			s.leaveMember(g, g.members[id], now)
		case pending:
			s.logger.Info("pending member left group", "group", g.id, "member_id", lm.MemberID)
			s.removePendingMember(g, lm.MemberID, now)
		default:
			if errs[i] = g.validateMember(lm.MemberID, lm.InstanceID); errs[i] == nil {
				s.leaveMember(g, g.members[lm.MemberID], now)
			}
		}
	}
	return errs, nil
}

func (s *state) leaveMember(g *group, m *member, now time.Time) {
	s.logger.Info("member left group", "group", g.id, "member_id", m.id, "instance_id", m.instanceID, "generation", g.generation)
	s.removeMemberAndUpdateGroup(g, m, now)
}

// dropMember removes m, failing whatever request it has waiting.
func (s *state) dropMember(g *group, m *member) {
	g.replyJoin(m, joinErr("", fmt.Errorf("%w: removed from group %q", ErrUnknownMemberID, g.id)))
	g.replySync(m, SyncResult{Err: fmt.Errorf("%w: removed from group %q", ErrUnknownMemberID, g.id)})
	g.remove(m.id)
}

// removeMemberAndUpdateGroup removes m and rebalances the others: Kafka's
// removeMemberAndUpdateGroup.
func (s *state) removeMemberAndUpdateGroup(g *group, m *member, now time.Time) {
	s.dropMember(g, m)
	switch g.state {
	case stateStable, stateCompletingRebalance:
		s.maybePrepareRebalance(g, now, "member "+m.id+" left")
	case statePreparingRebalance:
		s.tryCompleteJoin(g, now)
	}
}

// removePendingMember forgets a member id handed out with
// MEMBER_ID_REQUIRED that was not used (in time).
func (s *state) removePendingMember(g *group, id string, now time.Time) {
	delete(g.pending, id)
	if g.is(statePreparingRebalance) {
		s.tryCompleteJoin(g, now)
	}
}
