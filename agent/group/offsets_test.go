package group

import (
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

// TestCommitValidation walks Kafka's offset-commit rules.
func TestCommitValidation(t *testing.T) {
	h := newHarness(t)
	offs := offsets(h, "t", 2)
	simple := CommitRequest{Group: "s", Generation: -1, Offsets: offs}
	if errs := h.commit(simple); errs[0] != nil || errs[1] != nil {
		t.Fatalf("standalone commit: %v", errs)
	}
	h.checkState("s", stateEmpty)
	ids, gen := h.stableGroup("g", 2)
	for _, tc := range []struct {
		name string
		req  CommitRequest
		want error
	}{
		{"member of the current generation", CommitRequest{Group: "g", Generation: gen, MemberID: ids[1]}, nil},
		{"non-member of a group with members", CommitRequest{Group: "g", Generation: -1}, ErrUnknownMemberID},
		{"unknown member", CommitRequest{Group: "g", Generation: gen, MemberID: "x"}, ErrUnknownMemberID},
		{"stale generation", CommitRequest{Group: "g", Generation: gen - 1, MemberID: ids[0]}, ErrIllegalGeneration},
		{"generation for a group that does not exist", CommitRequest{Group: "n", Generation: 3, MemberID: "x"}, ErrIllegalGeneration},
		{"member id for an empty group", CommitRequest{Group: "s", Generation: -1, MemberID: "x"}, ErrUnknownMemberID},
	} {
		tc.req.Offsets = offs
		for i, err := range h.commit(tc.req) {
			if tc.want == nil && err != nil || tc.want != nil {
				checkErrOrNil(t, tc.name, err, tc.want)
			}
			_ = i
		}
	}
	if got := h.state("n"); got != stateDead {
		t.Errorf("a refused commit created group n (%v)", got)
	}
	long := offsets(h, "t", 1)
	long[0].Metadata = strings.Repeat("x", 4097)
	checkErr(t, "metadata too large", h.commit(CommitRequest{Group: "s", Generation: -1, Offsets: long})[0], ErrOffsetMetadataTooLarge)
	h.checkState("g", stateStable)
	for _, id := range ids {
		if err := h.heartbeat("g", id, gen); err != nil {
			t.Fatal(err)
		}
	}
}

func checkErrOrNil(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		return
	}
	checkErr(t, what, err, want)
}

// TestCommitWhileCompleting: a member that has its new generation but not
// its assignment cannot commit yet.
func TestCommitWhileCompleting(t *testing.T) {
	h := newHarness(t)
	a := h.join(consumer("g", "t"))
	h.advanceUntil(a, time.Second, time.Minute)
	r := h.joined(a)
	checkErr(t, "commit while completing", h.commit(CommitRequest{Group: "g", Generation: r.Generation, MemberID: r.MemberID, Offsets: offsets(h, "t", 1)})[0], ErrRebalanceInProgress)
}

