package memstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/strata-io/strata/metadata"
)

// claimEntry is a coordinator claim and the registration that holds it.
type claimEntry struct {
	claim metadata.CoordinatorClaim
	reg   *registration
}

// groupKey names a stored group: groups live in their coordinator shard,
// as in the etcd store's keys.
type groupKey struct {
	shard int32
	name  string
}

// groupEntry is a stored group. Values in it are never modified once
// stored; readers get clones.
type groupEntry struct {
	group   *metadata.Group
	offsets map[metadata.GroupPartition]metadata.CommittedOffset
	// txnOffsets holds pending transactional offsets by producer id.
	txnOffsets map[int64]map[metadata.GroupPartition]txnOffset
}

// txnOffset is a pending transactional offset and its producer epoch.
type txnOffset struct {
	epoch  int16
	offset metadata.CommittedOffset
}

// empty reports whether nothing is stored for the group any more.
func (e *groupEntry) empty() bool {
	return e.group == nil && len(e.offsets) == 0 && len(e.txnOffsets) == 0
}

// liveRegistration returns reg as a live registration of this store's data.
func (s *Store) liveRegistration(reg metadata.Registration) (*registration, error) {
	r, ok := reg.(*registration)
	if !ok || r.s.d != s.d {
		return nil, fmt.Errorf("%w: registration %T was not made by this store", metadata.ErrInvalid, reg)
	}
	select {
	case <-r.done:
		return nil, fmt.Errorf("%w: registration of agent %d has ended", metadata.ErrInvalid, r.id)
	default:
	}
	return r, nil
}

