package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

func groupShard(i int32) metadata.CoordinatorShard {
	return metadata.CoordinatorShard{Kind: metadata.CoordinatorGroup, Index: i}
}

func register(t *testing.T, ctx context.Context, s metadata.Store, id int32) metadata.Registration {
	t.Helper()
	r, err := s.RegisterAgent(ctx, metadata.Agent{ID: id, Host: "h", Port: 9092})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func mustClaim(t *testing.T, ctx context.Context, s metadata.Store, r metadata.Registration, sh metadata.CoordinatorShard) metadata.CoordinatorClaim {
	t.Helper()
	c, ours, err := s.ClaimCoordinator(ctx, r, sh)
	if err != nil || !ours {
		t.Fatalf("ClaimCoordinator(%v) = %+v, %v, %v; want ours", sh, c, ours, err)
	}
	return c
}

// fakeRegistration is a registration no store made.
type fakeRegistration struct{}

func (fakeRegistration) Done() <-chan struct{} { return nil }
func (fakeRegistration) ValidUntil() time.Time { return time.Time{} }
func (fakeRegistration) Close() error          { return nil }

func testCoordinatorClaims(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r1, r2 := register(t, ctx, s, 1), register(t, ctx, s, 2)
	sh := groupShard(7)
	c1 := mustClaim(t, ctx, s, r1, sh)
	if c1.Agent != 1 || c1.Shard != sh || c1.Revision <= 0 {
		t.Errorf("claim = %+v", c1)
	}
	// Claiming again returns the same claim.
	if again := mustClaim(t, ctx, s, r1, sh); again != c1 {
		t.Errorf("second claim = %+v, want %+v", again, c1)
	}
	// Another registration sees the owner.
	got, ours, err := s.ClaimCoordinator(ctx, r2, sh)
	if err != nil || ours || got != c1 {
		t.Errorf("claim by another agent = %+v, %v, %v; want %+v, not ours", got, ours, err, c1)
	}
	// Kinds and shards are separate.
	txn := mustClaim(t, ctx, s, r2, metadata.CoordinatorShard{Kind: metadata.CoordinatorTransaction, Index: 7})
	c2 := mustClaim(t, ctx, s, r2, groupShard(3))
	list, err := s.ListCoordinators(ctx, metadata.CoordinatorGroup)
	if err != nil || !reflect.DeepEqual(list, []metadata.CoordinatorClaim{c2, c1}) {
		t.Errorf("ListCoordinators(group) = %+v, %v; want [%+v %+v]", list, err, c2, c1)
	}
	if list, err := s.ListCoordinators(ctx, metadata.CoordinatorTransaction); err != nil || !reflect.DeepEqual(list, []metadata.CoordinatorClaim{txn}) {
		t.Errorf("ListCoordinators(transaction) = %+v, %v", list, err)
	}
	// Releasing a stale claim does nothing; releasing the current one frees
	// the shard.
	if err := s.ReleaseCoordinator(ctx, metadata.CoordinatorClaim{Shard: sh, Agent: 1, Revision: c1.Revision - 1}); err != nil {
		t.Fatal(err)
	}
	if got, ours, _ := s.ClaimCoordinator(ctx, r2, sh); ours || got != c1 {
		t.Errorf("shard changed hands after releasing a stale claim: %+v", got)
	}
	if err := s.ReleaseCoordinator(ctx, c1); err != nil {
		t.Fatal(err)
	}
	c1b := mustClaim(t, ctx, s, r2, sh)
	if c1b.Agent != 2 || c1b.Revision <= c1.Revision {
		t.Errorf("claim after release = %+v, want agent 2 after revision %d", c1b, c1.Revision)
	}
	// A registration's claims end with it.
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "claims gone with their registration", func() bool {
		l, err := s.ListCoordinators(ctx, metadata.CoordinatorGroup)
		return err == nil && len(l) == 0
	})
	if c := mustClaim(t, ctx, s, r1, sh); c.Agent != 1 || c.Revision <= c1b.Revision {
		t.Errorf("claim after the owner left = %+v", c)
	}
	_, _, err = s.ClaimCoordinator(ctx, r2, groupShard(1))
	checkErr(t, "claim by an ended registration", err, metadata.ErrInvalid)
	_, _, err = s.ClaimCoordinator(ctx, fakeRegistration{}, groupShard(1))
	checkErr(t, "claim by a foreign registration", err, metadata.ErrInvalid)
	_, _, err = s.ClaimCoordinator(ctx, r1, metadata.CoordinatorShard{Kind: "bogus"})
	checkErr(t, "claim of an unknown kind", err, metadata.ErrInvalid)
	_, _, err = s.ClaimCoordinator(ctx, r1, groupShard(metadata.MaxCoordinatorShards))
	checkErr(t, "claim of a shard out of range", err, metadata.ErrInvalid)
}

