package etcd

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

// freePorts returns n ports that were free a moment ago. Another process
// may take one before it is used; callers retry on bind failure.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		defer l.Close()
	}
	return ports
}

// startCluster starts an n-member cluster in one process, all members at
// once (a new cluster needs a quorum to become ready).
func startCluster(t *testing.T, n int) []*Embedded {
	t.Helper()
	for attempt := 1; ; attempt++ {
		members, err := tryStartCluster(t, n)
		if err == nil {
			return members
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v; retrying with other ports", attempt, err)
	}
}

func tryStartCluster(t *testing.T, n int) ([]*Embedded, error) {
	ports := freePorts(t, n)
	var initial []string
	for i, p := range ports {
		initial = append(initial, fmt.Sprintf("m%d=http://127.0.0.1:%d", i, p))
	}
	members := make([]*Embedded, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		cfg := NewEmbedConfig(t.TempDir())
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.ListenPeerURL = fmt.Sprintf("http://127.0.0.1:%d", ports[i])
		cfg.InitialCluster = strings.Join(initial, ",")
		// Fast elections keep the test short; loopback has no latency.
		cfg.TickInterval, cfg.ElectionTimeout = 20*time.Millisecond, 200*time.Millisecond
		cfg.StartTimeout = 20 * time.Second
		cfg.Logger = testLogger(t)
		wg.Go(func() { members[i], errs[i] = StartEmbedded(t.Context(), cfg) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, m := range members {
			if m != nil {
				_ = m.Close()
			}
		}
		return nil, err
	}
	for _, m := range members {
		t.Cleanup(func() { _ = m.Close() })
	}
	return members, nil
}

// TestCluster: three embedded members in one process form a cluster that
// serves the same data through every member and survives losing one.
func TestCluster(t *testing.T) {
	start := time.Now()
	members := startCluster(t, 3)
	t.Logf("3-member cluster ready in %v", time.Since(start))
	ctx := t.Context()
	stores := make([]*Store, len(members))
	for i, m := range members {
		stores[i] = newStore(t, m, "")
	}
	id, err := stores[0].ClusterID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if got, err := s.ClusterID(ctx); err != nil || got != id {
			t.Errorf("member %d cluster id = %q, %v; want %q", i, got, err, id)
		}
	}
	cache, err := metadata.NewCache(ctx, stores[2], testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	tp := metadata.Topic{Name: "t", ID: metadata.NewTopicID(), Replicas: [][]int32{{0, 1, 2}}}
	rev, err := stores[0].CreateTopic(ctx, tp, []metadata.PartitionState{{Leader: 0, ISR: []int32{0, 1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := stores[1].Topic(ctx, "t"); err != nil || got.ID != tp.ID {
		t.Errorf("topic read through member 1 = %v, %v", got, err)
	}
	if err := cache.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if _, ok := cache.Topic("t"); !ok {
		t.Error("cache on member 2 misses the topic created through member 0")
	}

	// Two of three members are a quorum.
	if err := stores[0].Close(); err != nil {
		t.Fatal(err)
	}
	if err := members[0].Close(); err != nil {
		t.Fatal(err)
	}
	st, err := stores[1].Partition(ctx, tp.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	st.Leader, st.LeaderEpoch, st.ISR = 1, 1, []int32{1, 2}
	rev, err = stores[1].CompareAndSwapPartition(ctx, tp.ID, 0, st)
	if err != nil {
		t.Fatalf("CAS with one member down: %v", err)
	}
	if err := cache.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if got, _ := cache.Partition(tp.ID, 0); got.Leader != 1 {
		t.Errorf("cached leader = %d, want 1", got.Leader)
	}
}
