package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

func isDone(r metadata.Registration) bool {
	select {
	case <-r.Done():
		return true
	default:
		return false
	}
}

func listAgents(t *testing.T, ctx context.Context, s metadata.Store) []metadata.Agent {
	t.Helper()
	as, err := s.ListAgents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func testAgents(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	a1 := metadata.Agent{ID: 1, Host: "10.0.0.1", Port: 9092, Rack: "r1"}
	a2 := metadata.Agent{ID: 2, Host: "10.0.0.2", Port: 9093}
	r1, err := s.RegisterAgent(ctx, a1)
	if err != nil {
		t.Fatal(err)
	}
	if got := listAgents(t, ctx, s); !reflect.DeepEqual(got, []metadata.Agent{a1}) {
		t.Errorf("ListAgents = %v, want [%v]", got, a1)
	}
	_, err = s.RegisterAgent(ctx, metadata.Agent{ID: 1, Host: "10.0.0.9", Port: 9092})
	checkErr(t, "RegisterAgent of a live id", err, metadata.ErrConflict)
	_, err = s.RegisterAgent(ctx, metadata.Agent{ID: 3, Port: 9092})
	checkErr(t, "RegisterAgent without host", err, metadata.ErrInvalid)
	r2, err := s.RegisterAgent(ctx, a2)
	if err != nil {
		t.Fatal(err)
	}
	if got := listAgents(t, ctx, s); !reflect.DeepEqual(got, []metadata.Agent{a1, a2}) {
		t.Errorf("ListAgents = %v, want [%v %v]", got, a1, a2)
	}
	if isDone(r1) {
		t.Error("live registration is done")
	}
	if err := r1.Close(); err != nil {
		t.Errorf("Registration.Close: %v", err)
	}
	if !isDone(r1) {
		t.Error("closed registration is not done")
	}
	if err := r1.Close(); err != nil {
		t.Errorf("second Registration.Close: %v", err)
	}
	// Close removes the agent at once, without waiting for a lease to
	// expire.
	if got := listAgents(t, ctx, s); !reflect.DeepEqual(got, []metadata.Agent{a2}) {
		t.Errorf("ListAgents after Close = %v, want [%v]", got, a2)
	}
	// The id is free again.
	r1, err = s.RegisterAgent(ctx, a1)
	if err != nil {
		t.Fatalf("RegisterAgent after Close: %v", err)
	}
	// Closing the store ends its registrations.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !isDone(r1) || !isDone(r2) {
		t.Error("registrations outlive their store")
	}
	s = newStore(t)
	if got := listAgents(t, ctx, s); len(got) != 0 {
		t.Errorf("agents after the store closed and reopened: %v", got)
	}
}

// testAgentContext: a registration ends when the context given to
// RegisterAgent ends.
func testAgentContext(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	rctx, cancel := context.WithCancel(ctx)
	r, err := s.RegisterAgent(rctx, metadata.Agent{ID: 5, Host: "h", Port: 1})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	eventually(t, "registration done after its context ended", func() bool { return isDone(r) })
	eventually(t, "agent gone after its context ended", func() bool { return len(listAgents(t, ctx, s)) == 0 })
	if err := r.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
}

// testAgentTakeOver: an agent that registers again with the same DirID (its
// data directory) replaces its stale registration at once; another DirID, or
// none, still conflicts.
func testAgentTakeOver(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	old := metadata.Agent{ID: 7, Host: "10.0.0.7", Port: 9092, DirID: "dir-a"}
	r1, err := s.RegisterAgent(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RegisterAgent(ctx, metadata.Agent{ID: 7, Host: "10.0.0.8", Port: 9092, DirID: "dir-b"})
	checkErr(t, "RegisterAgent with another DirID", err, metadata.ErrConflict)
	_, err = s.RegisterAgent(ctx, metadata.Agent{ID: 7, Host: "10.0.0.8", Port: 9092})
	checkErr(t, "RegisterAgent without DirID", err, metadata.ErrConflict)

	restarted := metadata.Agent{ID: 7, Host: "10.0.0.7", Port: 9093, DirID: "dir-a"}
	r2, err := s.RegisterAgent(ctx, restarted)
	if err != nil {
		t.Fatalf("RegisterAgent with the same DirID: %v", err)
	}
	if got := listAgents(t, ctx, s); !reflect.DeepEqual(got, []metadata.Agent{restarted}) {
		t.Errorf("ListAgents after take-over = %v, want [%v]", got, restarted)
	}
	// The stale registration's end must not remove the new one.
	_ = r1.Close()
	if got := listAgents(t, ctx, s); !reflect.DeepEqual(got, []metadata.Agent{restarted}) {
		t.Errorf("ListAgents after closing the stale registration = %v, want [%v]", got, restarted)
	}
	if isDone(r2) {
		t.Error("new registration is done")
	}
	_ = r2.Close()
}

// testAgentValidUntil: a live registration is valid into the future; once
// it ends, it is not.
func testAgentValidUntil(t *testing.T, newStore NewStore) {
	ctx := testContext(t)
	s := newStore(t)
	r, err := s.RegisterAgent(ctx, metadata.Agent{ID: 4, Host: "10.0.0.4", Port: 9092})
	if err != nil {
		t.Fatal(err)
	}
	if until := r.ValidUntil(); !until.After(time.Now()) {
		t.Fatalf("live registration valid until %v, before now", until)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if until := r.ValidUntil(); until.After(time.Now()) {
		t.Fatalf("closed registration valid until %v", until)
	}
}
