package group

import (
	"fmt"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

// checkInvariants fails the test if g's bookkeeping disagrees with its
// members.
func checkInvariants(t *testing.T, g *group) {
	t.Helper()
	awaiting := 0
	supported := map[string]int{}
	for id, m := range g.members {
		if m.id != id {
			t.Fatalf("member %q filed under %q", m.id, id)
		}
		if m.joinReply != nil {
			awaiting++
		}
		for _, p := range m.protocols {
			supported[p.Name]++
		}
		if m.static && g.static[m.instanceID] != m.id {
			t.Fatalf("static member %q (instance %q) not mapped: %v", m.id, m.instanceID, g.static)
		}
	}
	if awaiting != g.numAwaitingJoin {
		t.Fatalf("numAwaitingJoin %d, %d members wait", g.numAwaitingJoin, awaiting)
	}
	for name, n := range g.supported {
		if n != supported[name] {
			t.Fatalf("protocol %q counted %d times, %d members support it", name, n, supported[name])
		}
	}
	for inst, id := range g.static {
		if m := g.members[id]; m == nil || m.instanceID != inst {
			t.Fatalf("instance %q maps to %q, not a member with that instance", inst, id)
		}
	}
	if len(g.order) != len(g.members) {
		t.Fatalf("order lists %d members, there are %d", len(g.order), len(g.members))
	}
	if (g.leader == "") != (len(g.members) == 0) || (g.leader != "" && g.members[g.leader] == nil) {
		t.Fatalf("leader %q with %d members", g.leader, len(g.members))
	}
	for pid, p := range g.txnOffsets {
		if p == nil || p.empty() {
			t.Fatalf("producer %d has an empty pending-offsets entry", pid)
		}
		for part, n := range p.inflight {
			if n <= 0 {
				t.Fatalf("producer %d: %d in-flight commits of %v", pid, n, part)
			}
		}
	}
	for id := range g.pendingSync {
		if g.members[id] == nil {
			t.Fatalf("pending sync of non-member %q", id)
		}
	}
	switch g.state {
	case stateEmpty:
		if len(g.members) > 0 {
			t.Fatalf("Empty group with %d members", len(g.members))
		}
	case stateStable, stateCompletingRebalance:
		if len(g.members) == 0 || g.protocol == "" {
			t.Fatalf("%v group with %d members and protocol %q", g.state, len(g.members), g.protocol)
		}
	}
}

// FuzzStateMachine drives one group with arbitrary sequences of joins,
// syncs, heartbeats, leaves, commits, transactional commits and their
// completions, store results and time, checking
// after every step that nothing panics, no request is answered twice (the
// harness fails on that) and the group's bookkeeping holds.
func FuzzStateMachine(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	f.Add([]byte{0, 0, 0, 9, 9, 9, 2, 2, 2, 10, 3, 1, 9, 4})
	f.Add([]byte{5, 5, 6, 9, 9, 9, 9, 10, 2, 6, 10, 7, 8, 12, 9, 9, 9, 9, 9, 9})
	f.Fuzz(runOps)
}

// runOps runs one FuzzStateMachine input: pairs of (operation, argument).
func runOps(t *testing.T, ops []byte) {
	h := newHarness(t, func(c *Config) { c.MaxSize = 4; c.MinSessionTimeout = time.Second })
	tp := h.topics.add("t", 4)
	var ids []string          // member ids handed out
	joins := []*pendingJoin{} // answered joins tell us ids and generations
	gen := func() int32 {
		if g := h.s.group("g"); g != nil {
			return g.generation
		}
		return 0
	}
	pick := func(b byte) string {
		if len(ids) == 0 {
			return "nobody"
		}
		return ids[int(b)%len(ids)]
	}
	for i := 0; i+1 < len(ops); i += 2 {
		op, arg := ops[i]%16, ops[i+1]
		req := consumer("g", "t")
		req.SessionTimeout = time.Duration(1+arg%4) * time.Second
		req.RebalanceTimeout = time.Duration(1+arg%5) * time.Second
		switch op {
		case 0, 1: // a dynamic member joins (v4 flow for odd args)
			req.RequireKnownMemberID = arg%2 == 1
			joins = append(joins, h.join(req))
		case 2: // a known member rejoins, maybe with other metadata
			req.MemberID = pick(arg)
			if arg%3 == 0 {
				req.Protocols[0].Metadata = subscription("t", "u")
			}
			joins = append(joins, h.join(req))
		case 3, 4: // a static member joins or restarts
			joins = append(joins, h.join(static(req, fmt.Sprint("i", arg%3))))
		case 5: // a member syncs; the leader assigns
			s := SyncRequest{Group: "g", Generation: gen(), MemberID: pick(arg)}
			if g := h.s.group("g"); g != nil && g.leader == s.MemberID {
				s.Assignments = map[string][]byte{s.MemberID: {1}}
			}
			h.sync(s)
		case 6:
			_ = h.heartbeat("g", pick(arg), gen()-int32(arg%2))
		case 7:
			_, _ = h.s.leave(h.now, "g", []LeaveMember{{MemberID: pick(arg)}})
		case 8:
			h.s.commit(h.now, CommitRequest{Group: "g", Generation: gen(), MemberID: pick(arg),
				Offsets: []metadata.CommittedOffset{{Topic: "t", TopicID: tp.ID, Partition: int32(arg % 4), Offset: int64(arg)}}}, func([]error) {})
		case 9:
			h.advance(time.Duration(arg%8) * 250 * time.Millisecond)
		case 10: // store writes complete, some failing
			if arg%4 == 0 {
				h.store.fail = metadata.ErrUnavailable
			}
			h.flush()
			h.store.fail = nil
		case 11:
			h.s.sweep(h.now)
		case 12:
			h.s.deleteGroup(h.now, "g", func(error) {})
		case 13:
			_, _ = h.s.leave(h.now, "g", []LeaveMember{{InstanceID: new(fmt.Sprint("i", arg%3))}})
		case 14: // a transactional producer (one of two, with its epoch) commits
			h.s.txnCommit(h.now, TxnCommitRequest{Group: "g", ProducerID: int64(arg % 2), ProducerEpoch: int16(arg % 3),
				Generation: -1, Offsets: []metadata.CommittedOffset{{Topic: "t", TopicID: tp.ID, Partition: int32(arg % 4), Offset: int64(arg)}}},
				func([]error) {})
		case 15: // a producer's transaction ends
			h.s.completeTxn(h.now, int64(arg%2), int16(arg%3), arg%2 == 0, func(error) {})
		}
		for _, p := range joins {
			if p.res != nil && p.res.MemberID != "" {
				ids = append(ids, p.res.MemberID)
				p.res.MemberID = "" // take each id once
			}
		}
		if g := h.s.group("g"); g != nil {
			checkInvariants(t, g)
		}
	}
}
