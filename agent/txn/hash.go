package txn

import (
	"unicode/utf16"
	"unicode/utf8"
)

// NumShards is how many shards the transaction coordinator splits
// transactional ids into, Kafka's default
// transaction.state.log.num.partitions. It is part of the stored layout (a
// transaction's state lives under its shard) and must never change for a
// cluster.
const NumShards = 50

// ShardOf returns the shard of a transactional id: Kafka's
// Utils.abs(transactionalId.hashCode) % transaction.state.log.num.partitions,
// so an id maps to the shard number of its __transaction_state partition
// in Kafka. With 50 shards it is also the group coordinator's ShardOf
// (package agent/group), which this package may not import.
func ShardOf(id string) int32 {
	h := javaStringHash(id)
	if h == -1<<31 {
		h = 0 // Kafka's Utils.abs maps Integer.MIN_VALUE to 0
	} else if h < 0 {
		h = -h
	}
	return h % NumShards
}

// javaStringHash is Java's String.hashCode over the UTF-16 code units of
// s, reading invalid UTF-8 as U+FFFD as Java's decoder does.
func javaStringHash(s string) int32 {
	var h int32
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			h = 31*h + r1
			h = 31*h + r2
			continue
		}
		h = 31*h + r
	}
	return h
}