// sampleGroup returns a group snapshot with two members, one static.
func sampleGroup(name string) metadata.Group {
	return metadata.Group{
		Name:           name,
		ProtocolType:   "consumer",
		Generation:     4,
		Protocol:       "range",
		Leader:         "c-1",
		StateTimestamp: time.Date(2025, 3, 4, 5, 6, 7, 8000000, time.UTC),
		Members: []metadata.GroupMember{
			{MemberID: "c-1", ClientID: "c", ClientHost: "/10.0.0.1", SessionTimeout: 45 * time.Second,
				RebalanceTimeout: time.Minute, Metadata: []byte{0, 1, 2}, Assignment: []byte{3, 4}},
			{MemberID: "i-2", InstanceID: "i", ClientID: "c", ClientHost: "/10.0.0.2", SessionTimeout: 6 * time.Second,
				RebalanceTimeout: 6 * time.Second, Metadata: []byte{}, Assignment: nil},
		},
	}
}

func sampleOffsets(topic string, id metadata.TopicID, n int) []metadata.CommittedOffset {
	out := make([]metadata.CommittedOffset, n)
	for p := range out {
		out[p] = metadata.CommittedOffset{
			Topic: topic, TopicID: id, Partition: int32(p), Offset: int64(100 + p), LeaderEpoch: int32(p%3) - 1,
			Metadata: fmt.Sprintf("m%d", p), CommitTime: time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC).Add(time.Duration(p) * time.Millisecond),
		}
	}
	return out
}

// checkGroups fails unless got equals want, comparing times as instants and
// nil and empty byte slices alike.
func checkGroups(t *testing.T, what string, got, want []metadata.StoredGroup) {
	t.Helper()
	norm := func(gs []metadata.StoredGroup) string {
		var b []byte
		for _, g := range gs {
			b = fmt.Appendf(b, "group %q\n", g.Name)
			if g.Group != nil {
				gg := g.Group
				b = fmt.Appendf(b, "  %q gen %d %q leader %q at %d\n", gg.ProtocolType, gg.Generation, gg.Protocol, gg.Leader, gg.StateTimestamp.UnixNano())
				for _, m := range gg.Members {
					b = fmt.Appendf(b, "  member %q %q %q %q %v %v %x %x\n", m.MemberID, m.InstanceID, m.ClientID, m.ClientHost, m.SessionTimeout, m.RebalanceTimeout, m.Metadata, m.Assignment)
				}
			}
			for _, o := range g.Offsets {
				b = fmt.Appendf(b, "  offset %s-%d %s %d %d %q %d\n", o.Topic, o.Partition, o.TopicID, o.Offset, o.LeaderEpoch, o.Metadata, o.CommitTime.UnixNano())
			}
			for _, t := range g.TxnOffsets {
				b = fmt.Appendf(b, "  producer %d epoch %d\n", t.ProducerID, t.ProducerEpoch)
				for _, o := range t.Offsets {
					b = fmt.Appendf(b, "    pending %s-%d %s %d %d %q %d\n", o.Topic, o.Partition, o.TopicID, o.Offset, o.LeaderEpoch, o.Metadata, o.CommitTime.UnixNano())
				}
			}
		}
		return string(b)
	}
	if g, w := norm(got), norm(want); g != w {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", what, g, w)
	}
}

// seedGroups stores groups with names that need escaping in keys (and
// one that prefixes another) in shard 5, an offsets-only group, and a
// group in shard 6; it returns what shard 5 must hold.
func seedGroups(t *testing.T, ctx context.Context, s metadata.Store, c, other metadata.CoordinatorClaim) []metadata.StoredGroup {
	t.Helper()
	id := metadata.NewTopicID()
	var want []metadata.StoredGroup
	for _, name := range []string{"a/b", "a", "a b%2F", "grüße ☃", "a-"} {
		g := sampleGroup(name)
		offs := sampleOffsets("t", id, 3)
		if err := s.PutGroup(ctx, c, g); err != nil {
			t.Fatalf("PutGroup(%q): %v", name, err)
		}
		if err := s.CommitOffsets(ctx, c, name, offs); err != nil {
			t.Fatalf("CommitOffsets(%q): %v", name, err)
		}
		want = append(want, metadata.StoredGroup{Name: name, Group: &g, Offsets: offs})
	}
	simple := sampleOffsets("u", id, 2)
	if err := s.CommitOffsets(ctx, c, "simple", simple); err != nil {
		t.Fatal(err)
	}
	want = append(want, metadata.StoredGroup{Name: "simple", Offsets: simple})
	if err := s.CommitOffsets(ctx, other, "elsewhere", simple); err != nil {
		t.Fatal(err)
	}
	sortStored(want)
	return want
}

