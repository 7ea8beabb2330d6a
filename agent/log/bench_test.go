package log

import (
	"encoding/binary"
	"testing"
)

// batch16K is a 16-record batch of about 16 KiB.
func batch16K(pid int64) []byte {
	return makeBatch(batchSpec{records: 16, valueSize: 1010, pid: pid, epoch: 0, seq: 0, ts: testEpochMillis})
}

func benchAppend(b *testing.B, cfg Config, idempotent bool) {
	l, err := Open(b.TempDir(), cfg, WithLogger(quietLogger()))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	pid := int64(-1)
	if idempotent {
		pid = 1
	}
	batch := batch16K(pid)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	seq := int32(0)
	for b.Loop() {
		if idempotent {
			// Append does not re-check CRCs, so the sequence can be bumped
			// in place.
			binary.BigEndian.PutUint32(batch[offBaseSequence:], uint32(seq))
			seq += 16
		}
		if _, err := l.Append(batch, AppendOptions{LeaderEpoch: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppend measures appends of 16 KiB batches with the default
// configuration (1 GiB segments, no fsync on the write path).
func BenchmarkAppend(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchAppend(b, NewConfig(), false) })
	b.Run("idempotent", func(b *testing.B) { benchAppend(b, NewConfig(), true) })
	b.Run("small-segments", func(b *testing.B) {
		cfg := NewConfig()
		cfg.SegmentBytes = 64 << 20
		benchAppend(b, cfg, false)
	})
}

// BenchmarkAppendFsync measures fsync-before-acknowledge (FlushMessages=1);
// it is bound by the disk's fsync latency.
func BenchmarkAppendFsync(b *testing.B) {
	cfg := NewConfig()
	cfg.FlushMessages = 1
	benchAppend(b, cfg, false)
}

// BenchmarkRead reads 1 MiB from the middle of a 64 MiB log into a reused
// buffer.
func BenchmarkRead(b *testing.B) {
	cfg := NewConfig()
	cfg.SegmentBytes = 16 << 20
	l, err := Open(b.TempDir(), cfg, WithLogger(quietLogger()))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	batch := batch16K(-1)
	for l.Size() < 64<<20 {
		if _, err := l.Append(batch, AppendOptions{LeaderEpoch: 1}); err != nil {
			b.Fatal(err)
		}
	}
	leo := l.LogEndOffset()
	mid := leo / 2
	buf := make([]byte, 0, 2<<20)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		out, err := l.ReadInto(buf[:0], mid+5, 1<<20, leo, true)
		if err != nil {
			b.Fatal(err)
		}
		if len(out) < 1<<20-len(batch) {
			b.Fatalf("read %d bytes", len(out))
		}
	}
}
