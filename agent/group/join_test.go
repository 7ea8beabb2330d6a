package group

import (
	"bytes"
	"testing"
	"time"
)

// TestFirstJoin: a dynamic v4+ member gets a member id first
// (MEMBER_ID_REQUIRED), the initial delay runs out, and the single member
// leads generation 1; its assignment is stored before it is answered.
func TestFirstJoin(t *testing.T) {
	h := newHarness(t)
	req := consumer("g", "t")
	req.RequireKnownMemberID = true
	first := h.join(req)
	r := h.joined(first)
	checkErr(t, "first join", r.Err, ErrMemberIDRequired)
	if r.MemberID != "c-1" {
		t.Fatalf("member id %q", r.MemberID)
	}
	h.checkState("g", stateEmpty)
	p := h.join(withMember(req, r.MemberID))
	h.checkState("g", statePreparingRebalance)
	h.advance(2 * time.Second)
	if p.done() {
		t.Fatal("join answered before the initial delay")
	}
	h.advance(time.Second)
	r = h.joined(p)
	if r.Err != nil || r.Generation != 1 || r.Leader != "c-1" || r.Protocol != "range" || r.ProtocolType != "consumer" || len(r.Members) != 1 {
		t.Fatalf("join = %+v", r)
	}
	h.checkState("g", stateCompletingRebalance)
	s := h.sync(SyncRequest{Group: "g", Generation: 1, MemberID: "c-1", Assignments: map[string][]byte{"c-1": {7}}})
	if s.res != nil {
		t.Fatal("leader's sync answered before its assignment was stored")
	}
	h.flush()
	if sr := h.synced(s); sr.Err != nil || !bytes.Equal(sr.Assignment, []byte{7}) || sr.Protocol != "range" {
		t.Fatalf("sync = %+v", sr)
	}
	h.checkState("g", stateStable)
	snap, ok := h.lastPut("g")
	if !ok || snap.Generation != 1 || snap.Leader != "c-1" || len(snap.Members) != 1 || !bytes.Equal(snap.Members[0].Assignment, []byte{7}) {
		t.Fatalf("stored snapshot %+v", snap)
	}
	if err := h.heartbeat("g", "c-1", 1); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
}

// TestInitialDelayExtends: members that arrive during the initial delay
// extend it, by at most the rebalance timeout in all.
func TestInitialDelayExtends(t *testing.T) {
	h := newHarness(t)
	a := h.join(consumer("g", "t"))
	h.advance(2 * time.Second)
	b := h.join(consumer("g", "t"))
	h.advance(time.Second) // the first delay ends; b arrived during it
	if a.done() || b.done() {
		t.Fatal("join completed although a member arrived during the delay")
	}
	h.advance(3 * time.Second)
	if ra, rb := h.joined(a), h.joined(b); ra.Err != nil || rb.Err != nil || ra.Generation != 1 || ra.Leader != ra.MemberID || len(ra.Members) != 2 || len(rb.Members) != 0 {
		t.Fatalf("joins = %+v / %+v", ra, rb)
	}

	// Members that keep arriving cannot delay the group past the
	// rebalance timeout (20 s).
	h = newHarness(t)
	var joins []*pendingJoin
	for range 12 {
		joins = append(joins, h.join(consumer("g", "t")))
		h.advance(2 * time.Second)
	}
	if !joins[0].done() || h.joined(joins[0]).Generation != 1 {
		t.Fatalf("group still waiting after %v", 24*time.Second)
	}
}

// TestNoInitialDelay: with no initial delay the first rebalance completes
// as soon as the timer fires.
func TestNoInitialDelay(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.InitialRebalanceDelay = 0 })
	p := h.join(consumer("g", "t"))
	h.advance(0)
	if r := h.joined(p); r.Err != nil || r.Generation != 1 {
		t.Fatalf("join = %+v", r)
	}
}

// TestRebalanceOnJoin: a new member makes the Stable group rebalance; the
// others learn it from their heartbeats, rejoin, and the rebalance
// completes as soon as all have, without waiting for the timeout.
func TestRebalanceOnJoin(t *testing.T) {
	h := newHarness(t)
	ids, gen := h.stableGroup("g", 2)
	c := h.join(consumer("g", "t"))
	h.checkState("g", statePreparingRebalance)
	for _, id := range ids {
		checkErr(t, "heartbeat during rebalance", h.heartbeat("g", id, gen), ErrRebalanceInProgress)
	}
	// A commit during PreparingRebalance is still accepted.
	if errs := h.commit(CommitRequest{Group: "g", Generation: gen, MemberID: ids[0], Offsets: offsets(h, "t", 1)}); errs[0] != nil {
		t.Fatalf("commit during rebalance: %v", errs[0])
	}
	a := h.join(withMember(consumer("g", "t"), ids[0]))
	if a.done() {
		t.Fatal("rebalance completed before every member rejoined")
	}
	b := h.join(withMember(consumer("g", "t"), ids[1]))
	ra, rb, rc := h.joined(a), h.joined(b), h.joined(c)
	if ra.Generation != gen+1 || rb.Generation != gen+1 || rc.Generation != gen+1 || ra.Leader != ids[0] || len(ra.Members) != 3 {
		t.Fatalf("joins = %+v %+v %+v", ra, rb, rc)
	}
	h.syncAll("g", ra, []string{ids[0], ids[1], rc.MemberID})
}

