// Package replica holds the replication state machine of one partition on
// its leader: which followers have how much of the log, the in-sync replica
// set (ISR), and the high watermark.
//
// Replication is pull-based, as in Kafka: followers send Fetch requests
// with their replica id, starting at their log end offset (LEO). The
// leader records each follower's LEO from those fetches. The high watermark
// (HW) — the offset below which records are committed and visible to
// consumers — is the smallest LEO among the ISR, the leader included. A
// follower that has not caught up with the leader's LEO for longer than the
// lag limit leaves the ISR; one whose LEO reaches the HW (and the start of
// the current leader epoch) rejoins it. ISR changes are proposed here and
// applied by the caller with a compare-and-swap on the partition state in
// etcd, so a deposed leader's proposals lose.
//
// A Leader is safe for concurrent use.
package replica
