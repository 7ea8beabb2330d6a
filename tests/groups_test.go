package tests

// Consumer groups against a real agent process: franz-go group consumers
// with every client-side assignor while a producer writes, members that
// leave and members that are killed, static membership, committed offsets
// across restarts of the consumers and of the agent, and Kafka's error
// codes for bad group requests.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupAgentFlags make rebalances quick: no initial rebalance delay to
// speak of, and session timeouts down to a second allowed.
var groupAgentFlags = []string{"--group-initial-rebalance-delay", "100ms", "--group-min-session-timeout", "1s"}

// groupSession is the session timeout of the test consumers.
const groupSession = 3 * time.Second

// ownership tracks which member owns each partition, from the members'
// assignment callbacks, and records every moment a partition is assigned
// to a live member while another live member still owns it.
type ownership struct {
	mu         sync.Mutex
	owner      map[int32]string
	dead       map[string]bool
	assigns    map[string]int // assignment callbacks per member
	violations []string
}

func newOwnership() *ownership {
	return &ownership{owner: map[int32]string{}, dead: map[string]bool{}, assigns: map[string]int{}}
}

func (o *ownership) assigned(member string, ps []int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.assigns[member]++
	for _, p := range ps {
		if cur, ok := o.owner[p]; ok && cur != member && !o.dead[cur] {
			o.violations = append(o.violations, fmt.Sprintf("partition %d assigned to %s while %s owns it", p, member, cur))
		}
		o.owner[p] = member
	}
}

func (o *ownership) revoked(member string, ps []int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range ps {
		if o.owner[p] == member {
			delete(o.owner, p)
		}
	}
}

// kill marks member dead: what it still thinks it owns does not count.
func (o *ownership) kill(member string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dead[member] = true
	for p, m := range o.owner {
		if m == member {
			delete(o.owner, p)
		}
	}
}

// check returns nil once every partition is owned by a live member and
// every member in want owns some; it fails the test on any violation.
func (o *ownership) check(t testing.TB, partitions int, want ...string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.violations) > 0 {
		t.Fatalf("a partition had two live owners: %v", o.violations)
	}
	byMember := map[string][]int32{}
	for p, m := range o.owner {
		byMember[m] = append(byMember[m], p)
	}
	if len(o.owner) != partitions {
		return fmt.Errorf("%d of %d partitions owned: %v", len(o.owner), partitions, byMember)
	}
	for _, m := range want {
		if len(byMember[m]) == 0 {
			return fmt.Errorf("%s owns nothing: %v", m, byMember)
		}
	}
	if len(byMember) != len(want) {
		return fmt.Errorf("owners %v, want exactly %v", byMember, want)
	}
	return nil
}

func (o *ownership) partitionsOf(member string) []int32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ps []int32
	for p, m := range o.owner {
		if m == member {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	return ps
}

// cutDialer dials normally until cut, then closes every connection it
// made and refuses new ones: the client looks crashed to the broker.
type cutDialer struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func (d *cutDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		return nil, errors.New("network cut by the test")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *cutDialer) sever() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	for _, c := range d.conns {
		_ = c.Close()
	}
}

func (d *cutDialer) restore() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = false
}

// consumed is the set of records the group's members read.
type consumed struct {
	mu   sync.Mutex
	recs map[int32]map[int64]bool
}

func (c *consumed) add(rs []*kgo.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rs {
		if c.recs[r.Partition] == nil {
			c.recs[r.Partition] = map[int64]bool{}
		}
		c.recs[r.Partition][r.Offset] = true
	}
}

// missing returns how many of the records below end were not consumed.
func (c *consumed) missing(end map[int32]int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for p, e := range end {
		for o := int64(0); o < e; o++ {
			if !c.recs[p][o] {
				n++
			}
		}
	}
	return n
}

// groupMember is one franz-go group consumer with its poll loop.
type groupMember struct {
	name   string
	cl     *kgo.Client
	dialer *cutDialer
	cancel context.CancelFunc
	done   chan struct{}
}

// stop ends the poll loop.
func (m *groupMember) stop() {
	m.cancel()
	<-m.done
}