// ClaimCoordinator implements metadata.Coordinators.
func (s *Store) ClaimCoordinator(ctx context.Context, reg metadata.Registration, shard metadata.CoordinatorShard) (metadata.CoordinatorClaim, bool, error) {
	if err := shard.Validate(); err != nil {
		return metadata.CoordinatorClaim{}, false, err
	}
	if err := s.check(ctx); err != nil {
		return metadata.CoordinatorClaim{}, false, err
	}
	r, err := s.liveRegistration(reg)
	if err != nil {
		return metadata.CoordinatorClaim{}, false, err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	// r may have ended between the check above and taking d.mu; end()
	// drops claims under d.mu, so check again here.
	select {
	case <-r.done:
		return metadata.CoordinatorClaim{}, false, fmt.Errorf("%w: registration of agent %d has ended", metadata.ErrInvalid, r.id)
	default:
	}
	if e, ok := d.claims[shard]; ok {
		return e.claim, e.reg == r, nil
	}
	rev := d.commit()
	c := metadata.CoordinatorClaim{Shard: shard, Agent: r.id, Revision: rev}
	d.claims[shard] = claimEntry{claim: c, reg: r}
	return c, true, nil
}

// ReleaseCoordinator implements metadata.Coordinators.
func (s *Store) ReleaseCoordinator(ctx context.Context, claim metadata.CoordinatorClaim) error {
	if err := claim.Shard.Validate(); err != nil {
		return err
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.claims[claim.Shard]; ok && e.claim.Revision == claim.Revision {
		delete(d.claims, claim.Shard)
		d.commit()
	}
	return nil
}

// ListCoordinators implements metadata.Coordinators.
func (s *Store) ListCoordinators(ctx context.Context, kind metadata.CoordinatorKind) ([]metadata.CoordinatorClaim, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var out []metadata.CoordinatorClaim
	for sh, e := range s.d.claims {
		if sh.Kind == kind {
			out = append(out, e.claim)
		}
	}
	slices.SortFunc(out, func(a, b metadata.CoordinatorClaim) int { return cmp.Compare(a.Shard.Index, b.Shard.Index) })
	return out, nil
}

// dropClaimsLocked removes the claims r holds and reports whether there
// were any. d.mu must be held.
func (d *data) dropClaimsLocked(r *registration) bool {
	dropped := false
	for sh, e := range d.claims {
		if e.reg == r {
			delete(d.claims, sh)
			dropped = true
		}
	}
	return dropped
}

// fenced returns ErrFenced unless claim is the shard's current claim.
// d.mu must be held.
func (d *data) fenced(claim metadata.CoordinatorClaim) error {
	if e, ok := d.claims[claim.Shard]; ok && e.claim.Revision == claim.Revision {
		return nil
	}
	return fmt.Errorf("%s claimed at revision %d: %w", claim.Shard, claim.Revision, metadata.ErrFenced)
}

// beginGroupWrite validates a write, checks the store and takes d.mu; the
// caller must unlock it when err is nil.
func (s *Store) beginGroupWrite(ctx context.Context, claim metadata.CoordinatorClaim, group string) (*data, error) {
	if err := metadata.ValidateGroupWrite(claim, group); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	d := s.d
	d.mu.Lock()
	if err := d.fenced(claim); err != nil {
		d.mu.Unlock()
		return nil, err
	}
	return d, nil
}

// entry returns the stored group, creating it if create is set. d.mu must
// be held.
func (d *data) entry(shard int32, group string, create bool) *groupEntry {
	k := groupKey{shard: shard, name: group}
	e, ok := d.groups[k]
	if !ok && create {
		e = &groupEntry{
			offsets:    make(map[metadata.GroupPartition]metadata.CommittedOffset),
			txnOffsets: make(map[int64]map[metadata.GroupPartition]txnOffset),
		}
		d.groups[k] = e
	}
	return e
}

// PutGroup implements metadata.Groups.
func (s *Store) PutGroup(ctx context.Context, claim metadata.CoordinatorClaim, g metadata.Group) error {
	if err := g.Validate(); err != nil {
		return err
	}
	d, err := s.beginGroupWrite(ctx, claim, g.Name)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	g = g.Clone()
	d.entry(claim.Shard.Index, g.Name, true).group = &g
	d.commit()
	return nil
}

// CommitOffsets implements metadata.Groups.
func (s *Store) CommitOffsets(ctx context.Context, claim metadata.CoordinatorClaim, group string, offsets []metadata.CommittedOffset) error {
	for i := range offsets {
		if err := offsets[i].Validate(); err != nil {
			return err
		}
	}
	d, err := s.beginGroupWrite(ctx, claim, group)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	e := d.entry(claim.Shard.Index, group, true)
	for _, o := range offsets {
		e.offsets[metadata.GroupPartition{Topic: o.Topic, Partition: o.Partition}] = o
	}
	d.commit()
	return nil
}

// DeleteOffsets implements metadata.Groups.
func (s *Store) DeleteOffsets(ctx context.Context, claim metadata.CoordinatorClaim, group string, partitions []metadata.GroupPartition) error {
	d, err := s.beginGroupWrite(ctx, claim, group)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	if e := d.entry(claim.Shard.Index, group, false); e != nil {
		for _, p := range partitions {
			delete(e.offsets, p)
		}
		if e.empty() {
			delete(d.groups, groupKey{shard: claim.Shard.Index, name: group})
		}
	}
	d.commit()
	return nil
}

// DeleteGroup implements metadata.Groups.
func (s *Store) DeleteGroup(ctx context.Context, claim metadata.CoordinatorClaim, group string) error {
	d, err := s.beginGroupWrite(ctx, claim, group)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	delete(d.groups, groupKey{shard: claim.Shard.Index, name: group})
	d.commit()
	return nil
}

// LoadGroups implements metadata.Groups.
func (s *Store) LoadGroups(ctx context.Context, shard metadata.CoordinatorShard) ([]metadata.StoredGroup, error) {
	if err := shard.Validate(); err != nil {
		return nil, err
	}
	if shard.Kind != metadata.CoordinatorGroup {
		return nil, fmt.Errorf("%w: load groups of a %s shard", metadata.ErrInvalid, shard.Kind)
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var out []metadata.StoredGroup
	for k, e := range s.d.groups {
		if k.shard != shard.Index {
			continue
		}
		sg := metadata.StoredGroup{Name: k.name}
		if e.group != nil {
			g := e.group.Clone()
			sg.Group = &g
		}
		for _, o := range e.offsets {
			sg.Offsets = append(sg.Offsets, o)
		}
		slices.SortFunc(sg.Offsets, compareOffsets)
		for _, pid := range slices.Sorted(maps.Keys(e.txnOffsets)) {
			t := metadata.TxnOffsets{ProducerID: pid}
			for _, o := range e.txnOffsets[pid] {
				t.ProducerEpoch = max(t.ProducerEpoch, o.epoch)
				t.Offsets = append(t.Offsets, o.offset)
			}
			slices.SortFunc(t.Offsets, compareOffsets)
			sg.TxnOffsets = append(sg.TxnOffsets, t)
		}
		out = append(out, sg)
	}
	slices.SortFunc(out, func(a, b metadata.StoredGroup) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ListGroups implements metadata.Groups.
func (s *Store) ListGroups(ctx context.Context) ([]string, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	names := make(map[string]bool, len(s.d.groups))
	for k := range s.d.groups {
		names[k.name] = true
	}
	return slices.Sorted(maps.Keys(names)), nil
}

func compareOffsets(a, b metadata.CommittedOffset) int {
	return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// CommitTxnOffsets implements metadata.Groups.
func (s *Store) CommitTxnOffsets(ctx context.Context, claim metadata.CoordinatorClaim, group string, producerID int64, producerEpoch int16, offsets []metadata.CommittedOffset) error {
	if err := metadata.ValidateProducerID(producerID, producerEpoch); err != nil {
		return err
	}
	for i := range offsets {
		if err := offsets[i].Validate(); err != nil {
			return err
		}
	}
	d, err := s.beginGroupWrite(ctx, claim, group)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	e := d.entry(claim.Shard.Index, group, true)
	pending := e.txnOffsets[producerID]
	if pending == nil {
		pending = make(map[metadata.GroupPartition]txnOffset)
		e.txnOffsets[producerID] = pending
	}
	for _, o := range offsets {
		pending[metadata.GroupPartition{Topic: o.Topic, Partition: o.Partition}] = txnOffset{epoch: producerEpoch, offset: o}
	}
	d.commit()
	return nil
}

// CompleteTxnOffsets implements metadata.Groups.
func (s *Store) CompleteTxnOffsets(ctx context.Context, claim metadata.CoordinatorClaim, group string, producerID int64, commit []metadata.CommittedOffset) error {
	if producerID < 0 {
		return fmt.Errorf("%w: producer id %d", metadata.ErrInvalid, producerID)
	}
	for i := range commit {
		if err := commit[i].Validate(); err != nil {
			return err
		}
	}
	d, err := s.beginGroupWrite(ctx, claim, group)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	e := d.entry(claim.Shard.Index, group, len(commit) > 0)
	if e != nil {
		for _, o := range commit {
			e.offsets[metadata.GroupPartition{Topic: o.Topic, Partition: o.Partition}] = o
		}
		delete(e.txnOffsets, producerID)
		if e.empty() {
			delete(d.groups, groupKey{shard: claim.Shard.Index, name: group})
		}
	}
	d.commit()
	return nil
}
