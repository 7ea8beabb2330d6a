package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/metadata/shards"
)

// Store is what the coordinator needs from the metadata store.
type Store interface {
	metadata.Coordinators
	metadata.Transactions
}

// View is what the coordinator reads about the cluster: the live agents,
// to spread shards. *metadata.Cache implements it.
type View interface {
	Agents() []metadata.Agent
}

// Deps are the coordinator's collaborators.
type Deps struct {
	Store Store
	// Registration is the agent's registration, under which shards are
	// claimed; Self is the agent's id.
	Registration metadata.Registration
	Self         int32
	View         View
	// Markers writes transaction markers; Groups completes transactional
	// offset commits.
	Markers MarkerWriter
	Groups  GroupOffsets
	// ProducerID returns an unused producer id (from blocks reserved with
	// metadata.ProducerIDs.AllocateProducerIDs).
	ProducerID func(ctx context.Context) (int64, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Coordinator is this agent's transaction coordinator. Transactional ids
// are spread over shards.Count shards by shards.Of; the agent that owns a
// shard's claim in the metadata store coordinates its ids. A Coordinator
// claims unowned shards when a client looks for their coordinator (Find)
// and, in the background, those it is the preferred owner of, so that
// every transactional id has a coordinator. It is safe for concurrent use.
type Coordinator struct {
	cfg     Config
	logger  *slog.Logger
	store   Store
	markers MarkerWriter
	groups  GroupOffsets
	newPID  func(ctx context.Context) (int64, error)
	now     func() time.Time
	shards  *shards.Set[*shard]
	wg      sync.WaitGroup // the maintenance loop
}

// New returns a coordinator; Start begins its background work.
func New(cfg Config, d Deps) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Store == nil || d.Registration == nil || d.View == nil || d.Markers == nil || d.Groups == nil || d.ProducerID == nil {
		return nil, errors.New("txn: New needs a store, a registration, a view, a marker writer, group offsets and producer ids")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	c := &Coordinator{
		cfg:     cfg,
		logger:  logger.With("component", "transaction_coordinator"),
		store:   d.Store,
		markers: d.Markers,
		groups:  d.Groups,
		newPID:  d.ProducerID,
		now:     now,
	}
	c.shards = shards.NewSet(shards.SetConfig[*shard]{
		Kind:          metadata.CoordinatorTransaction,
		Store:         d.Store,
		Registration:  d.Registration,
		Self:          d.Self,
		Agents:        d.View.Agents,
		ClaimInterval: cfg.ClaimInterval,
		Logger:        c.logger,
		NotAvailable:  ErrCoordinatorNotAvailable,
		NewShard: func(ctx context.Context, claim metadata.CoordinatorClaim) *shard {
			return newShard(ctx, c, claim)
		},
	})
	return c, nil
}

// SetRegistration replaces the registration new claims are made under,
// after the agent lost its old one and registered again. Shards claimed
// under the old registration are fenced at their next write and given up;
// they are claimed again under the new one.
func (c *Coordinator) SetRegistration(reg metadata.Registration) {
	c.shards.SetRegistration(reg)
}

// Start begins claiming shards, aborting timed-out transactions and
// expiring transactional ids.
func (c *Coordinator) Start() {
	c.shards.Start()
	c.wg.Go(c.maintain)
}

// Close stops every shard and waits for the coordinator's goroutines.
// Requests waiting on a shard fail with ErrNotCoordinator; completions in
// progress stop, and whoever owns the shard next resumes them. The claims
// stay in the store until the agent's registration ends.
func (c *Coordinator) Close() {
	c.shards.Close()
	c.wg.Wait()
}

func shardKey(idx int32) metadata.CoordinatorShard {
	return metadata.CoordinatorShard{Kind: metadata.CoordinatorTransaction, Index: idx}
}

// Find returns the id of the agent coordinating transactional id id,
// claiming its shard for this agent if nobody owns it.
func (c *Coordinator) Find(ctx context.Context, id string) (int32, error) {
	if err := checkID(id); err != nil {
		return -1, err
	}
	return c.shards.Find(ctx, shards.Of(id))
}

// checkID rejects transactional ids the store cannot hold.
func checkID(id string) error {
	if err := metadata.ValidateTransactionalID(id); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	return nil
}

// route returns the loaded shard of transactional id id.
func (c *Coordinator) route(id string) (*shard, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	idx := shards.Of(id)
	sh, ok := c.shards.Get(idx)
	if !ok {
		return nil, fmt.Errorf("%w: transactional id %q (shard %d) is coordinated elsewhere", ErrNotCoordinator, id, idx)
	}
	if !sh.loaded.Load() {
		return nil, fmt.Errorf("%w: shard %d", ErrCoordinatorLoadInProgress, idx)
	}
	return sh, nil
}

// maintain aborts timed-out transactions and expires transactional ids
// until Close.
func (c *Coordinator) maintain() {
	abortTick := time.NewTicker(c.cfg.AbortInterval)
	defer abortTick.Stop()
	expireTick := time.NewTicker(c.cfg.ExpireInterval)
	defer expireTick.Stop()
	for {
		select {
		case <-c.shards.Context().Done():
			return
		case <-abortTick.C:
			c.each(func(st *state, now time.Time) { st.abortTimedOut(now) })
		case <-expireTick.C:
			c.each(func(st *state, now time.Time) { st.expire(now) })
		}
	}
}

// each runs fn on the loop of every loaded shard.
func (c *Coordinator) each(fn func(st *state, now time.Time)) {
	for _, sh := range c.shards.Owned() {
		if sh.loaded.Load() {
			_ = sh.loop.Post(c.shards.Context(), fn)
		}
	}
}
