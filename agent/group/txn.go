package group

import (
	"fmt"
	"time"

	"github.com/strata-io/strata/metadata"
)

// txnPending is what one transactional producer committed to a group with
// TxnOffsetCommit in its ongoing transaction: invisible to OffsetFetch
// until the transaction commits (Kafka's pendingTransactionalOffsetCommits).
// Only its shard's loop touches it.
type txnPending struct {
	// epoch is the highest producer epoch among the offsets.
	epoch int16
	// offsets are the stored pending offsets.
	offsets map[metadata.GroupPartition]metadata.CommittedOffset
	// inflight counts pending offsets being stored, per partition.
	inflight map[metadata.GroupPartition]int
}

func newTxnPending(epoch int16) *txnPending {
	return &txnPending{
		epoch:    epoch,
		offsets:  make(map[metadata.GroupPartition]metadata.CommittedOffset),
		inflight: make(map[metadata.GroupPartition]int),
	}
}

func (p *txnPending) empty() bool { return len(p.offsets) == 0 && len(p.inflight) == 0 }

// txnFence is the highest producer epoch whose transaction markers reached
// a shard, and when: a TxnOffsetCommit of an older epoch comes from a
// producer the transaction coordinator has fenced, and is refused even if
// its verification with the coordinator raced with the fencing.
type txnFence struct {
	epoch int16
	at    time.Time
}

// unstable reports whether partition p of g has offsets not yet settled:
// pending transactional offsets, or commits being stored. OffsetFetch with
// require_stable (v7+) answers UNSTABLE_OFFSET_COMMIT for them, as Kafka's
// hasPendingOffsetCommitsForTopicPartition.
func (g *group) unstable(p metadata.GroupPartition) bool {
	if g.pendingCommits[p] > 0 {
		return true
	}
	for _, t := range g.txnOffsets {
		if _, ok := t.offsets[p]; ok || t.inflight[p] > 0 {
			return true
		}
	}
	return false
}

// txnCommit handles a TxnOffsetCommit: Kafka's handleTxnCommitOffsets for
// a classic group. The producer's membership in the transaction was
// verified with its transaction coordinator before (package agent does
// that); here the committer is validated as Kafka's validateOffsetCommit
// does for transactional commits, which, unlike plain commits, need no
// member id while the group has members (clients before KIP-447 send
// none). A group that does not exist is created. reply gets one error per
// offset once the offsets are stored as pending.
func (s *state) txnCommit(now time.Time, req TxnCommitRequest, reply func([]error)) {
	all := func(err error) {
		errs := make([]error, len(req.Offsets))
		for i := range errs {
			errs[i] = err
		}
		reply(errs)
	}
	if f, ok := s.txnFences[req.ProducerID]; ok && req.ProducerEpoch < f.epoch {
		all(fmt.Errorf("%w: producer %d epoch %d: its transaction ended at epoch %d", ErrInvalidProducerEpoch, req.ProducerID, req.ProducerEpoch, f.epoch))
		return
	}
	g := s.group(req.Group)
	if g == nil {
		g = newGroup(req.Group, now)
		s.groups[g.id] = g
	}
	if g.is(stateDead) {
		all(fmt.Errorf("%w: group %q is being deleted", ErrCoordinatorNotAvailable, g.id))
		return
	}
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
			all(err)
			return
		}
		if req.Generation != g.generation {
			all(fmt.Errorf("%w: generation %d, group %q is at %d", ErrIllegalGeneration, req.Generation, g.id, g.generation))
			return
		}
	}
	s.storeTxnOffsets(g, req, now, reply)
}

