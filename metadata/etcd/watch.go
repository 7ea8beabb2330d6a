package etcd

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-io/strata/metadata"
)

// Re-watch backoff bounds, after a watch fails for a reason other than
// compaction (no leader, connection lost).
const (
	watchMinBackoff = 50 * time.Millisecond
	watchMaxBackoff = 2 * time.Second
)

// Watch implements metadata.Watcher with one etcd watch on the whole
// prefix. Each call runs one goroutine, which ends (closing the channel)
// when ctx ends or the store closes. fromRev 0 means from the revision at
// which etcd establishes the watch.
func (s *Store) Watch(ctx context.Context, fromRev int64) <-chan metadata.Event {
	ch := make(chan metadata.Event)
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		close(ch)
		return ch
	}
	s.wg.Add(1)
	s.mu.Unlock()
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.closeCtx, cancel)
	go func() {
		defer s.wg.Done()
		defer close(ch)
		defer cancel()
		defer stop()
		s.watch(wctx, ch, fromRev)
	}()
	return ch
}

// watch follows the prefix from after revision next (0: from now) until
// ctx ends, re-watching after failures.
func (s *Store) watch(ctx context.Context, ch chan<- metadata.Event, next int64) {
	backoff := watchMinBackoff
	for ctx.Err() == nil {
		opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCreatedNotify()}
		if next > 0 {
			opts = append(opts, clientv3.WithRev(next+1))
		}
		// A member cut off from its leader fails the watch instead of
		// going silent, so it moves to another member.
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := s.client.Watch(wctx, s.keys.prefix, opts...)
		var err error
		next, err = s.forward(ctx, wch, ch, next)
		cancel()
		if err == nil || ctx.Err() != nil {
			backoff = watchMinBackoff
			continue
		}
		s.logger.Warn("metadata watch failed; watching again", "error", err, "revision", next, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		backoff = min(2*backoff, watchMaxBackoff)
	}
}

// forward sends the events of one etcd watch to ch and returns the last
// revision it covered. After a compaction it sends an EventReload and
// returns a nil error (watch again from the current revision at once);
// other failures return an error.
func (s *Store) forward(ctx context.Context, wch clientv3.WatchChan, ch chan<- metadata.Event, next int64) (int64, error) {
	for resp := range wch {
		if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
			rev := max(resp.Header.Revision, resp.CompactRevision, next)
			s.logger.Info("metadata watch fell behind a compaction; reloading", "revision", next, "compact_revision", resp.CompactRevision)
			if !send(ctx, ch, metadata.Event{Kind: metadata.EventReload, Revision: rev}) {
				return next, nil
			}
			return rev, nil
		}
		if err := resp.Err(); err != nil {
			return next, err
		}
		if resp.Created && next == 0 {
			next = resp.Header.Revision
		}
		if len(resp.Events) == 0 {
			continue
		}
		for _, ev := range s.translate(resp.Events) {
			if !send(ctx, ch, ev) {
				return next, nil
			}
		}
		next = resp.Events[len(resp.Events)-1].Kv.ModRevision
	}
	if ctx.Err() != nil {
		return next, nil
	}
	return next, errors.New("watch channel closed")
}

func send(ctx context.Context, ch chan<- metadata.Event, ev metadata.Event) bool {
	select {
	case ch <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// translate turns etcd events into metadata events. Keys of other kinds
// (ids, producer ids, the cluster id) become one EventProgress per
// revision that has no other event, so watchers still learn the revision.
// A value that does not decode is logged and skipped: the watch cannot
// fail, and reads of the same key return the error.
func (s *Store) translate(evs []*clientv3.Event) []metadata.Event {
	out := make([]metadata.Event, 0, len(evs))
	for i, ev := range evs {
		rev := ev.Kv.ModRevision
		e, ok, err := s.event(ev)
		if err != nil {
			s.logger.Error("skipping undecodable metadata change", "key", string(ev.Kv.Key), "revision", rev, "error", err)
		}
		lastOfRev := i == len(evs)-1 || evs[i+1].Kv.ModRevision != rev
		if !ok && lastOfRev && (len(out) == 0 || out[len(out)-1].Revision != rev) {
			e, ok = metadata.Event{Kind: metadata.EventProgress}, true
		}
		if ok {
			e.Revision = rev
			out = append(out, e)
		}
	}
	for i := range out {
		out[i].More = i < len(out)-1 && out[i+1].Revision == out[i].Revision
	}
	return out
}

// event translates one etcd event; ok is false for keys no event kind
// describes.
func (s *Store) event(ev *clientv3.Event) (e metadata.Event, ok bool, err error) {
	kv := ev.Kv
	k, err := s.keys.parse(string(kv.Key))
	if err != nil {
		return e, false, err
	}
	deleted := ev.Type == clientv3.EventTypeDelete
	switch k.kind {
	case keyTopic:
		e = metadata.Event{Kind: metadata.EventTopic, Name: k.name, Deleted: deleted, Topic: metadata.Topic{Name: k.name}}
		if !deleted {
			e.Topic, err = decodeTopic(k.name, kv.Value, kv.ModRevision)
		}
	case keyPartition:
		e = metadata.Event{Kind: metadata.EventPartition, Deleted: deleted, TopicID: k.id, Partition: k.partition}
		if !deleted {
			e.State, err = decodePartition(kv.Value, kv.ModRevision)
		}
	case keyAgent:
		e = metadata.Event{Kind: metadata.EventAgent, Deleted: deleted, Agent: metadata.Agent{ID: k.agent}}
		if !deleted {
			e.Agent, err = decodeAgent(k.agent, kv.Value)
		}
	default:
		return e, false, nil
	}
	return e, err == nil, err
}
