package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-io/strata/metadata"
)

// maxTxnOps is how many operations one group write puts in a transaction:
// etcd's default --max-txn-ops (128), so that writes work against any etcd.
const maxTxnOps = 128

// rangePage is how many keys one read of a range returns at a time.
const rangePage = 1000

// liveRegistration returns reg as a live registration of this store.
func (s *Store) liveRegistration(reg metadata.Registration) (*registration, error) {
	r, ok := reg.(*registration)
	if !ok || r.s != s {
		return nil, fmt.Errorf("%w: registration %T was not made by this store", metadata.ErrInvalid, reg)
	}
	select {
	case <-r.done:
		return nil, fmt.Errorf("%w: registration of agent %d has ended", metadata.ErrInvalid, r.id)
	default:
	}
	return r, nil
}

// ClaimCoordinator implements metadata.Coordinators: a create-if-absent
// put of the shard's key under the registration's lease, which returns the
// key as it is when someone holds it.
func (s *Store) ClaimCoordinator(ctx context.Context, reg metadata.Registration, shard metadata.CoordinatorShard) (metadata.CoordinatorClaim, bool, error) {
	if err := shard.Validate(); err != nil {
		return metadata.CoordinatorClaim{}, false, err
	}
	r, err := s.liveRegistration(reg)
	if err != nil {
		return metadata.CoordinatorClaim{}, false, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return metadata.CoordinatorClaim{}, false, err
	}
	defer cancel()
	key := s.keys.coordinator(shard)
	txn, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, encodeClaim(r.id), clientv3.WithLease(r.lease))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		if errors.Is(rpctypes.Error(err), rpctypes.ErrLeaseNotFound) {
			return metadata.CoordinatorClaim{}, false, fmt.Errorf("claim %s: %w: registration of agent %d has ended", shard, metadata.ErrInvalid, r.id)
		}
		return metadata.CoordinatorClaim{}, false, unavailable("claim "+shard.String(), err)
	}
	if txn.Succeeded {
		return metadata.CoordinatorClaim{Shard: shard, Agent: r.id, Revision: txn.Header.Revision}, true, nil
	}
	kvs := txn.Responses[0].GetResponseRange().Kvs
	if len(kvs) != 1 {
		return metadata.CoordinatorClaim{}, false, fmt.Errorf("%w: claim of %s vanished inside a transaction", ErrCorrupt, shard)
	}
	agent, err := decodeClaim(kvs[0].Value)
	if err != nil {
		return metadata.CoordinatorClaim{}, false, fmt.Errorf("key %q: %w", key, err)
	}
	c := metadata.CoordinatorClaim{Shard: shard, Agent: agent, Revision: kvs[0].CreateRevision}
	return c, kvs[0].Lease == int64(r.lease), nil
}

// ReleaseCoordinator implements metadata.Coordinators: it deletes the
// shard's key if its create revision is still the claim's.
func (s *Store) ReleaseCoordinator(ctx context.Context, claim metadata.CoordinatorClaim) error {
	if err := claim.Shard.Validate(); err != nil {
		return err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	key := s.keys.coordinator(claim.Shard)
	_, err = s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", claim.Revision)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return unavailable("release "+claim.Shard.String(), err)
	}
	return nil
}

// ListCoordinators implements metadata.Coordinators.
func (s *Store) ListCoordinators(ctx context.Context, kind metadata.CoordinatorKind) ([]metadata.CoordinatorClaim, error) {
	if err := (metadata.CoordinatorShard{Kind: kind}).Validate(); err != nil {
		return nil, err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	dir := s.keys.coordinators(kind)
	resp, err := s.client.Get(ctx, dir, clientv3.WithPrefix())
	if err != nil {
		return nil, unavailable("list "+string(kind)+" coordinators", err)
	}
	claims := make([]metadata.CoordinatorClaim, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		num := strings.TrimPrefix(string(kv.Key), dir)
		idx, err := strconv.ParseInt(num, 10, 32)
		if err != nil || len(num) != 4 || idx < 0 {
			return nil, fmt.Errorf("%w: coordinator key %q", ErrCorrupt, kv.Key)
		}
		agent, err := decodeClaim(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", kv.Key, err)
		}
		claims = append(claims, metadata.CoordinatorClaim{
			Shard:    metadata.CoordinatorShard{Kind: kind, Index: int32(idx)},
			Agent:    agent,
			Revision: kv.CreateRevision,
		})
	}
	return claims, nil // keys sort by zero-padded index
}

// fencedTxn applies ops in one transaction that requires claim to be
// current.
func (s *Store) fencedTxn(ctx context.Context, claim metadata.CoordinatorClaim, what string, ops []clientv3.Op) error {
	txn, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(s.keys.coordinator(claim.Shard)), "=", claim.Revision)).
		Then(ops...).
		Commit()
	if err != nil {
		if isTooManyOps(err) {
			return fmt.Errorf("%s: %w: %d operations in one transaction are more than etcd's --max-txn-ops", what, metadata.ErrInvalid, len(ops))
		}
		return unavailable(what, err)
	}
	if !txn.Succeeded {
		return fmt.Errorf("%s: %s claimed at revision %d: %w", what, claim.Shard, claim.Revision, metadata.ErrFenced)
	}
	return nil
}

// fencedTxns applies ops in transactions of at most maxTxnOps, in order.
func (s *Store) fencedTxns(ctx context.Context, claim metadata.CoordinatorClaim, what string, ops []clientv3.Op) error {
	for chunk := range slices.Chunk(ops, maxTxnOps) {
		if err := s.fencedTxn(ctx, claim, what, chunk); err != nil {
			return err
		}
	}
	return nil
}

