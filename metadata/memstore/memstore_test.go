package memstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/memstore"
	"github.com/strata-io/strata/metadata/storetest"
)

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	stores := make(map[*testing.T]*memstore.Store)
	storetest.Run(t, func(t *testing.T) metadata.Store {
		mu.Lock()
		defer mu.Unlock()
		s := memstore.New()
		if prev, ok := stores[t]; ok {
			s = prev.Reopen()
		}
		stores[t] = s
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestExpireAgent(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	defer s.Close()
	r, err := s.RegisterAgent(ctx, metadata.Agent{ID: 1, Host: "h", Port: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !s.ExpireAgent(1) {
		t.Fatal("ExpireAgent(1) = false")
	}
	select {
	case <-r.Done():
	default:
		t.Error("expired registration not done")
	}
	if as, _ := s.ListAgents(ctx); len(as) != 0 {
		t.Errorf("agents after expiry: %v", as)
	}
	if s.ExpireAgent(1) {
		t.Error("second ExpireAgent(1) = true")
	}
}

// TestHistoryLimit: the store bounds its watch history, and a watcher that
// needs trimmed history gets a reload.
func TestHistoryLimit(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	defer s.Close()
	for range 10001 {
		if _, err := s.AllocateProducerIDs(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	ev := <-s.Watch(ctx, 0+1)
	if ev.Kind != metadata.EventReload {
		t.Errorf("watch from trimmed history starts with %v", ev.Kind)
	}
}

func TestClosedCompact(t *testing.T) {
	s := memstore.New()
	s.Close()
	if err := s.Compact(context.Background(), 1); !errors.Is(err, metadata.ErrClosed) {
		t.Errorf("Compact after Close = %v", err)
	}
}
