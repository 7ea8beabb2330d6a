package main

// End-to-end tests of the cluster-administration commands: cluster
// describe/elect-leaders, topic reassign, log-dirs, delete-records, config.
//
// TestAdminScenario runs against a three-broker kfake cluster always, and
// against the cluster at $STRATA_TEST_BOOTSTRAP when that is set (for
// example three Strata agents started with `make cluster`). It uses a fresh
// topic so it can be rerun against a long-lived cluster. Against a broker
// that does not serve an API a command needs, it checks the command's
// "not supported" error instead.
//
// kfake serves every API these commands send, but as one process: replicas
// are the leader followed by the next brokers, the ISR is always complete,
// ElectLeaders rotates leadership, AlterPartitionReassignments is accepted
// without moving anything and ListPartitionReassignments is always empty.
// The other tests here therefore craft the responses kfake cannot produce
// (unhealthy partitions, ongoing reassignments, election errors) with
// kfake's control functions.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	adminTestPartitions = 3
	adminTestRecords    = 10 // per partition
)

func TestAdminScenario(t *testing.T) {
	t.Run("kfake", func(t *testing.T) {
		c := newCLI(t, strings.Join(startKfake(t, kfake.NumBrokers(3)).ListenAddrs(), ","))
		adminScenario(t, c, true)
	})
	t.Run("external", func(t *testing.T) {
		addr := os.Getenv(envTestBootstrap)
		if addr == "" {
			t.Skipf("%s is unset; set it to a broker address (e.g. localhost:9092 after 'make cluster') "+
				"to run this scenario against a real cluster", envTestBootstrap)
		}
		adminScenario(t, newCLI(t, addr), false)
	})
}

// adminTest is one admin scenario: a topic and an independent admin client
// to check what the commands did.
type adminTest struct {
	t        *testing.T
	c        *cli
	adm      *kadm.Client
	topic    string
	agents   []int32
	rf       int
	versions kadm.BrokersApiVersions
	fake     bool // kfake: reassignments do not move anything
}

func newAdminTest(t *testing.T, c *cli, fake bool) *adminTest {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	a := &adminTest{t: t, c: c, adm: kadm.NewClient(cl), fake: fake,
		topic: fmt.Sprintf("strata-admin-test-%d", time.Now().UnixNano())}
	brokers, err := a.adm.ListBrokers(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.agents = brokers.NodeIDs()
	a.rf = min(3, len(a.agents))
	if a.versions, err = a.adm.ApiVersions(c.ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

// serves reports whether every broker serves key.
func (a *adminTest) serves(key kmsg.Key) bool {
	for _, v := range a.versions {
		if _, ok := v.KeyMaxVersion(int16(key)); v.Err == nil && !ok {
			return false
		}
	}
	return true
}

// adminScenario runs every admin command against one cluster.
func adminScenario(t *testing.T, c *cli, fake bool) {
	a := newAdminTest(t, c, fake)
	c.ok("", "topic", "create", a.topic, "--partitions", strconv.Itoa(adminTestPartitions),
		"--replication-factor", strconv.Itoa(a.rf))
	a.produce()
	a.checkDescribe()
	a.checkConfig()
	a.checkLogDirs()
	a.checkDeleteRecords()
	a.checkElectLeaders()
	a.checkReassign()
	c.ok("", "topic", "delete", a.topic)
}

// produce writes adminTestRecords records to every partition.
func (a *adminTest) produce() {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(a.c.bootstrap, ",")...),
		kgo.DefaultProduceTopic(a.topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		a.t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for p := range int32(adminTestPartitions) {
		for i := range adminTestRecords {
			rs = append(rs, &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "p%d-%d", p, i)})
		}
	}
	if err := cl.ProduceSync(a.c.ctx, rs...).FirstErr(); err != nil {
		a.t.Fatalf("produce: %v", err)
	}
}

// describeCluster runs cluster describe with args and decodes its JSON.
func (c *cli) describeCluster(args ...string) clusterDescription {
	c.t.Helper()
	out := c.ok("", append([]string{"cluster", "describe", "--output", "json"}, args...)...)
	var d clusterDescription
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		c.t.Fatalf("cluster describe JSON: %v\n%s", err, out)
	}
	return d
}

// eventually retries check until it returns "" or a minute has passed, for
// states a real cluster reaches asynchronously (a new topic's ISR).
func (a *adminTest) eventually(what string, check func() string) {
	a.t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%s: %s", what, msg)
		}
		<-tick.C
	}
}

