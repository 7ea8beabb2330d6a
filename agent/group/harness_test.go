package group

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metadata"
)

// fakeWrite is one write the state queued.
type fakeWrite struct {
	kind   string // put, commit, deleteOffsets, deleteGroup, txnCommit, txnComplete
	group  string
	pid    int64
	epoch  int16
	snap   metadata.Group
	offs   []metadata.CommittedOffset
	parts  []metadata.GroupPartition
	done   doneFunc
	failed error
}

// fakeStore is a persister whose writes complete only when the test
// flushes them, so tests can act while a write is in flight.
type fakeStore struct {
	queue   []*fakeWrite
	written []*fakeWrite
	// fail, when set, fails the next writes with it.
	fail error
}

func (f *fakeStore) add(w *fakeWrite) { f.queue = append(f.queue, w) }
func (f *fakeStore) putGroup(g metadata.Group, done doneFunc) {
	f.add(&fakeWrite{kind: "put", group: g.Name, snap: g.Clone(), done: done})
}
func (f *fakeStore) commitOffsets(group string, offs []metadata.CommittedOffset, done doneFunc) {
	f.add(&fakeWrite{kind: "commit", group: group, offs: offs, done: done})
}
func (f *fakeStore) commitTxnOffsets(group string, pid int64, epoch int16, offs []metadata.CommittedOffset, done doneFunc) {
	f.add(&fakeWrite{kind: "txnCommit", group: group, pid: pid, epoch: epoch, offs: offs, done: done})
}
func (f *fakeStore) completeTxnOffsets(group string, pid int64, commit []metadata.CommittedOffset, done doneFunc) {
	f.add(&fakeWrite{kind: "txnComplete", group: group, pid: pid, offs: commit, done: done})
}
func (f *fakeStore) deleteOffsets(group string, parts []metadata.GroupPartition, done doneFunc) {
	f.add(&fakeWrite{kind: "deleteOffsets", group: group, parts: parts, done: done})
}
func (f *fakeStore) deleteGroup(group string, done doneFunc) {
	f.add(&fakeWrite{kind: "deleteGroup", group: group, done: done})
}

// fakeTopics is a fixed set of topics.
type fakeTopics map[string]metadata.Topic

func (f fakeTopics) Topic(name string) (metadata.Topic, bool) { t, ok := f[name]; return t, ok }
func (f fakeTopics) Agents() []metadata.Agent                 { return nil }

func (f fakeTopics) add(name string, partitions int) metadata.Topic {
	t := metadata.Topic{Name: name, ID: metadata.NewTopicID(), Replicas: make([][]int32, partitions)}
	f[name] = t
	return t
}

// harness drives one shard's state with a clock the test moves.
type harness struct {
	t      *testing.T
	s      *state
	now    time.Time
	store  *fakeStore
	topics fakeTopics
	ids    int
}

func testConfig() Config {
	cfg := NewConfig()
	cfg.InitialRebalanceDelay = 3 * time.Second
	return cfg
}

func newHarness(t *testing.T, mods ...func(*Config)) *harness {
	cfg := testConfig()
	for _, m := range mods {
		m(&cfg)
	}
	h := &harness{t: t, now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), store: &fakeStore{}, topics: fakeTopics{}}
	h.s = newState(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), h.store, h.topics)
	h.s.newID = func(prefix string) string {
		h.ids++
		return fmt.Sprintf("%s-%d", prefix, h.ids)
	}
	return h
}

// advance moves the clock by d, firing each timer at its own time, as the
// shard's loop does.
func (h *harness) advance(d time.Duration) {
	end := h.now.Add(d)
	for {
		at, ok := h.s.nextDeadline()
		if !ok || at.After(end) {
			break
		}
		if at.After(h.now) {
			h.now = at
		}
		h.s.fire(h.now)
	}
	h.now = end
}

// advanceUntil moves the clock in steps of d until p is answered, at most
// limit in all.
func (h *harness) advanceUntil(p *pendingJoin, d, limit time.Duration) {
	h.t.Helper()
	for waited := time.Duration(0); !p.done(); waited += d {
		if waited >= limit {
			h.t.Fatalf("JoinGroup not answered within %v", limit)
		}
		h.advance(d)
	}
}

// flush completes every queued write (and those they queue), failing them
// with store.fail when set.
func (h *harness) flush() {
	for len(h.store.queue) > 0 {
		w := h.store.queue[0]
		h.store.queue = h.store.queue[1:]
		w.failed = h.store.fail
		h.store.written = append(h.store.written, w)
		w.done(h.now, w.failed)
	}
}

// lastPut returns the last group snapshot written for group.
func (h *harness) lastPut(group string) (metadata.Group, bool) {
	for i := len(h.store.written) - 1; i >= 0; i-- {
		if w := h.store.written[i]; w.kind == "put" && w.group == group && w.failed == nil {
			return w.snap, true
		}
	}
	return metadata.Group{}, false
}

