package log

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// segment is one %020d.log file with its in-memory sparse indexes.
//
// Readers use a segment through a reference (acquire/release) taken from the
// Log's current view, so a concurrent deletion unlinks the files at once but
// closes the handle only after the last reader is done.
type segment struct {
	base          int64
	logPath       string
	indexPath     string
	timeIndexPath string
	file          File
	logger        *slog.Logger

	size       atomic.Int64 // bytes of complete batches; written under Log.mu
	next       atomic.Int64 // offset after the last batch; written under Log.mu
	refs       atomic.Int32 // the Log's reference plus one per reader
	closed     atomic.Bool  // no longer the active segment
	syncedSize atomic.Int64 // bytes known to be durable; written under Log.syncMu

	mu          sync.RWMutex // guards idx, tidx, maxTS, maxTSOffset
	idx         []indexEntry
	tidx        []timeEntry
	maxTS       int64 // largest batch MaxTimestamp, -1 if none
	maxTSOffset int64 // base offset of the batch holding maxTS, -1 if none

	// Appender state, guarded by Log.mu.
	bytesSinceIndex int64
	rollBase        time.Time

	// Flush state: guarded by Log.mu while the segment is active, and by
	// Log.maintMu once a roll handed it to the flusher.
	sealed   bool // the index files on disk match idx and tidx
	flushed  bool // .log and index files are durable
	idxFile  File // open from seal until flush
	tidxFile File

	dirSynced bool // guarded by Log.syncMu: the directory entry is durable
}

func newSegment(dir string, base int64, f File, logger *slog.Logger) *segment {
	s := &segment{
		base:          base,
		logPath:       filepath.Join(dir, offsetFileName(base, logSuffix)),
		indexPath:     filepath.Join(dir, offsetFileName(base, indexSuffix)),
		timeIndexPath: filepath.Join(dir, offsetFileName(base, timeIndexSuffix)),
		file:          f,
		logger:        logger,
		maxTS:         -1,
		maxTSOffset:   -1,
	}
	s.next.Store(base)
	s.refs.Store(1)
	return s
}

// acquire takes a reader reference; false if the segment was deleted.
func (s *segment) acquire() bool {
	for {
		r := s.refs.Load()
		if r <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// release drops a reference, closing the file after the last one.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		if err := s.file.Close(); err != nil {
			s.logger.Warn("close segment", "segment", s.logPath, "err", err)
		}
	}
}

// drop gives up the Log's reference (on deletion or Close). The caller holds
// what guards the flush state.
func (s *segment) drop() {
	s.closeIndexFiles()
	s.release()
}

func (s *segment) closeIndexFiles() {
	for _, f := range []*File{&s.idxFile, &s.tidxFile} {
		if *f != nil {
			if err := (*f).Close(); err != nil {
				s.logger.Warn("close index", "segment", s.logPath, "err", err)
			}
			*f = nil
		}
	}
}