func (a *adminTest) checkDescribe() {
	c := a.c
	a.eventually("new topic healthy", func() string {
		d := c.describeCluster("--topic", a.topic)
		p := d.Partitions
		if p.Total != adminTestPartitions || p.UnderReplicated != 0 || p.Offline != 0 || p.UnderMinISR != 0 {
			return fmt.Sprintf("partitions %+v", p)
		}
		return ""
	})
	d := c.describeCluster()
	if len(d.Agents) != len(a.agents) || d.Partitions.Total < adminTestPartitions || d.Topics < 1 {
		a.t.Fatalf("describe: %+v", d)
	}
	for i, ag := range d.Agents {
		if ag.ID != a.agents[i] || ag.Host == "" || ag.Port <= 0 {
			a.t.Fatalf("agent %d: %+v", i, ag)
		}
	}
	if d.Controller >= 0 && !slices.Contains(a.agents, d.Controller) {
		a.t.Fatalf("controller %d is not an agent (%v)", d.Controller, a.agents)
	}
	out := c.ok("", "cluster", "describe", "--topic", a.topic)
	for _, want := range []string{"Cluster ID:", "AGENT", "Partitions:", "3 in 1 topic"} {
		if !strings.Contains(out, want) {
			a.t.Fatalf("describe table lacks %q:\n%s", want, out)
		}
	}
	c.fails("topic does not exist", "cluster", "describe", "--topic", a.topic+"-missing")
}

func (a *adminTest) checkConfig() {
	c := a.c
	c.ok("", "config", "alter", "--topic", a.topic, "--set", "retention.ms=3600000")
	agent := strconv.Itoa(int(a.agents[0]))
	var rs []resourceConfigs
	// In a cluster the change reaches every broker a moment later, as in
	// Kafka; the describe may ask another one.
	a.eventually("retention.ms after alter", func() string {
		out := c.ok("", "config", "describe", "--topic", a.topic, "--agent", agent, "--output", "json")
		if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 2 {
			a.t.Fatalf("config describe: %v\n%s", err, out)
		}
		if rs[0].ResourceType != resourceAgent || rs[0].Name != agent || len(rs[0].Configs) == 0 || rs[1].ResourceType != resourceTopic {
			a.t.Fatalf("config describe resources: %+v", rs)
		}
		i := slices.IndexFunc(rs[1].Configs, func(e configEntry) bool { return e.Name == "retention.ms" })
		if i < 0 || *rs[1].Configs[i].Value != "3600000" || rs[1].Configs[i].Source != "DYNAMIC_TOPIC_CONFIG" {
			return fmt.Sprintf("%+v", rs[1].Configs)
		}
		return ""
	})
	out := c.ok("", "config", "describe", "--topic", a.topic, "--all", "--output", "json")
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 1 ||
		!slices.ContainsFunc(rs[0].Configs, func(e configEntry) bool { return e.Name == "min.insync.replicas" }) {
		a.t.Fatalf("config describe --all: %v\n%s", err, out)
	}
	if out := c.ok("", "config", "describe", "--topic", a.topic); !strings.Contains(out, "retention.ms") ||
		!strings.Contains(out, "3600000") {
		a.t.Fatalf("config describe table:\n%s", out)
	}
	c.fails("agent is not in the cluster: 4242", "config", "describe", "--agent", "4242")
	c.fails("topic does not exist", "config", "describe", "--topic", a.topic+"-missing")
}

func (a *adminTest) checkLogDirs() {
	c := a.c
	if !a.serves(kmsg.DescribeLogDirs) {
		c.fails("not supported by the broker (it does not serve DescribeLogDirs)", "log-dirs")
		return
	}
	var dirs []logDir
	out := c.ok("", "log-dirs", "--topic", a.topic, "--output", "json")
	if err := json.Unmarshal([]byte(out), &dirs); err != nil {
		a.t.Fatalf("log-dirs JSON: %v\n%s", err, out)
	}
	replicas := map[int32]int{}
	var size int64
	for _, d := range dirs {
		if d.Error != "" {
			a.t.Fatalf("log dir %+v", d)
		}
		for _, p := range d.Partitions {
			if p.Topic != a.topic {
				a.t.Fatalf("--topic %s listed %+v", a.topic, p)
			}
			replicas[p.Partition]++
			size += p.Size
		}
	}
	if len(replicas) != adminTestPartitions || size <= 0 {
		a.t.Fatalf("log-dirs: replicas per partition %v, total size %d\n%s", replicas, size, out)
	}
	if !a.fake { // kfake reports every partition on every broker
		for p, n := range replicas {
			if n != a.rf {
				a.t.Fatalf("partition %d has %d replicas in log dirs, want %d", p, n, a.rf)
			}
		}
	}
	agent := strconv.Itoa(int(a.agents[0]))
	if out := c.ok("", "log-dirs", "--agent", agent); !strings.Contains(out, "AGENT") {
		a.t.Fatalf("log-dirs table:\n%s", out)
	}
	c.fails("agent is not in the cluster: 4242", "log-dirs", "--agent", "4242")
}

