package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
	"slices"
)

// Producer-state snapshot payload (inside the common frame, magic "SPST"):
//
//	[0,8)   snapshot offset, int64: the state covers batches below it
//	[8,12)  producer count, uint32
//	then per producer, in strictly ascending producer id order:
//	  [0,8)   producer id, int64
//	  [8,10)  producer epoch, int16
//	  [10,14) coordinator epoch, int32
//	  [14,22) current transaction first offset, int64 (-1 = none)
//	  [22,30) last timestamp, int64
//	  [30,31) retained batch count, uint8 (0..5)
//	  then per batch, oldest first, 32 bytes:
//	    first sequence int32, last sequence int32,
//	    first offset int64, last offset int64, max timestamp int64
//	then, optionally (older snapshots end above):
//	  [0,4)   aborted transaction count, uint32
//	  then per aborted transaction, in marker order, 24 bytes:
//	    producer id int64, first offset int64, last offset int64
const (
	snapshotProducerSize = 31
	snapshotBatchSize    = 32
	snapshotAbortedSize  = 24
)

// encodeSnapshot returns the snapshot file for the producers at offset.
func encodeSnapshot(offset int64, m *producerStateManager) []byte {
	ids := make([]int64, 0, len(m.producers))
	for id := range m.producers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := beginFrame(make([]byte, 0, frameHeaderSize+12+len(ids)*(snapshotProducerSize+2*snapshotBatchSize)), magicSnapshot)
	be := binary.BigEndian
	b = be.AppendUint64(b, uint64(offset))
	b = be.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		st := m.producers[id]
		b = be.AppendUint64(b, uint64(id))
		b = be.AppendUint16(b, uint16(st.epoch))
		b = be.AppendUint32(b, uint32(st.coordinatorEpoch))
		b = be.AppendUint64(b, uint64(st.currentTxnFirstOffset))
		b = be.AppendUint64(b, uint64(st.lastTimestamp))
		b = append(b, byte(st.n))
		for i := range st.n {
			bm := st.batch(i)
			b = be.AppendUint32(b, uint32(bm.firstSeq))
			b = be.AppendUint32(b, uint32(bm.lastSeq))
			b = be.AppendUint64(b, uint64(bm.firstOffset))
			b = be.AppendUint64(b, uint64(bm.lastOffset))
			b = be.AppendUint64(b, uint64(bm.timestamp))
		}
	}
	b = be.AppendUint32(b, uint32(len(m.aborted)))
	for _, a := range m.aborted {
		b = be.AppendUint64(b, uint64(a.ProducerID))
		b = be.AppendUint64(b, uint64(a.FirstOffset))
		b = be.AppendUint64(b, uint64(a.LastOffset))
	}
	finishFrame(b, 0)
	return b
}

// decodeSnapshot parses a snapshot file. Every failure wraps ErrCorrupt.
func decodeSnapshot(b []byte) (offset int64, m *producerStateManager, err error) {
	p, err := decodeFrame(b, magicSnapshot)
	if err != nil {
		return 0, nil, err
	}
	if len(p) < 12 {
		return 0, nil, fmt.Errorf("%w: snapshot payload of %d bytes", ErrCorrupt, len(p))
	}
	be := binary.BigEndian
	offset = int64(be.Uint64(p))
	count := be.Uint32(p[8:])
	p = p[12:]
	m = newProducerStateManager()
	prev := int64(0)
	for i := range count {
		if len(p) < snapshotProducerSize {
			return 0, nil, fmt.Errorf("%w: snapshot truncated in producer %d of %d", ErrCorrupt, i, count)
		}
		id := int64(be.Uint64(p))
		if i > 0 && id <= prev {
			return 0, nil, fmt.Errorf("%w: snapshot producer ids not ascending (%d after %d)", ErrCorrupt, id, prev)
		}
		prev = id
		st := newProducerState(int16(be.Uint16(p[8:])))
		st.coordinatorEpoch = int32(be.Uint32(p[10:]))
		st.currentTxnFirstOffset = int64(be.Uint64(p[14:]))
		st.lastTimestamp = int64(be.Uint64(p[22:]))
		n := int(p[30])
		p = p[snapshotProducerSize:]
		if n > maxBatchesPerProducer || len(p) < n*snapshotBatchSize {
			return 0, nil, fmt.Errorf("%w: snapshot producer %d has %d batches", ErrCorrupt, id, n)
		}
		for j := range n {
			q := p[j*snapshotBatchSize:]
			st.push(batchMetadata{
				firstSeq:    int32(be.Uint32(q)),
				lastSeq:     int32(be.Uint32(q[4:])),
				firstOffset: int64(be.Uint64(q[8:])),
				lastOffset:  int64(be.Uint64(q[16:])),
				timestamp:   int64(be.Uint64(q[24:])),
			})
		}
		p = p[n*snapshotBatchSize:]
		m.producers[id] = st
		if st.currentTxnFirstOffset >= 0 {
			m.ongoing[id] = st.currentTxnFirstOffset
		}
	}
	if len(p) >= 4 {
		n := be.Uint32(p)
		p = p[4:]
		if uint64(len(p)) < uint64(n)*snapshotAbortedSize {
			return 0, nil, fmt.Errorf("%w: snapshot lists %d aborted transactions in %d bytes", ErrCorrupt, n, len(p))
		}
		m.aborted = make([]AbortedTxn, n)
		for i := range m.aborted {
			q := p[i*snapshotAbortedSize:]
			m.aborted[i] = AbortedTxn{ProducerID: int64(be.Uint64(q)), FirstOffset: int64(be.Uint64(q[8:])), LastOffset: int64(be.Uint64(q[16:]))}
		}
		p = p[int(n)*snapshotAbortedSize:]
	}
	if len(p) != 0 {
		return 0, nil, fmt.Errorf("%w: %d bytes after the last snapshot producer", ErrCorrupt, len(p))
	}
	return offset, m, nil
}

