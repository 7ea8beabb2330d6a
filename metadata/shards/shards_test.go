package shards

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/memstore"
)

var errNotServing = errors.New("not serving")

// testShard counts the shards running.
type testShard struct {
	claim   metadata.CoordinatorClaim
	ctx     context.Context
	cancel  context.CancelFunc
	running *atomic.Int32
}

func (sh *testShard) Claim() metadata.CoordinatorClaim { return sh.claim }
func (sh *testShard) Stop()                            { sh.cancel() }
func (sh *testShard) Run() {
	sh.running.Add(1)
	defer sh.running.Add(-1)
	<-sh.ctx.Done()
}

func checkFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startSet(t *testing.T, s *memstore.Store, self int32, agents []metadata.Agent, running *atomic.Int32) *Set[*testShard] {
	t.Helper()
	reg, err := s.RegisterAgent(t.Context(), metadata.Agent{ID: self, Host: "h", Port: 9092})
	if err != nil {
		t.Fatal(err)
	}
	set := NewSet(SetConfig[*testShard]{
		Kind:          metadata.CoordinatorGroup,
		Store:         s,
		Registration:  reg,
		Self:          self,
		Agents:        func() []metadata.Agent { return agents },
		ClaimInterval: 10 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		NotAvailable:  errNotServing,
		NewShard: func(ctx context.Context, claim metadata.CoordinatorClaim) *testShard {
			ctx, cancel := context.WithCancel(ctx)
			return &testShard{claim: claim, ctx: ctx, cancel: cancel, running: running}
		},
	})
	set.Start()
	t.Cleanup(func() { set.Close(); _ = reg.Close() })
	return set
}

// TestSet: two agents split the shards by preference; Find names the
// owner; when an agent's claims go the other takes its shards over and
// the first stops serving them; Close stops every shard.
func TestSet(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	agents := []metadata.Agent{{ID: 1}, {ID: 2}}
	var run1, run2 atomic.Int32
	set1 := startSet(t, s, 1, agents, &run1)
	set2 := startSet(t, s, 2, agents, &run2)
	checkFor(t, "shards split", func() error {
		if n1, n2 := len(set1.Owned()), len(set2.Owned()); n1 != Count/2 || n2 != Count/2 {
			return fmt.Errorf("agent 1 owns %d, agent 2 %d", n1, n2)
		}
		return nil
	})
	if _, ok := set1.Get(1); ok {
		t.Error("agent 1 serves shard 1, agent 2's")
	}
	if id, err := set1.Find(t.Context(), 1); err != nil || id != 2 {
		t.Errorf("Find(1) at agent 1 = %d, %v; want 2", id, err)
	}

	s.ExpireAgent(2)
	checkFor(t, "agent 1 takes over", func() error {
		if n1, n2 := len(set1.Owned()), len(set2.Owned()); n1 != Count || n2 != 0 {
			return fmt.Errorf("agent 1 owns %d, agent 2 %d", n1, n2)
		}
		return nil
	})
	checkFor(t, "agent 2's shards stopped", func() error {
		if n := run2.Load(); n != 0 {
			return fmt.Errorf("%d running", n)
		}
		return nil
	})
	set1.Close()
	if n := run1.Load(); n != 0 {
		t.Errorf("%d shards running after Close", n)
	}
	set1.Abandon(mustGet(t, set1, 3), errors.New("test"))
	if _, err := set1.Find(t.Context(), 3); !errors.Is(err, errNotServing) {
		t.Errorf("claim after Close: %v, want %v", err, errNotServing)
	}
}

func mustGet(t *testing.T, set *Set[*testShard], idx int32) *testShard {
	t.Helper()
	sh, ok := set.Get(idx)
	if !ok {
		t.Fatalf("shard %d not served", idx)
	}
	return sh
}

// TestLoop: writes apply in order and report on the state's goroutine; a
// fenced write calls fenced; Call fails with notServing once the loop is
// closed.
func TestLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var fenced atomic.Int32
	l := NewLoop[*[]int](errNotServing, func(err error) { fenced.Add(1) })
	state := new([]int)
	var wg sync.WaitGroup
	wg.Go(func() { l.WriteLoop(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case fn := <-l.Events():
				fn(state, time.Now())
			}
		}
	})
	for i := range 5 {
		var err error
		if i == 3 {
			err = metadata.ErrFenced
		}
		l.Enqueue(func(context.Context) error { return err }, func(_ time.Time, werr error) {
			if !errors.Is(werr, err) {
				t.Errorf("write %d: %v, want %v", i, werr, err)
			}
			*state = append(*state, i)
		})
	}
	checkFor(t, "writes applied", func() error {
		got, err := Call(ctx, l, func(st *[]int, _ time.Time, reply func([]int)) { reply(append([]int(nil), *st...)) })
		if err == nil && fmt.Sprint(got) != "[0 1 2 3 4]" {
			err = fmt.Errorf("applied %v", got)
		}
		return err
	})
	if fenced.Load() != 1 {
		t.Errorf("fenced called %d times, want 1", fenced.Load())
	}
	cancel()
	wg.Wait()
	l.Close()
	if _, err := Call(t.Context(), l, func(*[]int, time.Time, func(int)) {}); !errors.Is(err, errNotServing) {
		t.Errorf("Call after Close: %v, want %v", err, errNotServing)
	}
}
