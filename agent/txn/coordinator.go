package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/strata-io/strata/metadata"
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
// are spread over NumShards shards by ShardOf; the agent that owns a
// shard's claim in the metadata store coordinates its ids. A Coordinator
// claims unowned shards when a client looks for their coordinator (Find)
// and, in the background, those it is the preferred owner of, so that
// every transactional id has a coordinator. It is safe for concurrent use.
type Coordinator struct {
	cfg     Config
	logger  *slog.Logger
	store   Store
	self    int32
	view    View
	markers MarkerWriter
	groups  GroupOffsets
	newPID  func(ctx context.Context) (int64, error)
	now     func() time.Time

	regMu sync.Mutex
	reg   metadata.Registration // guarded by regMu

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the maintenance loop and every shard's goroutine

	mu     sync.Mutex
	shards [NumShards]*shard // guarded by mu; nil where this agent owns no claim
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
	ctx, cancel := context.WithCancel(context.Background())
	return &Coordinator{
		cfg:     cfg,
		logger:  logger.With("component", "transaction_coordinator"),
		store:   d.Store,
		self:    d.Self,
		view:    d.View,
		markers: d.Markers,
		groups:  d.Groups,
		newPID:  d.ProducerID,
		now:     now,
		reg:     d.Registration,
		ctx:     ctx,
		cancel:  cancel,
	}, nil
}

// SetRegistration replaces the registration new claims are made under,
// after the agent lost its old one and registered again. Shards claimed
// under the old registration are fenced at their next write and given up;
// they are claimed again under the new one.
func (c *Coordinator) SetRegistration(reg metadata.Registration) {
	c.regMu.Lock()
	c.reg = reg
	c.regMu.Unlock()
}

func (c *Coordinator) registration() metadata.Registration {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	return c.reg
}

// Start begins claiming shards, aborting timed-out transactions and
// expiring transactional ids.
func (c *Coordinator) Start() {
	c.wg.Go(c.maintain)
}

// Close stops every shard and waits for the coordinator's goroutines.
// Requests waiting on a shard fail with ErrNotCoordinator; completions in
// progress stop, and whoever owns the shard next resumes them. The claims
// stay in the store until the agent's registration ends.
func (c *Coordinator) Close() {
	// adopt starts shards only with mu held and c.ctx live, so once this
	// cancel is done no shard goroutine can be added behind the Wait.
	c.mu.Lock()
	c.cancel()
	c.mu.Unlock()
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
	idx := ShardOf(id)
	c.mu.Lock()
	sh := c.shards[idx]
	c.mu.Unlock()
	if sh != nil {
		return c.self, nil
	}
	return c.claim(ctx, idx)
}

// claim claims shard idx (or learns its owner) and starts serving it when
// the claim is this agent's.
func (c *Coordinator) claim(ctx context.Context, idx int32) (int32, error) {
	if c.ctx.Err() != nil {
		return -1, fmt.Errorf("%w: the agent is shutting down", ErrCoordinatorNotAvailable)
	}
	claim, ours, err := c.store.ClaimCoordinator(ctx, c.registration(), shardKey(idx))
	if err != nil {
		return -1, fmt.Errorf("%w: claim shard %d: %v", ErrCoordinatorNotAvailable, idx, err)
	}
	if !ours {
		return claim.Agent, nil
	}
	c.adopt(claim)
	return c.self, nil
}

// adopt starts serving a shard this agent holds the claim of, replacing a
// shard of an older claim.
func (c *Coordinator) adopt(claim metadata.CoordinatorClaim) {
	idx := claim.Shard.Index
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	if old := c.shards[idx]; old != nil {
		if old.claim.Revision == claim.Revision {
			return
		}
		old.cancel()
	}
	sh := newShard(c, claim)
	c.shards[idx] = sh
	c.wg.Go(sh.run)
	c.logger.Debug("coordinating transaction shard", "shard", idx, "claim_revision", claim.Revision)
}

