package group

import (
	"fmt"
	"strings"
	"time"
)

func joinErr(memberID string, err error) JoinResult { return JoinResult{Err: err, MemberID: memberID} }

// join handles a JoinGroup: Kafka's handleJoinGroup. reply is called once,
// now or when the rebalance completes.
func (s *state) join(now time.Time, req JoinRequest, reply func(JoinResult)) {
	if req.SessionTimeout < s.cfg.MinSessionTimeout || req.SessionTimeout > s.cfg.MaxSessionTimeout {
		reply(joinErr(req.MemberID, fmt.Errorf("%w: %v is outside [%v, %v] (group.min/max.session.timeout.ms)",
			ErrInvalidSessionTimeout, req.SessionTimeout, s.cfg.MinSessionTimeout, s.cfg.MaxSessionTimeout)))
		return
	}
	if req.InstanceID != nil && *req.InstanceID == "" {
		reply(joinErr(req.MemberID, fmt.Errorf("%w: group instance id is empty", ErrInvalidRequest)))
		return
	}
	unknown := req.MemberID == ""
	g := s.group(req.Group)
	if g == nil {
		if !unknown {
			reply(joinErr(req.MemberID, fmt.Errorf("%w: group %q does not exist", ErrUnknownMemberID, req.Group)))
			return
		}
		g = newGroup(req.Group, now)
		s.groups[g.id] = g
	}
	switch {
	case !s.acceptJoiningMember(g, req.MemberID):
		if m, ok := g.members[req.MemberID]; ok {
			// Kafka drops a member that rejoins too late into a full
			// rebalance; the others go on without it.
			s.dropMember(g, m)
		}
		reply(joinErr("", fmt.Errorf("%w: group %q has %d members (group.max.size %d)", ErrGroupMaxSizeReached, g.id, len(g.members), s.cfg.MaxSize)))
	case unknown:
		s.joinNewMember(g, req, reply, now)
	default:
		s.joinCurrentMember(g, req, reply, now)
	}
	s.tryCompleteJoin(g, now)
}

// acceptJoiningMember applies group.max.size as Kafka does: an existing
// member that already waits in the rebalance is always accepted, others
// only while the group (or, during a rebalance, the members waiting in it)
// is below the limit.
func (s *state) acceptJoiningMember(g *group, memberID string) bool {
	switch g.state {
	case statePreparingRebalance:
		if m, ok := g.members[memberID]; ok && m.awaitingJoin() {
			return true
		}
		return g.numAwaitingJoin < s.cfg.MaxSize
	case stateCompletingRebalance, stateStable:
		_, ok := g.members[memberID]
		return ok || len(g.members) < s.cfg.MaxSize
	}
	return true
}

// joinNewMember is Kafka's doNewMemberJoinGroup.
func (s *state) joinNewMember(g *group, req JoinRequest, reply func(JoinResult), now time.Time) {
	if g.is(stateDead) {
		reply(joinErr("", fmt.Errorf("%w: group %q is being deleted", ErrCoordinatorNotAvailable, g.id)))
		return
	}
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		reply(joinErr("", s.inconsistentProtocol(g, req)))
		return
	}
	prefix := strings.ToValidUTF8(req.ClientID, "")
	if req.InstanceID != nil {
		prefix = *req.InstanceID
	}
	id := s.newID(prefix)
	switch {
	case req.InstanceID != nil:
		if old, ok := g.static[*req.InstanceID]; ok {
			s.rejoinStaticMember(g, old, id, req, reply, now)
		} else {
			s.addMemberAndRebalance(g, id, req, reply, now)
		}
	case req.RequireKnownMemberID:
		// KIP-394: hand out the id and wait for the member to come back
		// with it, so that a client that never does costs only this entry.
		g.pending[id] = now.Add(req.SessionTimeout)
		s.timers.add(&timer{at: g.pending[id], g: g, kind: timerPending, id: id})
		reply(joinErr(id, fmt.Errorf("%w: rejoin with the member id in this response", ErrMemberIDRequired)))
	default:
		s.addMemberAndRebalance(g, id, req, reply, now)
	}
}

func (s *state) inconsistentProtocol(g *group, req JoinRequest) error {
	names := make([]string, len(req.Protocols))
	for i, p := range req.Protocols {
		names[i] = p.Name
	}
	if g.is(stateEmpty) {
		return fmt.Errorf("%w: a new group needs a protocol type and at least one protocol (got type %q, protocols %q)",
			ErrInconsistentGroupProtocol, req.ProtocolType, names)
	}
	return fmt.Errorf("%w: group %q has protocol type %q and its members' common protocols; the join has type %q and protocols %q",
		ErrInconsistentGroupProtocol, g.id, g.protocolType, req.ProtocolType, names)
}

