package tests

// Consumer groups with the other clients (kafka-python, confluent-kafka,
// kcat -G) and bad group requests sent as raw Kafka requests.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupClientConsume runs one group member of some client: it reads n
// records of topic in group, commits after them and leaves, returning
// (partition, offset) of each record read.
type groupClientConsume func(t *testing.T, addr, topic, group string, n int) [][2]int64

// checkGroupClient produces 10 records to each of 3 partitions and lets
// two members of one group, one after the other, read 12 and then the
// other 18: the second starts exactly where the first committed.
func checkGroupClient(t *testing.T, consume groupClientConsume) {
	ag := startAgent(t, groupAgentFlags...)
	topic := compatTopic(t, "t")
	createTopic(t, ag.addr, topic, 3, nil)
	var recs []*kgo.Record
	for p := range int32(3) {
		for i := range 10 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "p%d-%d", p, i)})
		}
	}
	// Uncompressed: kafka-python as Debian ships it cannot read snappy.
	produceSync(t, newClient(t, ag.addr, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression())), recs...)
	group := topic + "-group"

	first := consume(t, ag.addr, topic, group, 12)
	seen := map[[2]int64]bool{}
	perPartition := map[int32]int64{}
	for _, r := range first {
		if seen[r] {
			t.Fatalf("first member read p%d@%d twice", r[0], r[1])
		}
		seen[r] = true
		perPartition[int32(r[0])]++
	}
	// Each partition is read in order from 0, so the committed offset is
	// the number of records read from it.
	if got := committedOffsets(t, ag.addr, group, topic); !equalOffsets(got, perPartition) {
		t.Fatalf("committed %v after the first member read %v", got, perPartition)
	}
	second := consume(t, ag.addr, topic, group, 18)
	for _, r := range second {
		if seen[r] {
			t.Fatalf("second member read p%d@%d again: it did not resume at the committed offsets %v", r[0], r[1], perPartition)
		}
		seen[r] = true
	}
	if len(seen) != 30 {
		t.Fatalf("the two members read %d distinct records, want 30", len(seen))
	}
	if got := committedOffsets(t, ag.addr, group, topic); !equalOffsets(got, map[int32]int64{0: 10, 1: 10, 2: 10}) {
		t.Fatalf("committed %v after everything was read", got)
	}
	if d := describeGroup(t, ag.addr, group); d.State != "Empty" || d.ProtocolType != "consumer" {
		t.Errorf("group after its members left: %s, protocol type %q", d.State, d.ProtocolType)
	}
}

func pythonGroupConsume(script string) groupClientConsume {
	return func(t *testing.T, addr, topic, group string, n int) [][2]int64 {
		out, _ := compatRunPython(t, script, addr, topic, nil, "group-consume", "--group", group, "--count", strconv.Itoa(n))
		var got [][2]int64
		for _, r := range compatJSONLines[compatRecord](t, out) {
			got = append(got, [2]int64{int64(r.Partition), r.Offset})
		}
		if len(got) != n {
			t.Fatalf("%s read %d records, want %d", script, len(got), n)
		}
		return got
	}
}

func TestGroupKafkaPython(t *testing.T) {
	compatRequirePython(t, "kafka", "python3-kafka")
	checkGroupClient(t, pythonGroupConsume("kafka_python_client.py"))
}

func TestGroupConfluentKafka(t *testing.T) {
	compatRequirePython(t, "confluent_kafka", "python3-confluent-kafka")
	checkGroupClient(t, pythonGroupConsume("confluent_kafka_client.py"))
}