// PutGroup implements metadata.Groups.
func (s *Store) PutGroup(ctx context.Context, claim metadata.CoordinatorClaim, g metadata.Group) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if err := metadata.ValidateGroupWrite(claim, g.Name); err != nil {
		return err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	op := clientv3.OpPut(s.keys.groupMeta(claim.Shard.Index, g.Name), encodeGroup(g))
	return s.fencedTxn(ctx, claim, fmt.Sprintf("store group %q", g.Name), []clientv3.Op{op})
}

// CommitOffsets implements metadata.Groups: one put per partition, in
// transactions of at most maxTxnOps puts.
func (s *Store) CommitOffsets(ctx context.Context, claim metadata.CoordinatorClaim, group string, offsets []metadata.CommittedOffset) error {
	if err := metadata.ValidateGroupWrite(claim, group); err != nil {
		return err
	}
	ops := make([]clientv3.Op, len(offsets))
	for i, o := range offsets {
		if err := o.Validate(); err != nil {
			return err
		}
		key := s.keys.groupOffset(claim.Shard.Index, group, metadata.GroupPartition{Topic: o.Topic, Partition: o.Partition})
		ops[i] = clientv3.OpPut(key, encodeOffset(o))
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return s.fencedTxns(ctx, claim, fmt.Sprintf("commit offsets of group %q", group), ops)
}

// DeleteOffsets implements metadata.Groups.
func (s *Store) DeleteOffsets(ctx context.Context, claim metadata.CoordinatorClaim, group string, partitions []metadata.GroupPartition) error {
	if err := metadata.ValidateGroupWrite(claim, group); err != nil {
		return err
	}
	ops := make([]clientv3.Op, len(partitions))
	for i, p := range partitions {
		ops[i] = clientv3.OpDelete(s.keys.groupOffset(claim.Shard.Index, group, p))
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return s.fencedTxns(ctx, claim, fmt.Sprintf("delete offsets of group %q", group), ops)
}

// DeleteGroup implements metadata.Groups: one range delete of the group's
// directory.
func (s *Store) DeleteGroup(ctx context.Context, claim metadata.CoordinatorClaim, group string) error {
	if err := metadata.ValidateGroupWrite(claim, group); err != nil {
		return err
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	op := clientv3.OpDelete(s.keys.group(claim.Shard.Index, group), clientv3.WithPrefix())
	return s.fencedTxn(ctx, claim, fmt.Sprintf("delete group %q", group), []clientv3.Op{op})
}

// rangeAll calls fn for every key under prefix, read at one revision in
// pages of rangePage keys.
func (s *Store) rangeAll(ctx context.Context, what, prefix string, fn func(*mvccpb.KeyValue) error, opts ...clientv3.OpOption) error {
	key, end := prefix, clientv3.GetPrefixRangeEnd(prefix)
	var rev int64
	for {
		o := append([]clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(rangePage)}, opts...)
		if rev > 0 {
			o = append(o, clientv3.WithRev(rev))
		}
		resp, err := s.client.Get(ctx, key, o...)
		if err != nil {
			return unavailable(what, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// LoadGroups implements metadata.Groups with one paged read of the shard's
// directory. Keys sort by group, and within a group "meta" before
// "offsets/…" before "txn-offsets/…", offsets by topic and zero-padded
// partition, pending transactional offsets by zero-padded producer id
// first.
func (s *Store) LoadGroups(ctx context.Context, shard metadata.CoordinatorShard) ([]metadata.StoredGroup, error) {
	if err := shard.Validate(); err != nil {
		return nil, err
	}
	if shard.Kind != metadata.CoordinatorGroup {
		return nil, fmt.Errorf("%w: load groups of a %s shard", metadata.ErrInvalid, shard.Kind)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var out []metadata.StoredGroup
	err = s.rangeAll(ctx, "load groups of "+shard.String(), s.keys.groupShard(shard.Index), func(kv *mvccpb.KeyValue) error {
		k, err := s.keys.parseGroupKey(string(kv.Key))
		if err != nil {
			return err
		}
		if len(out) == 0 || out[len(out)-1].Name != k.name {
			out = append(out, metadata.StoredGroup{Name: k.name})
		}
		sg := &out[len(out)-1]
		if k.txn {
			return addTxnOffset(sg, k, kv.Value)
		}
		if k.meta {
			g, err := decodeGroup(k.name, kv.Value)
			if err != nil {
				return fmt.Errorf("key %q: %w", kv.Key, err)
			}
			sg.Group = &g
			return nil
		}
		o, err := decodeOffset(k.partition, kv.Value)
		if err != nil {
			return fmt.Errorf("key %q: %w", kv.Key, err)
		}
		sg.Offsets = append(sg.Offsets, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Escaped names sort differently from names: sort by the names.
	slices.SortStableFunc(out, func(a, b metadata.StoredGroup) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ListGroups implements metadata.Groups with a paged, keys-only read of
// every group key.
func (s *Store) ListGroups(ctx context.Context) ([]string, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	seen := make(map[string]bool)
	var names []string
	err = s.rangeAll(ctx, "list groups", s.keys.allGroups(), func(kv *mvccpb.KeyValue) error {
		k, err := s.keys.parseGroupKey(string(kv.Key))
		if err != nil {
			return err
		}
		if !seen[k.name] {
			seen[k.name] = true
			names = append(names, k.name)
		}
		return nil
	}, clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}