// TestFetch: committed offsets come back with their leader epoch and
// metadata; those of deleted or re-created topics do not.
func TestFetch(t *testing.T) {
	h := newHarness(t)
	offs := offsets(h, "t", 3)
	offs = append(offs, offsets(h, "u", 1)...)
	h.commit(CommitRequest{Group: "g", Generation: -1, Offsets: offs})
	got := h.s.fetch("g", []metadata.GroupPartition{{Topic: "t", Partition: 1}, {Topic: "t", Partition: 7}, {Topic: "x", Partition: 0}})
	want := []FetchedOffset{
		{Topic: "t", Partition: 1, Offset: 20, LeaderEpoch: 0, Metadata: "m"},
		{Topic: "t", Partition: 7, Offset: -1, LeaderEpoch: -1},
		{Topic: "x", Partition: 0, Offset: -1, LeaderEpoch: -1},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fetch[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if all := h.s.fetch("g", nil); len(all) != 4 || all[3].Topic != "u" {
		t.Errorf("fetch all = %+v", all)
	}
	delete(h.topics, "u")
	h.topics.add("t", 8) // re-created: a new id
	if all := h.s.fetch("g", nil); len(all) != 0 {
		t.Errorf("fetch all after the topics went = %+v", all)
	}
	if got := h.s.fetch("nope", []metadata.GroupPartition{{Topic: "t"}}); got[0].Offset != -1 {
		t.Errorf("fetch of an unknown group = %+v", got)
	}
}

// TestSweep: offsets.retention and deleted topics, per KIP-211.
func TestSweep(t *testing.T) {
	const retention = 24 * time.Hour
	h := newHarness(t, func(c *Config) { c.OffsetsRetention = retention })
	h.commit(CommitRequest{Group: "simple", Generation: -1, Offsets: offsets(h, "t", 2)})
	h.advance(retention / 2)
	h.commit(CommitRequest{Group: "simple", Generation: -1, Offsets: offsets(h, "t", 1)}) // refreshes partition 0
	ids, gen := h.stableGroup("g", 1)
	h.commit(CommitRequest{Group: "g", Generation: gen, MemberID: ids[0], Offsets: append(offsets(h, "t", 1), offsets(h, "old", 1)...)})
	if errs, err := h.s.leave(h.now, "g", []LeaveMember{{MemberID: ids[0]}}); err != nil || errs[0] != nil {
		t.Fatal(errs, err)
	}
	h.checkState("g", stateEmpty)
	h.flush()

	h.advance(retention/2 + time.Minute)
	h.s.sweep(h.now)
	h.flush()
	// simple: partition 1 was committed a retention ago, partition 0 not.
	if got := h.s.fetch("simple", nil); len(got) != 1 || got[0].Partition != 0 {
		t.Errorf("simple group's offsets after the sweep: %+v", got)
	}
	// g became empty half a retention ago: it keeps its offsets.
	if got := h.s.fetch("g", nil); len(got) != 2 {
		t.Errorf("g's offsets after the sweep: %+v", got)
	}
	// A deleted topic's offsets go at the next sweep.
	delete(h.topics, "old")
	h.s.sweep(h.now)
	h.flush()
	if g := h.s.group("g"); len(g.offsets) != 1 {
		t.Errorf("g's offsets after its topic was deleted: %v", g.offsets)
	}
	// A retention after g became empty its offsets expire and the group
	// goes, from memory and from the store.
	h.advance(retention / 2)
	h.s.sweep(h.now)
	h.flush()
	if g := h.s.group("g"); g != nil {
		t.Errorf("group g still there: %v with %d offsets", g.state, len(g.offsets))
	}
	if w := h.store.written[len(h.store.written)-1]; w.kind != "deleteGroup" || w.group != "g" {
		t.Errorf("last write %s of %q, want the deletion of g", w.kind, w.group)
	}
}

// TestSweepStableConsumerGroup: a Stable consumer group's offsets expire
// only for topics it does not subscribe to.
func TestSweepStableConsumerGroup(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.OffsetsRetention = time.Hour })
	ids, gen := h.stableGroup("g", 1)
	h.commit(CommitRequest{Group: "g", Generation: gen, MemberID: ids[0], Offsets: append(offsets(h, "t", 1), offsets(h, "u", 1)...)})
	for range 13 * 60 {
		h.advance(5 * time.Second)
		_ = h.heartbeat("g", ids[0], gen)
	}
	h.s.sweep(h.now)
	h.flush()
	if got := h.s.fetch("g", nil); len(got) != 1 || got[0].Topic != "t" {
		t.Errorf("offsets after the sweep: %+v (the group subscribes to t only)", got)
	}
	h.checkState("g", stateStable)
}