func (a *adminTest) checkDeleteRecords() {
	c := a.c
	if !a.serves(kmsg.DeleteRecords) {
		c.fails("not supported by the broker (it does not serve DeleteRecords)",
			"delete-records", "--topic", a.topic, "--before", "1")
		return
	}
	var rs []recordDeletion
	out := c.ok("", "delete-records", "--topic", a.topic, "--partition", "0", "--before", "4", "--output", "json")
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 1 || rs[0].LowWatermark != 4 || rs[0].Before != 4 {
		a.t.Fatalf("delete-records: %v\n%s", err, out)
	}
	plan := fmt.Sprintf(`{"version":1,"partitions":[{"topic":%q,"partition":1,"offset":-1}]}`, a.topic)
	if out := c.ok(plan, "delete-records", "--offset-json", "-"); !strings.Contains(out, "Deleted") ||
		!strings.Contains(out, strconv.Itoa(adminTestRecords)) {
		a.t.Fatalf("delete-records --offset-json:\n%s", out)
	}
	d := c.describe(a.topic)
	if d.Partitions[0].LogStartOffset != 4 || d.Partitions[1].LogStartOffset != adminTestRecords ||
		d.Partitions[2].LogStartOffset != 0 {
		a.t.Fatalf("log start offsets after delete-records: %+v", d.Partitions)
	}
	c.fails("OFFSET_OUT_OF_RANGE", "delete-records", "--topic", a.topic, "--partition", "2", "--before", "1000")
	c.fails("partition 9 does not exist", "delete-records", "--topic", a.topic, "--partition", "9", "--before", "0")
}

func (a *adminTest) checkElectLeaders() {
	c := a.c
	if !a.serves(kmsg.ElectLeaders) {
		c.fails("not supported by the broker (it does not serve ElectLeaders)",
			"cluster", "elect-leaders", "--topic", a.topic)
		return
	}
	var rs []electionResult
	out := c.ok("", "cluster", "elect-leaders", "--topic", a.topic, "--output", "json")
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != adminTestPartitions {
		a.t.Fatalf("elect-leaders: %v\n%s", err, out)
	}
	for _, r := range rs {
		if r.Topic != a.topic || (r.Status != electionElected && r.Status != electionNotNeeded) {
			a.t.Fatalf("election %+v", r)
		}
	}
	c.fails("partition 9 does not exist", "cluster", "elect-leaders", "--topic", a.topic+":9")
}