// abandon stops serving sh, whose claim is no longer current.
func (c *Coordinator) abandon(sh *shard, why error) {
	idx := sh.claim.Shard.Index
	c.mu.Lock()
	if c.shards[idx] == sh {
		c.shards[idx] = nil
		c.logger.Warn("stopped coordinating transaction shard", "shard", idx, "claim_revision", sh.claim.Revision, "reason", why)
	}
	c.mu.Unlock()
	sh.cancel()
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
	idx := ShardOf(id)
	c.mu.Lock()
	sh := c.shards[idx]
	c.mu.Unlock()
	if sh == nil {
		return nil, fmt.Errorf("%w: transactional id %q (shard %d) is coordinated elsewhere", ErrNotCoordinator, id, idx)
	}
	if !sh.loaded.Load() {
		return nil, fmt.Errorf("%w: shard %d", ErrCoordinatorLoadInProgress, idx)
	}
	return sh, nil
}

// owned returns the shards this agent serves.
func (c *Coordinator) owned() []*shard {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*shard
	for _, sh := range c.shards {
		if sh != nil {
			out = append(out, sh)
		}
	}
	return out
}

// maintain claims shards, aborts timed-out transactions and expires
// transactional ids until Close.
func (c *Coordinator) maintain() {
	claimTick := time.NewTicker(c.cfg.ClaimInterval)
	defer claimTick.Stop()
	abortTick := time.NewTicker(c.cfg.AbortInterval)
	defer abortTick.Stop()
	expireTick := time.NewTicker(c.cfg.ExpireInterval)
	defer expireTick.Stop()
	unowned := make(map[int32]int) // rounds each shard has gone unowned
	c.reconcileClaims(unowned)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-claimTick.C:
			c.reconcileClaims(unowned)
		case <-abortTick.C:
			c.each(func(st *state, now time.Time) { st.abortTimedOut(now) })
		case <-expireTick.C:
			c.each(func(st *state, now time.Time) { st.expire(now) })
		}
	}
}

// each runs fn on the loop of every loaded shard.
func (c *Coordinator) each(fn func(st *state, now time.Time)) {
	for _, sh := range c.owned() {
		if sh.loaded.Load() {
			_ = sh.post(c.ctx, fn)
		}
	}
}

// reconcileClaims drops shards whose claim is gone and claims unowned
// shards: at once those this agent is the preferred owner of (shard i's
// preferred owner is the (i mod n)-th of the n live agents, by id), others
// once they have gone unowned for two rounds (their preferred owner is
// not claiming them). It is the group coordinator's rule, so a group and a
// transactional id of the same shard number usually share an agent.
func (c *Coordinator) reconcileClaims(unowned map[int32]int) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.ClaimInterval)
	defer cancel()
	// Shards adopted before the list is read have claims the list shows,
	// unless they are gone; one adopted after it may be missing from it.
	owned := c.owned()
	claims, err := c.store.ListCoordinators(ctx, metadata.CoordinatorTransaction)
	if err != nil {
		if c.ctx.Err() == nil {
			c.logger.Warn("listing transaction coordinator claims failed", "err", err)
		}
		return
	}
	current := make(map[int32]metadata.CoordinatorClaim, len(claims))
	for _, cl := range claims {
		current[cl.Shard.Index] = cl
	}
	for _, sh := range owned {
		if cl, ok := current[sh.claim.Shard.Index]; !ok || cl.Revision != sh.claim.Revision {
			c.abandon(sh, errors.New("the shard's claim is gone from the metadata store"))
		}
	}
	live := c.liveAgents()
	for idx := range int32(NumShards) {
		if _, ok := current[idx]; ok {
			delete(unowned, idx)
			continue
		}
		if live[int(idx)%len(live)] != c.self && unowned[idx] < 2 {
			unowned[idx]++
			continue
		}
		if _, err := c.claim(ctx, idx); err != nil {
			if c.ctx.Err() == nil {
				c.logger.Warn("claiming transaction coordinator shard failed", "shard", idx, "err", err)
			}
			return
		}
		delete(unowned, idx)
	}
}

// liveAgents returns the live agent ids, sorted, including this one.
func (c *Coordinator) liveAgents() []int32 {
	var ids []int32
	for _, a := range c.view.Agents() {
		ids = append(ids, a.ID)
	}
	if !slices.Contains(ids, c.self) {
		ids = append(ids, c.self)
	}
	slices.Sort(ids)
	return ids
}
