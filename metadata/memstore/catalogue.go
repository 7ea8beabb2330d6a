package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/strata-io/strata/metadata"
)

// catalogueEntry is a stored remote segment and the revision that wrote
// it. The segment is never modified once stored; readers get clones.
type catalogueEntry struct {
	seg metadata.RemoteSegment
	rev int64
}

// AddRemoteSegment implements metadata.Catalogue.
func (s *Store) AddRemoteSegment(ctx context.Context, tp metadata.TopicPartition, seg metadata.RemoteSegment) (int64, error) {
	if err := metadata.ValidateTopicPartition(tp); err != nil {
		return 0, err
	}
	if err := seg.Validate(); err != nil {
		return 0, err
	}
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	entries := d.catalogue[tp]
	i, found := slices.BinarySearchFunc(entries, seg.BaseOffset, func(e catalogueEntry, base int64) int {
		return cmp.Compare(e.seg.BaseOffset, base)
	})
	if found {
		if entries[i].seg.Equal(&seg) {
			return entries[i].rev, nil
		}
		return 0, fmt.Errorf("add remote segment %d of %s-%d: %w: another entry has that base offset", seg.BaseOffset, tp.TopicID, tp.Partition, metadata.ErrConflict)
	}
	if (i > 0 && entries[i-1].seg.Overlaps(&seg)) || (i < len(entries) && entries[i].seg.Overlaps(&seg)) {
		return 0, fmt.Errorf("add remote segment %d-%d of %s-%d: %w: it overlaps another entry", seg.BaseOffset, seg.LastOffset, tp.TopicID, tp.Partition, metadata.ErrConflict)
	}
	rev := d.commit()
	d.catalogue[tp] = slices.Insert(entries, i, catalogueEntry{seg: seg.Clone(), rev: rev})
	return rev, nil
}

// RemoteSegments implements metadata.Catalogue.
func (s *Store) RemoteSegments(ctx context.Context, tp metadata.TopicPartition) ([]metadata.RemoteSegment, error) {
	if err := metadata.ValidateTopicPartition(tp); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	entries := s.d.catalogue[tp]
	out := make([]metadata.RemoteSegment, len(entries))
	for i, e := range entries {
		out[i] = e.seg.Clone()
	}
	return out, nil
}

// DeleteRemoteSegment implements metadata.Catalogue.
func (s *Store) DeleteRemoteSegment(ctx context.Context, tp metadata.TopicPartition, base int64) error {
	if err := metadata.ValidateTopicPartition(tp); err != nil {
		return err
	}
	if base < 0 {
		return fmt.Errorf("%w: remote segment base offset %d", metadata.ErrInvalid, base)
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	entries := d.catalogue[tp]
	i, found := slices.BinarySearchFunc(entries, base, func(e catalogueEntry, base int64) int {
		return cmp.Compare(e.seg.BaseOffset, base)
	})
	if !found {
		return nil
	}
	d.commit()
	if entries = slices.Delete(entries, i, i+1); len(entries) == 0 {
		delete(d.catalogue, tp)
	} else {
		d.catalogue[tp] = entries
	}
	return nil
}

// DeleteRemoteTopic implements metadata.Catalogue.
func (s *Store) DeleteRemoteTopic(ctx context.Context, id metadata.TopicID) error {
	if id.IsZero() {
		return fmt.Errorf("%w: delete the catalogue of the zero topic id", metadata.ErrInvalid)
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	deleted := false
	for tp := range d.catalogue {
		if tp.TopicID == id {
			delete(d.catalogue, tp)
			deleted = true
		}
	}
	if deleted {
		d.commit()
	}
	return nil
}
