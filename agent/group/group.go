package group

import (
	"bytes"
	"slices"
	"time"

	"github.com/strata-io/strata/metadata"
)

// groupState is a classic group's state, as Kafka names them.
type groupState int8

const (
	stateEmpty groupState = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

func (s groupState) String() string {
	switch s {
	case stateEmpty:
		return "Empty"
	case statePreparingRebalance:
		return "PreparingRebalance"
	case stateCompletingRebalance:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	}
	return "Dead"
}

// member is one member of a group. Only its shard's loop touches it.
type member struct {
	id         string
	instanceID string // "" unless static
	static     bool
	clientID   string
	clientHost string

	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocolType     string
	protocols        []Protocol
	assignment       []byte

	// joinReply and syncReply answer a JoinGroup or SyncGroup waiting
	// for the rebalance; nil when none waits.
	joinReply func(JoinResult)
	syncReply func(SyncResult)
	// isNew is set from a member's first join until that join completes;
	// such a member expires on newMemberJoinTimeout, not its session.
	isNew bool
	// deadline is when the member expires without a heartbeat; timerAt is
	// the time of its live timer entry (zero when none is queued).
	deadline time.Time
	timerAt  time.Time
}

// newMemberJoinTimeout bounds how long a member's first JoinGroup may wait
// in a rebalance (Kafka's NewMemberJoinTimeoutMs).
const newMemberJoinTimeout = 5 * time.Minute

func (m *member) awaitingJoin() bool { return m.joinReply != nil }
func (m *member) awaitingSync() bool { return m.syncReply != nil }

// metadata returns the member's metadata for protocol.
func (m *member) metadata(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// matches reports whether protocols are exactly the member's, in order.
func (m *member) matches(protocols []Protocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b Protocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// vote returns the member's most preferred protocol among candidates.
func (m *member) vote(candidates map[string]bool) string {
	for _, p := range m.protocols {
		if candidates[p.Name] {
			return p.Name
		}
	}
	return ""
}

func (m *member) instanceIDPtr() *string {
	if !m.static {
		return nil
	}
	s := m.instanceID
	return &s
}

// group is one consumer group. Only its shard's loop touches it.
type group struct {
	id         string
	state      groupState
	stateSince time.Time // wall clock, persisted

	protocolType string
	protocol     string // selected protocol; "" when none
	generation   int32
	leader       string // "" when none

	members   map[string]*member
	order     []string          // member ids in the order they joined
	static    map[string]string // instance id → member id
	pending   map[string]time.Time
	supported map[string]int // protocol → members supporting it

	numAwaitingJoin int
	pendingSync     map[string]bool

	// Rebalance timers: the join (initial delay or rebalance timeout) and
	// the sync deadline. A timer entry is live while its seq matches.
	newMemberAdded   bool
	initialDelay     bool          // the join timer is an initial delay
	initialCur       time.Duration // the delay now running
	initialRemaining time.Duration
	joinSeq, syncSeq uint64

	// subscribed holds the topics consumer members subscribe to, nil when
	// unknown (not a consumer group, or unparsable metadata).
	subscribed map[string]bool

	offsets        map[metadata.GroupPartition]metadata.CommittedOffset
	pendingCommits map[metadata.GroupPartition]int
	// txnOffsets holds the offsets transactional producers committed
	// whose transactions have not ended, by producer id.
	txnOffsets map[int64]*txnPending
	// stored is set once the store holds a snapshot of the group.
	stored bool
}

func newGroup(id string, now time.Time) *group {
	return &group{
		id:             id,
		state:          stateEmpty,
		stateSince:     now,
		members:        make(map[string]*member),
		static:         make(map[string]string),
		pending:        make(map[string]time.Time),
		supported:      make(map[string]int),
		pendingSync:    make(map[string]bool),
		offsets:        make(map[metadata.GroupPartition]metadata.CommittedOffset),
		pendingCommits: make(map[metadata.GroupPartition]int),
		txnOffsets:     make(map[int64]*txnPending),
	}
}

func (g *group) is(s groupState) bool { return g.state == s }

func (g *group) transition(s groupState, now time.Time) {
	g.state = s
	g.stateSince = now
}

// canRebalance reports whether a rebalance may start from this state.
func (g *group) canRebalance() bool {
	return g.state == stateStable || g.state == stateCompletingRebalance || g.state == stateEmpty
}

// memberList returns the members in join order.
func (g *group) memberList() []*member {
	ms := make([]*member, len(g.order))
	for i, id := range g.order {
		ms[i] = g.members[id]
	}
	return ms
}

// add adds m, making it leader if the group has none.
func (g *group) add(m *member, reply func(JoinResult)) {
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	for _, p := range m.protocols {
		g.supported[p.Name]++
	}
	if g.leader == "" {
		g.leader = m.id
	}
	if m.static {
		g.static[m.instanceID] = m.id
	}
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	if reply != nil {
		m.joinReply = reply
		g.numAwaitingJoin++
	}
	delete(g.pending, m.id)
}

// remove removes member id; a new leader is the first remaining member.
func (g *group) remove(id string) {
	m, ok := g.members[id]
	if !ok {
		return
	}
	for _, p := range m.protocols {
		g.supported[p.Name]--
	}
	if m.joinReply != nil {
		g.numAwaitingJoin--
	}
	if m.static && g.static[m.instanceID] == id {
		delete(g.static, m.instanceID)
	}
	delete(g.members, id)
	delete(g.pendingSync, id)
	g.order = slices.DeleteFunc(g.order, func(s string) bool { return s == id })
	if g.leader == id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
}

// updateMember replaces a member's protocols and timeouts and its waiting
// JoinGroup (nil: none waits any more), as Kafka's updateMember.
func (g *group) updateMember(m *member, protocols []Protocol, rebalanceTimeout, sessionTimeout time.Duration, reply func(JoinResult)) {
	for _, p := range m.protocols {
		g.supported[p.Name]--
	}
	for _, p := range protocols {
		g.supported[p.Name]++
	}
	m.protocols = protocols
	m.rebalanceTimeout = rebalanceTimeout
	m.sessionTimeout = sessionTimeout
	switch {
	case reply != nil && m.joinReply == nil:
		g.numAwaitingJoin++
	case reply == nil && m.joinReply != nil:
		g.numAwaitingJoin--
	}
	m.joinReply = reply
}

// replyJoin answers m's waiting JoinGroup, if any.
func (g *group) replyJoin(m *member, res JoinResult) {
	if m.joinReply != nil {
		reply := m.joinReply
		m.joinReply = nil
		g.numAwaitingJoin--
		reply(res)
	}
}

// replySync answers m's waiting SyncGroup, if any.
func (g *group) replySync(m *member, res SyncResult) {
	if m.syncReply != nil {
		reply := m.syncReply
		m.syncReply = nil
		reply(res)
	}
}

// replaceStaticMember gives static member instanceID the new member id,
// fencing any request the old id still has waiting.
func (g *group) replaceStaticMember(instanceID, oldID, newID string) *member {
	m := g.members[oldID]
	delete(g.members, oldID)
	g.replyJoin(m, JoinResult{Err: ErrFencedInstanceID, MemberID: oldID})
	g.replySync(m, SyncResult{Err: ErrFencedInstanceID})
	m.id = newID
	g.members[newID] = m
	if i := slices.Index(g.order, oldID); i >= 0 {
		g.order[i] = newID
	}
	if g.leader == oldID {
		g.leader = newID
	}
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = true
	}
	g.static[instanceID] = newID
	return m
}

// supportsProtocols is Kafka's check that a joining member can be part of
// the group: any non-empty type and protocol list for an empty group,
// otherwise the group's type and a protocol every member supports.
func (g *group) supportsProtocols(protocolType string, protocols []Protocol) bool {
	if g.is(stateEmpty) {
		return protocolType != "" && len(protocols) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range protocols {
		if g.supported[p.Name] == len(g.members) {
			return true
		}
	}
	return false
}

// selectProtocol picks the protocol every member supports that most
// members prefer; ties go to the earliest member's preference.
func (g *group) selectProtocol() string {
	candidates := make(map[string]bool)
	for name, n := range g.supported {
		if n == len(g.members) && n > 0 {
			candidates[name] = true
		}
	}
	votes := make(map[string]int)
	var order []string
	for _, m := range g.memberList() {
		v := m.vote(candidates)
		if votes[v] == 0 {
			order = append(order, v)
		}
		votes[v]++
	}
	best := ""
	for _, p := range order {
		if best == "" || votes[p] > votes[best] {
			best = p
		}
	}
	return best
}

// hasAllMembersJoined reports whether every member waits in JoinGroup and
// no member id handed out with MEMBER_ID_REQUIRED is still outstanding.
func (g *group) hasAllMembersJoined() bool {
	return len(g.members) == g.numAwaitingJoin && len(g.pending) == 0
}

// rebalanceTimeout is the longest rebalance timeout of the members.
func (g *group) rebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// maybeElectNewJoinedLeader makes a rejoined member leader if the leader
// did not rejoin; it reports whether the group has a rejoined leader.
func (g *group) maybeElectNewJoinedLeader() bool {
	if g.leader == "" {
		return false
	}
	if g.members[g.leader].awaitingJoin() {
		return true
	}
	for _, m := range g.memberList() {
		if m.awaitingJoin() {
			g.leader = m.id
			return true
		}
	}
	return false
}

// initNextGeneration starts the next generation: CompletingRebalance with
// the selected protocol, or Empty.
func (g *group) initNextGeneration(now time.Time) {
	g.generation++
	if len(g.members) > 0 {
		g.protocol = g.selectProtocol()
		g.transition(stateCompletingRebalance, now)
	} else {
		g.protocol = ""
		g.transition(stateEmpty, now)
	}
	g.subscribed = g.computeSubscribed()
	clear(g.pendingSync)
}

// computeSubscribed parses the consumer members' subscriptions.
func (g *group) computeSubscribed() map[string]bool {
	if g.protocolType != ConsumerProtocolType || len(g.members) == 0 {
		return nil
	}
	topics := make(map[string]bool)
	for _, m := range g.members {
		ts, err := subscribedTopics(m.metadata(g.protocol))
		if err != nil {
			return nil
		}
		for _, t := range ts {
			topics[t] = true
		}
	}
	return topics
}

// currentMembers is what the leader gets in JoinGroup: every member with
// its metadata for the selected protocol.
func (g *group) currentMembers() []Member {
	out := make([]Member, 0, len(g.members))
	for _, m := range g.memberList() {
		out = append(out, Member{MemberID: m.id, InstanceID: m.instanceIDPtr(), Metadata: m.metadata(g.protocol)})
	}
	return out
}

// joinResult is the successful JoinGroup answer for m in this generation.
func (g *group) joinResult(m *member) JoinResult {
	res := JoinResult{
		MemberID:     m.id,
		Generation:   g.generation,
		ProtocolType: g.protocolType,
		Protocol:     g.protocol,
		Leader:       g.leader,
	}
	if g.leader == m.id {
		res.Members = g.currentMembers()
	}
	return res
}

// hasOffsets reports whether the group has committed offsets, commits in
// flight or pending transactional offsets.
func (g *group) hasOffsets() bool {
	return len(g.offsets) > 0 || len(g.pendingCommits) > 0 || len(g.txnOffsets) > 0
}

// snapshot is the group as the store keeps it, with assignments.
func (g *group) snapshot(assignments map[string][]byte) metadata.Group {
	s := metadata.Group{
		Name:           g.id,
		ProtocolType:   g.protocolType,
		Generation:     g.generation,
		Protocol:       g.protocol,
		Leader:         g.leader,
		StateTimestamp: g.stateSince.Round(0).Truncate(time.Millisecond),
	}
	for _, m := range g.memberList() {
		s.Members = append(s.Members, metadata.GroupMember{
			MemberID:         m.id,
			InstanceID:       m.instanceID,
			ClientID:         m.clientID,
			ClientHost:       m.clientHost,
			SessionTimeout:   m.sessionTimeout,
			RebalanceTimeout: m.rebalanceTimeout,
			Metadata:         m.metadata(g.protocol),
			Assignment:       assignments[m.id],
		})
	}
	if len(s.Members) == 0 {
		s.Protocol, s.Leader = "", ""
	}
	return s
}

// restore rebuilds a group from its snapshot: Stable with its members, or
// Empty. now starts the members' sessions.
func restoreGroup(sg metadata.StoredGroup, now time.Time) *group {
	g := newGroup(sg.Name, now)
	if s := sg.Group; s != nil {
		g.stored = true
		g.protocolType = s.ProtocolType
		g.generation = s.Generation
		g.protocol = s.Protocol
		g.stateSince = s.StateTimestamp
		for _, sm := range s.Members {
			m := &member{
				id:               sm.MemberID,
				instanceID:       sm.InstanceID,
				static:           sm.InstanceID != "",
				clientID:         sm.ClientID,
				clientHost:       sm.ClientHost,
				sessionTimeout:   sm.SessionTimeout,
				rebalanceTimeout: sm.RebalanceTimeout,
				protocolType:     s.ProtocolType,
				protocols:        []Protocol{{Name: s.Protocol, Metadata: sm.Metadata}},
				assignment:       sm.Assignment,
			}
			g.add(m, nil)
		}
		g.leader = s.Leader
		if len(g.members) > 0 {
			g.state = stateStable
			g.subscribed = g.computeSubscribed()
		}
	}
	for _, o := range sg.Offsets {
		g.offsets[metadata.GroupPartition{Topic: o.Topic, Partition: o.Partition}] = o
	}
	g.restoreTxnOffsets(sg.TxnOffsets)
	return g
}