func (a *adminTest) checkReassign() {
	c := a.c
	agents := make([]string, len(a.agents))
	for i, id := range a.agents {
		agents[i] = strconv.Itoa(int(id))
	}
	gen := []string{"topic", "reassign", "--generate", "--topics", a.topic, "--agents", strings.Join(agents, ",")}
	var plan reassignmentPlan
	out := c.ok("", append(gen, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan.Partitions) != adminTestPartitions {
		a.t.Fatalf("generate: %v\n%s", err, out)
	}
	for _, pp := range plan.Partitions {
		if len(pp.Replicas) != a.rf {
			a.t.Fatalf("planned %+v, want %d replicas", pp, a.rf)
		}
	}
	if out := c.ok("", gen...); !strings.Contains(out, "nothing was changed") || !strings.Contains(out, plan.compactJSON()) {
		a.t.Fatalf("generate dry run:\n%s", out)
	}
	file := filepath.Join(a.t.TempDir(), "plan.json")
	if err := os.WriteFile(file, []byte(plan.compactJSON()), 0o600); err != nil {
		a.t.Fatal(err)
	}
	if !a.serves(kmsg.AlterPartitionAssignments) || !a.serves(kmsg.ListPartitionReassignments) {
		c.fails("not supported by the broker (it does not serve", "topic", "reassign", "--plan", file, "--execute")
		return
	}
	if a.fake {
		return // kfake moves nothing; TestReassignKfake covers the rest
	}
	out = c.ok("", "topic", "reassign", "--plan", file, "--execute", "--wait", "--poll-interval", "200ms")
	if !strings.Contains(out, "All 3 partitions have their planned replicas.") {
		a.t.Fatalf("execute --wait:\n%s", out)
	}
	c.ok("", "topic", "reassign", "--plan", file, "--verify")
	d := c.describe(a.topic)
	for i, p := range d.Partitions {
		if !slices.Equal(p.Replicas, plan.Partitions[i].Replicas) {
			a.t.Fatalf("partition %d has replicas %v, planned %v", i, p.Replicas, plan.Partitions[i].Replicas)
		}
	}
	// Nothing is moving: cancelling finds nothing to cancel.
	if out := c.ok("", "topic", "reassign", "--plan", file, "--cancel"); !strings.Contains(out, "No reassignment in progress") {
		a.t.Fatalf("cancel:\n%s", out)
	}
	// Leadership follows the new preferred replicas after an election.
	if a.serves(kmsg.ElectLeaders) {
		c.ok("", "cluster", "elect-leaders", "--topic", a.topic)
		a.eventually("leaders on preferred replicas", func() string {
			if d := c.describeCluster("--topic", a.topic); d.Partitions.PreferredLeaderImbalance != 0 {
				return fmt.Sprintf("%+v", d.Partitions)
			}
			return ""
		})
	}
}

// TestClusterDescribeHealth serves crafted metadata with one partition of
// every kind of problem, which kfake cannot produce on its own, and checks
// the counts, filters and table of cluster describe.
func TestClusterDescribeHealth(t *testing.T) {
	cluster := startKfake(t, kfake.NumBrokers(3))
	c := newCLI(t, strings.Join(cluster.ListenAddrs(), ","))
	c.ok("", "topic", "create", "health", "--partitions", "5", "--replication-factor", "3",
		"--config", "min.insync.replicas=2")
	// The crafted metadata keeps kfake's cluster ID and broker IDs, which
	// the client checks again when it connects to each broker.
	clusterID := c.describeCluster().ClusterID
	var brokers []kmsg.MetadataResponseBroker
	for i, addr := range cluster.ListenAddrs() {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host = int32(i), host
		p, _ := strconv.Atoi(port)
		b.Port = int32(p)
		if i == 2 {
			b.Rack = kmsg.StringPtr("rack-b")
		}
		brokers = append(brokers, b)
	}
	type part struct {
		leader          int32
		replicas, isr   []int32
		offlineReplicas []int32
		err             *kerr.Error
	}
	parts := []part{
		{0, []int32{0, 1, 2}, []int32{0, 1, 2}, nil, nil},                            // healthy
		{1, []int32{1, 2, 0}, []int32{1, 2}, nil, nil},                               // under-replicated
		{-1, []int32{2, 0, 1}, []int32{}, []int32{2, 0, 1}, kerr.LeaderNotAvailable}, // offline
		{1, []int32{0, 1, 2}, []int32{0, 1, 2}, nil, nil},                            // not preferred
		{2, []int32{2, 0, 1}, []int32{2}, []int32{0, 1}, nil},                        // under min ISR
	}
	cluster.ControlKey(int16(kmsg.Metadata), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		resp := kreq.(*kmsg.MetadataRequest).ResponseKind().(*kmsg.MetadataResponse)
		resp.Brokers, resp.ClusterID, resp.ControllerID = brokers, kmsg.StringPtr(clusterID), 1
		rt := kmsg.NewMetadataResponseTopic()
		rt.Topic = kmsg.StringPtr("health")
		for i, p := range parts {
			rp := kmsg.NewMetadataResponseTopicPartition()
			rp.Partition, rp.Leader, rp.Replicas, rp.ISR, rp.OfflineReplicas = int32(i), p.leader, p.replicas, p.isr, p.offlineReplicas
			if p.err != nil {
				rp.ErrorCode = p.err.Code
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
		return resp, nil, true
	})

	d := c.describeCluster()
	h := d.Partitions
	if d.ClusterID != clusterID || clusterID == "" || d.Controller != 1 || len(d.Agents) != 3 || d.Topics != 1 ||
		d.Agents[2].Rack == nil || *d.Agents[2].Rack != "rack-b" || d.Agents[0].Rack != nil {
		t.Fatalf("describe: %+v", d)
	}
	if h.Total != 5 || h.UnderReplicated != 3 || h.UnderMinISR != 2 || h.Offline != 1 || h.PreferredLeaderImbalance != 1 {
		t.Fatalf("counts: %+v", h)
	}
	listed := func(d clusterDescription) []int32 {
		var ps []int32
		for _, s := range d.Partitions.Affected {
			ps = append(ps, s.Partition)
		}
		return ps
	}
	if got := listed(d); !slices.Equal(got, []int32{1, 2, 3, 4}) {
		t.Fatalf("affected %v", got)
	}
	if s := d.Partitions.Affected[3]; s.MinInsyncReplicas != 2 || !slices.Equal(s.OfflineReplicas, []int32{0, 1}) || s.Offline {
		t.Fatalf("partition 4: %+v", s)
	}
	for _, tc := range []struct {
		args []string
		want []int32
	}{
		{[]string{"--offline"}, []int32{2}},
		{[]string{"--under-replicated"}, []int32{1, 2, 4}},
		{[]string{"--under-min-isr", "--leader-imbalance"}, []int32{2, 3, 4}},
	} {
		if got := listed(c.describeCluster(tc.args...)); !slices.Equal(got, tc.want) {
			t.Errorf("%v: listed %v, want %v", tc.args, got, tc.want)
		}
	}
	out := c.ok("", "cluster", "describe")
	for _, row := range [][]string{
		{"Cluster", "ID:", clusterID},
		{"1", "(controller)", "127.0.0.1"},
		{"Under-replicated:", "3"},
		{"Under", "min", "ISR:", "2"},
		{"Offline:", "1"},
		{"health", "2", "none", "2,0,1", "-", "2", "offline,under-min-isr,under-replicated", "(LEADER_NOT_AVAILABLE:"},
		{"health", "3", "1", "0,1,2", "0,1,2", "2", "not-preferred-leader"},
		{"health", "4", "2", "2,0,1", "2", "2", "under-min-isr,under-replicated"},
	} {
		if !hasRow(out, row...) {
			t.Errorf("table has no row starting %q:\n%s", row, out)
		}
	}
	if !strings.Contains(out, "rack-b") {
		t.Errorf("table lacks the rack:\n%s", out)
	}
}

// hasRow reports whether a line of table out starts with fields.
func hasRow(out string, fields ...string) bool {
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) >= len(fields) && slices.Equal(f[:len(fields)], fields) {
			return true
		}
	}
	return false
}