// storeTxnOffsets stores the pending offsets whose metadata is not too
// long and adds them to the producer's pending offsets once stored.
func (s *state) storeTxnOffsets(g *group, req TxnCommitRequest, now time.Time, reply func([]error)) {
	errs := make([]error, len(req.Offsets))
	var write []metadata.CommittedOffset
	var idx []int
	commitTime := now.Round(0).Truncate(time.Millisecond)
	for i, o := range req.Offsets {
		if len(o.Metadata) > s.cfg.MaxMetadataBytes {
			errs[i] = fmt.Errorf("%w: %d bytes, offset.metadata.max.bytes is %d", ErrOffsetMetadataTooLarge, len(o.Metadata), s.cfg.MaxMetadataBytes)
			continue
		}
		o.CommitTime = commitTime
		write = append(write, o)
		idx = append(idx, i)
	}
	if len(write) == 0 {
		reply(errs)
		return
	}
	pid := req.ProducerID
	p := g.txnOffsets[pid]
	if p == nil {
		p = newTxnPending(req.ProducerEpoch)
		g.txnOffsets[pid] = p
	}
	p.epoch = max(p.epoch, req.ProducerEpoch)
	for _, o := range write {
		p.inflight[partitionOf(o)]++
	}
	s.store.commitTxnOffsets(g.id, pid, req.ProducerEpoch, write, func(_ time.Time, err error) {
		for _, o := range write {
			part := partitionOf(o)
			if p.inflight[part]--; p.inflight[part] <= 0 {
				delete(p.inflight, part)
			}
		}
		// The transaction may have ended meanwhile: its completion was
		// stored after this write and removed it.
		current := s.groups[g.id] == g && g.txnOffsets[pid] == p
		if err != nil {
			err = storeErr(err)
			for _, i := range idx {
				errs[i] = err
			}
		} else if current {
			for _, o := range write {
				p.offsets[partitionOf(o)] = o
			}
		}
		if current && p.empty() {
			delete(g.txnOffsets, pid)
		}
		reply(errs)
	})
}

// completeTxn ends producerID's transaction in every group of the shard:
// its pending offsets become committed offsets (commit) or are dropped, as
// Kafka does when a transaction marker reaches a __consumer_offsets
// partition. A pending offset does not replace a committed offset of the
// same partition committed later (by a plain OffsetCommit). reply gets nil
// once every group's completion is stored, or the first error; the
// transaction coordinator retries until it succeeds.
func (s *state) completeTxn(now time.Time, producerID int64, producerEpoch int16, commit bool, reply func(error)) {
	if f, ok := s.txnFences[producerID]; !ok || producerEpoch >= f.epoch {
		s.txnFences[producerID] = txnFence{epoch: producerEpoch, at: now}
	}
	outstanding := 0
	var firstErr error
	done := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if outstanding--; outstanding == 0 {
			reply(firstErr)
		}
	}
	for _, g := range s.groups {
		p := g.txnOffsets[producerID]
		if p == nil {
			continue
		}
		var apply []metadata.CommittedOffset
		if commit {
			for part, o := range p.offsets {
				if c, ok := g.offsets[part]; ok && c.CommitTime.After(o.CommitTime) {
					continue
				}
				apply = append(apply, o)
			}
		}
		outstanding++
		s.store.completeTxnOffsets(g.id, producerID, apply, func(_ time.Time, err error) {
			if err != nil {
				done(storeErr(err))
				return
			}
			if s.groups[g.id] == g {
				if g.txnOffsets[producerID] == p {
					delete(g.txnOffsets, producerID)
				}
				for _, o := range apply {
					g.offsets[partitionOf(o)] = o
				}
			}
			done(nil)
		})
	}
	if outstanding == 0 {
		reply(nil)
	}
}

// pruneTxnFences forgets fences older than a sweep interval: by then no
// TxnOffsetCommit verified before the fencing can still be on its way.
func (s *state) pruneTxnFences(now time.Time) {
	for pid, f := range s.txnFences {
		if now.Sub(f.at) >= s.cfg.OffsetsRetentionCheckInterval {
			delete(s.txnFences, pid)
		}
	}
}

// fetchStable is fetch for OffsetFetch with require_stable: partitions with
// offsets not yet settled answer ErrUnstableOffsetCommit and offset -1.
// With partitions nil (all of the group's offsets) nothing is checked, as
// in Kafka.
func (s *state) fetchStable(groupID string, partitions []metadata.GroupPartition) []FetchedOffset {
	out := s.fetch(groupID, partitions)
	g := s.group(groupID)
	if partitions == nil || g == nil || g.is(stateDead) {
		return out
	}
	for i, p := range partitions {
		if g.unstable(p) {
			out[i] = FetchedOffset{Topic: p.Topic, Partition: p.Partition, Offset: -1, LeaderEpoch: -1,
				Err: fmt.Errorf("%w: group %q has a transactional or in-flight commit for %s-%d", ErrUnstableOffsetCommit, g.id, p.Topic, p.Partition)}
		}
	}
	return out
}

// restoreTxnOffsets adds the pending offsets loaded from the store.
func (g *group) restoreTxnOffsets(stored []metadata.TxnOffsets) {
	for _, t := range stored {
		p := newTxnPending(t.ProducerEpoch)
		for _, o := range t.Offsets {
			p.offsets[partitionOf(o)] = o
		}
		g.txnOffsets[t.ProducerID] = p
	}
}