// pendingJoin is a JoinGroup whose answer may come later.
type pendingJoin struct {
	res   *JoinResult
	calls int
}

func (p *pendingJoin) done() bool { return p.res != nil }

// join sends a JoinGroup.
func (h *harness) join(req JoinRequest) *pendingJoin {
	p := &pendingJoin{}
	h.s.join(h.now, req, func(r JoinResult) {
		p.calls++
		if p.calls > 1 {
			h.t.Errorf("JoinGroup of %q answered twice: %+v", req.MemberID, r)
		}
		p.res = &r
	})
	return p
}

// joined returns the answer of a join that must have completed.
func (h *harness) joined(p *pendingJoin) JoinResult {
	h.t.Helper()
	if p.res == nil {
		h.t.Fatal("JoinGroup not answered")
	}
	return *p.res
}

// pendingSync is a SyncGroup whose answer may come later.
type pendingSync struct {
	res   *SyncResult
	calls int
}

func (h *harness) sync(req SyncRequest) *pendingSync {
	p := &pendingSync{}
	h.s.sync(h.now, req, func(r SyncResult) {
		p.calls++
		if p.calls > 1 {
			h.t.Errorf("SyncGroup of %q answered twice", req.MemberID)
		}
		p.res = &r
	})
	return p
}

func (h *harness) synced(p *pendingSync) SyncResult {
	h.t.Helper()
	if p.res == nil {
		h.t.Fatal("SyncGroup not answered")
	}
	return *p.res
}

func (h *harness) heartbeat(group, member string, gen int32) error {
	return h.s.heartbeat(h.now, HeartbeatRequest{Group: group, MemberID: member, Generation: gen})
}

func (h *harness) commit(req CommitRequest) []error {
	var out []error
	answered := false
	h.s.commit(h.now, req, func(errs []error) { out, answered = errs, true })
	h.flush()
	if !answered {
		h.t.Fatal("OffsetCommit not answered")
	}
	return out
}

func (h *harness) state(group string) groupState {
	g := h.s.group(group)
	if g == nil {
		return stateDead
	}
	return g.state
}

func (h *harness) checkState(group string, want groupState) {
	h.t.Helper()
	if got := h.state(group); got != want {
		h.t.Fatalf("group %q is %v, want %v", group, got, want)
	}
}

// subscription builds a consumer's protocol metadata.
func subscription(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Version = 3
	m.Topics = topics
	return m.AppendTo(nil)
}

// consumer is a JoinRequest for a dynamic consumer with the range
// protocol, 10 s sessions and 20 s rebalances.
func consumer(group string, topics ...string) JoinRequest {
	return JoinRequest{
		Group:            group,
		ClientID:         "c",
		ClientHost:       "/127.0.0.1",
		SessionTimeout:   10 * time.Second,
		RebalanceTimeout: 20 * time.Second,
		ProtocolType:     ConsumerProtocolType,
		Protocols:        []Protocol{{Name: "range", Metadata: subscription(topics...)}},
	}
}

func static(req JoinRequest, instance string) JoinRequest {
	req.InstanceID = &instance
	return req
}

func withMember(req JoinRequest, id string) JoinRequest {
	req.MemberID = id
	return req
}

func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// stableGroup brings n dynamic members into a Stable group through a full
// rebalance; it returns their member ids (the first is the leader) and the
// generation.
func (h *harness) stableGroup(group string, n int) ([]string, int32) {
	h.t.Helper()
	var joins []*pendingJoin
	for range n {
		joins = append(joins, h.join(consumer(group, "t")))
	}
	h.advanceUntil(joins[0], time.Second, time.Minute)
	var ids []string
	var leader JoinResult
	for _, p := range joins {
		r := h.joined(p)
		if r.Err != nil {
			h.t.Fatalf("join: %v", r.Err)
		}
		ids = append(ids, r.MemberID)
		if r.Leader == r.MemberID {
			leader = r
		}
	}
	return ids, h.syncAll(group, leader, ids)
}

// syncAll sends every member's SyncGroup (the leader's with a one-byte
// assignment naming the member's index) and checks they all get theirs.
func (h *harness) syncAll(group string, leader JoinResult, ids []string) int32 {
	h.t.Helper()
	assign := make(map[string][]byte)
	for i, id := range ids {
		assign[id] = []byte{byte(i)}
	}
	var syncs []*pendingSync
	for _, id := range ids {
		req := SyncRequest{Group: group, Generation: leader.Generation, MemberID: id}
		if id == leader.MemberID {
			req.Assignments = assign
		}
		syncs = append(syncs, h.sync(req))
	}
	h.flush()
	for i, p := range syncs {
		r := h.synced(p)
		if r.Err != nil || len(r.Assignment) != 1 || r.Assignment[0] != byte(i) {
			h.t.Fatalf("member %s sync = %+v", ids[i], r)
		}
	}
	h.checkState(group, stateStable)
	return leader.Generation
}
