package shards

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Count is how many shards the group and transaction coordinators split
// their keys into: Kafka's default offsets.topic.num.partitions and
// transaction.state.log.num.partitions. It is part of the stored layout (a
// group's or a transaction's data lives under its shard) and must never
// change for a cluster.
const Count = 50

// Of returns the shard of a group or transactional id: Kafka's
// Utils.abs(key.hashCode) % Count, so a key maps to the shard number of
// its __consumer_offsets or __transaction_state partition in Kafka.
func Of(key string) int32 {
	h := javaStringHash(key)
	if h == -1<<31 {
		h = 0 // Kafka's Utils.abs maps Integer.MIN_VALUE to 0
	} else if h < 0 {
		h = -h
	}
	return h % Count
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
