package group

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// describe handles DescribeGroups for one group. A group that does not
// exist is described as Dead, as Kafka does.
func (s *state) describe(groupID string) Description {
	g := s.group(groupID)
	if g == nil {
		return Description{Group: groupID, State: stateDead.String()}
	}
	d := Description{Group: g.id, State: g.state.String(), ProtocolType: g.protocolType}
	stable := g.is(stateStable)
	if stable {
		d.Protocol = g.protocol
	}
	for _, m := range g.memberList() {
		md := MemberDescription{MemberID: m.id, InstanceID: m.instanceIDPtr(), ClientID: m.clientID, ClientHost: m.clientHost}
		if stable {
			md.Metadata, md.Assignment = m.metadata(g.protocol), m.assignment
		}
		d.Members = append(d.Members, md)
	}
	return d
}

// list returns every group of the shard, sorted by id.
func (s *state) list() []Listing {
	out := make([]Listing, 0, len(s.groups))
	for _, g := range s.groups {
		if !g.is(stateDead) {
			out = append(out, Listing{Group: g.id, ProtocolType: g.protocolType, State: g.state.String()})
		}
	}
	slices.SortFunc(out, func(a, b Listing) int { return strings.Compare(a.Group, b.Group) })
	return out
}

// deleteGroup handles DeleteGroups for one group: only an empty group may
// be deleted, with all its offsets. reply is called once it is gone.
func (s *state) deleteGroup(now time.Time, groupID string, reply func(error)) {
	g := s.group(groupID)
	if g == nil || g.is(stateDead) {
		reply(fmt.Errorf("%w: %q", ErrGroupIDNotFound, groupID))
		return
	}
	if !g.is(stateEmpty) {
		reply(fmt.Errorf("%w: group %q is %v with %d members", ErrNonEmptyGroup, g.id, g.state, len(g.members)))
		return
	}
	since := g.stateSince
	g.transition(stateDead, now)
	s.cancelJoin(g)
	s.cancelSync(g)
	s.store.deleteGroup(g.id, func(_ time.Time, err error) {
		if err != nil {
			g.state, g.stateSince = stateEmpty, since
			reply(storeErr(err))
			return
		}
		if s.groups[g.id] == g {
			delete(s.groups, g.id)
		}
		s.logger.Info("deleted group", "group", g.id)
		reply(nil)
	})
}
