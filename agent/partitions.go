package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/strata-io/strata/agent/log"
	"github.com/strata-io/strata/metadata"
)

// partitionSet holds the partitions this agent hosts and keeps them in line
// with the metadata cache: it opens logs for partitions assigned here,
// applies config changes, and deletes the logs of deleted topics.
//
// reconcile is serialized by reconcileMu (it does disk I/O); lookups take
// only the read lock on mu.
type partitionSet struct {
	a *Agent

	reconcileMu sync.Mutex

	mu      sync.RWMutex
	byTopic map[metadata.TopicID][]*partition // guarded by mu; index = partition
}

func newPartitionSet(a *Agent) *partitionSet {
	return &partitionSet{a: a, byTopic: make(map[metadata.TopicID][]*partition)}
}

// get returns the hosted partition, or nil.
func (s *partitionSet) get(id metadata.TopicID, idx int32) *partition {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ps := s.byTopic[id]
	if idx < 0 || int(idx) >= len(ps) {
		return nil
	}
	return ps[idx]
}

// all returns every hosted partition.
func (s *partitionSet) all() []*partition {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*partition
	for _, ps := range s.byTopic {
		for _, p := range ps {
			if p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

func (s *partitionSet) logsDir() string { return filepath.Join(s.a.cfg.DataDir, "logs") }

// topicDir names a topic's directory "<name>.<topic-id>" so that a topic
// deleted and re-created under the same name never reuses old data.
func (s *partitionSet) topicDir(name string, id metadata.TopicID) string {
	return filepath.Join(s.logsDir(), name+"."+id.String())
}

// reconcile brings the hosted partitions in line with the metadata cache.
// Errors opening one partition are logged and do not stop the others.
func (s *partitionSet) reconcile() {
	s.reconcileMu.Lock()
	defer s.reconcileMu.Unlock()
	a := s.a
	topics := a.cache.Topics()
	live := make(map[metadata.TopicID]bool, len(topics))
	var gone []*partition
	for _, t := range topics {
		live[t.ID] = true
		gone = append(gone, s.reconcileTopic(t)...)
	}
	// Close and delete partitions of topics that no longer exist.
	s.mu.Lock()
	for id, ps := range s.byTopic {
		if !live[id] {
			gone = append(gone, ps...)
			delete(s.byTopic, id)
		}
	}
	s.mu.Unlock()
	for _, p := range gone {
		if p == nil {
			continue
		}
		a.fetchers.remove(p)
		p.leader.Store(nil)
		p.wakeWaiters(true)
		if err := p.log.Delete(); err != nil {
			a.logger.Error("delete partition log", "topic", p.topic, "partition", p.index, "err", err)
		}
		_ = os.Remove(filepath.Dir(p.dir))
		a.metrics.forget(p.topic, p.index)
		a.logger.Info("deleted partition", "topic", p.topic, "partition", p.index)
	}
}

// reconcileTopic opens the partitions of t assigned to this agent and
// refreshes their config and leadership. It returns the partitions no
// longer assigned here (a reassignment moved them away), now detached, for
// the caller to delete.
func (s *partitionSet) reconcileTopic(t metadata.Topic) (removed []*partition) {
	a := s.a
	tc := a.cfg.effectiveTopicConfig(t.Configs)
	s.mu.RLock()
	existing := slices.Clone(s.byTopic[t.ID])
	s.mu.RUnlock()
	ps := make([]*partition, t.Partitions())
	copy(ps, existing)
	changed := len(existing) != len(ps)
	for i := range ps {
		if !slices.Contains(t.Replicas[i], a.cfg.NodeID) {
			if ps[i] != nil {
				removed = append(removed, ps[i])
				ps[i] = nil
				changed = true
			}
			continue
		}
		if ps[i] == nil {
			p, err := s.open(t, int32(i), tc)
			if err != nil {
				a.logger.Error("open partition", "topic", t.Name, "partition", i, "err", err)
				continue
			}
			ps[i] = p
			changed = true
		}
		p := ps[i]
		p.cfg.Store(&tc)
		if err := p.log.SetConfig(tc.log); err != nil {
			a.logger.Warn("apply topic config", "topic", t.Name, "partition", i, "err", err)
		}
		if st, ok := a.cache.Partition(t.ID, int32(i)); ok {
			s.applyState(t, p, st)
		}
	}
	if changed {
		s.mu.Lock()
		s.byTopic[t.ID] = ps
		s.mu.Unlock()
	}
	return removed
}

func (s *partitionSet) open(t metadata.Topic, idx int32, tc topicConfig) (*partition, error) {
	a := s.a
	dir := filepath.Join(s.topicDir(t.Name, t.ID), strconv.Itoa(int(idx)))
	p := &partition{topic: t.Name, topicID: t.ID, index: idx, dir: dir, counts: a.metrics.forPartition(t.Name, idx)}
	p.cfg.Store(&tc)
	l, err := log.Open(dir, tc.log, log.WithLogger(a.logger.With("topic", t.Name, "partition", idx)),
		log.WithOnRoll(func(seg log.SegmentInfo) { a.onRoll(p, seg) }),
		log.WithDeletableUpTo(p.deletableUpTo))
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	p.log = l
	p.offloadedUpTo.Store(l.LogStartOffset())
	p.following.Store(-1)
	// A lone replica's records are committed once written, so its high
	// watermark starts at the recovered log end. A replica of several may
	// hold an uncommitted tail: its high watermark starts at the log start
	// and moves up once the leader (or, leading, the followers) report in.
	if len(t.Replicas[idx]) == 1 {
		p.hw.Store(l.LogEndOffset())
	} else {
		p.hw.Store(l.LogStartOffset())
	}
	return p, nil
}

// removeStrays deletes topic directories whose topic no longer exists (it
// was deleted while this agent was down).
func (s *partitionSet) removeStrays() error {
	entries, err := os.ReadDir(s.logsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		dot := strings.LastIndexByte(name, '.')
		if !e.IsDir() || dot < 0 {
			continue
		}
		id, err := metadata.ParseTopicID(name[dot+1:])
		if err != nil {
			continue
		}
		if _, ok := s.a.cache.TopicByID(id); ok {
			continue
		}
		s.a.logger.Warn("removing data of a deleted topic", "dir", name)
		if err := os.RemoveAll(filepath.Join(s.logsDir(), name)); err != nil {
			return err
		}
	}
	return nil
}

// closeAll closes every hosted log (clean shutdown).
func (s *partitionSet) closeAll() {
	s.reconcileMu.Lock()
	defer s.reconcileMu.Unlock()
	s.mu.Lock()
	all := s.byTopic
	s.byTopic = make(map[metadata.TopicID][]*partition)
	s.mu.Unlock()
	for _, ps := range all {
		for _, p := range ps {
			if p == nil {
				continue
			}
			s.a.fetchers.remove(p)
			p.leader.Store(nil)
			p.wakeWaiters(true)
			if err := p.log.Close(); err != nil {
				s.a.logger.Error("close partition log", "topic", p.topic, "partition", p.index, "err", err)
			}
		}
	}
}

// maintain runs retention and time-based flushing on every partition; the
// agent's maintenance loop calls it.
func (s *partitionSet) maintain(ctx context.Context, retention, sweep bool) {
	a := s.a
	now := s.a.now()
	for _, p := range s.all() {
		if ctx.Err() != nil {
			return
		}
		if err := p.log.MaybeFlush(now); err != nil {
			s.a.logger.Error("flush partition", "topic", p.topic, "partition", p.index, "err", err)
		}
		if _, err := p.log.MaybeRoll(now); err != nil {
			s.a.logger.Error("roll partition", "topic", p.topic, "partition", p.index, "err", err)
		}
		if !retention {
			continue
		}
		a.tierRetention(ctx, p, now, sweep)
		if n, err := p.log.ApplyRetention(now); err != nil {
			s.a.logger.Error("retention", "topic", p.topic, "partition", p.index, "err", err)
		} else if n > 0 {
			s.a.logger.Info("retention deleted segments", "topic", p.topic, "partition", p.index, "segments", n, "log_start_offset", p.log.LogStartOffset())
		}
	}
}