// joinCurrentMember is Kafka's doCurrentMemberJoinGroup: a join that
// names a member id.
func (s *state) joinCurrentMember(g *group, req JoinRequest, reply func(JoinResult), now time.Time) {
	if g.is(stateDead) {
		reply(joinErr(req.MemberID, fmt.Errorf("%w: group %q is being deleted", ErrCoordinatorNotAvailable, g.id)))
		return
	}
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		reply(joinErr(req.MemberID, s.inconsistentProtocol(g, req)))
		return
	}
	if _, ok := g.pending[req.MemberID]; ok {
		s.addMemberAndRebalance(g, req.MemberID, req, reply, now)
		return
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		reply(joinErr(req.MemberID, err))
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case statePreparingRebalance:
		s.updateMemberAndRebalance(g, m, req, reply, now)
	case stateCompletingRebalance:
		if m.matches(req.Protocols) {
			// The member lost our JoinGroup answer: send it again.
			reply(g.joinResult(m))
			return
		}
		s.updateMemberAndRebalance(g, m, req, reply, now)
	case stateStable:
		if g.leader == m.id || !m.matches(req.Protocols) {
			// A leader's join forces a rebalance: that is how a leader
			// reacts to changes only it sees (new partitions, say).
			s.updateMemberAndRebalance(g, m, req, reply, now)
			return
		}
		res := g.joinResult(m)
		res.Members = nil
		reply(res)
	default:
		reply(joinErr(req.MemberID, fmt.Errorf("%w: group %q is %v", ErrUnknownMemberID, g.id, g.state)))
	}
}

// addMemberAndRebalance adds a member (Kafka's addMemberAndRebalance).
func (s *state) addMemberAndRebalance(g *group, id string, req JoinRequest, reply func(JoinResult), now time.Time) {
	m := &member{
		id:               id,
		clientID:         req.ClientID,
		clientHost:       req.ClientHost,
		sessionTimeout:   req.SessionTimeout,
		rebalanceTimeout: req.RebalanceTimeout,
		protocolType:     req.ProtocolType,
		protocols:        req.Protocols,
		isNew:            true,
	}
	if req.InstanceID != nil {
		m.static, m.instanceID = true, *req.InstanceID
	}
	if g.is(statePreparingRebalance) && g.generation == 0 {
		g.newMemberAdded = true // the initial delay may be extended
	}
	g.add(m, reply)
	// A new member cannot heartbeat while its JoinGroup waits, so its
	// first join is bounded by newMemberJoinTimeout instead.
	s.scheduleMember(g, m, now.Add(newMemberJoinTimeout))
	s.maybePrepareRebalance(g, now, "member "+id+" joined")
}

// updateMemberAndRebalance takes a member's new join.
func (s *state) updateMemberAndRebalance(g *group, m *member, req JoinRequest, reply func(JoinResult), now time.Time) {
	if m.joinReply != nil {
		// A second JoinGroup of the same member replaces the first.
		g.replyJoin(m, joinErr(m.id, fmt.Errorf("%w: superseded by a newer JoinGroup", ErrRebalanceInProgress)))
	}
	g.updateMember(m, req.Protocols, req.RebalanceTimeout, req.SessionTimeout, reply)
	s.maybePrepareRebalance(g, now, "member "+m.id+" rejoined")
}

// rejoinStaticMember handles a known static member joining with a new
// member id (a restart): Kafka's updateStaticMemberAndRebalance. In a
// Stable group whose selected protocol stays the same, the member takes
// over its old place and assignment without a rebalance.
func (s *state) rejoinStaticMember(g *group, oldID, newID string, req JoinRequest, reply func(JoinResult), now time.Time) {
	instanceID := *req.InstanceID
	oldLeader := g.leader
	m := g.replaceStaticMember(instanceID, oldID, newID)
	s.scheduleSession(g, m, now)
	oldProtocols, oldRebalance, oldSession := m.protocols, m.rebalanceTimeout, m.sessionTimeout
	g.updateMember(m, req.Protocols, req.RebalanceTimeout, req.SessionTimeout, reply)
	switch g.state {
	case stateStable:
		if g.selectProtocol() != g.protocol {
			s.maybePrepareRebalance(g, now, "static member "+instanceID+" rejoined with other protocols")
			return
		}
		assignments := make(map[string][]byte, len(g.members))
		for _, o := range g.members {
			assignments[o.id] = o.assignment
		}
		gen := g.generation
		s.storeGroup(g, assignments, func(now time.Time, err error) {
			if err != nil {
				s.logger.Warn("storing a rejoined static member failed", "group", g.id, "instance_id", instanceID, "err", err)
				if g.members[newID] == m && m.joinReply != nil {
					// Nothing else answered the join meanwhile: undo it.
					g.updateMember(m, oldProtocols, oldRebalance, oldSession, nil)
					g.replaceStaticMember(instanceID, newID, oldID)
					s.scheduleSession(g, m, now)
					reply(joinErr("", storeErr(err)))
				}
				return
			}
			res := JoinResult{
				MemberID:     newID,
				Generation:   gen,
				ProtocolType: g.protocolType,
				Protocol:     g.protocol,
				// Before v9 the old leader id is returned, so that a
				// restarted leader does not assign: a Stable group would
				// ignore its assignment.
				Leader: oldLeader,
			}
			if req.SupportsSkipAssignment {
				res.Leader = g.leader
				if g.leader == newID {
					res.SkipAssignment = true
					res.Members = g.currentMembers()
				}
			}
			g.replyJoin(m, res)
		})
	case stateCompletingRebalance:
		// The leader may have assigned the old member id already: start
		// over so that the assignment names the new one.
		s.prepareRebalance(g, now, "static member "+instanceID+" rejoined during a sync")
	}
	// PreparingRebalance: the member now waits like the others.
}

