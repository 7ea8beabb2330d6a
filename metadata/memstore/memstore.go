package memstore

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/strata-io/strata/metadata"
)

// historyLimit bounds the watch history the store keeps; older events are
// compacted away, as etcd's auto-compaction would.
const historyLimit = 10000

// Store is an in-memory metadata.Store. The zero value is not usable; call
// New. It is safe for concurrent use.
type Store struct {
	d *data

	closeOnce sync.Once
	closed    chan struct{} // closed by Close, with mu held

	mu   sync.Mutex
	regs map[*registration]struct{} // guarded by mu; live registrations

	wg sync.WaitGroup // watch goroutines
}

var _ metadata.Store = (*Store)(nil)

// data is the state that survives Reopen.
type data struct {
	mu        sync.Mutex
	rev       int64                                               // guarded by mu
	clusterID string                                              // guarded by mu
	topics    map[string]metadata.Topic                           // guarded by mu; Revision set
	ids       map[metadata.TopicID]string                         // guarded by mu
	parts     map[metadata.TopicPartition]metadata.PartitionState // guarded by mu; Revision set
	agents    map[int32]agentEntry                                // guarded by mu
	nextPID   int64                                               // guarded by mu
	claims    map[metadata.CoordinatorShard]claimEntry            // guarded by mu
	groups    map[groupKey]*groupEntry                            // guarded by mu
	txns      map[txnKey]metadata.Transaction                     // guarded by mu; values never modified
	txnEpochs map[int32]int32                                     // guarded by mu; coordinator epoch by shard
	catalogue map[metadata.TopicPartition][]catalogueEntry        // guarded by mu; sorted by base
	// history holds the events of every revision above compacted, in
	// order. Values in it are never modified; watchers get clones.
	history   []metadata.Event // guarded by mu
	compacted int64            // guarded by mu
	// notify is closed and replaced on every write.
	notify chan struct{} // guarded by mu
}

type agentEntry struct {
	agent metadata.Agent
	reg   *registration
}

// New returns an empty store.
func New() *Store {
	d := &data{
		rev:    1, // as in etcd, an empty store is at revision 1
		topics: make(map[string]metadata.Topic),
		ids:    make(map[metadata.TopicID]string),
		parts:  make(map[metadata.TopicPartition]metadata.PartitionState),
		agents: make(map[int32]agentEntry),
		claims: make(map[metadata.CoordinatorShard]claimEntry),
		groups: make(map[groupKey]*groupEntry),
		txns:   make(map[txnKey]metadata.Transaction),

		txnEpochs: make(map[int32]int32),
		notify:    make(chan struct{}),

		catalogue: make(map[metadata.TopicPartition][]catalogueEntry),
	}
	return newStore(d)
}

func newStore(d *data) *Store {
	return &Store{d: d, closed: make(chan struct{}), regs: make(map[*registration]struct{})}
}

// Reopen returns a new Store on the same data, as a process that restarts
// would see it. Call it after Close: registrations made through s are gone
// by then, and everything else remains.
func (s *Store) Reopen() *Store { return newStore(s.d) }

// Close ends s's registrations (their agents disappear) and watches, and
// makes every later call fail with metadata.ErrClosed. It waits for the
// watch goroutines to stop. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.closed)
		regs := make([]*registration, 0, len(s.regs))
		for r := range s.regs {
			regs = append(regs, r)
		}
		s.mu.Unlock()
		for _, r := range regs {
			r.end()
		}
	})
	s.wg.Wait()
	return nil
}

// check returns the error a call must fail with before touching data.
func (s *Store) check(ctx context.Context) error {
	select {
	case <-s.closed:
		return metadata.ErrClosed
	default:
	}
	return ctx.Err()
}

// commit advances the revision and records events for it; events get the
// new revision (also in the values they carry) and their More flags. d.mu
// must be held. It returns the new revision.
func (d *data) commit(events ...metadata.Event) int64 {
	d.rev++
	if len(events) == 0 {
		events = []metadata.Event{{Kind: metadata.EventProgress}}
	}
	for i := range events {
		events[i].Revision = d.rev
		events[i].More = i < len(events)-1
		if !events[i].Deleted {
			events[i].Topic.Revision = d.rev
			events[i].State.Revision = d.rev
		}
	}
	d.history = append(d.history, events...)
	if len(d.history) > historyLimit {
		d.compactLocked(d.history[len(d.history)-historyLimit].Revision - 1)
	}
	close(d.notify)
	d.notify = make(chan struct{})
	return d.rev
}

// compactLocked drops the history at and below rev. d.mu must be held.
func (d *data) compactLocked(rev int64) {
	if rev <= d.compacted {
		return
	}
	i := 0
	for i < len(d.history) && d.history[i].Revision <= rev {
		i++
	}
	d.history = append([]metadata.Event(nil), d.history[i:]...)
	d.compacted = rev
}

// Compact discards the watch history at and below rev, as etcd's compaction
// does: a watch that needs those events gets an EventReload instead. It
// never fails; the signature matches the etcd store's.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	s.d.compactLocked(min(rev, s.d.rev))
	return nil
}

// ClusterID implements metadata.Cluster.
func (s *Store) ClusterID(ctx context.Context) (string, error) {
	if err := s.check(ctx); err != nil {
		return "", err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if s.d.clusterID == "" {
		s.d.clusterID = metadata.NewClusterID()
		s.d.commit()
	}
	return s.d.clusterID, nil
}

// AllocateProducerIDs implements metadata.ProducerIDs.
func (s *Store) AllocateProducerIDs(ctx context.Context, n int64) (int64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("%w: allocate %d producer ids", metadata.ErrInvalid, n)
	}
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	first := s.d.nextPID
	if first > math.MaxInt64-n {
		return 0, fmt.Errorf("%w: producer ids exhausted at %d", metadata.ErrInvalid, first)
	}
	s.d.nextPID = first + n
	s.d.commit()
	return first, nil
}

// Revision implements metadata.Store.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.d.rev, nil
}

// Snapshot implements metadata.Store.
func (s *Store) Snapshot(ctx context.Context) (metadata.Snapshot, error) {
	if err := s.check(ctx); err != nil {
		return metadata.Snapshot{}, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	snap := metadata.Snapshot{
		Revision:   s.d.rev,
		Topics:     s.d.sortedTopics(),
		Partitions: make(map[metadata.TopicID][]metadata.PartitionState, len(s.d.topics)),
		Agents:     s.d.sortedAgents(),
	}
	for _, t := range snap.Topics {
		ps := make([]metadata.PartitionState, t.Partitions())
		for p := range ps {
			ps[p] = s.d.parts[metadata.TopicPartition{TopicID: t.ID, Partition: int32(p)}].Clone()
		}
		snap.Partitions[t.ID] = ps
	}
	return snap, nil
}