// TestElectLeadersKfake checks the ElectLeaders requests elect-leaders
// sends and how it reports partitions that need no election or fail.
func TestElectLeadersKfake(t *testing.T) {
	cluster := startKfake(t, kfake.NumBrokers(3))
	c := newCLI(t, strings.Join(cluster.ListenAddrs(), ","))
	c.ok("", "topic", "create", "t", "--partitions", "3", "--replication-factor", "3")
	var (
		mu   sync.Mutex
		reqs []*kmsg.ElectLeadersRequest
	)
	cluster.ControlKey(int16(kmsg.ElectLeaders), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		mu.Lock()
		defer mu.Unlock()
		reqs = append(reqs, kreq.(*kmsg.ElectLeadersRequest))
		return nil, nil, false // observe only
	})
	last := func() *kmsg.ElectLeadersRequest {
		mu.Lock()
		defer mu.Unlock()
		return reqs[len(reqs)-1]
	}

	var rs []electionResult
	out := c.ok("", "cluster", "elect-leaders", "--topic", "t:2,0", "--output", "json")
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 2 || rs[0].Partition != 0 ||
		rs[1].Partition != 2 || rs[0].Status != electionElected {
		t.Fatalf("elect: %v\n%s", err, out)
	}
	if r := last(); r.ElectionType != 0 || len(r.Topics) != 1 || r.Topics[0].Topic != "t" ||
		!slices.Equal(slices.Sorted(slices.Values(r.Topics[0].Partitions)), []int32{0, 2}) {
		t.Fatalf("request %+v", r)
	}

	out = c.ok("", "cluster", "elect-leaders", "--all-topics", "--type", "unclean")
	if r := last(); r.ElectionType != 1 || r.Topics != nil {
		t.Fatalf("--all-topics --type unclean request: %+v", r)
	}
	if !strings.Contains(out, "Elected 3, not needed 0, failed 0.") {
		t.Fatalf("table:\n%s", out)
	}

	// A broker answering "not needed" for one partition and failing another.
	cluster.ControlKey(int16(kmsg.ElectLeaders), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		resp := kreq.(*kmsg.ElectLeadersRequest).ResponseKind().(*kmsg.ElectLeadersResponse)
		rt := kmsg.NewElectLeadersResponseTopic()
		rt.Topic = "t"
		for p, code := range []int16{kerr.ElectionNotNeeded.Code, kerr.EligibleLeadersNotAvailable.Code} {
			rp := kmsg.NewElectLeadersResponseTopicPartition()
			rp.Partition, rp.ErrorCode = int32(p), code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
		return resp, nil, true
	})
	r := c.run("", "cluster", "elect-leaders", "--topic", "t:0,1")
	if r.code != 1 || !strings.Contains(r.stdout, "Not needed") ||
		!strings.Contains(r.stderr, "1 of 2 partitions failed, first: t-1: ELIGIBLE_LEADERS_NOT_AVAILABLE") ||
		!strings.Contains(r.stderr, "--type unclean elects an out-of-sync one") {
		t.Fatalf("failed election: %+v", r)
	}
	c.fails("partition 7 does not exist", "cluster", "elect-leaders", "--topic", "t:7")
	c.fails("topic does not exist", "cluster", "elect-leaders", "--topic", "nope")
}