// groupRun is one group scenario: a topic, the group's members, what they
// own and what they read.
type groupRun struct {
	t        *testing.T
	addr     string
	topic    string
	group    string
	own      *ownership
	consumed *consumed
}

func newGroupRun(t *testing.T, addr, topic string, partitions int32) *groupRun {
	createTopic(t, addr, topic, partitions, nil)
	return &groupRun{t: t, addr: addr, topic: topic, group: topic + "-group", own: newOwnership(),
		consumed: &consumed{recs: map[int32]map[int64]bool{}}}
}

// join starts member name with the given balancer and extra options; it
// reads records until stopped, committing automatically and on revoke.
func (g *groupRun) join(name string, balancer kgo.GroupBalancer, opts ...kgo.Opt) *groupMember {
	m := &groupMember{name: name, dialer: &cutDialer{}, done: make(chan struct{})}
	base := []kgo.Opt{
		kgo.SeedBrokers(g.addr),
		kgo.Dialer(m.dialer.dial),
		kgo.RetryTimeout(20 * time.Second),
		kgo.ClientID(name),
		kgo.ConsumerGroup(g.group),
		kgo.ConsumeTopics(g.topic),
		kgo.Balancers(balancer),
		kgo.SessionTimeout(groupSession),
		kgo.HeartbeatInterval(250 * time.Millisecond),
		kgo.RebalanceTimeout(10 * time.Second),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitInterval(200 * time.Millisecond),
		kgo.FetchMaxWait(100 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			g.own.assigned(name, a[g.topic])
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			// Commit what was read before the partitions move on.
			_ = cl.CommitUncommittedOffsets(ctx)
			g.own.revoked(name, r[g.topic])
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
			g.own.revoked(name, l[g.topic])
		}),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		g.t.Fatal(err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			// Every record a poll returns is counted before anything
			// else can commit past it.
			g.consumed.add(cl.PollFetches(ctx).Records())
		}
	}()
	g.t.Cleanup(func() {
		m.stop()
		m.dialer.restore()
		cl.Close()
	})
	return m
}

// leave stops m's loop and closes it: it commits and leaves the group.
func (g *groupRun) leave(m *groupMember) {
	m.stop()
	m.cl.Close()
}

// kill makes m look crashed: its connections drop and it cannot reconnect,
// so it neither heartbeats nor leaves.
func (g *groupRun) kill(m *groupMember) {
	m.dialer.sever()
	g.own.kill(m.name)
}

// waitOwners waits until the members in want own every partition.
func (g *groupRun) waitOwners(partitions int, within time.Duration, want ...string) time.Duration {
	g.t.Helper()
	start := time.Now()
	checkFor(g.t, within, func() error { return g.own.check(g.t, partitions, want...) })
	return time.Since(start)
}

// producer writes records to the topic until stopped, spreading them over
// the partitions, and reports where each landed.
type producer struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	end    map[int32]int64 // per partition: one past the last acknowledged offset
	err    error
}