// TestRebalanceTimeout: dynamic members that do not rejoin within the
// rebalance timeout are removed; static ones stay and must sync in time.
func TestRebalanceTimeout(t *testing.T) {
	h := newHarness(t)
	ids, gen := h.stableGroup("g", 2)
	a := h.join(withMember(consumer("g", "t"), ids[0])) // the leader forces a rebalance
	// ids[1] keeps heartbeating but never rejoins.
	for range 6 {
		h.advance(3 * time.Second)
		_ = h.heartbeat("g", ids[1], gen)
	}
	h.advance(2 * time.Second) // 20 s: the rebalance timeout
	r := h.joined(a)
	if r.Err != nil || r.Generation != gen+1 || len(r.Members) != 1 {
		t.Fatalf("join = %+v", r)
	}
	checkErr(t, "heartbeat of the removed member", h.heartbeat("g", ids[1], gen), ErrUnknownMemberID)
}

// TestLeaderElection: when the leader does not rejoin, a member that did
// leads the next generation.
func TestLeaderElection(t *testing.T) {
	h := newHarness(t)
	ids, _ := h.stableGroup("g", 3)
	// A follower's changed subscription starts the rebalance.
	b := h.join(withMember(consumer("g", "t", "u"), ids[1]))
	c := h.join(withMember(consumer("g", "t"), ids[2]))
	h.advance(20 * time.Second)
	rb, rc := h.joined(b), h.joined(c)
	if rb.Leader != ids[1] || rc.Leader != ids[1] || len(rb.Members) != 2 {
		t.Fatalf("joins = %+v / %+v", rb, rc)
	}
}

// TestJoinWhileCompleting: a member that lost its JoinGroup answer and
// joins again with the same protocols gets the same answer; with other
// protocols it starts a new rebalance, failing the waiting syncs.
func TestJoinWhileCompleting(t *testing.T) {
	h := newHarness(t)
	a := h.join(consumer("g", "t"))
	b := h.join(consumer("g", "t"))
	h.advanceUntil(a, time.Second, time.Minute)
	ra, rb := h.joined(a), h.joined(b)
	again := h.joined(h.join(withMember(consumer("g", "t"), rb.MemberID)))
	if again.Err != nil || again.Generation != rb.Generation || again.Leader != ra.MemberID {
		t.Fatalf("repeated join = %+v", again)
	}
	sb := h.sync(SyncRequest{Group: "g", Generation: rb.Generation, MemberID: rb.MemberID})
	h.join(withMember(consumer("g", "t", "u"), rb.MemberID))
	h.checkState("g", statePreparingRebalance)
	checkErr(t, "waiting sync", h.synced(sb).Err, ErrRebalanceInProgress)
	checkErr(t, "sync during rebalance", h.synced(h.sync(SyncRequest{Group: "g", Generation: ra.Generation, MemberID: ra.MemberID})).Err, ErrRebalanceInProgress)
}

// TestStableFollowerRejoin: a follower rejoining a Stable group with
// unchanged metadata gets the current generation without a rebalance; a
// leader's rejoin rebalances (cooperative assignors rely on both).
func TestStableFollowerRejoin(t *testing.T) {
	h := newHarness(t)
	ids, gen := h.stableGroup("g", 2)
	r := h.joined(h.join(withMember(consumer("g", "t"), ids[1])))
	if r.Err != nil || r.Generation != gen || r.Leader != ids[0] || len(r.Members) != 0 {
		t.Fatalf("follower rejoin = %+v", r)
	}
	h.checkState("g", stateStable)
	if s := h.synced(h.sync(SyncRequest{Group: "g", Generation: gen, MemberID: ids[1]})); s.Err != nil || !bytes.Equal(s.Assignment, []byte{1}) {
		t.Fatalf("sync in Stable = %+v", s)
	}
	p := h.join(withMember(consumer("g", "t"), ids[0]))
	if p.done() {
		t.Fatal("leader's rejoin answered without a rebalance")
	}
	h.checkState("g", statePreparingRebalance)
}

