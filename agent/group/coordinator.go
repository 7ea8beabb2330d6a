package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-io/strata/metadata"
)

// Store is what the coordinator needs from the metadata store.
type Store interface {
	metadata.Coordinators
	metadata.Groups
}

// View is what the coordinator reads about the cluster: topics (to drop
// offsets of deleted topics) and live agents (to spread shards).
// *metadata.Cache implements it.
type View interface {
	Topics
	Agents() []metadata.Agent
}

// Coordinator is this agent's group coordinator. Groups are spread over
// NumShards shards by ShardOf; the agent that owns a shard's claim in the
// metadata store coordinates its groups. A Coordinator claims unowned
// shards when a client looks for their coordinator (Find) and, in the
// background, those it is the preferred owner of, so that every group has
// a coordinator. It is safe for concurrent use.
type Coordinator struct {
	cfg    Config
	logger *slog.Logger
	store  Store
	regMu  sync.Mutex
	reg    metadata.Registration // guarded by regMu
	self   int32
	view   View

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the maintenance loop and every shard's goroutines

	mu     sync.Mutex
	shards [NumShards]*shard // guarded by mu; nil where this agent owns no claim
}

// New returns a coordinator for agent self, whose registration reg holds
// its claims. Start begins its background work.
func New(cfg Config, store Store, reg metadata.Registration, self int32, view View) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Coordinator{
		cfg:    cfg,
		logger: logger.With("component", "group_coordinator"),
		store:  store,
		reg:    reg,
		self:   self,
		view:   view,
		ctx:    ctx,
		cancel: cancel,
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

// Start begins claiming shards and sweeping expired offsets.
func (c *Coordinator) Start() {
	c.wg.Go(c.maintain)
}

// Close stops every shard and waits for the coordinator's goroutines.
// Requests waiting on a shard fail with ErrNotCoordinator. The claims stay
// in the store until the agent's registration ends.
func (c *Coordinator) Close() {
	// adopt starts shards only with mu held and c.ctx live, so once this
	// cancel is done no shard goroutine can be added behind the Wait.
	c.mu.Lock()
	c.cancel()
	c.mu.Unlock()
	c.wg.Wait()
}

func shardKey(idx int32) metadata.CoordinatorShard {
	return metadata.CoordinatorShard{Kind: metadata.CoordinatorGroup, Index: idx}
}

// Find returns the id of the agent coordinating group, claiming the
// group's shard for this agent if nobody owns it.
func (c *Coordinator) Find(ctx context.Context, group string) (int32, error) {
	idx := ShardOf(group)
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
	c.logger.Debug("coordinating group shard", "shard", idx, "claim_revision", claim.Revision)
}

// abandon stops serving sh, whose claim is no longer current.
func (c *Coordinator) abandon(sh *shard, why error) {
	idx := sh.claim.Shard.Index
	c.mu.Lock()
	if c.shards[idx] == sh {
		c.shards[idx] = nil
		c.logger.Warn("stopped coordinating group shard", "shard", idx, "claim_revision", sh.claim.Revision, "reason", why)
	}
	c.mu.Unlock()
	sh.cancel()
}

// route returns the loaded shard of group.
func (c *Coordinator) route(group string) (*shard, error) {
	idx := ShardOf(group)
	c.mu.Lock()
	sh := c.shards[idx]
	c.mu.Unlock()
	if sh == nil {
		return nil, fmt.Errorf("%w: group %q (shard %d) is coordinated elsewhere", ErrNotCoordinator, group, idx)
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

// maintain claims shards and sweeps offsets until Close.
func (c *Coordinator) maintain() {
	claimTick := time.NewTicker(c.cfg.ClaimInterval)
	defer claimTick.Stop()
	sweepTick := time.NewTicker(c.cfg.OffsetsRetentionCheckInterval)
	defer sweepTick.Stop()
	unowned := make(map[int32]int) // rounds each shard has gone unowned
	c.reconcileClaims(unowned)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-claimTick.C:
			c.reconcileClaims(unowned)
		case <-sweepTick.C:
			for _, sh := range c.owned() {
				if sh.loaded.Load() {
					_ = sh.post(c.ctx, func(st *state, now time.Time) { st.sweep(now) })
				}
			}
		}
	}
}

// reconcileClaims drops shards whose claim is gone and claims unowned
// shards: at once those this agent is the preferred owner of (shard i's
// preferred owner is the (i mod n)-th of the n live agents, by id), others
// once they have gone unowned for two rounds (their preferred owner is
// not claiming them).
func (c *Coordinator) reconcileClaims(unowned map[int32]int) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.ClaimInterval)
	defer cancel()
	// Shards adopted before the list is read have claims the list shows,
	// unless they are gone; one adopted after it may be missing from it.
	owned := c.owned()
	claims, err := c.store.ListCoordinators(ctx, metadata.CoordinatorGroup)
	if err != nil {
		if c.ctx.Err() == nil {
			c.logger.Warn("listing group coordinator claims failed", "err", err)
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
				c.logger.Warn("claiming group coordinator shard failed", "shard", idx, "err", err)
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

// checkGroupID rejects group ids the store cannot hold.
func checkGroupID(group string) error {
	if err := metadata.ValidateGroupName(group); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidGroupID, err)
	}
	return nil
}

