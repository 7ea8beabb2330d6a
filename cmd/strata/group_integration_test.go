package main

// End-to-end tests of `strata group` against a broker.
//
// TestGroupScenario runs against franz-go's fake broker (kfake) always, and
// against the broker at $STRATA_TEST_BOOTSTRAP when that is set (for example
// a Strata agent started with `make run`). It uses fresh topic and group
// names so it can be rerun against a long-lived broker. The group's member is
// a real franz-go group consumer; the committed offsets are checked with a
// separate admin client rather than through the commands under test.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

const (
	groupTestPartitions = 3
	groupTestRecords    = 10 // per partition; record i has timestamp base + i seconds
)

func TestGroupScenario(t *testing.T) {
	t.Run("kfake", func(t *testing.T) {
		groupScenario(t, newCLI(t, strings.Join(startKfake(t).ListenAddrs(), ",")))
	})
	t.Run("external", func(t *testing.T) {
		addr := os.Getenv(envTestBootstrap)
		if addr == "" {
			t.Skipf("%s is unset; set it to a broker address (e.g. localhost:9092 after 'make run') "+
				"to run this scenario against a real broker", envTestBootstrap)
		}
		groupScenario(t, newCLI(t, addr))
	})
}

// groupTest is one group scenario: a topic, a group, and an admin client
// to check what the commands did.
type groupTest struct {
	t     *testing.T
	c     *cli
	adm   *kadm.Client
	topic string
	group string
	base  time.Time // timestamp of offset 0 in every partition
}

func newGroupTest(t *testing.T, c *cli) *groupTest {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	topic := fmt.Sprintf("strata-group-test-%d", time.Now().UnixNano())
	return &groupTest{t: t, c: c, adm: kadm.NewClient(cl), topic: topic, group: topic + "-g",
		// In the past, but within any broker's timestamp bounds.
		base: time.Now().Add(-time.Hour).Truncate(time.Second)}
}

// groupScenario takes a group from live member to deletion through every
// group command.
func groupScenario(t *testing.T, c *cli) {
	g := newGroupTest(t, c)
	c.ok("", "topic", "create", g.topic, "--partitions", fmt.Sprint(groupTestPartitions))
	g.produce()

	member := g.startMember()
	g.checkLive()
	member.Close() // leaves the group
	g.waitState("Empty")

	g.checkDryRun()
	g.checkResets()
	g.checkNewGroup()
	g.checkDeletes()
	c.ok("", "topic", "delete", g.topic)
}

// produce writes groupTestRecords records with increasing timestamps to each
// partition.
func (g *groupTest) produce() {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(g.c.bootstrap, ",")...),
		kgo.DefaultProduceTopic(g.topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		g.t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for p := range int32(groupTestPartitions) {
		for i := range groupTestRecords {
			rs = append(rs, &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "p%d-%d", p, i),
				Timestamp: g.base.Add(time.Duration(i) * time.Second)})
		}
	}
	if err := cl.ProduceSync(g.c.ctx, rs...).FirstErr(); err != nil {
		g.t.Fatalf("produce: %v", err)
	}
}

// startMember starts a franz-go group consumer, waits until it consumes
// every partition, and commits offset 4 in partition 0 and 7 in partition
// 1, leaving partition 2 uncommitted. The caller closes it.
func (g *groupTest) startMember(opts ...kgo.Opt) *kgo.Client {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(g.c.bootstrap, ",")...),
		kgo.ClientID("strata-test-member"), kgo.ConsumerGroup(g.group), kgo.ConsumeTopics(g.topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(cl.Close)
	seen := make(map[int32]bool)
	for len(seen) < groupTestPartitions {
		fs := cl.PollFetches(g.c.ctx)
		if err := g.c.ctx.Err(); err != nil {
			g.t.Fatalf("consumed partitions %v, want all %d: %v", seen, groupTestPartitions, err)
		}
		fs.EachError(func(t string, p int32, err error) { g.t.Fatalf("consume %s/%d: %v", t, p, err) })
		fs.EachRecord(func(r *kgo.Record) { seen[r.Partition] = true })
	}
	var commitErr error
	cl.CommitOffsetsSync(g.c.ctx, map[string]map[int32]kgo.EpochOffset{g.topic: {0: {Epoch: -1, Offset: 4}, 1: {Epoch: -1, Offset: 7}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			commitErr = err
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if p.ErrorCode != 0 && commitErr == nil {
						commitErr = fmt.Errorf("partition %d: error code %d", p.Partition, p.ErrorCode)
					}
				}
			}
		})
	if commitErr != nil {
		g.t.Fatalf("member commit: %v", commitErr)
	}
	return cl
}

