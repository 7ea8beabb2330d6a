package etcd

import (
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/storetest"
)

// testLogger logs to the test's output, so logs show only for failing
// tests or with -v.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startEmbedded starts a single-member server in dir and closes it when the
// test ends.
func startEmbedded(t testing.TB, dir string) *Embedded {
	t.Helper()
	cfg := NewEmbedConfig(dir)
	cfg.Logger = testLogger(t)
	e, err := StartEmbedded(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// newStore returns a Store on e's in-process client.
func newStore(t testing.TB, e *Embedded, prefix string) *Store {
	t.Helper()
	cfg := NewConfig()
	if prefix != "" {
		cfg.Prefix = prefix
	}
	return newStoreConfig(t, e, cfg)
}

func newStoreConfig(t testing.TB, e *Embedded, cfg Config) *Store {
	t.Helper()
	cfg.Logger = testLogger(t)
	s, err := New(t.Context(), e.Client(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// serverStore is a Store that owns its embedded server, so that closing it
// and opening the same directory again is a restart.
type serverStore struct {
	*Store
	e *Embedded
}

func (s serverStore) Close() error {
	return errors.Join(s.Store.Close(), s.e.Close())
}

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	dirs := make(map[*testing.T]string)
	storetest.Run(t, func(t *testing.T) metadata.Store {
		mu.Lock()
		dir, ok := dirs[t]
		if !ok {
			dir = t.TempDir()
			dirs[t] = dir
		}
		mu.Unlock()
		e := startEmbedded(t, dir)
		s := serverStore{Store: newStore(t, e, ""), e: e}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// rssKiB reads the process's resident set size from /proc (Linux only).
func rssKiB() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// TestEmbeddedDial starts a server, logs what it costs, and reaches it over
// the network with Dial.
func TestEmbeddedDial(t *testing.T) {
	start := time.Now()
	e := startEmbedded(t, t.TempDir())
	t.Logf("embedded etcd ready in %v; RSS %s; client %v, peer %v", time.Since(start), rssKiB(), e.ClientURLs(), e.PeerURLs())
	urls := e.ClientURLs()
	if len(urls) != 1 || strings.HasSuffix(urls[0], ":0") {
		t.Fatalf("ClientURLs = %v, want one bound URL", urls)
	}
	cfg := NewConfig()
	cfg.Endpoints = urls
	cfg.Logger = testLogger(t)
	remote, err := Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	local := newStore(t, e, "")
	id, err := local.ClusterID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := remote.ClusterID(t.Context()); err != nil || got != id {
		t.Errorf("cluster id over the network = %q, %v; want %q", got, err, id)
	}
}

// TestUnavailable: errors reaching etcd are ErrUnavailable.
func TestUnavailable(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	urls := e.ClientURLs()
	cfg := NewConfig()
	cfg.Endpoints = urls
	cfg.RequestTimeout = 200 * time.Millisecond
	cfg.Logger = testLogger(t)
	s, err := Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Topic(t.Context(), "a")
	if !errors.Is(err, metadata.ErrUnavailable) {
		t.Errorf("Topic on a stopped server: %v, want ErrUnavailable", err)
	}
	_, err = Dial(t.Context(), cfg)
	if !errors.Is(err, metadata.ErrUnavailable) {
		t.Errorf("Dial of a stopped server: %v, want ErrUnavailable", err)
	}
}

// TestPrefixIsolation: stores under different prefixes share a server
// without seeing each other's data.
func TestPrefixIsolation(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	a, b := newStore(t, e, "/a/"), newStore(t, e, "/b/")
	ctx := t.Context()
	tp := metadata.Topic{Name: "t", ID: metadata.NewTopicID(), Replicas: [][]int32{{0}}}
	if _, err := a.CreateTopic(ctx, tp, []metadata.PartitionState{{Leader: 0, ISR: []int32{0}}}); err != nil {
		t.Fatal(err)
	}
	if ts, err := b.ListTopics(ctx); err != nil || len(ts) != 0 {
		t.Errorf("other prefix lists %v, %v", ts, err)
	}
	if _, err := b.CreateTopic(ctx, tp, []metadata.PartitionState{{Leader: 0, ISR: []int32{0}}}); err != nil {
		t.Errorf("same topic under another prefix: %v", err)
	}
	idA, _ := a.ClusterID(ctx)
	idB, _ := b.ClusterID(ctx)
	if idA == idB {
		t.Error("two prefixes share a cluster id")
	}
}

// TestRegistrationLost: when the lease is revoked behind the store's back
// the registration's Done closes; when an agent's process dies without
// deregistering, its agent disappears after the lease TTL.
func TestRegistrationLost(t *testing.T) {
	ctx := t.Context()
	e := startEmbedded(t, t.TempDir())
	cfg := NewConfig()
	cfg.LeaseTTL = time.Second // keep-alives, and so loss detection, every 1/3 s
	s := newStoreConfig(t, e, cfg)
	r, err := s.RegisterAgent(ctx, metadata.Agent{ID: 1, Host: "h", Port: 1})
	if err != nil {
		t.Fatal(err)
	}
	leases, err := e.Client().Leases(ctx)
	if err != nil || len(leases.Leases) != 1 {
		t.Fatalf("leases = %v, %v", leases, err)
	}
	if _, err := e.Client().Revoke(ctx, leases.Leases[0].ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("registration not done after its lease was revoked")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close of a lost registration: %v", err)
	}

	// A "crashed" agent: its own connection dies, nothing revokes the lease.
	cfg.Endpoints = e.ClientURLs()
	cfg.Logger = testLogger(t)
	crash, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := crash.RegisterAgent(ctx, metadata.Agent{ID: 2, Host: "h", Port: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RegisterAgent(ctx, metadata.Agent{ID: 2, Host: "other", Port: 1})
	if !errors.Is(err, metadata.ErrConflict) || !strings.Contains(err.Error(), "agent id 2 is already registered") {
		t.Errorf("registering a live id from another store: %v", err)
	}
	_ = crash.client.Close()
	select {
	case <-r2.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("registration not done after its connection died")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		as, err := s.ListAgents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("crashed agent still registered: %v", as)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = crash.Close()
}

// TestCorruptValue: a value that does not decode is ErrCorrupt on reads
// and skipped, with an error log, by watches.
func TestCorruptValue(t *testing.T) {
	ctx := t.Context()
	e := startEmbedded(t, t.TempDir())
	s := newStore(t, e, "")
	rev0, _ := s.Revision(ctx)
	ch := s.Watch(ctx, rev0)
	if _, err := e.Client().Put(ctx, DefaultPrefix+"topics/bad", `{"v":1,"name":"other"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client().Put(ctx, DefaultPrefix+"topics/new", `{"v":2}`); err != nil {
		t.Fatal(err)
	}
	_, err := s.Topic(ctx, "bad")
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("Topic of a corrupt value: %v, want ErrCorrupt", err)
	}
	_, err = s.Topic(ctx, "new")
	if !errors.Is(err, ErrVersion) {
		t.Errorf("Topic of a newer value: %v, want ErrVersion", err)
	}
	if _, err := s.Snapshot(ctx); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
		t.Errorf("Snapshot with a corrupt value: %v", err)
	}
	// The watch turns the undecodable changes into progress.
	for _, want := range []int64{rev0 + 1, rev0 + 2} {
		ev := <-ch
		if ev.Kind != metadata.EventProgress || ev.Revision != want {
			t.Errorf("event for a corrupt value = %v at %d, want progress at %d", ev.Kind, ev.Revision, want)
		}
	}
}