// maybePrepareRebalance starts a rebalance unless one is starting.
func (s *state) maybePrepareRebalance(g *group, now time.Time, reason string) {
	if g.canRebalance() {
		s.prepareRebalance(g, now, reason)
	}
}

// prepareRebalance moves g to PreparingRebalance (Kafka's
// prepareRebalance). An empty group first waits group.initial.rebalance.delay
// for more members; otherwise the join phase lasts until every member has
// rejoined or the longest rebalance timeout passes.
func (s *state) prepareRebalance(g *group, now time.Time, reason string) {
	if g.is(stateCompletingRebalance) {
		s.resetAndPropagateAssignmentError(g, fmt.Errorf("%w: group %q is rebalancing again", ErrRebalanceInProgress, g.id), now)
	}
	s.cancelSync(g)
	if g.is(stateEmpty) {
		g.initialDelay = true
		g.initialCur = s.cfg.InitialRebalanceDelay
		g.initialRemaining = max(g.rebalanceTimeout()-s.cfg.InitialRebalanceDelay, 0)
		s.scheduleJoin(g, now.Add(g.initialCur))
	} else {
		g.initialDelay = false
		s.scheduleJoin(g, now.Add(g.rebalanceTimeout()))
	}
	g.transition(statePreparingRebalance, now)
	s.logger.Info("preparing to rebalance group", "group", g.id, "generation", g.generation, "members", len(g.members), "reason", reason)
	s.tryCompleteJoin(g, now)
}

// tryCompleteJoin completes the join phase once every member rejoined
// (never during the initial delay, which always runs out).
func (s *state) tryCompleteJoin(g *group, now time.Time) {
	if g.is(statePreparingRebalance) && !g.initialDelay && g.hasAllMembersJoined() {
		s.completeJoin(g, now)
	}
}

// onJoinTimer ends an initial delay, extending it while new members keep
// arriving (Kafka's InitialDelayedJoin), or ends the join phase at the
// rebalance timeout.
func (s *state) onJoinTimer(g *group, now time.Time) {
	if !g.is(statePreparingRebalance) {
		return
	}
	if g.initialDelay && g.newMemberAdded && g.initialRemaining > 0 {
		g.newMemberAdded = false
		delay := min(s.cfg.InitialRebalanceDelay, g.initialRemaining)
		g.initialRemaining = max(g.initialRemaining-g.initialCur, 0)
		g.initialCur = delay
		s.scheduleJoin(g, now.Add(delay))
		return
	}
	s.completeJoin(g, now)
}

// completeJoin ends the join phase: Kafka's onCompleteJoin. Dynamic
// members that did not rejoin are removed; static ones stay (they may be
// restarting) and must SyncGroup in time like everyone else.
func (s *state) completeJoin(g *group, now time.Time) {
	s.cancelJoin(g)
	g.initialDelay = false
	var gone []string
	for _, m := range g.memberList() {
		if !m.awaitingJoin() && !m.static {
			gone = append(gone, m.id)
			g.remove(m.id)
		}
	}
	if len(gone) > 0 {
		s.logger.Info("removed group members that did not rejoin in time", "group", g.id, "members", gone)
	}
	if g.is(stateDead) {
		return
	}
	if !g.maybeElectNewJoinedLeader() && len(g.members) > 0 {
		// Only static members that have not rejoined are left: wait for
		// them, or for their sessions to end.
		s.logger.Warn("group could not complete rebalance because no members rejoined", "group", g.id)
		s.scheduleJoin(g, now.Add(g.rebalanceTimeout()))
		return
	}
	g.initNextGeneration(now)
	if g.is(stateEmpty) {
		s.logger.Info("group is now empty", "group", g.id, "generation", g.generation)
		s.storeGroup(g, nil, func(_ time.Time, err error) {
			if err != nil {
				s.logger.Warn("storing the empty group failed", "group", g.id, "generation", g.generation, "err", err)
			}
		})
		return
	}
	s.logger.Info("stabilized group", "group", g.id, "generation", g.generation, "protocol", g.protocol,
		"leader", g.leader, "members", len(g.members))
	for _, m := range g.memberList() {
		g.replyJoin(m, g.joinResult(m))
		s.scheduleSession(g, m, now)
		m.isNew = false
		g.pendingSync[m.id] = true
	}
	s.scheduleSync(g, now.Add(g.rebalanceTimeout()))
}
