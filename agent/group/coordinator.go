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
	"github.com/strata-io/strata/metadata/shards"
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
// shards.Count shards by shards.Of; the agent that owns a shard's claim in
// the metadata store coordinates its groups. A Coordinator claims unowned
// shards when a client looks for their coordinator (Find) and, in the
// background, those it is the preferred owner of, so that every group has
// a coordinator. It is safe for concurrent use.
type Coordinator struct {
	cfg    Config
	logger *slog.Logger
	store  Store
	view   View
	shards *shards.Set[*shard]
	wg     sync.WaitGroup // the maintenance loop
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
	c := &Coordinator{
		cfg:    cfg,
		logger: logger.With("component", "group_coordinator"),
		store:  store,
		view:   view,
	}
	c.shards = shards.NewSet(shards.SetConfig[*shard]{
		Kind:          metadata.CoordinatorGroup,
		Store:         store,
		Registration:  reg,
		Self:          self,
		Agents:        view.Agents,
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

// Start begins claiming shards and sweeping expired offsets.
func (c *Coordinator) Start() {
	c.shards.Start()
	c.wg.Go(c.maintain)
}

// Close stops every shard and waits for the coordinator's goroutines.
// Requests waiting on a shard fail with ErrNotCoordinator. The claims stay
// in the store until the agent's registration ends.
func (c *Coordinator) Close() {
	c.shards.Close()
	c.wg.Wait()
}

// Find returns the id of the agent coordinating group, claiming the
// group's shard for this agent if nobody owns it.
func (c *Coordinator) Find(ctx context.Context, group string) (int32, error) {
	return c.shards.Find(ctx, shards.Of(group))
}

// route returns the loaded shard of group.
func (c *Coordinator) route(group string) (*shard, error) {
	idx := shards.Of(group)
	sh, ok := c.shards.Get(idx)
	if !ok {
		return nil, fmt.Errorf("%w: group %q (shard %d) is coordinated elsewhere", ErrNotCoordinator, group, idx)
	}
	if !sh.loaded.Load() {
		return nil, fmt.Errorf("%w: shard %d", ErrCoordinatorLoadInProgress, idx)
	}
	return sh, nil
}

// maintain sweeps offsets until Close.
func (c *Coordinator) maintain() {
	ctx := c.shards.Context()
	sweepTick := time.NewTicker(c.cfg.OffsetsRetentionCheckInterval)
	defer sweepTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweepTick.C:
			for _, sh := range c.shards.Owned() {
				if sh.loaded.Load() {
					_ = sh.loop.Post(ctx, func(st *state, now time.Time) { st.sweep(now) })
				}
			}
		}
	}
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
	res, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func(JoinResult)) { st.join(now, req, reply) })
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
	res, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func(SyncResult)) { st.sync(now, req, reply) })
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
	res, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func(error)) { reply(st.heartbeat(now, req)) })
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
	res, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func(result)) {
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
		return shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func([]error)) { st.commit(now, req, reply) })
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
	return shards.Call(ctx, sh.loop, func(st *state, _ time.Time, reply func([]FetchedOffset)) { reply(st.fetch(group, partitions)) })
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
	return shards.Call(ctx, sh.loop, func(st *state, _ time.Time, reply func([]FetchedOffset)) { reply(st.fetchStable(group, partitions)) })
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
		return shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func([]error)) { st.txnCommit(now, req, reply) })
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
	if shard < 0 || shard >= shards.Count || producerID < 0 || producerEpoch < 0 {
		return fmt.Errorf("%w: shard %d, producer id %d epoch %d", ErrInvalidRequest, shard, producerID, producerEpoch)
	}
	sh, ok := c.shards.Get(shard)
	if !ok {
		return fmt.Errorf("%w: shard %d is coordinated elsewhere", ErrNotCoordinator, shard)
	}
	if !sh.loaded.Load() {
		return fmt.Errorf("%w: shard %d", ErrCoordinatorLoadInProgress, shard)
	}
	res, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func(error)) {
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
	res, err := shards.Call(ctx, sh.loop, func(st *state, _ time.Time, reply func(result)) {
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
	return shards.Call(ctx, sh.loop, func(st *state, _ time.Time, reply func(Description)) { reply(st.describe(group)) })
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
	res, err := shards.Call(ctx, sh.loop, func(st *state, now time.Time, reply func(error)) { st.deleteGroup(now, group, reply) })
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
	for _, sh := range c.shards.Owned() {
		if !sh.loaded.Load() {
			loadErr = fmt.Errorf("%w: shard %d", ErrCoordinatorLoadInProgress, sh.claim.Shard.Index)
			continue
		}
		ls, err := shards.Call(ctx, sh.loop, func(st *state, _ time.Time, reply func([]Listing)) { reply(st.list()) })
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
