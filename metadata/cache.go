package metadata

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Cache keeps an in-memory, consistent copy of all topics, partition
// states and agents, following the store's Watch stream. Reads are cheap —
// an atomic load of an immutable view and a map lookup — so the agent can
// call Topic on every Produce and Fetch.
//
// The view always reflects the store exactly as of Revision(): events of
// one atomic write (those sharing a revision) are applied together. On an
// EventReload, or when the watch ends unexpectedly, the Cache reloads
// everything with Store.Snapshot, retrying with backoff.
//
// Values returned by a Cache share their slices and maps with the cache:
// callers must not modify them (Clone first). A Cache is safe for
// concurrent use.
type Cache struct {
	store  Store
	logger *slog.Logger

	view atomic.Pointer[cacheView]

	mu       sync.Mutex
	changed  chan struct{} // guarded by mu; closed and replaced when the content changes
	advanced chan struct{} // guarded by mu; closed and replaced on every publish

	cancel    context.CancelFunc
	done      chan struct{} // closed when run returns
	closeOnce sync.Once
}

// Cache reload backoff bounds.
const (
	cacheMinBackoff = 50 * time.Millisecond
	cacheMaxBackoff = 5 * time.Second
)

// NewCache loads a snapshot from store, bounded by ctx, and starts
// following the store's changes until Close. A nil logger discards logs.
func NewCache(ctx context.Context, store Store, logger *slog.Logger) (*Cache, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c := &Cache{
		store:    store,
		logger:   logger,
		changed:  make(chan struct{}),
		advanced: make(chan struct{}),
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	c.view.Store(newCacheView(snap))
	go c.run(runCtx)
	return c, nil
}

// Close stops following the store and waits for the cache's goroutine.
// Reads keep returning the last view. Close does not close the store.
func (c *Cache) Close() {
	c.closeOnce.Do(c.cancel)
	<-c.done
}

// Revision returns the store revision the cache reflects.
func (c *Cache) Revision() int64 { return c.view.Load().rev }

// Changed returns a channel that is closed when the cache next applies a
// change to its topics, partition states or agents (or reloads). Writes
// that only advance the revision (EventProgress: committed offsets,
// coordinator claims, producer-id blocks) do not close it, so a watcher
// of Changed does no work per offset commit; WaitForRevision sees them.
// Take the channel before reading the state it guards, then wait on it.
func (c *Cache) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// advancedCh returns a channel that is closed when the cache next
// publishes a view, whatever it changed.
func (c *Cache) advancedCh() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.advanced
}

// WaitForRevision waits until the cache reflects revision rev, say the one
// CreateTopic returned, so that a caller reads its own writes. It fails
// with ctx's error, or ErrClosed once the cache is closed.
func (c *Cache) WaitForRevision(ctx context.Context, rev int64) error {
	for {
		ch := c.advancedCh()
		if c.Revision() >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			if c.Revision() >= rev {
				return nil
			}
			return ErrClosed
		}
	}
}

// Topic returns the topic named name.
func (c *Cache) Topic(name string) (Topic, bool) {
	e, ok := c.view.Load().topics[name]
	if !ok {
		return Topic{}, false
	}
	return e.topic, true
}

// TopicByID returns the topic with id.
func (c *Cache) TopicByID(id TopicID) (Topic, bool) {
	e, ok := c.view.Load().byID[id]
	if !ok {
		return Topic{}, false
	}
	return e.topic, true
}

// Topics returns all topics sorted by name.
func (c *Cache) Topics() []Topic { return slices.Clone(c.view.Load().sortedTopics()) }

// Partition returns the state of partition p of topic id.
func (c *Cache) Partition(id TopicID, p int32) (PartitionState, bool) {
	e, ok := c.view.Load().byID[id]
	if !ok || p < 0 || int(p) >= len(e.parts) || e.parts[p].Revision == 0 {
		return PartitionState{}, false
	}
	return e.parts[p], true
}

// Agents returns the live agents sorted by id.
func (c *Cache) Agents() []Agent { return slices.Clone(c.view.Load().agents) }

// Agent returns the live agent with id.
func (c *Cache) Agent(id int32) (Agent, bool) {
	v := c.view.Load()
	i, ok := slices.BinarySearchFunc(v.agents, id, func(a Agent, id int32) int { return cmp.Compare(a.ID, id) })
	if !ok {
		return Agent{}, false
	}
	return v.agents[i], true
}

// publish makes v the current view and wakes revision waiters, and the
// watchers of Changed when content says the content changed.
func (c *Cache) publish(v *cacheView, content bool) {
	c.view.Store(v)
	c.mu.Lock()
	close(c.advanced)
	c.advanced = make(chan struct{})
	if content {
		close(c.changed)
		c.changed = make(chan struct{})
	}
	c.mu.Unlock()
}

// run follows the store until ctx ends: watch from the view's revision,
// and reload whenever the watch cannot continue.
func (c *Cache) run(ctx context.Context) {
	defer close(c.done)
	for {
		wctx, cancel := context.WithCancel(ctx)
		c.follow(wctx, c.store.Watch(wctx, c.Revision()))
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err := c.reload(ctx); err != nil {
			switch {
			case errors.Is(err, ErrClosed):
				c.logger.Info("metadata cache stopped: store closed")
			case !errors.Is(err, context.Canceled):
				c.logger.Error("metadata cache stopped following the store", "error", err)
			}
			return
		}
	}
}

// follow applies events from ch until it closes, asks for a reload, or
// ctx ends.
func (c *Cache) follow(ctx context.Context, ch <-chan Event) {
	var b *viewBuilder
	for {
		var ev Event
		var ok bool
		select {
		case ev, ok = <-ch:
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		if ev.Kind == EventReload {
			c.logger.Info("metadata cache reloading", "reason", "watch history compacted", "revision", ev.Revision)
			return
		}
		cur := c.view.Load()
		if ev.Revision <= cur.rev {
			continue // already in the view
		}
		if b == nil {
			b = newViewBuilder(cur)
		}
		b.apply(ev)
		if !ev.More {
			c.publish(b.finish(ev.Revision), b.changed)
			b = nil
		}
	}
}

// reload replaces the view with a fresh snapshot, retrying with backoff
// until it succeeds, ctx ends or the store is closed.
func (c *Cache) reload(ctx context.Context) error {
	backoff := cacheMinBackoff
	for {
		snap, err := c.store.Snapshot(ctx)
		if err == nil {
			c.publish(newCacheView(snap), true)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrClosed) {
			return err
		}
		c.logger.Warn("metadata cache reload failed", "error", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		backoff = min(2*backoff, cacheMaxBackoff)
	}
}
