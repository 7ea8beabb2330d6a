package group

import (
	"bytes"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

func offsets(h *harness, topic string, n int) []metadata.CommittedOffset {
	t, ok := h.topics[topic]
	if !ok {
		t = h.topics.add(topic, 8)
	}
	out := make([]metadata.CommittedOffset, n)
	for i := range out {
		out[i] = metadata.CommittedOffset{Topic: topic, TopicID: t.ID, Partition: int32(i), Offset: int64(10 * (i + 1)), LeaderEpoch: 0, Metadata: "m"}
	}
	return out
}

// TestSessionExpiry: a member that stops heartbeating is removed after its
// session timeout and the others rebalance; heartbeats keep members alive.
func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	ids, gen := h.stableGroup("g", 2)
	for range 2 {
		h.advance(4 * time.Second)
		if err := h.heartbeat("g", ids[0], gen); err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
	}
	h.advance(2 * time.Second) // 10 s: ids[1]'s session ends
	checkErr(t, "expired member's heartbeat", h.heartbeat("g", ids[1], gen), ErrUnknownMemberID)
	checkErr(t, "survivor's heartbeat", h.heartbeat("g", ids[0], gen), ErrRebalanceInProgress)
	r := h.joined(h.join(withMember(consumer("g", "t"), ids[0])))
	if r.Err != nil || r.Generation != gen+1 || len(r.Members) != 1 {
		t.Fatalf("rejoin = %+v", r)
	}
}

// TestWaitingMembersDoNotExpire: a member waiting in JoinGroup needs no
// heartbeats; its session restarts when the rebalance answers it.
func TestWaitingMembersDoNotExpire(t *testing.T) {
	h := newHarness(t)
	ids, gen := h.stableGroup("g", 2)
	long := withMember(consumer("g", "t"), ids[0])
	long.RebalanceTimeout = time.Minute
	a := h.join(long) // waits; its session is 10 s
	for range 21 {
		h.advance(3 * time.Second)
		_ = h.heartbeat("g", ids[1], gen) // alive, but never rejoins
		if _, ok := h.s.group("g").members[ids[0]]; !ok && !a.done() {
			t.Fatal("member waiting in JoinGroup expired")
		}
	}
	r := h.joined(a) // the rebalance timeout (60 s) removed ids[1]
	if r.Err != nil || r.Generation != gen+1 || len(r.Members) != 1 {
		t.Fatalf("join = %+v", r)
	}
	if err := h.heartbeat("g", ids[0], gen+1); err != nil {
		t.Fatalf("heartbeat after the rebalance: %v", err)
	}
}

// TestSyncTimeout: a member that joins but never syncs is removed after the
// rebalance timeout, and the group rebalances.
func TestSyncTimeout(t *testing.T) {
	h := newHarness(t)
	a := h.join(consumer("g", "t"))
	b := h.join(consumer("g", "t"))
	h.advanceUntil(a, time.Second, time.Minute)
	ra, rb := h.joined(a), h.joined(b)
	s := h.sync(SyncRequest{Group: "g", Generation: ra.Generation, MemberID: ra.MemberID, Assignments: map[string][]byte{ra.MemberID: {1}, rb.MemberID: {2}}})
	h.flush()
	if r := h.synced(s); r.Err != nil {
		t.Fatal(r.Err)
	}
	for range 7 {
		h.advance(3 * time.Second)
		_ = h.heartbeat("g", ra.MemberID, ra.Generation)
		_ = h.heartbeat("g", rb.MemberID, rb.Generation)
	}
	checkErr(t, "heartbeat of the member that never synced", h.heartbeat("g", rb.MemberID, rb.Generation), ErrUnknownMemberID)
	h.checkState("g", statePreparingRebalance)
}