func startProducer(t *testing.T, addr, topic string) *producer {
	cl := newClient(t, addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx, cancel := context.WithCancel(context.Background())
	p := &producer{cancel: cancel, done: make(chan struct{}), end: map[int32]int64{}}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(20 * time.Millisecond) // pacing: ~500 records/s
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var batch []*kgo.Record
			for j := range 10 {
				batch = append(batch, &kgo.Record{Value: fmt.Appendf(nil, "r%d-%d", i, j)})
			}
			res := cl.ProduceSync(context.Background(), batch...)
			p.mu.Lock()
			for _, r := range res {
				if r.Err != nil {
					p.err = r.Err
					continue
				}
				p.end[r.Record.Partition] = max(p.end[r.Record.Partition], r.Record.Offset+1)
			}
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// stop stops producing and returns the end offsets of what was produced.
func (p *producer) stop() map[int32]int64 {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.end
}

func (p *producer) produced() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, e := range p.end {
		n += e
	}
	return n
}

// TestGroupConsumers runs three consumers of one group over a 6-partition
// topic while a producer writes, with each client-side assignor: all
// partitions are always owned, never by two live members at once; when a
// member leaves, the others take its partitions within the session
// timeout; when one is killed (no leave, no heartbeats), as soon as its
// session expires; and every record produced is consumed.
func TestGroupConsumers(t *testing.T) {
	ag := startAgent(t, groupAgentFlags...)
	for _, tc := range []struct {
		name     string
		balancer kgo.GroupBalancer
		kill     bool
	}{
		{"range", kgo.RangeBalancer(), true},
		{"cooperative-sticky", kgo.CooperativeStickyBalancer(), true},
		{"roundrobin", kgo.RoundRobinBalancer(), false},
		{"sticky", kgo.StickyBalancer(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGroupRun(t, ag.addr, compatTopic(t, "t"), 6)
			prod := startProducer(t, ag.addr, g.topic)
			a, b := g.join("a", tc.balancer), g.join("b", tc.balancer)
			g.join("c", tc.balancer)
			g.waitOwners(6, 15*time.Second, "a", "b", "c")
			checkFor(t, 10*time.Second, func() error {
				if prod.produced() < 300 {
					return errors.New("producer still warming up")
				}
				return nil
			})

			g.leave(a)
			took := g.waitOwners(6, groupSession, "b", "c")
			t.Logf("%s: the others took over a leaving member's partitions in %v", tc.name, took)

			if tc.kill {
				g.kill(b)
				took = g.waitOwners(6, groupSession+3*time.Second, "c")
				t.Logf("%s: the survivor took over a killed member's partitions %v after the kill (session timeout %v)",
					tc.name, took.Round(time.Millisecond), groupSession)
			}

			end := prod.stop()
			checkFor(t, 20*time.Second, func() error {
				if n := g.consumed.missing(end); n > 0 {
					return fmt.Errorf("%d of %d records not consumed", n, prod.produced())
				}
				return nil
			})
		})
	}
}

// TestGroupStaticMembership: a static member (group.instance.id) that
// restarts within its session gets its partitions back in the same
// generation: nobody rebalances.
func TestGroupStaticMembership(t *testing.T) {
	ag := startAgent(t, groupAgentFlags...)
	g := newGroupRun(t, ag.addr, compatTopic(t, "t"), 6)
	static := func(name string) *groupMember {
		return g.join(name, kgo.RangeBalancer(), kgo.InstanceID("instance-"+name))
	}
	members := map[string]*groupMember{"a": static("a"), "b": static("b"), "c": static("c")}
	g.waitOwners(6, 15*time.Second, "a", "b", "c")
	gens := map[string]int32{}
	checkFor(t, 10*time.Second, func() error {
		for name, m := range members {
			_, gen := m.cl.GroupMetadata()
			gens[name] = gen
		}
		if gens["a"] != gens["b"] || gens["b"] != gens["c"] || gens["a"] <= 0 {
			return fmt.Errorf("members disagree on the generation: %v", gens)
		}
		return nil
	})
	gen := gens["a"]
	before := g.own.partitionsOf("b")
	assignsBefore := map[string]int{}
	g.own.mu.Lock()
	for k, v := range g.own.assigns {
		assignsBefore[k] = v
	}
	g.own.mu.Unlock()

	// b restarts: a static member does not leave when it closes.
	g.leave(members["b"])
	g.own.revoked("b", before) // the closed client revoked; the group did not
	restarted := static("b")
	checkFor(t, 10*time.Second, func() error {
		if got := g.own.partitionsOf("b"); !slices.Equal(got, before) {
			return fmt.Errorf("restarted member owns %v, had %v", got, before)
		}
		return nil
	})
	if _, g2 := restarted.cl.GroupMetadata(); g2 != gen {
		t.Errorf("restarted static member is in generation %d, the group was in %d", g2, gen)
	}
	for _, name := range []string{"a", "c"} {
		if _, g2 := members[name].cl.GroupMetadata(); g2 != gen {
			t.Errorf("member %s moved from generation %d to %d: the group rebalanced", name, gen, g2)
		}
		g.own.mu.Lock()
		n := g.own.assigns[name]
		g.own.mu.Unlock()
		if n != assignsBefore[name] {
			t.Errorf("member %s was assigned partitions again: the group rebalanced", name)
		}
	}
	desc := describeGroup(t, ag.addr, g.group)
	if desc.State != "Stable" || len(desc.Members) != 3 {
		t.Errorf("group after the restart: %s with %d members", desc.State, len(desc.Members))
	}
}

func describeGroup(t *testing.T, addr, group string) kadm.DescribedGroup {
	t.Helper()
	adm := kadm.NewClient(newClient(t, addr))
	described, err := adm.DescribeGroups(testCtx(t, 10*time.Second), group)
	if err != nil {
		t.Fatalf("describe group %s: %v", group, err)
	}
	d := described[group]
	if d.Err != nil {
		t.Fatalf("describe group %s: %v", group, d.Err)
	}
	return d
}

// committedOffsets returns the group's committed offsets of topic.
func committedOffsets(t *testing.T, addr, group, topic string) map[int32]int64 {
	t.Helper()
	adm := kadm.NewClient(newClient(t, addr))
	resp, err := adm.FetchOffsets(testCtx(t, 10*time.Second), group)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, o := range resp[topic] {
		out[p] = o.At
	}
	return out
}

// TestGroupCommitSurvivesRestart: offsets a group commits survive a
// restart of its consumers and a crash of the agent, and the next consumer
// of the group resumes exactly at them.
func TestGroupCommitSurvivesRestart(t *testing.T) {
	ag := startAgent(t, groupAgentFlags...)
	topic := compatTopic(t, "t")
	createTopic(t, ag.addr, topic, 3, nil)
	var recs []*kgo.Record
	for p := range int32(3) {
		for i := range 40 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "p%d-%d", p, i)})
		}
	}
	produceSync(t, newClient(t, ag.addr, kgo.RecordPartitioner(kgo.ManualPartitioner())), recs...)
	group := topic + "-group"
	consumer := func() *kgo.Client {
		return newClient(t, ag.addr, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	}

	first := consumer()
	ctx := testCtx(t, 15*time.Second)
	var read []*kgo.Record
	for len(read) < len(recs) {
		fs := first.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d records: %v", len(read), err)
		}
		read = append(read, fs.Records()...)
	}
	// Commit up to a different offset in each partition.
	want := map[int32]int64{0: 10, 1: 25, 2: 33}
	var upTo []*kgo.Record
	for _, r := range read {
		if r.Offset+1 <= want[r.Partition] {
			upTo = append(upTo, r)
		}
	}
	if err := first.CommitRecords(testCtx(t, 10*time.Second), upTo...); err != nil {
		t.Fatalf("commit: %v", err)
	}
	first.Close()
	if got := committedOffsets(t, ag.addr, group, topic); !equalOffsets(got, want) {
		t.Fatalf("committed %v, want %v", got, want)
	}

	ag.kill() // no clean shutdown: the offsets must already be durable
	ag.restart()
	if got := committedOffsets(t, ag.addr, group, topic); !equalOffsets(got, want) {
		t.Fatalf("committed after the agent restarted %v, want %v", got, want)
	}
	var remaining int
	for p := range int32(3) {
		remaining += 40 - int(want[p])
	}
	second := consumer()
	rest := consumeN(t, second, remaining, 20*time.Second)
	first0 := map[int32]int64{}
	for _, r := range rest {
		if _, ok := first0[r.Partition]; !ok {
			first0[r.Partition] = r.Offset
		}
		if r.Offset < want[r.Partition] {
			t.Fatalf("resumed consumer read %s, before the committed offset %d", recordKey(r), want[r.Partition])
		}
	}
	for p, o := range want {
		if first0[p] != o {
			t.Errorf("partition %d resumed at %d, committed %d", p, first0[p], o)
		}
	}
}

func equalOffsets(got, want map[int32]int64) bool {
	for p, o := range want {
		if got[p] != o {
			return false
		}
	}
	for p, o := range got {
		if _, ok := want[p]; !ok && o != 0 {
			return false
		}
	}
	return true
}