// TestGroupKcat: kcat -G is librdkafka's balanced consumer; it commits what
// it printed when it exits after -c records.
func TestGroupKcat(t *testing.T) {
	compatRequireBinary(t, "kcat", "kcat")
	checkGroupClient(t, func(t *testing.T, addr, topic, group string, n int) [][2]int64 {
		out := kcatOut(t, addr, nil, "-G", group, topic, "-X", "auto.offset.reset=earliest", "-X", "fetch.wait.max.ms=100",
			"-c", strconv.Itoa(n), "-q", "-f", `%p %o\n`)
		var got [][2]int64
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			var p, o int64
			if _, err := fmt.Sscanf(sc.Text(), "%d %d", &p, &o); err != nil {
				t.Fatalf("kcat printed %q: %v", sc.Text(), err)
			}
			got = append(got, [2]int64{p, o})
		}
		if len(got) != n {
			t.Fatalf("kcat read %d records, want %d:\n%s", len(got), n, out)
		}
		return got
	})
}

// rawGroup drives one group member with raw requests.
type rawGroup struct {
	t      *testing.T
	ctx    context.Context
	cl     *kgo.Client
	addr   string
	group  string
	topic  string
	member string
	gen    int32
}

func (g *rawGroup) join(memberID, protocolType, protocol string) *kmsg.JoinGroupResponse {
	g.t.Helper()
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = []string{g.topic}
	req := kmsg.NewPtrJoinGroupRequest()
	req.Group, req.MemberID, req.ProtocolType = g.group, memberID, protocolType
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = protocol, meta.AppendTo(nil)
	req.Protocols = append(req.Protocols, p)
	resp, err := req.RequestWith(g.ctx, g.cl)
	if err != nil {
		g.t.Fatalf("join: %v", err)
	}
	return resp
}