// TestLeave: leaving members make the group rebalance; the last one
// leaves it Empty, which is stored.
func TestLeave(t *testing.T) {
	h := newHarness(t)
	ids, gen := h.stableGroup("g", 2)
	errs, err := h.s.leave(h.now, "g", []LeaveMember{{MemberID: ids[1]}, {MemberID: "nobody"}})
	if err != nil || errs[0] != nil {
		t.Fatalf("leave = %v, %v", errs, err)
	}
	checkErr(t, "leave of a non-member", errs[1], ErrUnknownMemberID)
	h.checkState("g", statePreparingRebalance)
	r := h.joined(h.join(withMember(consumer("g", "t"), ids[0])))
	if r.Generation != gen+1 || len(r.Members) != 1 {
		t.Fatalf("rejoin = %+v", r)
	}
	h.syncAll("g", r, ids[:1])
	if errs, err := h.s.leave(h.now, "g", []LeaveMember{{MemberID: ids[0]}}); err != nil || errs[0] != nil {
		t.Fatalf("leave = %v, %v", errs, err)
	}
	h.checkState("g", stateEmpty) // the join phase ended at once: nobody is left
	h.flush()
	snap, ok := h.lastPut("g")
	if !ok || len(snap.Members) != 0 || snap.Generation != gen+2 {
		t.Fatalf("stored empty group %+v", snap)
	}
	errs, err = h.s.leave(h.now, "nope", []LeaveMember{{MemberID: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, "leave of an unknown group", errs[0], ErrUnknownMemberID)
}

// TestPendingMemberExpires: a member id handed out with MEMBER_ID_REQUIRED
// holds a rebalance up only until its session timeout.
func TestPendingMemberExpires(t *testing.T) {
	h := newHarness(t)
	ids, _ := h.stableGroup("g", 1)
	req := consumer("g", "t")
	req.RequireKnownMemberID = true
	checkErr(t, "first join", h.joined(h.join(req)).Err, ErrMemberIDRequired)
	a := h.join(withMember(consumer("g", "t"), ids[0])) // leader rejoins: rebalance
	if a.done() {
		t.Fatal("rebalance completed with a pending member outstanding")
	}
	h.advance(10 * time.Second)
	if r := h.joined(a); r.Err != nil || len(r.Members) != 1 {
		t.Fatalf("join = %+v", r)
	}
}

// TestStaticRestart: a static member that restarts (joins with its
// instance id and no member id) takes its place back in a Stable group:
// same generation, same assignment, no rebalance; its old member id is
// fenced.
func TestStaticRestart(t *testing.T) {
	for _, skip := range []bool{false, true} {
		h := newHarness(t)
		a := h.join(static(consumer("g", "t"), "a"))
		b := h.join(static(consumer("g", "t"), "b"))
		h.advanceUntil(a, time.Second, time.Minute)
		ra, rb := h.joined(a), h.joined(b)
		gen := h.syncAll("g", ra, []string{ra.MemberID, rb.MemberID})

		// The leader restarts.
		req := static(consumer("g", "t"), "a")
		req.SupportsSkipAssignment = skip
		p := h.join(req)
		if p.done() {
			t.Fatal("answered before the new member id was stored")
		}
		h.flush()
		r := h.joined(p)
		if r.Err != nil || r.Generation != gen || r.MemberID == ra.MemberID {
			t.Fatalf("restart join = %+v", r)
		}
		if skip && (r.Leader != r.MemberID || !r.SkipAssignment || len(r.Members) != 2) {
			t.Errorf("v9 restart join = %+v, want leader with skip assignment", r)
		}
		if !skip && (r.Leader != ra.MemberID || r.SkipAssignment) {
			t.Errorf("v8 restart join = %+v, want the old leader id", r)
		}
		h.checkState("g", stateStable)
		s := h.synced(h.sync(SyncRequest{Group: "g", Generation: gen, MemberID: r.MemberID, InstanceID: req.InstanceID}))
		if s.Err != nil || !bytes.Equal(s.Assignment, []byte{0}) {
			t.Fatalf("restart sync = %+v", s)
		}
		old := ra.MemberID
		inst := "a"
		checkErr(t, "old member id", h.s.heartbeat(h.now, HeartbeatRequest{Group: "g", MemberID: old, InstanceID: &inst, Generation: gen}), ErrFencedInstanceID)
		if err := h.heartbeat("g", rb.MemberID, gen); err != nil {
			t.Fatalf("other member's heartbeat: %v", err)
		}
		snap, _ := h.lastPut("g")
		if snap.Leader != r.MemberID || snap.Generation != gen {
			t.Errorf("stored snapshot %+v", snap)
		}
	}
}

// TestStaticRejoinDuringSync: a static member restarting while the group
// completes a rebalance makes it rebalance again.
func TestStaticRejoinDuringSync(t *testing.T) {
	h := newHarness(t)
	a := h.join(static(consumer("g", "t"), "a"))
	h.join(consumer("g", "t"))
	h.advanceUntil(a, time.Second, time.Minute)
	ra := h.joined(a)
	h.checkState("g", stateCompletingRebalance)
	p := h.join(static(consumer("g", "t"), "a"))
	h.checkState("g", statePreparingRebalance)
	inst := "a"
	checkErr(t, "old id's sync", h.synced(h.sync(SyncRequest{Group: "g", Generation: ra.Generation, MemberID: ra.MemberID, InstanceID: &inst})).Err, ErrFencedInstanceID)
	if p.done() {
		t.Fatal("restarted member answered without a rebalance")
	}
}

// TestStaticMemberStaysThroughRebalance: a static member that misses a
// rebalance stays in the group until its session ends.
func TestStaticMemberStaysThroughRebalance(t *testing.T) {
	h := newHarness(t)
	a := h.join(consumer("g", "t"))
	b := h.join(static(consumer("g", "t"), "b"))
	h.advanceUntil(a, time.Second, time.Minute)
	ra, rb := h.joined(a), h.joined(b)
	gen := h.syncAll("g", ra, []string{ra.MemberID, rb.MemberID})
	p := h.join(withMember(consumer("g", "t"), ra.MemberID))
	for !p.done() { // until the rebalance timeout: b heartbeats but does not rejoin
		h.advance(3 * time.Second)
		_ = h.heartbeat("g", rb.MemberID, gen)
	}
	r := h.joined(p)
	if r.Generation != gen+1 || len(r.Members) != 2 {
		t.Fatalf("join = %+v; the static member must still be listed", r)
	}
}

// TestHeartbeatErrors: heartbeats with a stale generation, from strangers
// or to unknown groups get Kafka's errors and the group stays healthy.
func TestHeartbeatErrors(t *testing.T) {
	h := newHarness(t)
	ids, gen := h.stableGroup("g", 2)
	checkErr(t, "stale generation", h.heartbeat("g", ids[0], gen-1), ErrIllegalGeneration)
	checkErr(t, "future generation", h.heartbeat("g", ids[0], gen+1), ErrIllegalGeneration)
	checkErr(t, "unknown member", h.heartbeat("g", "x", gen), ErrUnknownMemberID)
	checkErr(t, "unknown group", h.heartbeat("nope", ids[0], gen), ErrUnknownMemberID)
	checkErr(t, "sync with a stale generation", h.synced(h.sync(SyncRequest{Group: "g", Generation: gen - 1, MemberID: ids[1]})).Err, ErrIllegalGeneration)
	other := "roundrobin"
	checkErr(t, "sync with another protocol", h.synced(h.sync(SyncRequest{Group: "g", Generation: gen, MemberID: ids[1], Protocol: &other})).Err, ErrInconsistentGroupProtocol)
	h.checkState("g", stateStable)
	for _, id := range ids {
		if err := h.heartbeat("g", id, gen); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStoreFailureOnSync: when the leader's assignment cannot be stored the
// waiting syncs fail and the group rebalances.
func TestStoreFailureOnSync(t *testing.T) {
	h := newHarness(t)
	a := h.join(consumer("g", "t"))
	b := h.join(consumer("g", "t"))
	h.advanceUntil(a, time.Second, time.Minute)
	ra, rb := h.joined(a), h.joined(b)
	sb := h.sync(SyncRequest{Group: "g", Generation: rb.Generation, MemberID: rb.MemberID})
	sa := h.sync(SyncRequest{Group: "g", Generation: ra.Generation, MemberID: ra.MemberID, Assignments: map[string][]byte{}})
	h.store.fail = metadata.ErrFenced
	h.flush()
	checkErr(t, "leader sync", h.synced(sa).Err, ErrNotCoordinator)
	checkErr(t, "follower sync", h.synced(sb).Err, ErrNotCoordinator)
	h.checkState("g", statePreparingRebalance)
}

// TestRestore: a group loaded from the store is Stable with its members,
// who keep heartbeating in their generation; a static member rejoins
// without a rebalance; members that never come back expire.
func TestRestore(t *testing.T) {
	h := newHarness(t)
	tp := h.topics.add("t", 2)
	snap := metadata.Group{
		Name: "g", ProtocolType: "consumer", Generation: 7, Protocol: "range", Leader: "d-1",
		StateTimestamp: h.now.Add(-time.Hour),
		Members: []metadata.GroupMember{
			{MemberID: "d-1", ClientID: "c", SessionTimeout: 10 * time.Second, RebalanceTimeout: 20 * time.Second, Metadata: subscription("t"), Assignment: []byte{1}},
			{MemberID: "s-2", InstanceID: "s", ClientID: "c", SessionTimeout: 10 * time.Second, RebalanceTimeout: 20 * time.Second, Metadata: subscription("t"), Assignment: []byte{2}},
		},
	}
	off := metadata.CommittedOffset{Topic: "t", TopicID: tp.ID, Partition: 1, Offset: 42, LeaderEpoch: 3, Metadata: "x"}
	h.s.restore([]metadata.StoredGroup{{Name: "g", Group: &snap, Offsets: []metadata.CommittedOffset{off}}}, h.now)
	h.checkState("g", stateStable)
	if err := h.heartbeat("g", "d-1", 7); err != nil {
		t.Fatalf("heartbeat of a restored member: %v", err)
	}
	if got := h.s.fetch("g", []metadata.GroupPartition{{Topic: "t", Partition: 1}}); got[0].Offset != 42 || got[0].LeaderEpoch != 3 || got[0].Metadata != "x" {
		t.Errorf("restored offset %+v", got[0])
	}
	p := h.join(static(consumer("g", "t"), "s"))
	h.flush()
	r := h.joined(p)
	if r.Err != nil || r.Generation != 7 {
		t.Fatalf("static rejoin after restore = %+v", r)
	}
	if s := h.synced(h.sync(SyncRequest{Group: "g", Generation: 7, MemberID: r.MemberID})); !bytes.Equal(s.Assignment, []byte{2}) {
		t.Fatalf("static member's assignment after restore = %+v", s)
	}
	h.checkState("g", stateStable)
	h.advance(5 * time.Second)
	if err := h.heartbeat("g", r.MemberID, 7); err != nil {
		t.Fatal(err)
	}
	h.advance(6 * time.Second) // d-1 never heartbeats again
	h.checkState("g", statePreparingRebalance)
}

// TestLeaveByInstanceAndPending: a static member can be removed by its
// instance id alone; a member id handed out with MEMBER_ID_REQUIRED can
// leave before it joined.
func TestLeaveByInstanceAndPending(t *testing.T) {
	h := newHarness(t)
	a := h.join(static(consumer("g", "t"), "a"))
	h.advanceUntil(a, time.Second, time.Minute)
	ra := h.joined(a)
	h.syncAll("g", ra, []string{ra.MemberID})
	req := consumer("g", "t")
	req.RequireKnownMemberID = true
	pending := h.joined(h.join(req)).MemberID
	inst, other := "a", "zz"
	errs, err := h.s.leave(h.now, "g", []LeaveMember{{MemberID: pending}, {InstanceID: &other}, {}, {InstanceID: &inst}})
	if err != nil || errs[0] != nil || errs[3] != nil {
		t.Fatalf("leave = %v, %v", errs, err)
	}
	checkErr(t, "unknown instance id", errs[1], ErrUnknownMemberID)
	checkErr(t, "neither member nor instance id", errs[2], ErrUnknownMemberID)
	h.checkState("g", stateEmpty)
	if g := h.s.group("g"); len(g.pending) != 0 || len(g.static) != 0 {
		t.Errorf("left behind: pending %v, static %v", g.pending, g.static)
	}
}
