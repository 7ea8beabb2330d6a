package memstore

import (
	"context"
	"sort"

	"github.com/strata-io/strata/metadata"
)

// maxBatch bounds how many events a watcher copies out of the history at a
// time.
const maxBatch = 1024

// Watch implements metadata.Watcher. Each call runs one goroutine that
// ends, closing the channel, when ctx ends or the store closes.
func (s *Store) Watch(ctx context.Context, fromRev int64) <-chan metadata.Event {
	ch := make(chan metadata.Event)
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		close(ch)
		return ch
	default:
	}
	s.wg.Add(1)
	s.mu.Unlock()
	if fromRev <= 0 {
		s.d.mu.Lock()
		fromRev = s.d.rev
		s.d.mu.Unlock()
	}
	go s.watch(ctx, ch, fromRev)
	return ch
}

// watch sends the events after revision next to ch.
func (s *Store) watch(ctx context.Context, ch chan<- metadata.Event, next int64) {
	defer s.wg.Done()
	defer close(ch)
	d := s.d
	for {
		d.mu.Lock()
		var batch []metadata.Event
		if next < d.compacted {
			batch = []metadata.Event{{Kind: metadata.EventReload, Revision: d.rev}}
		} else {
			i := sort.Search(len(d.history), func(i int) bool { return d.history[i].Revision > next })
			batch = d.history[i:min(len(d.history), i+maxBatch)]
		}
		notify := d.notify
		d.mu.Unlock()
		// batch aliases the history; its events are never modified, and
		// each receiver gets its own copy of the slices inside.
		for _, ev := range batch {
			ev.Topic = ev.Topic.Clone()
			ev.State = ev.State.Clone()
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			case <-s.closed:
				return
			}
			next = ev.Revision
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return
		case <-s.closed:
			return
		}
	}
}