// TestDeleteGroupAndOffsets: DeleteGroups only for empty groups;
// OffsetDelete refuses topics a consumer group subscribes to.
func TestDeleteGroupAndOffsets(t *testing.T) {
	h := newHarness(t)
	ids, gen := h.stableGroup("g", 1)
	h.commit(CommitRequest{Group: "g", Generation: gen, MemberID: ids[0], Offsets: append(offsets(h, "t", 1), offsets(h, "u", 1)...)})
	var delErr error
	h.s.deleteGroup(h.now, "g", func(err error) { delErr = err })
	checkErr(t, "delete a group with members", delErr, ErrNonEmptyGroup)
	h.s.deleteGroup(h.now, "nope", func(err error) { delErr = err })
	checkErr(t, "delete an unknown group", delErr, ErrGroupIDNotFound)

	var gerr error
	var perrs []error
	h.s.deleteOffsets("g", []metadata.GroupPartition{{Topic: "t", Partition: 0}, {Topic: "u", Partition: 0}}, func(e error, es []error) { gerr, perrs = e, es })
	h.flush()
	if gerr != nil || perrs[1] != nil {
		t.Fatalf("offset delete = %v %v", gerr, perrs)
	}
	checkErr(t, "delete offsets of a subscribed topic", perrs[0], ErrGroupSubscribedToTopic)
	if got := h.s.fetch("g", nil); len(got) != 1 || got[0].Topic != "t" {
		t.Errorf("offsets after OffsetDelete: %+v", got)
	}

	if errs, _ := h.s.leave(h.now, "g", []LeaveMember{{MemberID: ids[0]}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	h.flush()
	delErr = errTest
	h.s.deleteGroup(h.now, "g", func(err error) { delErr = err })
	h.checkState("g", stateDead)
	checkErr(t, "join while deleting", h.joined(h.join(consumer("g", "t"))).Err, ErrCoordinatorNotAvailable)
	h.flush()
	if delErr != nil {
		t.Fatalf("delete an empty group: %v", delErr)
	}
	if h.s.group("g") != nil {
		t.Error("deleted group still in memory")
	}
	if got := h.s.fetch("g", []metadata.GroupPartition{{Topic: "t"}}); got[0].Offset != -1 {
		t.Errorf("offsets of a deleted group: %+v", got)
	}
	h.s.deleteOffsets("g", nil, func(e error, _ []error) { gerr = e })
	checkErr(t, "OffsetDelete of a deleted group", gerr, ErrGroupIDNotFound)
}

var errTest = errTestT{}

type errTestT struct{}

func (errTestT) Error() string { return "not answered" }

// TestDescribeAndList: DescribeGroups shows members with metadata and
// assignments only when Stable; unknown groups are Dead.
func TestDescribeAndList(t *testing.T) {
	h := newHarness(t)
	ids, _ := h.stableGroup("g", 2)
	h.commit(CommitRequest{Group: "s", Generation: -1, Offsets: offsets(h, "t", 1)})
	d := h.s.describe("g")
	if d.State != "Stable" || d.Protocol != "range" || d.ProtocolType != "consumer" || len(d.Members) != 2 ||
		d.Members[0].MemberID != ids[0] || len(d.Members[1].Assignment) != 1 || len(d.Members[0].Metadata) == 0 || d.Members[0].ClientHost != "/127.0.0.1" {
		t.Errorf("describe = %+v", d)
	}
	h.join(withMember(consumer("g", "t"), ids[0]))
	if d := h.s.describe("g"); d.State != "PreparingRebalance" || d.Protocol != "" || d.Members[0].Metadata != nil {
		t.Errorf("describe while rebalancing = %+v", d)
	}
	if d := h.s.describe("nope"); d.State != "Dead" || len(d.Members) != 0 {
		t.Errorf("describe of an unknown group = %+v", d)
	}
	l := h.s.list()
	if len(l) != 2 || l[0] != (Listing{Group: "g", ProtocolType: "consumer", State: "PreparingRebalance"}) || l[1] != (Listing{Group: "s", State: "Empty"}) {
		t.Errorf("list = %+v", l)
	}
}