// observe updates the in-memory indexes for a batch appended at pos. The
// caller holds s.mu for writing and Log.mu.
func (s *segment) observe(h *batchHeader, pos int64, interval int64) {
	if h.MaxTimestamp > s.maxTS {
		s.maxTS = h.MaxTimestamp
		s.maxTSOffset = h.BaseOffset
	}
	if s.bytesSinceIndex > interval {
		s.idx = append(s.idx, indexEntry{rel: uint32(h.BaseOffset - s.base), pos: uint32(pos)})
		s.appendTimeEntry()
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += h.size()
}

// appendTimeEntry adds (maxTS, its batch) to the time index if maxTS grew.
func (s *segment) appendTimeEntry() {
	if n := len(s.tidx); s.maxTS >= 0 && (n == 0 || s.maxTS > s.tidx[n-1].ts) {
		s.tidx = append(s.tidx, timeEntry{ts: s.maxTS, rel: uint32(s.maxTSOffset - s.base)})
	}
}

// resetIndexes forgets the in-memory indexes before a rebuild.
func (s *segment) resetIndexes() {
	s.mu.Lock()
	s.idx, s.tidx = nil, nil
	s.maxTS, s.maxTSOffset = -1, -1
	s.mu.Unlock()
	s.bytesSinceIndex = 0
}

// lookup returns where to start scanning for offset.
func (s *segment) lookup(offset int64) int64 {
	rel := offset - s.base
	if rel <= 0 {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return lookupPosition(s.idx, uint32(min(rel, math.MaxUint32)))
}

// locate finds the batch holding offset within the segment's first limit
// bytes: it seeks with the offset index, then reads batch headers into hb
// (batchHeaderSize bytes). found is false if offset is past the data.
func (s *segment) locate(offset, limit int64, hb []byte) (pos int64, h batchHeader, found bool, err error) {
	for pos = s.lookup(offset); pos < limit; pos += h.size() {
		if h, err = s.readHeader(pos, limit, hb); err != nil {
			return pos, h, false, err
		}
		if h.lastOffset() >= offset {
			return pos, h, true, nil
		}
	}
	return pos, h, false, nil
}

// readHeader reads and checks the header of the batch at pos, which must end
// by limit.
func (s *segment) readHeader(pos, limit int64, hb []byte) (batchHeader, error) {
	if limit-pos < batchHeaderSize {
		return batchHeader{}, s.corrupt(pos, errors.New("truncated batch header"))
	}
	if _, err := s.file.ReadAt(hb[:batchHeaderSize], pos); err != nil {
		return batchHeader{}, fmt.Errorf("read %s at %d: %w", s.logPath, pos, err)
	}
	h, err := parseBatchHeader(hb)
	if err != nil {
		return h, s.corrupt(pos, err)
	}
	if pos+h.size() > limit {
		return h, s.corrupt(pos, fmt.Errorf("batch of %d bytes runs past %d", h.size(), limit))
	}
	return h, nil
}

// corrupt builds an ErrCorrupt error naming the file and position.
func (s *segment) corrupt(pos int64, reason error) error {
	return fmt.Errorf("%w: %s at position %d: %v", ErrCorrupt, s.logPath, pos, reason)
}

// seal writes the index files from memory, completing the time index with
// the segment's maximum. The segment's data must no longer change. The
// files stay open until flushIndexFiles.
func (s *segment) seal(fs FS) error {
	s.mu.Lock()
	s.appendTimeEntry()
	idx, tidx := encodeOffsetIndex(s.idx), encodeTimeIndex(s.tidx)
	s.mu.Unlock()
	s.closeIndexFiles()
	var err error
	if s.idxFile, err = writeNewFile(fs, s.indexPath, idx); err != nil {
		return err
	}
	if s.tidxFile, err = writeNewFile(fs, s.timeIndexPath, tidx); err != nil {
		return err
	}
	s.sealed = true
	return nil
}

// flushIndexFiles fsyncs and closes the index files written by seal.
func (s *segment) flushIndexFiles() error {
	for _, f := range []File{s.idxFile, s.tidxFile} {
		if f == nil {
			continue
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync index of %s: %w", s.logPath, err)
		}
	}
	s.closeIndexFiles()
	return nil
}

// writeNewFile creates or truncates name and writes data, returning the
// open file.
func writeNewFile(fs FS, name string, data []byte) (File, error) {
	f, err := fs.Create(name)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return f, nil
}

// SegmentInfo describes one segment, for tiering and inspection.
type SegmentInfo struct {
	BaseOffset    int64
	LastOffset    int64 // BaseOffset-1 for an empty segment
	Size          int64 // bytes in the .log file
	MaxTimestamp  int64 // largest batch MaxTimestamp, -1 if none
	LogPath       string
	IndexPath     string // written when the segment closes
	TimeIndexPath string
	Closed        bool // no longer the active segment: its files do not change
}

func (s *segment) info() SegmentInfo {
	s.mu.RLock()
	ts := s.maxTS
	s.mu.RUnlock()
	return SegmentInfo{
		BaseOffset:    s.base,
		LastOffset:    s.next.Load() - 1,
		Size:          s.size.Load(),
		MaxTimestamp:  ts,
		LogPath:       s.logPath,
		IndexPath:     s.indexPath,
		TimeIndexPath: s.timeIndexPath,
		Closed:        s.closed.Load(),
	}
}
