// Package storetest is the conformance suite every metadata.Store passes:
// the etcd store (package metadata/etcd) and the in-memory one (package
// metadata/memstore) run the same tests, so unit tests of other packages
// can trust memstore to behave like production.
package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

// Compactor is implemented by stores whose watch history can be discarded
// on demand; the suite then checks that watchers get an EventReload.
type Compactor interface {
	// Compact discards the history at and below rev.
	Compact(ctx context.Context, rev int64) error
}

// NewStore returns a store for one test. On the first call for a t it
// returns a store on empty data and registers its cleanup (Close must be
// idempotent: the suite may close it first). When called again with the
// same t, after the suite closed the first store, it must return a store
// on the same data, as a restarted process would see it.
type NewStore func(t *testing.T) metadata.Store

// Run runs the conformance suite against the stores newStore makes.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newStore NewStore)
	}{
		{"ClusterID", testClusterID},
		{"CreateTopic", testCreateTopic},
		{"CreateTopicInvalid", testCreateTopicInvalid},
		{"DeleteTopic", testDeleteTopic},
		{"TopicIDUnique", testTopicIDUnique},
		{"ListTopics", testListTopics},
		{"UpdateTopic", testUpdateTopic},
		{"PartitionCAS", testPartitionCAS},
		{"PartitionCASRace", testPartitionCASRace},
		{"ProducerIDs", testProducerIDs},
		{"Agents", testAgents},
		{"AgentContext", testAgentContext},
		{"AgentTakeOver", testAgentTakeOver},
		{"AgentValidUntil", testAgentValidUntil},
		{"Watch", testWatch},
		{"WatchFromNow", testWatchFromNow},
		{"WatchReload", testWatchReload},
		{"Revision", testRevision},
		{"Snapshot", testSnapshot},
		{"Closed", testClosed},
		{"Cache", testCache},
		{"CacheAgents", testCacheAgents},
		{"CacheAtomic", testCacheAtomic},
		{"CacheClose", testCacheClose},
		{"CoordinatorClaims", testCoordinatorClaims},
		{"Groups", testGroups},
		{"GroupsChange", testGroupsChange},
		{"GroupsFenced", testGroupsFenced},
		{"GroupsInvalid", testGroupsInvalid},
		{"GroupsLarge", testGroupsLarge},
		{"GroupsTxnOffsets", testGroupsTxnOffsets},
		{"GroupsTxnOffsetsFenced", testGroupsTxnOffsetsFenced},
		{"GroupsTxnOffsetsLarge", testGroupsTxnOffsetsLarge},
		{"Transactions", testTransactions},
		{"TransactionsFenced", testTransactionsFenced},
		{"TransactionsInvalid", testTransactionsInvalid},
		{"CoordinatorEpoch", testCoordinatorEpoch},
		{"Catalogue", testCatalogue},
		{"CatalogueIdempotent", testCatalogueIdempotent},
		{"CatalogueConflict", testCatalogueConflict},
		{"CatalogueDelete", testCatalogueDelete},
		{"CatalogueDeleteTopic", testCatalogueDeleteTopic},
		{"CatalogueInvalid", testCatalogueInvalid},
		{"CatalogueReopen", testCatalogueReopen},
		{"CatalogueRace", testCatalogueRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

// testTimeout bounds each test; no step should come close.
const testTimeout = 30 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newTopic returns a valid topic with n partitions and their states.
func newTopic(name string, n int) (metadata.Topic, []metadata.PartitionState) {
	t := metadata.Topic{
		Name:      name,
		ID:        metadata.NewTopicID(),
		Replicas:  make([][]int32, n),
		Configs:   map[string]string{"retention.ms": "3600000"},
		CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
	}
	states := make([]metadata.PartitionState, n)
	for p := range n {
		t.Replicas[p] = []int32{int32(p % 3), int32((p + 1) % 3)}
		states[p] = metadata.PartitionState{Leader: int32(p % 3), LeaderEpoch: 0, ISR: []int32{int32(p % 3), int32((p + 1) % 3)}}
	}
	return t, states
}

// mustCreate creates a topic and fails the test on error.
func mustCreate(t *testing.T, ctx context.Context, s metadata.Store, name string, n int) (metadata.Topic, []metadata.PartitionState, int64) {
	t.Helper()
	tp, states := newTopic(name, n)
	rev, err := s.CreateTopic(ctx, tp, states)
	if err != nil {
		t.Fatalf("CreateTopic(%q): %v", name, err)
	}
	tp.Revision = rev
	for i := range states {
		states[i].Revision = rev
	}
	return tp, states, rev
}

// checkTopic fails unless got equals want, treating nil and empty Configs
// alike and comparing CreatedAt as instants.
func checkTopic(t *testing.T, got, want metadata.Topic) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("topic %q CreatedAt = %v, want %v", want.Name, got.CreatedAt, want.CreatedAt)
	}
	if !maps.Equal(got.Configs, want.Configs) {
		t.Errorf("topic %q Configs = %v, want %v", want.Name, got.Configs, want.Configs)
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	got.Configs, want.Configs = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("topic = %+v, want %+v", got, want)
	}
}

