package remote

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
)

// cacheKey names a cached value: a block of an object (block >= 0) or an
// object's parsed index (block < 0).
type cacheKey struct {
	obj   string
	block int64
}

// Kinds of non-block values.
const (
	blockOffsetIndex = -1
	blockTimeIndex   = -2
)

// loader fetches a value and says how many bytes it holds.
type loader func(ctx context.Context) (val any, size int64, err error)

// flight is one fetch in progress; everyone who wants its value waits on
// done (singleflight).
type flight struct {
	done chan struct{}
	val  any   // set before done is closed
	err  error // set before done is closed
}

type cacheEntry struct {
	key  cacheKey
	val  any
	size int64
}

// streamsKept bounds how many places where a sequential read may
// continue the cache remembers.
const streamsKept = 4096

// streamKey is a place where a read ended: an object and the offset after
// the last batch read.
type streamKey struct {
	obj    string
	offset int64
}

// cache is an LRU of blocks and parsed indexes bounded by their bytes,
// plus the fetches in flight and the positions sequential readers are
// expected at. Values are immutable once stored, so they are handed out
// without copying; an evicted value stays valid for whoever holds it.
// It is safe for concurrent use.
type cache struct {
	max int64

	mu      sync.Mutex
	used    int64                      // guarded by mu
	lru     list.List                  // guarded by mu; *cacheEntry, most recent first
	items   map[cacheKey]*list.Element // guarded by mu
	flights map[cacheKey]*flight       // guarded by mu
	closed  bool                       // guarded by mu; no flight starts once set
	streams map[streamKey]int64        // guarded by mu; where reads ended → byte position
	ring    []streamKey                // guarded by mu; streams in insertion order
	ringPos int                        // guarded by mu

	hits, misses, shared, prefetched, evicted atomic.Int64
}

func newCache(max int64) *cache {
	return &cache{
		max:     max,
		items:   make(map[cacheKey]*list.Element),
		flights: make(map[cacheKey]*flight),
		streams: make(map[streamKey]int64),
	}
}

// getLocked returns the cached value of k, marking it recently used.
// c.mu must be held.
func (c *cache) getLocked(k cacheKey) (any, bool) {
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cacheEntry).val, true
}

// putLocked stores a value, evicting the least recently used ones while
// the cache is over its bound. A value larger than the bound is not
// stored. c.mu must be held.
func (c *cache) putLocked(k cacheKey, val any, size int64) {
	if size > c.max {
		return
	}
	if el, ok := c.items[k]; ok {
		c.used -= el.Value.(*cacheEntry).size
		c.lru.Remove(el)
	}
	c.items[k] = c.lru.PushFront(&cacheEntry{key: k, val: val, size: size})
	c.used += size
	for c.used > c.max {
		el := c.lru.Back()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.items, e.key)
		c.used -= e.size
		c.evicted.Add(1)
	}
}

// size returns the bytes and the number of values cached.
func (c *cache) size() (int64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, len(c.items)
}

// noteStream remembers that a read ended at offset, byte position pos of
// obj, so that a read continuing there needs no index lookup and counts as
// sequential.
func (c *cache) noteStream(obj string, offset, pos int64) {
	k := streamKey{obj, offset}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.streams[k]; !ok {
		if len(c.ring) < streamsKept {
			c.ring = append(c.ring, k)
		} else {
			delete(c.streams, c.ring[c.ringPos])
			c.ring[c.ringPos] = k
			c.ringPos = (c.ringPos + 1) % streamsKept
		}
	}
	c.streams[k] = pos
}

// stream returns the byte position where an earlier read of obj ended at
// offset, if one did.
func (c *cache) stream(obj string, offset int64) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pos, ok := c.streams[streamKey{obj, offset}]
	return pos, ok
}