// TestReassignKfake takes a plan through generate, dry run, execute, verify
// (with an ongoing reassignment crafted by a control function), cancel and
// the failure paths.
func TestReassignKfake(t *testing.T) {
	cluster := startKfake(t, kfake.NumBrokers(3))
	c := newCLI(t, strings.Join(cluster.ListenAddrs(), ","))
	c.ok("", "topic", "create", "t", "--partitions", "3", "--replication-factor", "3")
	for p := range int32(3) { // kfake lists the leader's replica first: [0,1,2] for all
		if err := cluster.MoveTopicPartition("t", p, 0); err != nil {
			t.Fatal(err)
		}
	}

	// Generate over agents 1,2,0: partition 2 keeps its replicas.
	out := c.ok("", "topic", "reassign", "--generate", "--topics", "t", "--agents", "1,2,0", "--output", "json")
	wantPlan := `{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,0]},` +
		`{"topic":"t","partition":1,"replicas":[2,0,1]},{"topic":"t","partition":2,"replicas":[0,1,2]}]}`
	plan, err := parsePlan([]byte(out))
	if err != nil || plan.compactJSON() != wantPlan {
		t.Fatalf("generated %v:\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	rollback := `{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[0,1,2]},` +
		`{"topic":"t","partition":1,"replicas":[0,1,2]},{"topic":"t","partition":2,"replicas":[0,1,2]}]}`
	out = c.ok("", "topic", "reassign", "--plan", file)
	if !strings.Contains(out, "2 of 3 partitions would change; nothing was changed") || !strings.Contains(out, rollback) {
		t.Fatalf("dry run:\n%s", out)
	}

	// Before executing, verify says what is missing.
	c.fails("reassignment is not complete: 2 of 3 partitions do not have their planned replicas and none is moving: "+
		"start the reassignment with --execute", "topic", "reassign", "--plan", file, "--verify")

	// Execute: the request carries the plan.
	var alters atomic.Pointer[kmsg.AlterPartitionAssignmentsRequest]
	cluster.ControlKey(int16(kmsg.AlterPartitionAssignments), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		alters.Store(kreq.(*kmsg.AlterPartitionAssignmentsRequest))
		return nil, nil, false
	})
	out = c.ok("", "topic", "reassign", "--plan", file, "--execute")
	if !strings.Contains(out, "save it to roll back") || !strings.Contains(out, rollback) ||
		strings.Count(out, "Reassignment started") != 3 || !strings.Contains(out, "Started 3 reassignments.") {
		t.Fatalf("execute:\n%s", out)
	}
	got := replicaAssignment{}
	for _, rt := range alters.Load().Topics {
		got[rt.Topic] = map[int32][]int32{}
		for _, rp := range rt.Partitions {
			got[rt.Topic][rp.Partition] = rp.Replicas
		}
	}
	for _, pp := range plan.Partitions {
		if !slices.Equal(got[pp.Topic][pp.Partition], pp.Replicas) {
			t.Fatalf("request %v, plan %s", got, wantPlan)
		}
	}

	// While partition 0 moves, 1 has not moved and 2 needs no move.
	cluster.ControlKey(int16(kmsg.ListPartitionReassignments), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		return ongoingReassignments(kreq, "t", 0), nil, true
	})
	r := c.run("", "topic", "reassign", "--plan", file, "--verify")
	if r.code != 1 || !strings.Contains(r.stderr, "1 of 3 partitions still moving (wait for them with --verify --wait); "+
		"1 more lack their planned replicas and are not moving") || !hasRow(r.stdout, "t", "0", "0,1,2,3", "1,2,0", "In", "progress", "(adding", "3,", "removing", "0)") ||
		!hasRow(r.stdout, "t", "2", "0,1,2", "0,1,2", "Complete") {
		t.Fatalf("verify while moving: %+v", r)
	}

	// The cluster "moves" the partitions; for its first three polls,
	// ListPartitionReassignments still reports 0 and 1 as moving.
	if err := cluster.MoveTopicPartition("t", 0, 1); err != nil {
		t.Fatal(err)
	}
	if err := cluster.MoveTopicPartition("t", 1, 2); err != nil {
		t.Fatal(err)
	}
	var polls atomic.Int32
	cluster.ControlKey(int16(kmsg.ListPartitionReassignments), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if polls.Add(1) > 3 {
			cluster.DropControl()
			return nil, nil, false
		}
		cluster.KeepControl()
		return ongoingReassignments(kreq, "t", 0, 1), nil, true
	})
	r = c.run("", "topic", "reassign", "--plan", file, "--verify", "--wait", "--poll-interval", "10ms")
	if r.code != 0 || !strings.Contains(r.stderr, "waiting: 2 of 3 partitions still moving: t-0 (adding 3, removing 0), t-1") ||
		!strings.Contains(r.stderr, "no partition of the plan is moving any more") ||
		!strings.Contains(r.stdout, "All 3 partitions have their planned replicas.") || strings.Count(r.stdout, "Complete") != 3 {
		t.Fatalf("verify --wait: %+v", r)
	}

	// Execute --wait as JSON: one document, with the rollback plan.
	var rep reassignmentReport
	out = c.ok("", "topic", "reassign", "--plan", file, "--execute", "--wait", "--poll-interval", "10ms", "--output", "json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Action != reassignExecute || rep.Rollback == nil ||
		rep.Rollback.compactJSON() != wantPlan || len(rep.Partitions) != 3 || rep.Partitions[0].Status != reassignComplete {
		t.Fatalf("execute --wait JSON: %v\n%s", err, out)
	}

	// Cancel: nothing is in progress.
	out = c.ok("", "topic", "reassign", "--plan", file, "--cancel", "--output", "json")
	rep = reassignmentReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Action != reassignCancel || rep.Rollback != nil ||
		rep.Partitions[2].Status != reassignNotInProgress {
		t.Fatalf("cancel: %v\n%s", err, out)
	}

	// A partition the cluster refuses.
	cluster.ControlKey(int16(kmsg.AlterPartitionAssignments), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.AlterPartitionAssignmentsRequest)
		resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
				sp.Partition = rp.Partition
				if rp.Partition == 1 {
					sp.ErrorCode, sp.ErrorMessage = kerr.InvalidReplicaAssignment.Code, kmsg.StringPtr("agent 2 is fenced")
				}
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	c.fails("start reassignment: 1 of 3 partitions failed, first: t-1: INVALID_REPLICA_ASSIGNMENT", "topic", "reassign", "--plan", file, "--execute")

	writePlan := func(body string) string {
		f := filepath.Join(t.TempDir(), "p.json")
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	c.fails("invalid plan: agent is not in the cluster: 7 (the cluster has agents 0,1,2",
		"topic", "reassign", "--plan", writePlan(`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[7,1,2]}]}`), "--execute")
	c.fails(`partition 5 of topic "t" does not exist`,
		"topic", "reassign", "--plan", writePlan(`{"version":1,"partitions":[{"topic":"t","partition":5,"replicas":[0]}]}`))
	c.fails("topic does not exist", "topic", "reassign", "--generate", "--topics", "nope", "--agents", "0")
	c.fails("--agents: agent is not in the cluster: 9", "topic", "reassign", "--generate", "--topics", "t", "--agents", "0,9")
	c.fails(`topic "t" has 3 replicas per partition but --agents lists only 2 agents`,
		"topic", "reassign", "--generate", "--topics", "t", "--agents", "0,1")
}

// ongoingReassignments answers a ListPartitionReassignments request with
// partitions ps of topic moving from agent 0 to agent 3.
func ongoingReassignments(kreq kmsg.Request, topic string, ps ...int32) kmsg.Response {
	resp := kreq.(*kmsg.ListPartitionReassignmentsRequest).ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	rt := kmsg.NewListPartitionReassignmentsResponseTopic()
	rt.Topic = topic
	for _, p := range ps {
		rp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
		rp.Partition, rp.Replicas = p, []int32{0, 1, 2, 3}
		rp.AddingReplicas, rp.RemovingReplicas = []int32{3}, []int32{0}
		rt.Partitions = append(rt.Partitions, rp)
	}
	resp.Topics = append(resp.Topics, rt)
	return resp
}

// TestReassignWaitInterrupted checks that Ctrl-C while waiting stops
// waiting, says the reassignment goes on, and exits 1.
func TestReassignWaitInterrupted(t *testing.T) {
	cluster := startKfake(t, kfake.NumBrokers(3))
	c := newCLI(t, strings.Join(cluster.ListenAddrs(), ","))
	c.ok("", "topic", "create", "t", "--partitions", "1", "--replication-factor", "3")
	cluster.ControlKey(int16(kmsg.ListPartitionReassignments), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		return ongoingReassignments(kreq, "t", 0), nil, true
	})
	file := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(file, []byte(`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails("reassignment is not complete: 1 of 1 partition still moving (wait for them with --verify --wait)",
		"topic", "reassign", "--plan", file, "--verify")

	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	stderr := &signalWriter{n: 1, ready: make(chan struct{})}
	ready := stderr.ready
	done := runAsync(ctx, strings.NewReader(""), io.Discard, stderr, "topic", "reassign", "--plan", file, "--verify",
		"--wait", "--poll-interval", "10ms", "--bootstrap-server", c.bootstrap)
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("exited early with %d: %s", code, stderr.String())
	}
	cancel()
	if code := waitExit(t, done); code != 1 || !strings.Contains(stderr.String(), "waiting: 1 of 1 partition still moving") ||
		!strings.Contains(stderr.String(), "the reassignments go on in the cluster") ||
		!strings.HasSuffix(stderr.String(), "strata: interrupted\n") {
		t.Fatalf("interrupted wait: exit %d, stderr %q", code, stderr.String())
	}
}

// TestAdminCommandsUnsupported checks the clear failure of each command
// whose API the broker does not serve, and that what needs only Metadata
// still works.
func TestAdminCommandsUnsupported(t *testing.T) {
	vs := kversion.Stable()
	for _, k := range []kmsg.Key{kmsg.ElectLeaders, kmsg.AlterPartitionAssignments, kmsg.ListPartitionReassignments,
		kmsg.DescribeLogDirs, kmsg.DeleteRecords, kmsg.IncrementalAlterConfigs} {
		vs.SetMaxKeyVersion(int16(k), -1)
	}
	c := newCLI(t, startKfake(t, kfake.MaxVersions(vs)).ListenAddrs()[0])
	c.ok("", "topic", "create", "t")
	file := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(file, []byte(`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[0]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"leader election: not supported by the broker (it does not serve ElectLeaders)", []string{"cluster", "elect-leaders", "--all-topics"}},
		{"partition reassignment: not supported by the broker (it does not serve AlterPartitionReassignments)",
			[]string{"topic", "reassign", "--plan", file, "--execute"}},
		{"(it does not serve AlterPartitionReassignments)", []string{"topic", "reassign", "--plan", file, "--cancel"}},
		{"(it does not serve ListPartitionReassignments)", []string{"topic", "reassign", "--plan", file, "--verify"}},
		{"describing log directories: not supported by the broker (it does not serve DescribeLogDirs)", []string{"log-dirs"}},
		{"deleting records: not supported by the broker (it does not serve DeleteRecords)",
			[]string{"delete-records", "--topic", "t", "--before", "0"}},
		{"altering agent configs: not supported by the broker (it does not serve IncrementalAlterConfigs)",
			[]string{"config", "alter", "--agent", "0", "--set", "log.retention.ms=1000"}},
	} {
		c.fails(tc.want, tc.args...)
	}
	if out := c.ok("", "topic", "reassign", "--plan", file); !strings.Contains(out, "0 of 1 partition would change") {
		t.Fatalf("dry run:\n%s", out)
	}
	if d := c.describeCluster(); d.Partitions.Total != 1 || len(d.Agents) != 1 {
		t.Fatalf("describe: %+v", d)
	}

	// Unclean elections need ElectLeaders v1.
	vs = kversion.Stable()
	vs.SetMaxKeyVersion(int16(kmsg.ElectLeaders), 0)
	c = newCLI(t, startKfake(t, kfake.MaxVersions(vs)).ListenAddrs()[0])
	c.fails("--type unclean: not supported by the broker (it serves ElectLeaders up to v0; unclean elections need v1",
		"cluster", "elect-leaders", "--all-topics", "--type", "unclean")

	// Without DescribeConfigs, describe warns and reports under-min-ISR as unknown.
	vs = kversion.Stable()
	vs.SetMaxKeyVersion(int16(kmsg.DescribeConfigs), -1)
	c = newCLI(t, startKfake(t, kfake.MaxVersions(vs)).ListenAddrs()[0])
	c.ok("", "topic", "create", "t")
	r := c.run("", "cluster", "describe")
	if r.code != 0 || !strings.Contains(r.stderr, "does not serve DescribeConfigs") ||
		!hasRow(r.stdout, "Under", "min", "ISR:", "unknown") {
		t.Fatalf("describe without DescribeConfigs: %+v", r)
	}
}

