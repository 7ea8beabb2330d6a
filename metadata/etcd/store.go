package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-io/strata/metadata"
)

// Store is a metadata.Store on etcd. It is safe for concurrent use.
type Store struct {
	client    *clientv3.Client
	ownClient bool // Dial made the client; Close closes it
	cfg       Config
	keys      keys
	logger    *slog.Logger

	// closeCtx ends when Close starts; watches and registrations derive
	// from it.
	closeCtx context.Context
	closeFn  context.CancelFunc

	// closed is set, with mu held, when Close starts. Goroutines are
	// added to wg only with mu held and closed unset, so Close's Wait
	// sees them all.
	closed atomic.Bool
	mu     sync.Mutex
	regs   map[*registration]struct{} // guarded by mu; live registrations
	wg     sync.WaitGroup             // watch and keep-alive goroutines
}

var _ metadata.Store = (*Store)(nil)

// New returns a Store that uses client, which stays the caller's to close
// (after the Store). It checks that etcd answers, within ctx and
// cfg.RequestTimeout.
func New(ctx context.Context, client *clientv3.Client, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	closeCtx, closeFn := context.WithCancel(context.Background())
	s := &Store{
		client:   client,
		cfg:      cfg,
		keys:     keys{prefix: cfg.Prefix},
		logger:   cfg.Logger,
		closeCtx: closeCtx,
		closeFn:  closeFn,
		regs:     make(map[*registration]struct{}),
	}
	if _, err := s.Revision(ctx); err != nil {
		closeFn()
		return nil, err
	}
	return s, nil
}

// Dial connects to cfg.Endpoints and returns a Store that owns the
// connection.
func Dial(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("%w: no etcd endpoints", ErrInvalidConfig)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		TLS:         cfg.TLS,
		Context:     context.WithoutCancel(ctx),
		Logger:      newZapLogger(logger, slog.LevelError, nil),
	})
	if err != nil {
		return nil, fmt.Errorf("dial etcd %v: %w: %w", cfg.Endpoints, metadata.ErrUnavailable, err)
	}
	s, err := New(ctx, client, cfg)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	s.ownClient = true
	return s, nil
}

// Close revokes the store's live registrations (their agents disappear at
// once), ends its watches, waits for its goroutines and, if Dial made the
// client, closes it. Later calls fail with metadata.ErrClosed. Close is
// idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed.Store(true)
	regs := make([]*registration, 0, len(s.regs))
	for r := range s.regs {
		regs = append(regs, r)
	}
	s.mu.Unlock()

	var errs []error
	for _, r := range regs {
		errs = append(errs, r.Close())
	}
	s.closeFn()
	s.wg.Wait()
	if s.ownClient {
		if err := s.client.Close(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("close etcd client: %w", err))
		}
	}
	return errors.Join(errs...)
}

// begin starts a request: it fails once the store is closed and otherwise
// bounds ctx by the request timeout.
func (s *Store) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if s.closed.Load() {
		return nil, nil, metadata.ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	return ctx, cancel, nil
}

// unavailable wraps an error from etcd: it is metadata.ErrUnavailable and
// still the original error (a context error stays visible to errors.Is).
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, metadata.ErrUnavailable, err)
}

// isTooManyOps reports whether etcd rejected a transaction for having more
// operations than its --max-txn-ops.
func isTooManyOps(err error) bool {
	return errors.Is(rpctypes.Error(err), rpctypes.ErrTooManyOps)
}

// ClusterID implements metadata.Cluster: the first call anywhere creates a
// random id with a create-if-absent transaction; every later call reads it.
func (s *Store) ClusterID(ctx context.Context) (string, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return "", err
	}
	defer cancel()
	key := s.keys.clusterID()
	resp, err := s.client.Get(ctx, key)
	if err != nil {
		return "", unavailable("read cluster id", err)
	}
	if len(resp.Kvs) == 1 {
		return decodeClusterID(resp.Kvs[0].Value)
	}
	id := metadata.NewClusterID()
	txn, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, encodeClusterID(id))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return "", unavailable("create cluster id", err)
	}
	if txn.Succeeded {
		s.logger.Info("created cluster id", "cluster_id", id)
		return id, nil
	}
	// Another agent won the race.
	kvs := txn.Responses[0].GetResponseRange().Kvs
	if len(kvs) != 1 {
		return "", fmt.Errorf("%w: cluster id vanished", ErrCorrupt)
	}
	return decodeClusterID(kvs[0].Value)
}

// Revision implements metadata.Store.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	resp, err := s.client.Get(ctx, s.keys.clusterID(), clientv3.WithCountOnly())
	if err != nil {
		return 0, unavailable("read revision", err)
	}
	return resp.Header.Revision, nil
}

// AllocateProducerIDs implements metadata.ProducerIDs with a
// compare-and-swap loop on the counter.
func (s *Store) AllocateProducerIDs(ctx context.Context, n int64) (int64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("%w: allocate %d producer ids", metadata.ErrInvalid, n)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	key := s.keys.producerIDs()
	for {
		resp, err := s.client.Get(ctx, key)
		if err != nil {
			return 0, unavailable("read producer id counter", err)
		}
		var first, modRev int64
		if len(resp.Kvs) == 1 {
			if first, err = decodeProducerIDs(resp.Kvs[0].Value); err != nil {
				return 0, err
			}
			modRev = resp.Kvs[0].ModRevision
		}
		if first > math.MaxInt64-n {
			return 0, fmt.Errorf("%w: producer ids exhausted at %d", metadata.ErrInvalid, first)
		}
		txn, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", modRev)).
			Then(clientv3.OpPut(key, encodeProducerIDs(first+n))).
			Commit()
		if err != nil {
			return 0, unavailable("allocate producer ids", err)
		}
		if txn.Succeeded {
			return first, nil
		}
	}
}

// Compact discards etcd's history before rev, as auto-compaction does.
// Watchers that still need it get an EventReload. It affects every key in
// the etcd cluster, not only those under the prefix.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if _, err := s.client.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		if errors.Is(rpctypes.Error(err), rpctypes.ErrCompacted) {
			return nil // already compacted at or past rev
		}
		return unavailable(fmt.Sprintf("compact at revision %d", rev), err)
	}
	return nil
}
