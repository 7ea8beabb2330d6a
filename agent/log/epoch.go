package log

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// epochEntry says that leader epoch starts at startOffset.
type epochEntry struct {
	epoch       int32
	startOffset int64
}

// epochCache maps leader epochs to their start offsets (Kafka's
// LeaderEpochFileCache). Entries are strictly increasing in both fields.
// Mutations happen under Log.mu and mu; readers take only mu.
type epochCache struct {
	mu      sync.RWMutex
	entries []epochEntry // guarded by mu
}

// latest returns the newest epoch, -1 if none.
func (c *epochCache) latest() int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.entries) == 0 {
		return -1
	}
	return c.entries[len(c.entries)-1].epoch
}

// assign records that epoch starts at offset, as Kafka's assign does: an
// existing newer or equal epoch, or one starting at or after offset, is
// removed first. It reports whether the cache changed.
func (c *epochCache) assign(epoch int32, offset int64) bool {
	if epoch < 0 || offset < 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.entries); n > 0 {
		last := c.entries[n-1]
		if last.epoch == epoch && last.startOffset <= offset {
			return false
		}
	}
	keep := len(c.entries)
	for keep > 0 && (c.entries[keep-1].epoch >= epoch || c.entries[keep-1].startOffset >= offset) {
		keep--
	}
	c.entries = append(c.entries[:keep], epochEntry{epoch: epoch, startOffset: offset})
	return true
}

// truncateFromEnd removes the epochs starting at or after end (log
// truncation). It reports whether the cache changed.
func (c *epochCache) truncateFromEnd(end int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := len(c.entries)
	for keep > 0 && c.entries[keep-1].startOffset >= end {
		keep--
	}
	changed := keep != len(c.entries)
	c.entries = c.entries[:keep]
	return changed
}

// truncateFromStart drops epochs that ended before start and moves the
// start of the epoch holding start up to it (log start advanced).
func (c *epochCache) truncateFromStart(start int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := -1
	for i+1 < len(c.entries) && c.entries[i+1].startOffset <= start {
		i++
	}
	if i < 0 {
		return false
	}
	changed := i > 0 || c.entries[i].startOffset != start
	c.entries[i].startOffset = start
	c.entries = append(c.entries[:0], c.entries[i:]...)
	return changed
}

func (c *epochCache) reset() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}

// endOffsetFor implements OffsetForLeaderEpoch exactly as Kafka's
// LeaderEpochFileCache.endOffsetFor does, given the log end offset.
func (c *epochCache) endOffsetFor(epoch int32, leo int64) (int32, int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := len(c.entries)
	switch {
	case epoch < 0 || n == 0:
		return -1, -1
	case c.entries[n-1].epoch == epoch:
		return epoch, leo
	}
	// First entry with an epoch above the requested one.
	hi := 0
	for hi < n && c.entries[hi].epoch <= epoch {
		hi++
	}
	switch {
	case hi == n:
		// Newer than every known epoch.
		return -1, -1
	case hi == 0:
		// Older than every known epoch: its data is gone; point the
		// follower at the first epoch we know.
		return epoch, c.entries[0].startOffset
	}
	return c.entries[hi-1].epoch, c.entries[hi].startOffset
}

// encode returns the leader-epoch-checkpoint file. Payload (inside the
// common frame, magic "SLEC"): entry count uint32, then per entry epoch
// int32 and start offset int64.
func (c *epochCache) encode() []byte {
	c.mu.RLock()
	defer c.mu.RUnlock()
	b := beginFrame(make([]byte, 0, frameHeaderSize+4+12*len(c.entries)), magicEpochCheckpoint)
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.entries)))
	for _, e := range c.entries {
		b = binary.BigEndian.AppendUint32(b, uint32(e.epoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.startOffset))
	}
	finishFrame(b, 0)
	return b
}

// decodeEpochCheckpoint parses a leader-epoch-checkpoint file. Every
// failure wraps ErrCorrupt.
func decodeEpochCheckpoint(b []byte) ([]epochEntry, error) {
	p, err := decodeFrame(b, magicEpochCheckpoint)
	if err != nil {
		return nil, err
	}
	if len(p) < 4 || uint64(len(p)-4) != 12*uint64(binary.BigEndian.Uint32(p)) {
		return nil, fmt.Errorf("%w: leader epoch checkpoint payload of %d bytes", ErrCorrupt, len(p))
	}
	entries := make([]epochEntry, (len(p)-4)/12)
	for i := range entries {
		q := p[4+12*i:]
		e := epochEntry{epoch: int32(binary.BigEndian.Uint32(q)), startOffset: int64(binary.BigEndian.Uint64(q[4:]))}
		if e.epoch < 0 || e.startOffset < 0 || (i > 0 && (e.epoch <= entries[i-1].epoch || e.startOffset <= entries[i-1].startOffset)) {
			return nil, fmt.Errorf("%w: leader epoch entry %d (epoch %d at %d) out of order", ErrCorrupt, i, e.epoch, e.startOffset)
		}
		entries[i] = e
	}
	return entries, nil
}
