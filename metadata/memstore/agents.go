package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/strata-io/strata/metadata"
)

// registration is a live agent registration: the stand-in for an etcd
// lease. It ends on Close, when the context given to RegisterAgent ends,
// when its Store closes, or on ExpireAgent.
type registration struct {
	s    *Store
	id   int32
	done chan struct{}
	once sync.Once

	mu   sync.Mutex
	stop func() bool // guarded by mu; unregisters the context callback
}

// RegisterAgent implements metadata.Agents.
func (s *Store) RegisterAgent(ctx context.Context, a metadata.Agent) (metadata.Registration, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &registration{s: s, id: a.ID, done: make(chan struct{})}
	// Lock order: s.mu, then d.mu. Holding s.mu across the write keeps
	// Close from missing a registration that is being added.
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return nil, metadata.ErrClosed
	default:
	}
	s.d.mu.Lock()
	if old, ok := s.d.agents[a.ID]; ok {
		if a.DirID == "" || old.agent.DirID != a.DirID {
			s.d.mu.Unlock()
			s.mu.Unlock()
			return nil, fmt.Errorf("register agent: %w: agent id %d is already registered", metadata.ErrConflict, a.ID)
		}
		// The same data directory registers again: its old process is gone.
		delete(s.d.agents, a.ID)
		delete(s.regs, old.reg)
		defer old.reg.end()
	}
	s.d.agents[a.ID] = agentEntry{agent: a, reg: r}
	s.d.commit(metadata.Event{Kind: metadata.EventAgent, Agent: a})
	s.d.mu.Unlock()
	s.regs[r] = struct{}{}
	s.mu.Unlock()

	stop := context.AfterFunc(ctx, r.end)
	r.mu.Lock()
	r.stop = stop
	r.mu.Unlock()
	return r, nil
}

// Done implements metadata.Registration.
func (r *registration) Done() <-chan struct{} { return r.done }

// ValidUntil implements metadata.Registration: an in-memory registration
// cannot expire by itself, so it is valid until it ends.
func (r *registration) ValidUntil() time.Time {
	select {
	case <-r.done:
		return time.Time{}
	default:
		return time.Now().Add(time.Hour)
	}
}

// Close implements metadata.Registration: the agent disappears at once.
func (r *registration) Close() error {
	r.end()
	return nil
}

// end removes the agent if r still owns it and closes Done. It is
// idempotent and safe to call from any goroutine.
func (r *registration) end() {
	r.once.Do(func() {
		r.mu.Lock()
		if r.stop != nil {
			r.stop()
		}
		r.mu.Unlock()
		d := r.s.d
		d.mu.Lock()
		// As with an etcd lease, the agent and its coordinator claims go
		// in one write.
		var events []metadata.Event
		if e, ok := d.agents[r.id]; ok && e.reg == r {
			delete(d.agents, r.id)
			events = append(events, metadata.Event{Kind: metadata.EventAgent, Deleted: true, Agent: metadata.Agent{ID: r.id}})
		}
		if d.dropClaimsLocked(r) || len(events) > 0 {
			d.commit(events...)
		}
		d.mu.Unlock()
		r.s.mu.Lock()
		delete(r.s.regs, r)
		r.s.mu.Unlock()
		close(r.done)
	})
}

// ExpireAgent ends the registration of agent id as if its lease had
// expired: the agent disappears and the registration's Done is closed. It
// reports whether the agent was registered.
func (s *Store) ExpireAgent(id int32) bool {
	s.d.mu.Lock()
	e, ok := s.d.agents[id]
	s.d.mu.Unlock()
	if !ok {
		return false
	}
	e.reg.end()
	return true
}

// ListAgents implements metadata.Agents.
func (s *Store) ListAgents(ctx context.Context) ([]metadata.Agent, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.d.sortedAgents(), nil
}

// sortedAgents returns all agents sorted by id. d.mu must be held.
func (d *data) sortedAgents() []metadata.Agent {
	as := make([]metadata.Agent, 0, len(d.agents))
	for _, e := range d.agents {
		as = append(as, e.agent)
	}
	slices.SortFunc(as, func(a, b metadata.Agent) int { return cmp.Compare(a.ID, b.ID) })
	return as
}
