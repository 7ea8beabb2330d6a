package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/metadata"
	"github.com/strata-io/strata/tiering"
)

// Defaults of NewReaderConfig.
const (
	DefaultCacheBytes   = 256 << 20
	DefaultBlockSize    = 1 << 20
	DefaultReadAhead    = 4
	DefaultMaxFetches   = 8
	DefaultFetchTimeout = 30 * time.Second
)

// ReaderConfig configures a Reader. Build one with NewReaderConfig and set
// Store.
type ReaderConfig struct {
	// Store holds the segments' objects.
	Store tiering.ObjectStore
	// CacheBytes bounds the bytes of blocks and parsed indexes the Reader
	// keeps, shared by all readers. Fetches in flight (at most MaxFetches
	// blocks) and the caller's result buffers come on top.
	CacheBytes int64
	// BlockSize is the unit of ranged GETs and of caching.
	BlockSize int64
	// ReadAhead is how many blocks past the end of a sequential read are
	// fetched in the background; 0 disables read-ahead.
	ReadAhead int
	// MaxFetches bounds the GETs in flight at once. Read-ahead only uses
	// a free slot; it never waits for one.
	MaxFetches int
	// FetchTimeout bounds one GET and the reading of its body.
	FetchTimeout time.Duration
	// Logger receives failed read-ahead fetches at debug level (a
	// failed demand fetch is the caller's error); nil means
	// slog.Default().
	Logger *slog.Logger
}

// NewReaderConfig returns a config with the defaults: a 256 MiB cache of
// 1 MiB blocks, 4 blocks of read-ahead, 8 GETs at once, 30 s per GET.
func NewReaderConfig() ReaderConfig {
	return ReaderConfig{
		CacheBytes:   DefaultCacheBytes,
		BlockSize:    DefaultBlockSize,
		ReadAhead:    DefaultReadAhead,
		MaxFetches:   DefaultMaxFetches,
		FetchTimeout: DefaultFetchTimeout,
	}
}

// Validate reports the first problem with c, wrapping ErrInvalidConfig.
func (c *ReaderConfig) Validate() error {
	switch {
	case c.Store == nil:
		return fmt.Errorf("%w: a reader needs a Store", ErrInvalidConfig)
	case c.CacheBytes < 0:
		return fmt.Errorf("%w: CacheBytes %d", ErrInvalidConfig, c.CacheBytes)
	case c.BlockSize < 4<<10 || c.BlockSize > 1<<30:
		return fmt.Errorf("%w: BlockSize %d not in [4 KiB, 1 GiB]", ErrInvalidConfig, c.BlockSize)
	case c.ReadAhead < 0 || c.MaxFetches < 1 || c.FetchTimeout <= 0:
		return fmt.Errorf("%w: ReadAhead %d, MaxFetches %d, FetchTimeout %v", ErrInvalidConfig, c.ReadAhead, c.MaxFetches, c.FetchTimeout)
	}
	return nil
}

// Reader serves fetches of offsets that are only in the object store. It
// reads segments with ranged GETs of whole blocks through a shared cache
// bounded by bytes; concurrent readers of a block cause one GET; a read
// that continues an earlier one fetches the next blocks ahead. It keeps no
// catalogue: callers pass the partition's remote segments (from
// Uploader.RemoteSegments) to each call. It is safe for concurrent use;
// Close stops its fetches.
type Reader struct {
	cfg    ReaderConfig
	logger *slog.Logger
	cache  *cache
	sem    chan struct{} // one token per GET in flight

	ctx    context.Context // ends at Close; fetches run under it
	cancel context.CancelFunc
	wg     sync.WaitGroup // fetch goroutines; added to with cache.mu held and !cache.closed

	reads, gets, getErrors, fetched atomic.Int64
}