// committed returns the group's committed offsets in the topic, fetched
// independently of the commands under test.
func (g *groupTest) committed() map[int32]int64 {
	g.t.Helper()
	os, err := g.adm.FetchOffsets(g.c.ctx, g.group)
	if err != nil {
		g.t.Fatalf("fetch offsets: %v", err)
	}
	out := make(map[int32]int64)
	for p, o := range os[g.topic] {
		if o.Err != nil {
			g.t.Fatalf("fetch offsets: partition %d: %v", p, o.Err)
		}
		if o.At >= 0 {
			out[p] = o.At
		}
	}
	return out
}

func (g *groupTest) wantCommitted(want map[int32]int64) {
	g.t.Helper()
	if got := g.committed(); !maps.Equal(got, want) {
		g.t.Fatalf("committed offsets %v, want %v", got, want)
	}
}

// describe returns the JSON description of one group.
func (g *groupTest) describe(group string) groupDescription {
	g.t.Helper()
	var ds []groupDescription
	out := g.c.ok("", "group", "describe", group, "--output", "json")
	if err := json.Unmarshal([]byte(out), &ds); err != nil || len(ds) != 1 || ds[0].Group != group {
		g.t.Fatalf("describe %s: %v\n%s", group, err, out)
	}
	return ds[0]
}

// waitState polls describe until the group is in state.
func (g *groupTest) waitState(state string) {
	g.t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		d := g.describe(g.group)
		if d.State == state {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			g.t.Fatalf("group %s is still %s, want %s", g.group, d.State, state)
		}
	}
}