func testGroups(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r := register(t, ctx, s, 1)
	c := mustClaim(t, ctx, s, r, groupShard(5))
	want := seedGroups(t, ctx, s, c, mustClaim(t, ctx, s, r, groupShard(6)))
	got, err := s.LoadGroups(ctx, groupShard(5))
	if err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "LoadGroups", got, want)
	if names, err := s.ListGroups(ctx); err != nil || !reflect.DeepEqual(names, []string{"a", "a b%2F", "a-", "a/b", "elsewhere", "grüße ☃", "simple"}) {
		t.Errorf("ListGroups = %q, %v", names, err)
	}
	_, err = s.LoadGroups(ctx, metadata.CoordinatorShard{Kind: metadata.CoordinatorTransaction, Index: 5})
	checkErr(t, "LoadGroups of a transaction shard", err, metadata.ErrInvalid)
}

// testGroupsChange: later commits and snapshots replace earlier ones,
// deletes remove what they name, and everything survives a restart (the
// claims do not).
func testGroupsChange(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r := register(t, ctx, s, 1)
	c := mustClaim(t, ctx, s, r, groupShard(5))
	want := seedGroups(t, ctx, s, c, mustClaim(t, ctx, s, r, groupShard(6)))
	newer := []metadata.CommittedOffset{want[0].Offsets[0]} // group "a"
	newer[0].Offset, newer[0].Metadata = 7, ""
	if err := s.CommitOffsets(ctx, c, "a", newer); err != nil {
		t.Fatal(err)
	}
	empty := metadata.Group{Name: "a", ProtocolType: "consumer", Generation: 5, StateTimestamp: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.PutGroup(ctx, c, empty); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOffsets(ctx, c, "a/b", []metadata.GroupPartition{{Topic: "t", Partition: 1}, {Topic: "nope", Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, c, "a-"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOffsets(ctx, c, "simple", []metadata.GroupPartition{{Topic: "u", Partition: 0}, {Topic: "u", Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	var kept []metadata.StoredGroup
	for _, g := range want {
		switch g.Name {
		case "a":
			g.Group, g.Offsets = &empty, append(newer, g.Offsets[1:]...)
		case "a/b":
			g.Offsets = []metadata.CommittedOffset{g.Offsets[0], g.Offsets[2]}
		case "a-", "simple":
			continue
		}
		kept = append(kept, g)
	}
	got, err := s.LoadGroups(ctx, groupShard(5))
	if err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "LoadGroups after changes", got, kept)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = newStore(t)
	if got, err = s.LoadGroups(ctx, groupShard(5)); err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "LoadGroups after reopening", got, kept)
	if l, err := s.ListCoordinators(ctx, metadata.CoordinatorGroup); err != nil || len(l) != 0 {
		t.Errorf("claims after reopening: %+v, %v", l, err)
	}
}

func sortStored(gs []metadata.StoredGroup) {
	for i := range gs {
		for j := i + 1; j < len(gs); j++ {
			if gs[j].Name < gs[i].Name {
				gs[i], gs[j] = gs[j], gs[i]
			}
		}
	}
}

// testGroupsFenced: writes under a claim that is no longer current fail
// with ErrFenced and change nothing.
func testGroupsFenced(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r1, r2 := register(t, ctx, s, 1), register(t, ctx, s, 2)
	sh := groupShard(0)
	old := mustClaim(t, ctx, s, r1, sh)
	offs := sampleOffsets("t", metadata.NewTopicID(), 1)
	if err := s.CommitOffsets(ctx, old, "g", offs); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseCoordinator(ctx, old); err != nil {
		t.Fatal(err)
	}
	// Even the same agent's new claim fences the old one.
	cur := mustClaim(t, ctx, s, r1, sh)
	if err := s.ReleaseCoordinator(ctx, cur); err != nil {
		t.Fatal(err)
	}
	cur = mustClaim(t, ctx, s, r2, sh)
	later := sampleOffsets("t", offs[0].TopicID, 1)
	later[0].Offset = 999
	checkErr(t, "CommitOffsets under an old claim", s.CommitOffsets(ctx, old, "g", later), metadata.ErrFenced)
	checkErr(t, "PutGroup under an old claim", s.PutGroup(ctx, old, sampleGroup("g")), metadata.ErrFenced)
	checkErr(t, "DeleteOffsets under an old claim", s.DeleteOffsets(ctx, old, "g", []metadata.GroupPartition{{Topic: "t"}}), metadata.ErrFenced)
	checkErr(t, "DeleteGroup under an old claim", s.DeleteGroup(ctx, old, "g"), metadata.ErrFenced)
	got, err := s.LoadGroups(ctx, sh)
	if err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "group after fenced writes", got, []metadata.StoredGroup{{Name: "g", Offsets: offs}})
	// The claim ends with its registration, and with it the right to write.
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "writes fenced after the owner left", func() bool {
		return errorsIs(s.CommitOffsets(ctx, cur, "g", later), metadata.ErrFenced)
	})
}

// testGroupsInvalid: bad arguments are ErrInvalid.
func testGroupsInvalid(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r := register(t, ctx, s, 1)
	c := mustClaim(t, ctx, s, r, groupShard(0))
	txn := mustClaim(t, ctx, s, r, metadata.CoordinatorShard{Kind: metadata.CoordinatorTransaction, Index: 0})
	good := sampleOffsets("t", metadata.NewTopicID(), 1)
	bad := func(mod func(*metadata.CommittedOffset)) []metadata.CommittedOffset {
		o := good[0]
		mod(&o)
		return []metadata.CommittedOffset{o}
	}
	long := make([]byte, metadata.MaxGroupNameLen+1)
	for i := range long {
		long[i] = 'g'
	}
	badGroup := func(mod func(*metadata.Group)) metadata.Group {
		g := sampleGroup("g")
		mod(&g)
		return g
	}
	for what, err := range map[string]error{
		"empty group name":       s.CommitOffsets(ctx, c, "", good),
		"long group name":        s.CommitOffsets(ctx, c, string(long), good),
		"transaction claim":      s.CommitOffsets(ctx, txn, "g", good),
		"claim without revision": s.CommitOffsets(ctx, metadata.CoordinatorClaim{Shard: groupShard(0)}, "g", good),
		"offset without topic id": s.CommitOffsets(ctx, c, "g", bad(func(o *metadata.CommittedOffset) {
			o.TopicID = metadata.TopicID{}
		})),
		"offset of a bad topic":     s.CommitOffsets(ctx, c, "g", bad(func(o *metadata.CommittedOffset) { o.Topic = "a/b" })),
		"negative partition":        s.CommitOffsets(ctx, c, "g", bad(func(o *metadata.CommittedOffset) { o.Partition = -1 })),
		"group without leader":      s.PutGroup(ctx, c, badGroup(func(g *metadata.Group) { g.Leader = "" })),
		"leader not a member":       s.PutGroup(ctx, c, badGroup(func(g *metadata.Group) { g.Leader = "x" })),
		"members without protocol":  s.PutGroup(ctx, c, badGroup(func(g *metadata.Group) { g.Protocol = "" })),
		"duplicate member":          s.PutGroup(ctx, c, badGroup(func(g *metadata.Group) { g.Members[1].MemberID = "c-1" })),
		"duplicate instance":        s.PutGroup(ctx, c, badGroup(func(g *metadata.Group) { g.Members[0].InstanceID = "i" })),
		"member without timeout":    s.PutGroup(ctx, c, badGroup(func(g *metadata.Group) { g.Members[0].SessionTimeout = 0 })),
		"negative generation":       s.PutGroup(ctx, c, badGroup(func(g *metadata.Group) { g.Generation = -1 })),
		"delete group of bad claim": s.DeleteGroup(ctx, txn, "g"),
	} {
		checkErr(t, what, err, metadata.ErrInvalid)
	}
	if gs, err := s.LoadGroups(ctx, groupShard(0)); err != nil || len(gs) != 0 {
		t.Errorf("invalid writes stored %+v, %v", gs, err)
	}
}

// testGroupsLarge: commits and deletes of many partitions, and shards with
// many keys, work whatever the store's per-write limits.
func testGroupsLarge(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r := register(t, ctx, s, 1)
	c := mustClaim(t, ctx, s, r, groupShard(9))
	offs := sampleOffsets("big", metadata.NewTopicID(), 1500)
	rev0, _ := s.Revision(ctx)
	if err := s.CommitOffsets(ctx, c, "g", offs); err != nil {
		t.Fatal(err)
	}
	if rev, _ := s.Revision(ctx); rev <= rev0 {
		t.Errorf("revision %d after a commit, not after %d", rev, rev0)
	}
	got, err := s.LoadGroups(ctx, groupShard(9))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Offsets) != len(offs) || got[0].Offsets[1499].Offset != offs[1499].Offset {
		t.Fatalf("LoadGroups returned %d groups", len(got))
	}
	var parts []metadata.GroupPartition
	for _, o := range offs[:1000] {
		parts = append(parts, metadata.GroupPartition{Topic: o.Topic, Partition: o.Partition})
	}
	if err := s.DeleteOffsets(ctx, c, "g", parts); err != nil {
		t.Fatal(err)
	}
	got, err = s.LoadGroups(ctx, groupShard(9))
	if err != nil || len(got) != 1 || len(got[0].Offsets) != 500 || got[0].Offsets[0].Partition != 1000 {
		t.Fatalf("after deleting 1000 offsets: %d groups, %v", len(got), err)
	}
}
