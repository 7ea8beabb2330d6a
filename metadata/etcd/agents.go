package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-io/strata/metadata"
)

// registration is a live agent registration: the agent's key attached to
// a lease, and the goroutine that keeps the lease alive.
type registration struct {
	s      *Store
	id     int32
	lease  clientv3.LeaseID
	cancel context.CancelFunc // ends the keep-alive
	done   chan struct{}      // closed when the keep-alive goroutine ends
	err    error              // set before done is closed
	// validUntil is, in Unix nanoseconds, when the lease may expire at the
	// earliest (see ValidUntil); written by RegisterAgent and keepAlive.
	validUntil atomic.Int64
}

// RegisterAgent implements metadata.Agents. It grants a lease of
// Config.LeaseTTL, creates the agent's key under it if no live agent holds
// the id (metadata.ErrConflict otherwise), and starts a goroutine that
// keeps the lease alive until ctx ends, the registration or the store is
// closed, or the lease is lost.
func (s *Store) RegisterAgent(ctx context.Context, a metadata.Agent) (metadata.Registration, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	rctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	granted := time.Now()
	lease, err := s.client.Grant(rctx, s.cfg.leaseSeconds())
	if err != nil {
		return nil, unavailable(fmt.Sprintf("register agent %d: grant lease", a.ID), err)
	}
	key := s.keys.agent(a.ID)
	for attempt := 0; ; attempt++ {
		txn, err := s.client.Txn(rctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, encodeAgent(a), clientv3.WithLease(lease.ID))).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			s.revoke(lease.ID)
			return nil, unavailable(fmt.Sprintf("register agent %d", a.ID), err)
		}
		if txn.Succeeded {
			return s.startKeepAlive(ctx, a.ID, lease.ID, granted)
		}
		holder := ""
		if kvs := txn.Responses[0].GetResponseRange().Kvs; len(kvs) == 1 {
			b, derr := decodeAgent(a.ID, kvs[0].Value)
			if derr == nil {
				holder = fmt.Sprintf(" (by %s:%d)", b.Host, b.Port)
			}
			if derr == nil && attempt == 0 && a.DirID != "" && b.DirID == a.DirID {
				// The same data directory registers again, so the process
				// that left this registration is gone: take it over now
				// rather than wait for its lease to expire.
				if err := s.takeOver(rctx, key, kvs[0]); err != nil {
					s.revoke(lease.ID)
					return nil, err
				}
				continue
			}
		}
		s.revoke(lease.ID)
		return nil, fmt.Errorf("register agent: %w: agent id %d is already registered%s", metadata.ErrConflict, a.ID, holder)
	}
}

// takeOver removes a stale registration: it revokes the lease holding it, or
// deletes the key if that revision is still current.
func (s *Store) takeOver(ctx context.Context, key string, kv *mvccpb.KeyValue) error {
	if kv.Lease != 0 {
		_, err := s.client.Revoke(ctx, clientv3.LeaseID(kv.Lease))
		if err == nil || errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return nil
		}
		return unavailable("take over stale agent registration", err)
	}
	_, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return unavailable("take over stale agent registration", err)
	}
	return nil
}

// startKeepAlive starts the goroutine that keeps a registration's lease
// alive.
func (s *Store) startKeepAlive(ctx context.Context, id int32, lease clientv3.LeaseID, granted time.Time) (*registration, error) {
	kctx, kcancel := context.WithCancel(ctx)
	r := &registration{s: s, id: id, lease: lease, cancel: kcancel, done: make(chan struct{})}
	r.renewed(granted, s.cfg.leaseSeconds())
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		kcancel()
		s.revoke(lease)
		return nil, metadata.ErrClosed
	}
	s.regs[r] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	ka, err := s.client.KeepAlive(kctx, lease)
	if err != nil {
		kcancel()
		s.revoke(lease)
		r.err = unavailable(fmt.Sprintf("register agent %d: keep lease alive", id), err)
		s.forget(r)
		close(r.done) // a concurrent Store.Close may wait for it
		s.wg.Done()
		return nil, r.err
	}
	go r.keepAlive(kctx, ka)
	return r, nil
}

// keepAlive drains keep-alive responses until the channel closes: because
// kctx ended (Close, the caller's context, the store's Close), then it
// revokes the lease, or because the lease was lost.
func (r *registration) keepAlive(kctx context.Context, ka <-chan *clientv3.LeaseKeepAliveResponse) {
	defer r.s.wg.Done()
	defer close(r.done)
	stop := context.AfterFunc(r.s.closeCtx, r.cancel)
	defer stop()
	for resp := range ka {
		r.renewed(time.Now(), resp.TTL)
	}
	r.validUntil.Store(0)
	if kctx.Err() == nil {
		r.cancel()
		r.s.logger.Warn("agent registration lost", "agent_id", r.id, "lease_id", int64(r.lease))
	} else if err := r.s.revokeErr(r.lease); err != nil {
		r.err = unavailable(fmt.Sprintf("deregister agent %d", r.id), err)
	}
	r.s.forget(r)
}

// Done implements metadata.Registration.
func (r *registration) Done() <-chan struct{} { return r.done }

// renewed records a renewal seen at t for ttl seconds. The store refreshed
// the lease at some moment before t, after this process sent the request,
// so half the TTL is kept as a margin for the request's round trip.
func (r *registration) renewed(t time.Time, ttl int64) {
	r.validUntil.Store(t.Add(time.Duration(ttl) * time.Second / 2).UnixNano())
}

// ValidUntil implements metadata.Registration.
func (r *registration) ValidUntil() time.Time { return time.Unix(0, r.validUntil.Load()) }

// Close implements metadata.Registration: it stops the keep-alive and
// revokes the lease, so the agent disappears at once, and waits for both.
func (r *registration) Close() error {
	r.cancel()
	<-r.done
	return r.err
}

// forget drops r from the live registrations.
func (s *Store) forget(r *registration) {
	s.mu.Lock()
	delete(s.regs, r)
	s.mu.Unlock()
}

// revoke revokes a lease, best effort: if it fails, the lease expires by
// itself after its TTL.
func (s *Store) revoke(lease clientv3.LeaseID) {
	if err := s.revokeErr(lease); err != nil {
		s.logger.Warn("revoke lease failed; it will expire", "lease_id", int64(lease), "error", err)
	}
}

func (s *Store) revokeErr(lease clientv3.LeaseID) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	_, err := s.client.Revoke(ctx, lease)
	if errors.Is(rpctypes.Error(err), rpctypes.ErrLeaseNotFound) {
		return nil // expired already
	}
	return err
}

// ListAgents implements metadata.Agents.
func (s *Store) ListAgents(ctx context.Context) ([]metadata.Agent, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	resp, err := s.client.Get(ctx, s.keys.agents(), clientv3.WithPrefix())
	if err != nil {
		return nil, unavailable("list agents", err)
	}
	return s.decodeAgents(resp.Kvs)
}