// NewReader returns a Reader.
func NewReader(cfg ReaderConfig) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Reader{cfg: cfg, logger: cfg.Logger, cache: newCache(cfg.CacheBytes), sem: make(chan struct{}, cfg.MaxFetches)}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Close cancels the fetches in flight and waits for them; later reads
// fail with ErrClosed. Close is idempotent.
func (r *Reader) Close() {
	r.cache.mu.Lock()
	r.cache.closed = true
	r.cache.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// lookup returns k's cached value, or the flight that fetches it,
// starting one with load if none is in flight. A prefetch starts a
// flight only if a GET slot is free and returns neither value nor
// flight otherwise.
func (r *Reader) lookup(k cacheKey, load loader, prefetch bool) (any, *flight, error) {
	c := r.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.getLocked(k); ok {
		if !prefetch {
			c.hits.Add(1)
		}
		return v, nil, nil
	}
	if f, ok := c.flights[k]; ok {
		if !prefetch {
			c.shared.Add(1)
		}
		return nil, f, nil
	}
	if c.closed {
		return nil, nil, ErrClosed
	}
	if prefetch {
		select {
		case r.sem <- struct{}{}:
		default:
			return nil, nil, nil
		}
		c.prefetched.Add(1)
	} else {
		c.misses.Add(1)
	}
	f := &flight{done: make(chan struct{})}
	c.flights[k] = f
	r.wg.Add(1)
	go r.fly(k, f, load, prefetch)
	return nil, f, nil
}

// fly runs one fetch and publishes its result. It holds a GET slot while
// it fetches (a prefetch took its slot already). A failed prefetch is
// only logged: nobody waits for it yet, and a reader that wants the block
// later fetches it again.
func (r *Reader) fly(k cacheKey, f *flight, load loader, prefetch bool) {
	defer r.wg.Done()
	var val any
	var size int64
	err := ErrClosed
	haveSlot := prefetch
	if !haveSlot {
		select {
		case r.sem <- struct{}{}:
			haveSlot = true
		case <-r.ctx.Done():
		}
	}
	if haveSlot {
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.FetchTimeout)
		val, size, err = load(ctx)
		cancel()
		<-r.sem
	}
	c := r.cache
	c.mu.Lock()
	delete(c.flights, k)
	if err == nil {
		c.putLocked(k, val, size)
	}
	f.val, f.err = val, err
	close(f.done)
	c.mu.Unlock()
	if prefetch && err != nil && r.ctx.Err() == nil {
		r.logger.Debug("read-ahead fetch failed", "key", k.obj, "block", k.block, "error", err)
	}
}

// get returns k's value, fetching it with load if needed.
func (r *Reader) get(ctx context.Context, k cacheKey, load loader) (any, error) {
	v, f, err := r.lookup(k, load, false)
	if err != nil || f == nil {
		return v, err
	}
	return wait(ctx, f)
}

func wait(ctx context.Context, f *flight) (any, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// blockLoader fetches block b of obj, an object of size bytes, with one
// ranged GET.
func (r *Reader) blockLoader(obj string, size, b int64) loader {
	return func(ctx context.Context) (any, int64, error) {
		off := b * r.cfg.BlockSize
		n := min(r.cfg.BlockSize, size-off)
		buf := make([]byte, n)
		r.gets.Add(1)
		rc, err := r.cfg.Store.Get(ctx, obj, off, n)
		if err == nil {
			_, err = io.ReadFull(rc, buf)
			rc.Close()
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: object %s is shorter than its catalogue size %d", ErrCorrupt, obj, size)
			}
		}
		if err != nil {
			r.getErrors.Add(1)
			return nil, 0, fmt.Errorf("read %s at %d: %w", obj, off, err)
		}
		r.fetched.Add(n)
		return buf, n, nil
	}
}