// TestCooperativeTwoRebalances walks the incremental protocol: the first
// rebalance revokes a partition from one member (withheld from the new
// one), which rejoins at once with fewer owned partitions; the second
// rebalance hands the partition over.
func TestCooperativeTwoRebalances(t *testing.T) {
	h := newHarness(t)
	coop := func(owned string) JoinRequest {
		r := consumer("g", "t")
		r.Protocols = []Protocol{{Name: "cooperative-sticky", Metadata: append(subscription("t"), owned...)}}
		return r
	}
	a := h.join(coop(""))
	h.advance(3 * time.Second)
	ra := h.joined(a)
	h.syncAll("g", ra, []string{ra.MemberID})
	// b arrives: a rejoins owning everything.
	b := h.join(coop(""))
	a = h.join(withMember(coop("p0p1"), ra.MemberID))
	ra, rb := h.joined(a), h.joined(b)
	if ra.Generation != 2 || rb.Generation != 2 {
		t.Fatalf("first rebalance: %+v %+v", ra, rb)
	}
	h.syncAll("g", ra, []string{ra.MemberID, rb.MemberID})
	// a revoked p1 and rejoins with its new metadata: a second rebalance.
	a = h.join(withMember(coop("p0"), ra.MemberID))
	h.checkState("g", statePreparingRebalance)
	checkErr(t, "b's heartbeat", h.heartbeat("g", rb.MemberID, 2), ErrRebalanceInProgress)
	b = h.join(withMember(coop(""), rb.MemberID))
	ra, rb = h.joined(a), h.joined(b)
	if ra.Generation != 3 || rb.Generation != 3 {
		t.Fatalf("second rebalance: %+v %+v", ra, rb)
	}
	h.syncAll("g", ra, []string{ra.MemberID, rb.MemberID})
}

// TestProtocolSelection: the protocol every member supports that most
// members prefer is selected.
func TestProtocolSelection(t *testing.T) {
	h := newHarness(t)
	proto := func(names ...string) JoinRequest {
		r := consumer("g", "t")
		r.Protocols = nil
		for _, n := range names {
			r.Protocols = append(r.Protocols, Protocol{Name: n, Metadata: subscription("t")})
		}
		return r
	}
	a := h.join(proto("roundrobin", "range", "sticky"))
	h.join(proto("range", "roundrobin"))
	h.join(proto("range", "roundrobin"))
	h.advanceUntil(a, time.Second, time.Minute)
	if r := h.joined(a); r.Protocol != "range" {
		t.Errorf("selected %q, want range", r.Protocol)
	}
}

// TestJoinErrors: bad joins get Kafka's errors and leave the group as it
// was.
func TestJoinErrors(t *testing.T) {
	h := newHarness(t)
	ids, gen := h.stableGroup("g", 2)
	bad := func(mod func(*JoinRequest)) JoinRequest {
		r := consumer("g", "t")
		mod(&r)
		return r
	}
	for _, tc := range []struct {
		name string
		req  JoinRequest
		want error
	}{
		{"unknown protocol type", bad(func(r *JoinRequest) { r.ProtocolType = "connect" }), ErrInconsistentGroupProtocol},
		{"no common protocol", bad(func(r *JoinRequest) { r.Protocols[0].Name = "roundrobin" }), ErrInconsistentGroupProtocol},
		{"no protocols", bad(func(r *JoinRequest) { r.Protocols = nil; r.MemberID = ids[0] }), ErrInconsistentGroupProtocol},
		{"session timeout too short", bad(func(r *JoinRequest) { r.SessionTimeout = time.Second }), ErrInvalidSessionTimeout},
		{"session timeout too long", bad(func(r *JoinRequest) { r.SessionTimeout = time.Hour }), ErrInvalidSessionTimeout},
		{"unknown member", bad(func(r *JoinRequest) { r.MemberID = "nobody" }), ErrUnknownMemberID},
		{"empty instance id", static(consumer("g", "t"), ""), ErrInvalidRequest},
		{"fenced instance", bad(func(r *JoinRequest) { i := "x"; r.InstanceID = &i; r.MemberID = ids[0] }), ErrUnknownMemberID},
		{"member of a group that does not exist", bad(func(r *JoinRequest) { r.Group = "other"; r.MemberID = "m" }), ErrUnknownMemberID},
	} {
		r := h.joined(h.join(tc.req))
		checkErr(t, tc.name, r.Err, tc.want)
		h.checkState("g", stateStable)
		for _, id := range ids {
			if err := h.heartbeat("g", id, gen); err != nil {
				t.Fatalf("%s: heartbeat of %s afterwards: %v", tc.name, id, err)
			}
		}
	}
	// group.max.size: a fourth member is refused.
	full := newHarness(t, func(c *Config) { c.MaxSize = 3 })
	full.stableGroup("g", 3)
	checkErr(t, "fourth member", full.joined(full.join(consumer("g", "t"))).Err, ErrGroupMaxSizeReached)
	full.checkState("g", stateStable)
	// A new group needs a protocol type.
	checkErr(t, "new group without protocol type", h.joined(h.join(bad(func(r *JoinRequest) { r.Group = "n"; r.ProtocolType = "" }))).Err, ErrInconsistentGroupProtocol)
}
