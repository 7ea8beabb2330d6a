package agent

import (
	"context"
	"sync"
)

// producerIDBlock is how many producer ids an agent reserves from the
// metadata store at a time.
const producerIDBlock = 1000

// producerIDAllocator hands out idempotent-producer ids from blocks reserved
// in the metadata store, so ids are unique across agents and restarts.
type producerIDAllocator struct {
	a *Agent

	mu        sync.Mutex
	next, end int64 // guarded by mu; the block [next, end)
}

// nextID returns an unused producer id. No lock is held across the store
// call; if two callers refill at once the spare block is simply used later.
func (p *producerIDAllocator) nextID(ctx context.Context) (int64, error) {
	for {
		p.mu.Lock()
		if p.next < p.end {
			id := p.next
			p.next++
			p.mu.Unlock()
			return id, nil
		}
		p.mu.Unlock()
		first, err := p.a.store.AllocateProducerIDs(ctx, producerIDBlock)
		if err != nil {
			return -1, err
		}
		p.mu.Lock()
		if p.next >= p.end {
			p.next, p.end = first, first+producerIDBlock
		}
		p.mu.Unlock()
	}
}