// block returns block b of seg's .log object.
func (r *Reader) block(ctx context.Context, seg *metadata.RemoteSegment, b int64) ([]byte, error) {
	v, err := r.get(ctx, cacheKey{seg.LogKey, b}, r.blockLoader(seg.LogKey, seg.Size, b))
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// appendRange appends bytes [pos, pos+n) of seg's .log object to dst. It
// starts the GETs of every missing block at once, then copies in order.
func (r *Reader) appendRange(ctx context.Context, dst []byte, seg *metadata.RemoteSegment, pos, n int64) ([]byte, error) {
	if pos < 0 || n < 0 || pos+n > seg.Size {
		return dst, fmt.Errorf("%w: range %d+%d outside object %s of %d bytes", ErrCorrupt, pos, n, seg.LogKey, seg.Size)
	}
	if n == 0 {
		return dst, nil
	}
	bs := r.cfg.BlockSize
	first, last := pos/bs, (pos+n-1)/bs
	vals := make([]any, last-first+1)
	flights := make([]*flight, last-first+1)
	for b := first; b <= last; b++ {
		v, f, err := r.lookup(cacheKey{seg.LogKey, b}, r.blockLoader(seg.LogKey, seg.Size, b), false)
		if err != nil {
			return dst, err
		}
		vals[b-first], flights[b-first] = v, f
	}
	start := len(dst)
	for b := first; b <= last; b++ {
		v := vals[b-first]
		if f := flights[b-first]; f != nil {
			var err error
			if v, err = wait(ctx, f); err != nil {
				return dst[:start], err
			}
		}
		blk := v.([]byte)
		lo := max(pos-b*bs, 0)
		hi := min(pos+n-b*bs, int64(len(blk)))
		dst = append(dst, blk[lo:hi]...)
	}
	return dst, nil
}

// header reads the batch header at pos of seg's .log object.
func (r *Reader) header(ctx context.Context, seg *metadata.RemoteSegment, pos int64) (batchHeader, error) {
	if seg.Size-pos < batchHeaderSize {
		return batchHeader{}, fmt.Errorf("%w: object %s ends inside a batch header at %d", ErrCorrupt, seg.LogKey, pos)
	}
	var hb [batchHeaderSize]byte
	bs := r.cfg.BlockSize
	if b := pos / bs; (pos+batchHeaderSize-1)/bs == b {
		blk, err := r.block(ctx, seg, b)
		if err != nil {
			return batchHeader{}, err
		}
		copy(hb[:], blk[pos-b*bs:])
	} else if _, err := r.appendRange(ctx, hb[:0], seg, pos, batchHeaderSize); err != nil {
		return batchHeader{}, err
	}
	h, err := parseBatchHeader(hb[:])
	if err != nil {
		return h, fmt.Errorf("object %s at %d: %w", seg.LogKey, pos, err)
	}
	if pos+h.length > seg.Size {
		return h, fmt.Errorf("%w: object %s: batch at %d runs past the end", ErrCorrupt, seg.LogKey, pos)
	}
	return h, nil
}

// indexLoader fetches and parses a whole index object.
func (r *Reader) indexLoader(key string, decode func([]byte) (any, int64, error)) loader {
	return func(ctx context.Context) (any, int64, error) {
		r.gets.Add(1)
		rc, err := r.cfg.Store.Get(ctx, key, 0, -1)
		var b []byte
		if err == nil {
			b, err = io.ReadAll(io.LimitReader(rc, maxIndexObject+1))
			rc.Close()
		}
		if err != nil {
			r.getErrors.Add(1)
			return nil, 0, fmt.Errorf("read %s: %w", key, err)
		}
		r.fetched.Add(int64(len(b)))
		if len(b) > maxIndexObject {
			return nil, 0, fmt.Errorf("%w: index object %s is larger than %d bytes", ErrCorrupt, key, maxIndexObject)
		}
		v, size, err := decode(b)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", key, err)
		}
		return v, size, nil
	}
}

// offsetIndex returns seg's parsed offset index.
func (r *Reader) offsetIndex(ctx context.Context, seg *metadata.RemoteSegment) ([]indexEntry, error) {
	v, err := r.get(ctx, cacheKey{seg.IndexKey, blockOffsetIndex}, r.indexLoader(seg.IndexKey, func(b []byte) (any, int64, error) {
		e, err := decodeOffsetIndex(b)
		return e, int64(len(e))*indexEntrySize + 64, err
	}))
	if err != nil {
		return nil, err
	}
	return v.([]indexEntry), nil
}

// timeIndex returns seg's parsed time index.
func (r *Reader) timeIndex(ctx context.Context, seg *metadata.RemoteSegment) ([]timeEntry, error) {
	v, err := r.get(ctx, cacheKey{seg.TimeIndexKey, blockTimeIndex}, r.indexLoader(seg.TimeIndexKey, func(b []byte) (any, int64, error) {
		e, err := decodeTimeIndex(b)
		return e, int64(len(e))*16 + 64, err
	}))
	if err != nil {
		return nil, err
	}
	return v.([]timeEntry), nil
}