// TestAgentConfigKfake alters and describes agent configs, including the
// cluster-wide defaults, on kfake, which keeps dynamic broker configs.
func TestAgentConfigKfake(t *testing.T) {
	c := newCLI(t, strings.Join(startKfake(t, kfake.NumBrokers(2)).ListenAddrs(), ","))
	if out := c.ok("", "config", "alter", "--agent", "1", "--set", "log.retention.ms=1234"); out != "Updated configs of agent 1 (1 set, 0 deleted).\n" {
		t.Fatalf("alter: %q", out)
	}
	c.ok("", "config", "alter", "--agent-defaults", "--set", "log.retention.bytes=99")
	var rs []resourceConfigs
	out := c.ok("", "config", "describe", "--agent", "1,0", "--agent-defaults", "--output", "json")
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 3 {
		t.Fatalf("describe: %v\n%s", err, out)
	}
	value := func(r resourceConfigs, name string) string {
		for _, e := range r.Configs {
			if e.Name == name && e.Value != nil {
				return *e.Value + " " + e.Source
			}
		}
		return ""
	}
	if rs[0].Name != "1" || rs[1].Name != "0" || rs[2].ResourceType != resourceAgentDefaults || rs[2].Name != "" ||
		value(rs[0], "log.retention.ms") != "1234 DYNAMIC_BROKER_CONFIG" ||
		value(rs[2], "log.retention.bytes") != "99 DYNAMIC_BROKER_CONFIG" {
		t.Fatalf("describe: %+v", rs)
	}
	if out := c.ok("", "config", "describe", "--agent", "1"); !strings.Contains(out, "Configs of agent 1") ||
		!strings.Contains(out, "log.retention.ms") {
		t.Fatalf("describe table:\n%s", out)
	}
	c.ok("", "config", "alter", "--agent", "1", "--delete", "log.retention.ms")
	out = c.ok("", "config", "describe", "--agent", "1", "--output", "json")
	if err := json.Unmarshal([]byte(out), &rs); err != nil || value(rs[0], "log.retention.ms") == "1234 DYNAMIC_BROKER_CONFIG" {
		t.Fatalf("after delete: %v %+v", err, rs)
	}
	c.fails("alter configs of agent 1: INVALID_REQUEST", "config", "alter", "--agent", "1", "--set", "log.retention.ms=soon")
	c.fails("agent is not in the cluster: 5", "config", "alter", "--agent", "5", "--set", "log.retention.ms=1")
}