// checkLive checks list and describe of the live group, and that changing
// it is refused while the member is live.
func (g *groupTest) checkLive() {
	t, c := g.t, g.c
	g.waitState("Stable")
	d := g.describe(g.group)
	if d.ProtocolType != "consumer" || d.Protocol == "" || d.Coordinator.Host == "" || len(d.Members) != 1 {
		t.Fatalf("describe: %+v", d)
	}
	m := d.Members[0]
	wantAssigned := []topicAssignment{{Topic: g.topic, Partitions: []int32{0, 1, 2}}}
	if m.ClientID != "strata-test-member" || m.MemberID == "" || m.ClientHost == "" || !slices.EqualFunc(m.Assignments, wantAssigned,
		func(a, b topicAssignment) bool { return a.Topic == b.Topic && slices.Equal(a.Partitions, b.Partitions) }) {
		t.Fatalf("member: %+v", m)
	}
	want := []groupOffset{
		{Topic: g.topic, Partition: 0, CommittedOffset: 4, LogEndOffset: 10, Lag: 6},
		{Topic: g.topic, Partition: 1, CommittedOffset: 7, LogEndOffset: 10, Lag: 3},
		{Topic: g.topic, Partition: 2, CommittedOffset: -1, LogEndOffset: 10, Lag: -1},
	}
	for i := range want {
		want[i].MemberID, want[i].ClientID, want[i].ClientHost = m.MemberID, m.ClientID, m.ClientHost
	}
	if !slices.Equal(d.Offsets, want) || d.TotalLag != 9 {
		t.Fatalf("offsets (total lag %d):\n%+v\nwant (total lag 9):\n%+v", d.TotalLag, d.Offsets, want)
	}
	out := c.ok("", "group", "describe", g.group)
	for _, s := range []string{"State:          Stable", "Total lag:      9", "CONSUMER-ID", "strata-test-member",
		g.topic + "(0,1,2)", "CURRENT-OFFSET"} {
		if !strings.Contains(out, s) {
			t.Errorf("describe table does not contain %q:\n%s", s, out)
		}
	}

	var list []groupSummary
	if err := json.Unmarshal([]byte(c.ok("", "group", "list", "--output", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(list, func(s groupSummary) bool { return s.Group == g.group }); i < 0 ||
		list[i].State != "Stable" || list[i].ProtocolType != "consumer" || list[i].Coordinator != d.Coordinator.NodeID {
		t.Fatalf("list: %+v", list)
	}
	if out := c.ok("", "group", "list", "--state", "empty"); strings.Contains(out, g.group) {
		t.Fatalf("list --state empty shows the Stable group:\n%s", out)
	}
	if out := c.ok("", "group", "list", "--state", "Stable"); !strings.Contains(out, g.group) {
		t.Fatalf("list --state Stable does not show the group:\n%s", out)
	}

	// Nothing changes a live group.
	c.fails("consumer group is active (state Stable, 1 live member)",
		"group", "reset-offsets", g.group, "--topic", g.topic, "--to-earliest", "--execute")
	c.fails("stop its consumers", "group", "reset-offsets", g.group, "--topic", g.topic, "--to-earliest")
	c.fails("NON_EMPTY_GROUP", "group", "delete", g.group)
	c.fails("GROUP_SUBSCRIBED_TO_TOPIC", "group", "delete-offsets", g.group, "--topic", g.topic)
	g.wantCommitted(map[int32]int64{0: 4, 1: 7})
}

// checkDryRun checks that a dry run prints the plan and changes nothing.
func (g *groupTest) checkDryRun() {
	r := g.c.run("", "group", "reset-offsets", g.group, "--topic", g.topic, "--to-earliest")
	want := fmt.Sprintf("TOPIC%sPARTITION  CURRENT-OFFSET  NEW-OFFSET\n", strings.Repeat(" ", len(g.topic)-3))
	for p, cur := range []string{"4", "7", "-"} {
		want += fmt.Sprintf("%s  %d          %-16s0\n", g.topic, p, cur)
	}
	if r.code != 0 || r.stdout != want || !strings.Contains(r.stderr, "Dry run: nothing was changed") {
		g.t.Fatalf("dry run: exit %d\nstdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}
	g.c.ok("", "group", "reset-offsets", g.group, "--all-topics", "--to-latest", "--dry-run")
	g.wantCommitted(map[int32]int64{0: 4, 1: 7})
}

// reset runs reset-offsets --execute with args and checks both the printed
// plan and the committed offsets afterwards against want (the new offsets
// of the partitions the command resets). It returns stderr.
func (g *groupTest) reset(want map[int32]int64, args ...string) string {
	g.t.Helper()
	before := g.committed()
	args = append([]string{"group", "reset-offsets", g.group, "--execute", "--output", "json"}, args...)
	r := g.c.run("", args...)
	var res resetResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || !res.Executed || res.Group != g.group {
		g.t.Fatalf("strata %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	planned := make(map[int32]int64)
	for _, row := range res.Offsets {
		cur, ok := before[row.Partition]
		if !ok {
			cur = -1
		}
		if row.Topic != g.topic || row.CurrentOffset != cur || row.Error != "" {
			g.t.Errorf("%v: row %+v, want current offset %d", args, row, cur)
		}
		planned[row.Partition] = row.NewOffset
	}
	if !maps.Equal(planned, want) {
		g.t.Fatalf("%v: planned %v, want %v", args, planned, want)
	}
	after := maps.Clone(before)
	maps.Copy(after, want)
	g.wantCommitted(after)
	return r.stderr
}

// checkResets walks the Empty group through every reset mode.
func (g *groupTest) checkResets() {
	t, c, topic := g.t, g.c, g.topic
	g.reset(map[int32]int64{0: 0}, "--topic", topic+":0", "--to-earliest")
	g.reset(map[int32]int64{1: 10}, "--topic", topic+":1", "--to-latest")

	// Partition 2 has no committed offset to shift.
	c.fails("cannot --shift-by in partitions without a committed offset: "+topic+":2",
		"group", "reset-offsets", g.group, "--topic", topic, "--shift-by", "1", "--execute")
	g.wantCommitted(map[int32]int64{0: 0, 1: 10})

	g.reset(map[int32]int64{0: 5, 1: 5, 2: 5}, "--topic", topic, "--to-offset", "5")
	if stderr := g.reset(map[int32]int64{0: 10}, "--topic", topic+":0", "--to-offset", "100"); !strings.Contains(stderr,
		"offset 100 is past the log end offset 10; using 10") {
		t.Errorf("no clamp warning: %q", stderr)
	}
	g.reset(map[int32]int64{0: 8, 1: 3, 2: 3}, "--topic", topic, "--shift-by", "-2")
	if stderr := g.reset(map[int32]int64{1: 0, 2: 0}, "--topic", topic+":1,2", "--shift-by", "-100"); !strings.Contains(stderr,
		"offset -97 is before the log start offset 0; using 0") {
		t.Errorf("no clamp warning: %q", stderr)
	}

	// Record i of each partition has timestamp base+i s.
	at := g.base.Add(3500 * time.Millisecond)
	g.reset(map[int32]int64{0: 4, 1: 4, 2: 4}, "--topic", topic, "--to-datetime", at.Format(time.RFC3339Nano))
	kafkaFormat := g.base.Add(7 * time.Second).UTC().Format("2006-01-02T15:04:05.000") // UTC without a zone
	g.reset(map[int32]int64{1: 7}, "--topic", topic+":1", "--to-datetime", kafkaFormat)
	g.reset(map[int32]int64{0: 10}, "--topic", topic+":0", "--to-datetime", g.base.Add(time.Hour).Format(time.RFC3339))
	g.reset(map[int32]int64{2: 0}, "--topic", topic+":2", "--to-datetime", "2000-01-01T00:00:00Z")

	g.reset(map[int32]int64{0: 0, 1: 0, 2: 0}, "--all-topics", "--to-earliest")

	c.fails("topic does not exist", "group", "reset-offsets", g.group, "--topic", topic+"-missing", "--to-earliest")
	c.fails("partition 7 does not exist", "group", "reset-offsets", g.group, "--topic", topic+":7", "--to-earliest")
	g.wantCommitted(map[int32]int64{0: 0, 1: 0, 2: 0})

	d := g.describe(g.group)
	if d.State != "Empty" || len(d.Members) != 0 || d.TotalLag != 30 || len(d.Offsets) != 3 || d.Offsets[0].MemberID != "" {
		t.Fatalf("after resets: %+v", d)
	}
}

// checkNewGroup resets the offsets of a group that does not exist yet,
// which creates it.
func (g *groupTest) checkNewGroup() {
	t, c := g.t, g.c
	fresh := g.group + "-fresh"
	c.fails("consumer group does not exist", "group", "describe", fresh)
	r := c.run("", "group", "reset-offsets", fresh, "--topic", g.topic, "--to-latest")
	if r.code != 0 || !strings.Contains(r.stderr, "does not exist yet") {
		t.Fatalf("dry run for a new group: %+v", r)
	}
	c.fails("consumer group does not exist", "group", "describe", fresh)
	c.ok("", "group", "reset-offsets", fresh, "--topic", g.topic, "--to-latest", "--execute")
	d := g.describe(fresh)
	if d.State != "Empty" || d.TotalLag != 0 || len(d.Offsets) != groupTestPartitions || d.Offsets[2].CommittedOffset != 10 {
		t.Fatalf("new group: %+v", d)
	}
	c.ok("", "group", "delete", fresh)
}

// checkDeletes deletes some offsets of the group, then the group.
func (g *groupTest) checkDeletes() {
	t, c := g.t, g.c
	out := c.ok("", "group", "delete-offsets", g.group, "--topic", g.topic+":2")
	if !strings.Contains(out, "2          Deleted") {
		t.Fatalf("delete-offsets:\n%s", out)
	}
	g.wantCommitted(map[int32]int64{0: 0, 1: 0})
	if d := g.describe(g.group); len(d.Offsets) != 2 {
		t.Fatalf("after delete-offsets: %+v", d.Offsets)
	}

	if out := c.ok("", "group", "delete", g.group); out != fmt.Sprintf("Deleted group %q.\n", g.group) {
		t.Fatalf("delete: %q", out)
	}
	c.fails("consumer group does not exist", "group", "describe", g.group)
	c.fails("GROUP_ID_NOT_FOUND", "group", "delete", g.group)
	var res []groupDeletion
	if err := json.Unmarshal([]byte(c.ok("", "group", "delete", g.group, "--if-exists", "--output", "json")), &res); err != nil ||
		len(res) != 1 || res[0] != (groupDeletion{Group: g.group}) {
		t.Fatalf("delete --if-exists: %v %+v", err, res)
	}
	if out := c.ok("", "group", "list"); strings.Contains(out, g.group) {
		t.Fatalf("deleted group still listed:\n%s", out)
	}
}

// TestGroupBrokerWithoutAPIs checks the errors for a broker that serves no
// or only old group administration APIs.
func TestGroupBrokerWithoutAPIs(t *testing.T) {
	vs := kversion.Stable()
	for _, k := range []kmsg.Key{kmsg.DescribeGroups, kmsg.DeleteGroups, kmsg.OffsetDelete} {
		vs.SetMaxKeyVersion(int16(k), -1)
	}
	vs.SetMaxKeyVersion(int16(kmsg.ListGroups), 3)
	c := newCLI(t, startKfake(t, kfake.MaxVersions(vs)).ListenAddrs()[0])
	c.ok("", "topic", "create", "t")

	c.ok("", "group", "list")
	c.fails("--state: the broker cannot filter groups by state (it serves ListGroups up to v3", "group", "list", "--state", "empty")
	c.fails("describing consumer groups: not supported by the broker (it does not serve DescribeGroups)", "group", "describe", "g")
	c.fails("resetting offsets: not supported by the broker (it does not serve DescribeGroups)",
		"group", "reset-offsets", "g", "--topic", "t", "--to-earliest")
	c.fails("deleting consumer groups: not supported by the broker (it does not serve DeleteGroups)", "group", "delete", "g")
	c.fails("deleting committed offsets: not supported by the broker (it does not serve OffsetDelete)",
		"group", "delete-offsets", "g", "--topic", "t")

	vs.SetMaxKeyVersion(int16(kmsg.ListGroups), -1)
	c = newCLI(t, startKfake(t, kfake.MaxVersions(vs)).ListenAddrs()[0])
	r := c.run("", "group", "list")
	if r.code != 1 || r.stdout != "" || r.stderr != "strata: listing consumer groups: not supported by the broker "+
		"(it does not serve ListGroups)\n" {
		t.Fatalf("list: %+v", r)
	}
}

// TestGroupDescribeAll checks describe without names and empty listings.
func TestGroupDescribeAll(t *testing.T) {
	c := newCLI(t, startKfake(t).ListenAddrs()[0])
	if out := c.ok("", "group", "describe", "--output", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("describe with no groups: %q", out)
	}
	if out := c.ok("", "group", "list", "--output", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("list with no groups: %q", out)
	}
	c.ok("", "topic", "create", "t", "--partitions", "2")
	c.ok("a\nb\n", "produce", "--topic", "t", "--partition", "1")
	for _, group := range []string{"b", "a"} {
		c.ok("", "group", "reset-offsets", group, "--topic", "t", "--to-earliest", "--execute")
	}
	var ds []groupDescription
	if err := json.Unmarshal([]byte(c.ok("", "group", "describe", "--output", "json")), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Group != "a" || ds[1].Group != "b" || ds[0].TotalLag != 2 || ds[1].TotalLag != 2 {
		t.Fatalf("describe all: %+v", ds)
	}
	// Named groups come in the order given, duplicates once.
	if err := json.Unmarshal([]byte(c.ok("", "group", "describe", "b", "a", "b", "--output", "json")), &ds); err != nil ||
		len(ds) != 2 || ds[0].Group != "b" {
		t.Fatalf("describe b a b: %v %+v", err, ds)
	}
	c.fails("consumer group does not exist: \"missing\" (list groups with 'strata group list')", "group", "describe", "a", "missing")
	if out := c.ok("", "group", "delete", "a", "b"); out != "Deleted group \"a\".\nDeleted group \"b\".\n" {
		t.Fatalf("delete a b: %q", out)
	}
}

// TestGroupKIP848 checks describe and reset of a group that uses the KIP-848
// consumer protocol, which Kafka 4 describes only with ConsumerGroupDescribe
// (DescribeGroups answers GROUP_ID_NOT_FOUND for it).
func TestGroupKIP848(t *testing.T) {
	c := newCLI(t, startKfake(t).ListenAddrs()[0])
	g := newGroupTest(t, c)
	c.ok("", "topic", "create", g.topic, "--partitions", fmt.Sprint(groupTestPartitions))
	g.produce()
	member := g.startMember(kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))

	g.waitState("Stable")
	d := g.describe(g.group)
	if d.Protocol != "range" || d.ProtocolType != "consumer" || len(d.Members) != 1 ||
		d.Members[0].ClientID != "strata-test-member" || d.TotalLag != 9 {
		t.Fatalf("describe: %+v", d)
	}
	// kfake names assigned topics only by ID, so partition 2, assigned but
	// uncommitted, may be missing; the committed ones must be exact.
	for _, want := range []groupOffset{
		{Topic: g.topic, Partition: 0, CommittedOffset: 4, LogEndOffset: 10, Lag: 6},
		{Topic: g.topic, Partition: 1, CommittedOffset: 7, LogEndOffset: 10, Lag: 3},
	} {
		i := slices.IndexFunc(d.Offsets, func(o groupOffset) bool { return o.Partition == want.Partition })
		if got := d.Offsets[max(i, 0)]; i < 0 || got.CommittedOffset != want.CommittedOffset ||
			got.LogEndOffset != want.LogEndOffset || got.Lag != want.Lag {
			t.Fatalf("offsets %+v, want %+v among them", d.Offsets, want)
		}
	}
	c.fails("consumer group is active (state Stable, 1 live member)",
		"group", "reset-offsets", g.group, "--topic", g.topic, "--to-earliest", "--execute")

	member.Close()
	g.waitState("Empty")
	g.reset(map[int32]int64{0: 0, 1: 0, 2: 0}, "--topic", g.topic, "--to-earliest")
	c.ok("", "group", "delete", g.group)
}

// TestGroupResetCommitFails checks that partitions the broker refuses to
// commit are reported by name and Kafka error, with a hint, and exit 1.
func TestGroupResetCommitFails(t *testing.T) {
	cluster := startKfake(t)
	c := newCLI(t, cluster.ListenAddrs()[0])
	c.ok("", "topic", "create", "t", "--partitions", "2")
	// As if a consumer joined between the state check and the commit:
	// the broker refuses partition 1 of the admin commit.
	cluster.ControlKey(int16(kmsg.OffsetCommit), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.OffsetCommitRequest)
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				if rp.Partition == 1 {
					sp.ErrorCode = kerr.UnknownMemberID.Code
				}
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	r := c.run("", "group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--execute", "--output", "json")
	for _, want := range []string{`1 of 2 partitions were not reset, first: topic "t" partition 1: UNKNOWN_MEMBER_ID`,
		"a consumer joined the group meanwhile"} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Fatalf("exit %d, stderr %q; want exit 1 and %q", r.code, r.stderr, want)
		}
	}
	var res resetResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Offsets) != 2 ||
		res.Offsets[0].Error != "" || !strings.HasPrefix(res.Offsets[1].Error, "UNKNOWN_MEMBER_ID") {
		t.Fatalf("result: %v %+v", err, res)
	}
	if strings.Contains(r.stderr, "Reset the committed offsets") {
		t.Fatalf("claims success: %q", r.stderr)
	}
}

func TestGroupBrokerUnreachable(t *testing.T) {
	addr := closedAddr(t)
	for _, args := range [][]string{
		{"group", "list"},
		{"group", "describe", "g"},
		{"group", "reset-offsets", "g", "--all-topics", "--to-earliest"},
	} {
		r := runCLI(t, t.Context(), "", append(args, "--bootstrap-server", addr, "--timeout", "5s")...)
		if r.code != 1 || !strings.Contains(r.stderr, "strata: cannot reach a Kafka broker at "+addr) {
			t.Errorf("%v: %+v", args, r)
		}
	}
}