// start makes the member join (MEMBER_ID_REQUIRED first), lead and sync.
func (g *rawGroup) start() {
	g.t.Helper()
	r := g.join("", "consumer", "range")
	if r.ErrorCode != kerr.MemberIDRequired.Code {
		g.t.Fatalf("first join: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	r = g.join(r.MemberID, "consumer", "range")
	if r.ErrorCode != 0 || r.LeaderID != r.MemberID {
		g.t.Fatalf("join: %v, leader %q", kerr.ErrorForCode(r.ErrorCode), r.LeaderID)
	}
	g.member, g.gen = r.MemberID, r.Generation
	if code := g.sync(nil, []byte{0, 0, 0, 0, 0, 0, 0, 0}); code != 0 {
		g.t.Fatalf("sync: %v", kerr.ErrorForCode(code))
	}
}

func (g *rawGroup) sync(protocol *string, assignment []byte) int16 {
	g.t.Helper()
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group, req.MemberID, req.Generation, req.Protocol = g.group, g.member, g.gen, protocol
	if assignment != nil {
		a := kmsg.NewSyncGroupRequestGroupAssignment()
		a.MemberID, a.MemberAssignment = g.member, assignment
		req.GroupAssignment = append(req.GroupAssignment, a)
	}
	resp, err := req.RequestWith(g.ctx, g.cl)
	if err != nil {
		g.t.Fatalf("sync: %v", err)
	}
	return resp.ErrorCode
}

func (g *rawGroup) heartbeat(member string, gen int32) int16 {
	g.t.Helper()
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.MemberID, req.Generation = g.group, member, gen
	resp, err := req.RequestWith(g.ctx, g.cl)
	if err != nil {
		g.t.Fatalf("heartbeat: %v", err)
	}
	return resp.ErrorCode
}

func (g *rawGroup) commit(member string, gen int32, topic string, partition int32) int16 {
	g.t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.MemberID, req.Generation = g.group, member, gen
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = partition, 1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(g.ctx, g.cl)
	if err != nil {
		g.t.Fatalf("commit: %v", err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// expect checks a request's error code, then that the member still
// heartbeats in its generation and the group is Stable with it alone.
func (g *rawGroup) expect(what string, code int16, want int16) {
	g.t.Helper()
	if code != want {
		g.t.Errorf("%s: %v, want %v", what, kerr.ErrorForCode(code), kerr.ErrorForCode(want))
	}
	if code := g.heartbeat(g.member, g.gen); code != 0 {
		g.t.Fatalf("after %s the member's heartbeat fails: %v", what, kerr.ErrorForCode(code))
	}
	if d := describeGroup(g.t, g.addr, g.group); d.State != "Stable" || len(d.Members) != 1 {
		g.t.Fatalf("after %s the group is %s with %d members", what, d.State, len(d.Members))
	}
}

// TestGroupBadRequests: requests a broken or stale client could send get
// Kafka's error codes, and the group they are sent to stays healthy.
func TestGroupBadRequests(t *testing.T) {
	ag := startAgent(t, groupAgentFlags...)
	topic := compatTopic(t, "t")
	createTopic(t, ag.addr, topic, 2, nil)
	g := &rawGroup{t: t, ctx: testCtx(t, 30*time.Second), cl: newClient(t, ag.addr), addr: ag.addr, group: topic + "-group", topic: topic}
	g.start()
	bad, other := kerr.InconsistentGroupProtocol.Code, "roundrobin"
	g.expect("a join with an unknown protocol type", g.join("", "connect", "range").ErrorCode, bad)
	g.expect("a join with no protocol in common", g.join("", "consumer", "roundrobin").ErrorCode, bad)
	g.expect("a sync naming another protocol", g.sync(&other, nil), bad)
	g.expect("a heartbeat with a stale generation", g.heartbeat(g.member, g.gen-1), kerr.IllegalGeneration.Code)
	g.expect("a heartbeat from a stranger", g.heartbeat("not-a-member", g.gen), kerr.UnknownMemberID.Code)
	g.expect("a commit from a non-member", g.commit("", -1, topic, 0), kerr.UnknownMemberID.Code)
	g.expect("a commit from an unknown member", g.commit("not-a-member", g.gen, topic, 0), kerr.UnknownMemberID.Code)
	g.expect("a commit with a stale generation", g.commit(g.member, g.gen-1, topic, 0), kerr.IllegalGeneration.Code)
	g.expect("a commit to an unknown topic", g.commit(g.member, g.gen, "no-such-topic", 0), kerr.UnknownTopicOrPartition.Code)
	g.expect("a commit to an unknown partition", g.commit(g.member, g.gen, topic, 7), kerr.UnknownTopicOrPartition.Code)
	g.expect("a member's commit", g.commit(g.member, g.gen, topic, 1), 0)
}

// TestGroupFindCoordinator: a transactional id finds its coordinator, an
// unknown key type is refused, and several groups are found in one request
// (v4+).
func TestGroupFindCoordinator(t *testing.T) {
	ag := startAgent(t, groupAgentFlags...)
	cl := newClient(t, ag.addr)
	ctx := testCtx(t, 20*time.Second)
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorType = 1
	fc.CoordinatorKeys = []string{"txn"}
	fr, err := fc.RequestWith(ctx, cl)
	if err != nil || len(fr.Coordinators) != 1 || fr.Coordinators[0].ErrorCode != 0 || fr.Coordinators[0].NodeID != 1 {
		t.Errorf("FindCoordinator of a transactional id: %v %+v", err, fr)
	}
	fc.CoordinatorType = 7
	fr, err = fc.RequestWith(ctx, cl)
	if err != nil || len(fr.Coordinators) != 1 || fr.Coordinators[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("FindCoordinator of key type 7: %v %+v", err, fr)
	}
	fc.CoordinatorType = 0
	fc.CoordinatorKeys = []string{"a", "b", ""}
	fr, err = fc.RequestWith(ctx, cl)
	if err != nil || len(fr.Coordinators) != 3 {
		t.Fatalf("FindCoordinator of three groups: %v %+v", err, fr)
	}
	for _, c := range fr.Coordinators {
		if c.ErrorCode != 0 || c.NodeID != 1 || c.Port <= 0 {
			t.Errorf("coordinator of %q: %+v", c.Key, c)
		}
	}
}

// TestGroupAdmin: ListGroups filters, DeleteGroups and OffsetDelete keep a
// live group's state, and offsets of a deleted (then re-created) topic are
// gone.
func TestGroupAdmin(t *testing.T) {
	ag := startAgent(t, groupAgentFlags...)
	topic, other := compatTopic(t, "t"), compatTopic(t, "u")
	createTopic(t, ag.addr, topic, 2, nil)
	createTopic(t, ag.addr, other, 1, nil)
	g := &rawGroup{t: t, ctx: testCtx(t, 30*time.Second), cl: newClient(t, ag.addr), addr: ag.addr, group: topic + "-live", topic: topic}
	g.start()
	if code := g.commit(g.member, g.gen, topic, 0); code != 0 {
		t.Fatalf("commit: %v", kerr.ErrorForCode(code))
	}
	standalone := &rawGroup{t: t, ctx: g.ctx, cl: g.cl, group: topic + "-standalone"}
	for _, tp := range []string{topic, other} {
		if code := standalone.commit("", -1, tp, 0); code != 0 {
			t.Fatalf("standalone commit to %s: %v", tp, kerr.ErrorForCode(code))
		}
	}

	list := func(states, types []string) []string {
		req := kmsg.NewPtrListGroupsRequest()
		req.StatesFilter, req.TypesFilter = states, types
		resp, err := req.RequestWith(g.ctx, g.cl)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("ListGroups: %v %v", err, resp)
		}
		var names []string
		for _, lg := range resp.Groups {
			names = append(names, lg.Group+"/"+lg.GroupState+"/"+lg.GroupType)
		}
		slices.Sort(names)
		return names
	}
	live, alone := g.group+"/Stable/classic", standalone.group+"/Empty/classic"
	for _, tc := range []struct {
		states, types []string
		want          []string
	}{
		{nil, nil, []string{live, alone}},
		{[]string{"stable"}, nil, []string{live}},
		{[]string{"Empty", "Dead"}, nil, []string{alone}},
		{nil, []string{"consumer"}, nil},
		{nil, []string{"Classic"}, []string{live, alone}},
	} {
		if got := list(tc.states, tc.types); !slices.Equal(got, tc.want) {
			t.Errorf("ListGroups(states %q, types %q) = %q, want %q", tc.states, tc.types, got, tc.want)
		}
	}

	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{g.group, "no-such-group"}
	dr, err := del.RequestWith(g.ctx, g.cl)
	if err != nil || dr.Groups[0].ErrorCode != kerr.NonEmptyGroup.Code || dr.Groups[1].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Errorf("DeleteGroups: %v %+v", err, dr)
	}
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = g.group
	odt := kmsg.NewOffsetDeleteRequestTopic()
	odt.Topic = topic
	odt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}
	od.Topics = append(od.Topics, odt)
	or, err := od.RequestWith(g.ctx, g.cl)
	if err != nil || or.ErrorCode != 0 || or.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code {
		t.Errorf("OffsetDelete of a subscribed topic: %v %+v", err, or)
	}
	g.expect("DeleteGroups and OffsetDelete", 0, 0)

	// The standalone group's offsets of a deleted topic do not reach a new
	// topic of the same name.
	adm := kadm.NewClient(g.cl)
	if _, err := adm.DeleteTopic(g.ctx, other); err != nil {
		t.Fatal(err)
	}
	createTopic(t, ag.addr, other, 1, nil)
	if got := committedOffsets(t, ag.addr, standalone.group, other); len(got) != 0 {
		t.Errorf("offsets of a re-created topic: %v", got)
	}
	if got := committedOffsets(t, ag.addr, standalone.group, topic); got[0] != 1 {
		t.Errorf("offsets of the standalone group: %v", got)
	}
	del.Groups = []string{standalone.group}
	if dr, err := del.RequestWith(g.ctx, g.cl); err != nil || dr.Groups[0].ErrorCode != 0 {
		t.Fatalf("DeleteGroups of an empty group: %v %+v", err, dr)
	}
	if got := committedOffsets(t, ag.addr, standalone.group, topic); len(got) != 0 {
		t.Errorf("offsets of a deleted group: %v", got)
	}
	if got := list(nil, nil); !slices.Equal(got, []string{live}) {
		t.Errorf("groups after the deletion: %q", got)
	}
}
