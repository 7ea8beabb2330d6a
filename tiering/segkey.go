package tiering

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-io/strata/metadata"
)

// Suffixes of a segment's three objects, as of the local files they come
// from.
const (
	LogSuffix       = ".log"
	IndexSuffix     = ".index"
	TimeIndexSuffix = ".timeindex"
)

// baseDigits is the width of the zero-padded base offset in a segment's
// object keys, as in local segment file names: keys of one partition sort
// by offset.
const baseDigits = 20

// SegmentKeys are the object keys of one uploaded segment. They are
//
//	<cluster-id>/<topic-id>/<partition>/<base-offset %020d>-<leader-epoch>.log
//	…/<base-offset %020d>-<leader-epoch>.index
//	…/<base-offset %020d>-<leader-epoch>.timeindex
//
// with the topic id as 32 hex digits and the partition and leader epoch
// in decimal. They are deterministic: a retried upload of the same segment
// by the same leader writes the same keys, and a new leader (a higher
// epoch) never overwrites objects an earlier leader wrote.
type SegmentKeys struct {
	Log, Index, TimeIndex string
}

// ClusterPrefix is the prefix of every object of the cluster.
func ClusterPrefix(clusterID string) string { return clusterID + "/" }

// TopicPrefix is the prefix of every object of one topic.
func TopicPrefix(clusterID string, id metadata.TopicID) string {
	return ClusterPrefix(clusterID) + id.String() + "/"
}

// PartitionPrefix is the prefix of every object of one partition.
func PartitionPrefix(clusterID string, tp metadata.TopicPartition) string {
	return TopicPrefix(clusterID, tp.TopicID) + strconv.FormatInt(int64(tp.Partition), 10) + "/"
}

// NewSegmentKeys returns the keys of the segment of tp at base uploaded by
// the leader of epoch. It fails with ErrInvalidKey if clusterID is not a
// valid key segment, and for a zero topic id or negative numbers.
func NewSegmentKeys(clusterID string, tp metadata.TopicPartition, base int64, epoch int32) (SegmentKeys, error) {
	if err := ValidateKey(clusterID); err != nil || strings.Contains(clusterID, "/") {
		return SegmentKeys{}, fmt.Errorf("%w: cluster id %q is not one key segment", ErrInvalidKey, clusterID)
	}
	if tp.TopicID.IsZero() || tp.Partition < 0 || base < 0 || epoch < 0 {
		return SegmentKeys{}, fmt.Errorf("%w: segment %d of %s-%d, epoch %d", ErrInvalidKey, base, tp.TopicID, tp.Partition, epoch)
	}
	stem := fmt.Sprintf("%s%0*d-%d", PartitionPrefix(clusterID, tp), baseDigits, base, epoch)
	keys := SegmentKeys{Log: stem + LogSuffix, Index: stem + IndexSuffix, TimeIndex: stem + TimeIndexSuffix}
	if err := ValidateKey(keys.TimeIndex); err != nil { // the longest
		return SegmentKeys{}, err
	}
	return keys, nil
}

// SegmentObject is what a segment object's key says about it.
type SegmentObject struct {
	ClusterID string
	metadata.TopicPartition
	BaseOffset  int64
	LeaderEpoch int32
	// Suffix is LogSuffix, IndexSuffix or TimeIndexSuffix.
	Suffix string
}

// ParseSegmentKey parses a key made by NewSegmentKeys. Any other key fails
// with an error wrapping ErrInvalidKey, so a sweeper can tell the
// project's objects from others under the same prefix.
func ParseSegmentKey(key string) (SegmentObject, error) {
	bad := func() (SegmentObject, error) {
		return SegmentObject{}, fmt.Errorf("%w: %q is not a segment object key", ErrInvalidKey, key)
	}
	parts := strings.Split(key, "/")
	if len(parts) != 4 || ValidateKey(key) != nil {
		return bad()
	}
	id, err := metadata.ParseTopicID(parts[1])
	if err != nil || id.IsZero() || id.String() != parts[1] {
		return bad()
	}
	partition, ok := parseDecimal(parts[2], 31)
	if !ok {
		return bad()
	}
	obj := SegmentObject{ClusterID: parts[0], TopicPartition: metadata.TopicPartition{TopicID: id, Partition: int32(partition)}}
	name := parts[3]
	for _, suffix := range []string{LogSuffix, IndexSuffix, TimeIndexSuffix} {
		if stem, ok := strings.CutSuffix(name, suffix); ok {
			obj.Suffix, name = suffix, stem
			break
		}
	}
	digits, epoch, ok := strings.Cut(name, "-")
	if obj.Suffix == "" || !ok || len(digits) != baseDigits {
		return bad()
	}
	base, ok1 := parseDecimalPadded(digits)
	e, ok2 := parseDecimal(epoch, 31)
	if !ok1 || !ok2 {
		return bad()
	}
	obj.BaseOffset, obj.LeaderEpoch = base, int32(e)
	return obj, nil
}

// Keys returns the keys of all three objects of the segment obj belongs to.
func (obj SegmentObject) Keys() SegmentKeys {
	k, _ := NewSegmentKeys(obj.ClusterID, obj.TopicPartition, obj.BaseOffset, obj.LeaderEpoch)
	return k
}

// parseDecimal parses a non-negative decimal of at most bits bits with no
// sign, no leading zeros (but "0") and nothing else, so that every value
// has one spelling.
func parseDecimal(s string, bits int) (int64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, bits+1)
	return v, err == nil && v >= 0
}

// parseDecimalPadded parses a zero-padded non-negative int64.
func parseDecimalPadded(s string) (int64, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}