func checkState(t *testing.T, what string, got, want metadata.PartitionState) {
	t.Helper()
	if got.Leader != want.Leader || got.LeaderEpoch != want.LeaderEpoch || !slices.Equal(got.ISR, want.ISR) || got.Revision != want.Revision {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testClusterID(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	id, err := s.ClusterID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(id); err != nil || len(id) != 22 || len(raw) != 16 {
		t.Errorf("cluster id %q is not 22 characters of base64url encoding 16 bytes", id)
	}
	again, err := s.ClusterID(ctx)
	if err != nil || again != id {
		t.Errorf("second ClusterID = %q, %v; want %q", again, err, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = newStore(t)
	reopened, err := s.ClusterID(ctx)
	if err != nil || reopened != id {
		t.Errorf("ClusterID after reopen = %q, %v; want %q", reopened, err, id)
	}
}

func testRevision(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r1, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, _, rev := mustCreate(t, ctx, s, "a", 1)
	if rev <= r1 {
		t.Errorf("CreateTopic revision %d, not after %d", rev, r1)
	}
	r2, err := s.Revision(ctx)
	if err != nil || r2 != rev {
		t.Errorf("Revision = %d, %v; want %d", r2, err, rev)
	}
	// Reads do not advance it.
	if _, err := s.Topic(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListTopics(ctx); err != nil {
		t.Fatal(err)
	}
	if r3, _ := s.Revision(ctx); r3 != r2 {
		t.Errorf("Revision after reads = %d, want %d", r3, r2)
	}
	first, err := s.AllocateProducerIDs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r4, _ := s.Revision(ctx); r4 <= r2 {
		t.Errorf("Revision after AllocateProducerIDs(%d) = %d, not after %d", first, r4, r2)
	}
}

func testClosed(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	mustCreate(t, ctx, s, "a", 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := s.Topic(ctx, "a")
	checkErr(t, "Topic after Close", err, metadata.ErrClosed)
	_, _, err = func() (metadata.Topic, []metadata.PartitionState, error) {
		tp, st := newTopic("b", 1)
		_, err := s.CreateTopic(ctx, tp, st)
		return tp, st, err
	}()
	checkErr(t, "CreateTopic after Close", err, metadata.ErrClosed)
	_, err = s.RegisterAgent(ctx, metadata.Agent{ID: 1, Host: "h", Port: 9092})
	checkErr(t, "RegisterAgent after Close", err, metadata.ErrClosed)
	_, err = s.Revision(ctx)
	checkErr(t, "Revision after Close", err, metadata.ErrClosed)
	if _, ok := <-s.Watch(ctx, 0); ok {
		t.Error("Watch after Close sent an event")
	}
}

func describe(ev metadata.Event) string {
	switch ev.Kind {
	case metadata.EventTopic:
		return fmt.Sprintf("topic %s deleted=%v more=%v", ev.Name, ev.Deleted, ev.More)
	case metadata.EventPartition:
		return fmt.Sprintf("partition %d deleted=%v more=%v", ev.Partition, ev.Deleted, ev.More)
	case metadata.EventAgent:
		return fmt.Sprintf("agent %d deleted=%v more=%v", ev.Agent.ID, ev.Deleted, ev.More)
	}
	return fmt.Sprintf("%v more=%v", ev.Kind, ev.More)
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