// Join serves a JoinGroup; it may wait for the rebalance to complete.
func (c *Coordinator) Join(ctx context.Context, req JoinRequest) JoinResult {
	if err := checkGroupID(req.Group); err != nil {
		return joinErr(req.MemberID, err)
	}
	sh, err := c.route(req.Group)
	if err != nil {
		return joinErr(req.MemberID, err)
	}
	res, err := call(ctx, sh, func(st *state, now time.Time, reply func(JoinResult)) { st.join(now, req, reply) })
	if err != nil {
		return joinErr(req.MemberID, err)
	}
	return res
}

// Sync serves a SyncGroup; the leader's, and followers' during a
// rebalance, wait until the assignment is stored.
func (c *Coordinator) Sync(ctx context.Context, req SyncRequest) SyncResult {
	if err := checkGroupID(req.Group); err != nil {
		return SyncResult{Err: err}
	}
	sh, err := c.route(req.Group)
	if errors.Is(err, ErrCoordinatorLoadInProgress) {
		// The rebalance's state was lost with the old coordinator: make
		// the member rejoin (older clients do not know the load error).
		return SyncResult{Err: fmt.Errorf("%w: %v", ErrRebalanceInProgress, err)}
	}
	if err != nil {
		return SyncResult{Err: err}
	}
	res, err := call(ctx, sh, func(st *state, now time.Time, reply func(SyncResult)) { st.sync(now, req, reply) })
	if err != nil {
		return SyncResult{Err: err}
	}
	return res
}

// Heartbeat serves a Heartbeat.
func (c *Coordinator) Heartbeat(ctx context.Context, req HeartbeatRequest) error {
	if err := checkGroupID(req.Group); err != nil {
		return err
	}
	sh, err := c.route(req.Group)
	if errors.Is(err, ErrCoordinatorLoadInProgress) {
		return nil // as Kafka: a heartbeat during loading succeeds blindly
	}
	if err != nil {
		return err
	}
	res, err := call(ctx, sh, func(st *state, now time.Time, reply func(error)) { reply(st.heartbeat(now, req)) })
	if err != nil {
		return err
	}
	return res
}

// Leave serves a LeaveGroup: one error per member, or a group error.
func (c *Coordinator) Leave(ctx context.Context, group string, members []LeaveMember) ([]error, error) {
	if err := checkGroupID(group); err != nil {
		return nil, err
	}
	sh, err := c.route(group)
	if err != nil {
		return nil, err
	}
	type result struct {
		errs []error
		err  error
	}
	res, err := call(ctx, sh, func(st *state, now time.Time, reply func(result)) {
		errs, err := st.leave(now, group, members)
		reply(result{errs, err})
	})
	if err != nil {
		return nil, err
	}
	return res.errs, res.err
}

