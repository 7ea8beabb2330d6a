package shards

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

// Shard is a shard a Set serves.
type Shard interface {
	comparable
	// Claim returns the claim the shard is served under.
	Claim() metadata.CoordinatorClaim
	// Run serves the shard until Stop is called or the context it was made
	// with ends. The Set runs it on a goroutine it owns.
	Run()
	// Stop makes Run return, without waiting for it.
	Stop()
}

// SetConfig is what a Set needs.
type SetConfig[S Shard] struct {
	// Kind is the coordinator whose Count shards the Set claims.
	Kind  metadata.CoordinatorKind
	Store metadata.Coordinators
	// Registration is the agent's registration, under which shards are
	// claimed; Self is the agent's id.
	Registration metadata.Registration
	Self         int32
	// Agents returns the live agents, among which shards are spread.
	Agents func() []metadata.Agent
	// ClaimInterval is how often the claims are checked.
	ClaimInterval time.Duration
	Logger        *slog.Logger
	// NotAvailable is the error a failed claim wraps (the coordinator's
	// COORDINATOR_NOT_AVAILABLE sentinel).
	NotAvailable error
	// NewShard returns a shard to serve claim; ctx ends when the Set closes.
	NewShard func(ctx context.Context, claim metadata.CoordinatorClaim) S
}

// Set is the shards of one coordinator kind this agent serves: it claims
// them, runs each claimed shard, and stops those whose claim is gone. It
// is safe for concurrent use.
type Set[S Shard] struct {
	cfg SetConfig[S]

	regMu sync.Mutex
	reg   metadata.Registration // guarded by regMu

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the claim loop and every shard's Run

	mu     sync.Mutex
	shards [Count]S // guarded by mu; zero where this agent owns no claim
}

// NewSet returns a Set; Start begins its background claiming.
func NewSet[S Shard](cfg SetConfig[S]) *Set[S] {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Set[S]{cfg: cfg, reg: cfg.Registration, ctx: ctx, cancel: cancel}
}

// Context returns a context that ends with Close.
func (s *Set[S]) Context() context.Context { return s.ctx }

// Start begins claiming shards every claim interval, at once first.
func (s *Set[S]) Start() {
	s.wg.Go(s.claimLoop)
}

// Close stops every shard and waits for the Set's goroutines. The claims
// stay in the store until the agent's registration ends.
func (s *Set[S]) Close() {
	// adopt starts shards only with mu held and s.ctx live, so once this
	// cancel is done no shard goroutine can be added behind the Wait.
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
}

// SetRegistration replaces the registration new claims are made under,
// after the agent lost its old one and registered again. Shards claimed
// under the old registration are fenced at their next write and given up;
// they are claimed again under the new one.
func (s *Set[S]) SetRegistration(reg metadata.Registration) {
	s.regMu.Lock()
	s.reg = reg
	s.regMu.Unlock()
}

func (s *Set[S]) registration() metadata.Registration {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	return s.reg
}

// Get returns the shard idx (0 to Count-1) this agent serves, if it does.
func (s *Set[S]) Get(idx int32) (S, bool) {
	var zero S
	s.mu.Lock()
	sh := s.shards[idx]
	s.mu.Unlock()
	return sh, sh != zero
}

// Owned returns the shards this agent serves.
func (s *Set[S]) Owned() []S {
	var zero S
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []S
	for _, sh := range s.shards {
		if sh != zero {
			out = append(out, sh)
		}
	}
	return out
}

// Find returns the id of the agent that owns shard idx, claiming it for
// this agent if nobody does.
func (s *Set[S]) Find(ctx context.Context, idx int32) (int32, error) {
	if _, ok := s.Get(idx); ok {
		return s.cfg.Self, nil
	}
	return s.claim(ctx, idx)
}

// claim claims shard idx (or learns its owner) and starts serving it when
// the claim is this agent's.
func (s *Set[S]) claim(ctx context.Context, idx int32) (int32, error) {
	if s.ctx.Err() != nil {
		return -1, fmt.Errorf("%w: the agent is shutting down", s.cfg.NotAvailable)
	}
	shard := metadata.CoordinatorShard{Kind: s.cfg.Kind, Index: idx}
	claim, ours, err := s.cfg.Store.ClaimCoordinator(ctx, s.registration(), shard)
	if err != nil {
		return -1, fmt.Errorf("%w: claim shard %d: %v", s.cfg.NotAvailable, idx, err)
	}
	if !ours {
		return claim.Agent, nil
	}
	s.adopt(claim)
	return s.cfg.Self, nil
}