// snapshotsToKeep is how many producer snapshots survive pruning: the
// newest is normally enough, older ones cover a damaged newest one.
const snapshotsToKeep = 3

// writeSnapshotLocked writes the producer snapshot for offset. Without
// durable it is not fsynced: a crash may lose it or leave a torn copy that
// its CRC rejects, and recovery then falls back to an older snapshot and
// scans more. The caller holds mu (or is Open).
func (l *Log) writeSnapshotLocked(offset int64, durable bool) error {
	name := offsetFileName(offset, snapshotSuffix)
	if err := writeFileAtomic(l.fs, l.dir, name, encodeSnapshot(offset, l.producers), durable); err != nil {
		return fmt.Errorf("write producer snapshot: %w", err)
	}
	if i, found := slices.BinarySearch(l.snapshots, offset); !found {
		l.snapshots = slices.Insert(l.snapshots, i, offset)
	}
	return nil
}

// pruneSnapshots removes all but the newest snapshotsToKeep snapshot files.
// The caller holds maintMu but not mu.
func (l *Log) pruneSnapshots() error {
	l.mu.Lock()
	var old []int64
	if n := len(l.snapshots); n > snapshotsToKeep {
		old = slices.Clone(l.snapshots[:n-snapshotsToKeep])
		l.snapshots = slices.Delete(l.snapshots, 0, n-snapshotsToKeep)
	}
	l.mu.Unlock()
	for _, off := range old {
		if err := l.removeSnapshotFile(off); err != nil {
			return err
		}
	}
	return nil
}

func (l *Log) removeSnapshotFile(off int64) error {
	p := filepath.Join(l.dir, offsetFileName(off, snapshotSuffix))
	if err := l.fs.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("remove producer snapshot: %w", err)
	}
	return nil
}

// rebuildProducers resets producer state to the newest valid snapshot at or
// below leo and replays the batches after it. Snapshots above leo (their
// data was lost or truncated) and damaged ones are deleted. The caller holds
// mu (or is Open).
func (l *Log) rebuildProducers(segs []*segment, leo int64) error {
	l.producers = newProducerStateManager()
	start := segs[0].base
	for i := len(l.snapshots) - 1; i >= 0; i-- {
		off := l.snapshots[i]
		if off > leo {
			if err := l.removeSnapshotFile(off); err != nil {
				return err
			}
			l.snapshots = slices.Delete(l.snapshots, i, i+1)
			continue
		}
		m, err := l.readSnapshot(off)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				return err
			}
			l.logger.Warn("ignoring damaged producer snapshot", "dir", l.dir, "offset", off, "err", err)
			if err := l.removeSnapshotFile(off); err != nil {
				return err
			}
			l.snapshots = slices.Delete(l.snapshots, i, i+1)
			continue
		}
		l.producers = m
		start = max(start, off)
		break
	}
	return l.replayProducers(segs, start)
}

func (l *Log) readSnapshot(off int64) (*producerStateManager, error) {
	p := filepath.Join(l.dir, offsetFileName(off, snapshotSuffix))
	b, err := readWholeFile(l.fs, p)
	if err != nil {
		return nil, err
	}
	got, m, err := decodeSnapshot(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if got != off {
		return nil, fmt.Errorf("%w: %s holds offset %d", ErrCorrupt, p, got)
	}
	return m, nil
}

// replayProducers applies every batch from offset start on to producer
// state. The data was verified by recovery, so CRCs are not checked.
func (l *Log) replayProducers(segs []*segment, start int64) error {
	buf := make([]byte, 0, scanBufferSize)
	for _, s := range segs {
		if s.next.Load() <= start {
			continue
		}
		sc := newBatchScanner(s.file, s.lookup(start), s.size.Load(), buf)
		for {
			at := sc.pos
			h, raw, st, err := sc.next(false)
			if err != nil {
				return fmt.Errorf("scan %s: %w", s.logPath, err)
			}
			if st == scanEOF {
				break
			}
			if st != scanOK {
				return s.corrupt(at, errors.New(st.String()))
			}
			if h.BaseOffset >= start {
				l.producers.apply(&h, raw)
			}
		}
		buf = sc.buf
	}
	return nil
}