// Commit serves an OffsetCommit: one error per offset of req, in order.
func (c *Coordinator) Commit(ctx context.Context, req CommitRequest) []error {
	errs, err := func() ([]error, error) {
		if err := checkGroupID(req.Group); err != nil {
			return nil, err
		}
		sh, err := c.route(req.Group)
		if err != nil {
			return nil, err
		}
		return call(ctx, sh, func(st *state, now time.Time, reply func([]error)) { st.commit(now, req, reply) })
	}()
	if err != nil {
		errs = make([]error, len(req.Offsets))
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// Fetch serves an OffsetFetch of one group: the offsets of partitions, or
// all the group's offsets when partitions is nil.
func (c *Coordinator) Fetch(ctx context.Context, group string, partitions []metadata.GroupPartition) ([]FetchedOffset, error) {
	if group == "" {
		// Kafka allows the empty group id here; no offsets can exist for it.
		return noOffsets(partitions), nil
	}
	if err := checkGroupID(group); err != nil {
		return nil, err
	}
	sh, err := c.route(group)
	if err != nil {
		return nil, err
	}
	return call(ctx, sh, func(st *state, _ time.Time, reply func([]FetchedOffset)) { reply(st.fetch(group, partitions)) })
}

// Check returns nil if this agent coordinates group and has loaded it, and
// otherwise the error a request for the group gets (ErrInvalidGroupID,
// ErrNotCoordinator, ErrCoordinatorLoadInProgress), so a caller can answer
// it before doing work for the request elsewhere.
func (c *Coordinator) Check(group string) error {
	if err := checkGroupID(group); err != nil {
		return err
	}
	_, err := c.route(group)
	return err
}

// FetchStable serves an OffsetFetch with require_stable (v7+): as Fetch,
// but partitions with pending transactional offsets (or commits being
// stored) answer ErrUnstableOffsetCommit in their FetchedOffset.Err.
func (c *Coordinator) FetchStable(ctx context.Context, group string, partitions []metadata.GroupPartition) ([]FetchedOffset, error) {
	if group == "" {
		return noOffsets(partitions), nil
	}
	if err := checkGroupID(group); err != nil {
		return nil, err
	}
	sh, err := c.route(group)
	if err != nil {
		return nil, err
	}
	return call(ctx, sh, func(st *state, _ time.Time, reply func([]FetchedOffset)) { reply(st.fetchStable(group, partitions)) })
}

// TxnCommit serves a TxnOffsetCommit: one error per offset of req, in
// order. The caller has verified with the transaction coordinator that the
// producer's ongoing transaction includes the group.
func (c *Coordinator) TxnCommit(ctx context.Context, req TxnCommitRequest) []error {
	errs, err := func() ([]error, error) {
		if err := checkGroupID(req.Group); err != nil {
			return nil, err
		}
		if req.ProducerID < 0 || req.ProducerEpoch < 0 {
			return nil, fmt.Errorf("%w: producer id %d epoch %d", ErrInvalidRequest, req.ProducerID, req.ProducerEpoch)
		}
		sh, err := c.route(req.Group)
		if err != nil {
			return nil, err
		}
		return call(ctx, sh, func(st *state, now time.Time, reply func([]error)) { st.txnCommit(now, req, reply) })
	}()
	if err != nil {
		errs = make([]error, len(req.Offsets))
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// CompleteTxn ends producerID's transaction in the groups of shard (the
// shard of the groups the transaction committed offsets to): its pending
// offsets become committed offsets when commit is set and are dropped
// otherwise. It is what a transaction marker does to a __consumer_offsets
// partition in Kafka, and is idempotent: the transaction coordinator calls
// it until it succeeds. It fails with ErrNotCoordinator unless this agent
// coordinates the shard.
func (c *Coordinator) CompleteTxn(ctx context.Context, shard int32, producerID int64, producerEpoch int16, commit bool) error {
	if shard < 0 || shard >= NumShards || producerID < 0 || producerEpoch < 0 {
		return fmt.Errorf("%w: shard %d, producer id %d epoch %d", ErrInvalidRequest, shard, producerID, producerEpoch)
	}
	c.mu.Lock()
	sh := c.shards[shard]
	c.mu.Unlock()
	if sh == nil {
		return fmt.Errorf("%w: shard %d is coordinated elsewhere", ErrNotCoordinator, shard)
	}
	if !sh.loaded.Load() {
		return fmt.Errorf("%w: shard %d", ErrCoordinatorLoadInProgress, shard)
	}
	res, err := call(ctx, sh, func(st *state, now time.Time, reply func(error)) {
		st.completeTxn(now, producerID, producerEpoch, commit, reply)
	})
	if err != nil {
		return err
	}
	return res
}

// DeleteOffsets serves an OffsetDelete: a group error, or one error per
// partition.
func (c *Coordinator) DeleteOffsets(ctx context.Context, group string, partitions []metadata.GroupPartition) ([]error, error) {
	if err := checkGroupID(group); err != nil {
		return nil, err
	}
	sh, err := c.route(group)
	if err != nil {
		return nil, err
	}
	type result struct {
		err  error
		errs []error
	}
	res, err := call(ctx, sh, func(st *state, _ time.Time, reply func(result)) {
		st.deleteOffsets(group, partitions, func(err error, errs []error) { reply(result{err, errs}) })
	})
	if err != nil {
		return nil, err
	}
	return res.errs, res.err
}

// Describe serves DescribeGroups for one group.
func (c *Coordinator) Describe(ctx context.Context, group string) (Description, error) {
	if group == "" {
		return Description{State: stateDead.String()}, nil
	}
	if err := checkGroupID(group); err != nil {
		return Description{}, err
	}
	sh, err := c.route(group)
	if err != nil {
		return Description{}, err
	}
	return call(ctx, sh, func(st *state, _ time.Time, reply func(Description)) { reply(st.describe(group)) })
}

// DeleteGroup serves DeleteGroups for one group.
func (c *Coordinator) DeleteGroup(ctx context.Context, group string) error {
	if group == "" {
		return fmt.Errorf("%w: empty group id", ErrGroupIDNotFound)
	}
	if err := checkGroupID(group); err != nil {
		return err
	}
	sh, err := c.route(group)
	if err != nil {
		return err
	}
	res, err := call(ctx, sh, func(st *state, now time.Time, reply func(error)) { st.deleteGroup(now, group, reply) })
	if err != nil {
		return err
	}
	return res
}

// List serves ListGroups: the groups this agent coordinates, sorted. It
// returns them together with ErrCoordinatorLoadInProgress while some of
// its shards are still loading, as Kafka does.
func (c *Coordinator) List(ctx context.Context) ([]Listing, error) {
	var out []Listing
	var loadErr error
	for _, sh := range c.owned() {
		if !sh.loaded.Load() {
			loadErr = fmt.Errorf("%w: shard %d", ErrCoordinatorLoadInProgress, sh.claim.Shard.Index)
			continue
		}
		ls, err := call(ctx, sh, func(st *state, _ time.Time, reply func([]Listing)) { reply(st.list()) })
		if errors.Is(err, ErrNotCoordinator) {
			continue // lost meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	slices.SortFunc(out, func(a, b Listing) int { return strings.Compare(a.Group, b.Group) })
	return out, loadErr
}
