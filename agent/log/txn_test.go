package log

import (
	"encoding/binary"
	"slices"
	"testing"
)

// txnBatch is a transactional batch of producer pid.
func txnBatch(pid int64, epoch int16, seq int32, n int) []byte {
	b := idem(pid, epoch, seq, n)
	setAttributes(b, attrTransactional)
	return b
}

// markerBatch is a commit or abort marker of producer pid, as the
// transaction coordinator writes it.
func markerBatch(pid int64, epoch int16, commit bool, coordinatorEpoch int32) []byte {
	typ := int16(0)
	if commit {
		typ = 1
	}
	var rec []byte
	rec = append(rec, 0)              // attributes
	rec = binary.AppendVarint(rec, 0) // timestamp delta
	rec = binary.AppendVarint(rec, 0) // offset delta
	rec = binary.AppendVarint(rec, 4) // key length
	rec = binary.BigEndian.AppendUint16(rec, 0)
	rec = binary.BigEndian.AppendUint16(rec, uint16(typ))
	rec = binary.AppendVarint(rec, 6) // value length
	rec = binary.BigEndian.AppendUint16(rec, 0)
	rec = binary.BigEndian.AppendUint32(rec, uint32(coordinatorEpoch))
	rec = binary.AppendVarint(rec, 0) // no headers
	b := make([]byte, batchHeaderSize)
	b = binary.AppendVarint(b, int64(len(rec)))
	b = append(b, rec...)
	be := binary.BigEndian
	be.PutUint32(b[offBatchLength:], uint32(len(b)-batchOverhead))
	be.PutUint32(b[offLeaderEpoch:], 0xffffffff)
	b[offMagic] = 2
	be.PutUint64(b[offBaseTimestamp:], uint64(testEpochMillis))
	be.PutUint64(b[offMaxTimestamp:], uint64(testEpochMillis))
	be.PutUint64(b[offProducerID:], uint64(pid))
	be.PutUint16(b[offProducerEpoch:], uint16(epoch))
	be.PutUint32(b[offBaseSequence:], 0xffffffff)
	be.PutUint32(b[offRecordsCount:], 1)
	setAttributes(b, attrTransactional|attrControl)
	return b
}

func setAttributes(b []byte, attrs int16) {
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(attrs))
	binary.BigEndian.PutUint32(b[offCRC:], batchCRC(b))
}

// TestTransactionsLSOAndAborted: open transactions hold the last stable
// offset back; markers close them; aborted ones are listed for the ranges
// that hold their records.
func TestTransactionsLSOAndAborted(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, testConfig())
	mustAppend(t, l, plain(2, 10, 1), AppendOptions{LeaderEpoch: 0})           // 0-1
	a := mustAppend(t, l, txnBatch(7, 0, 0, 3), AppendOptions{LeaderEpoch: 0}) // 2-4, producer 7
	mustAppend(t, l, txnBatch(8, 0, 0, 2), AppendOptions{LeaderEpoch: 0})      // 5-6, producer 8
	mustAppend(t, l, txnBatch(7, 0, 3, 1), AppendOptions{LeaderEpoch: 0})      // 7
	if got := l.LastStableOffset(l.LogEndOffset()); got != a.BaseOffset {
		t.Fatalf("LSO %d with producer 7 open since %d", got, a.BaseOffset)
	}
	abort := mustAppend(t, l, markerBatch(7, 0, false, 5), AppendOptions{LeaderEpoch: 0}) // 8
	if got := l.LastStableOffset(l.LogEndOffset()); got != 5 {
		t.Fatalf("LSO %d after producer 7 aborted; producer 8 is open since 5", got)
	}
	mustAppend(t, l, markerBatch(8, 0, true, 5), AppendOptions{LeaderEpoch: 0}) // 9
	if got, hw := l.LastStableOffset(l.LogEndOffset()), l.LogEndOffset(); got != hw {
		t.Fatalf("LSO %d with no open transaction, want the HW %d", got, hw)
	}
	if got := l.LastStableOffset(4); got != 4 {
		t.Fatalf("LSO above the HW: %d", got)
	}
	want := []AbortedTxn{{ProducerID: 7, FirstOffset: 2, LastOffset: abort.BaseOffset}}
	for _, r := range []struct{ from, to int64 }{{0, 10}, {3, 4}, {8, 9}} {
		if got := l.AbortedTxns(r.from, r.to); !slices.Equal(got, want) {
			t.Fatalf("AbortedTxns(%d, %d) = %v, want %v", r.from, r.to, got, want)
		}
	}
	if got := l.AbortedTxns(9, 10); len(got) != 0 {
		t.Fatalf("AbortedTxns(9, 10) = %v, want none", got)
	}

	// A stale-epoch marker is refused; state survives a restart (from the
	// snapshot taken at Close) and an unclean one (replayed from the log).
	if _, err := l.Append(markerBatch(7, 0, false, 5), AppendOptions{LeaderEpoch: 0}); err != nil {
		t.Fatalf("marker of the current epoch: %v", err)
	}
	mustAppend(t, l, txnBatch(7, 1, 0, 1), AppendOptions{LeaderEpoch: 0}) // epoch 1 opens a transaction
	if _, err := l.Append(markerBatch(7, 0, true, 5), AppendOptions{LeaderEpoch: 0}); err == nil {
		t.Fatal("marker of a fenced epoch accepted")
	}
	lso := l.LastStableOffset(l.LogEndOffset())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, dir, testConfig())
	if got := l.LastStableOffset(l.LogEndOffset()); got != lso {
		t.Fatalf("LSO %d after reopening, want %d", got, lso)
	}
	if got := l.AbortedTxns(0, l.LogEndOffset()); !slices.Equal(got, want) {
		t.Fatalf("aborted after reopening = %v, want %v", got, want)
	}
	if err := l.TruncateTo(abort.BaseOffset); err != nil {
		t.Fatal(err)
	}
	if got := l.AbortedTxns(0, l.LogEndOffset()); len(got) != 0 {
		t.Fatalf("aborted after truncating the marker away = %v", got)
	}
	if got := l.LastStableOffset(l.LogEndOffset()); got != 2 {
		t.Fatalf("LSO %d after truncation reopened producer 7's transaction at 2", got)
	}
}