// adopt starts serving a shard this agent holds the claim of, replacing a
// shard of an older claim.
func (s *Set[S]) adopt(claim metadata.CoordinatorClaim) {
	var zero S
	idx := claim.Shard.Index
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	if old := s.shards[idx]; old != zero {
		if old.Claim().Revision == claim.Revision {
			return
		}
		old.Stop()
	}
	sh := s.cfg.NewShard(s.ctx, claim)
	s.shards[idx] = sh
	s.wg.Go(sh.Run)
	s.cfg.Logger.Debug("coordinating "+string(s.cfg.Kind)+" shard", "shard", idx, "claim_revision", claim.Revision)
}

// Abandon stops serving sh, whose claim is no longer current (why says
// how it was found out).
func (s *Set[S]) Abandon(sh S, why error) {
	var zero S
	claim := sh.Claim()
	idx := claim.Shard.Index
	s.mu.Lock()
	if s.shards[idx] == sh {
		s.shards[idx] = zero
		s.cfg.Logger.Warn("stopped coordinating "+string(s.cfg.Kind)+" shard", "shard", idx, "claim_revision", claim.Revision, "reason", why)
	}
	s.mu.Unlock()
	sh.Stop()
}

// claimLoop reconciles the claims every claim interval until Close.
func (s *Set[S]) claimLoop() {
	tick := time.NewTicker(s.cfg.ClaimInterval)
	defer tick.Stop()
	unowned := make(map[int32]int) // rounds each shard has gone unowned
	s.reconcile(unowned)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
			s.reconcile(unowned)
		}
	}
}

// reconcile drops shards whose claim is gone and claims unowned shards: at
// once those this agent is the preferred owner of (shard i's preferred
// owner is the (i mod n)-th of the n live agents, by id), others once they
// have gone unowned for two rounds (their preferred owner is not claiming
// them). Every kind follows the same rule, so a group and a transactional
// id of the same shard number usually share an agent.
func (s *Set[S]) reconcile(unowned map[int32]int) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ClaimInterval)
	defer cancel()
	// Shards adopted before the list is read have claims the list shows,
	// unless they are gone; one adopted after it may be missing from it.
	owned := s.Owned()
	claims, err := s.cfg.Store.ListCoordinators(ctx, s.cfg.Kind)
	if err != nil {
		if s.ctx.Err() == nil {
			s.cfg.Logger.Warn("listing "+string(s.cfg.Kind)+" coordinator claims failed", "err", err)
		}
		return
	}
	current := make(map[int32]metadata.CoordinatorClaim, len(claims))
	for _, cl := range claims {
		current[cl.Shard.Index] = cl
	}
	for _, sh := range owned {
		claim := sh.Claim()
		if cl, ok := current[claim.Shard.Index]; !ok || cl.Revision != claim.Revision {
			s.Abandon(sh, errors.New("the shard's claim is gone from the metadata store"))
		}
	}
	live := s.liveAgents()
	for idx := range int32(Count) {
		if _, ok := current[idx]; ok {
			delete(unowned, idx)
			continue
		}
		if live[int(idx)%len(live)] != s.cfg.Self && unowned[idx] < 2 {
			unowned[idx]++
			continue
		}
		if _, err := s.claim(ctx, idx); err != nil {
			if s.ctx.Err() == nil {
				s.cfg.Logger.Warn("claiming "+string(s.cfg.Kind)+" coordinator shard failed", "shard", idx, "err", err)
			}
			return
		}
		delete(unowned, idx)
	}
}

// liveAgents returns the live agent ids, sorted, including this one.
func (s *Set[S]) liveAgents() []int32 {
	var ids []int32
	for _, a := range s.cfg.Agents() {
		ids = append(ids, a.ID)
	}
	if !slices.Contains(ids, s.cfg.Self) {
		ids = append(ids, s.cfg.Self)
	}
	slices.Sort(ids)
	return ids
}
