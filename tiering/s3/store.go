package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strata-io/strata/tiering"
)

// Store is a tiering.ObjectStore on an S3 bucket. It is safe for
// concurrent use.
type Store struct {
	client    *minio.Client
	core      minio.Core
	transport *http.Transport
	counting  *countingTransport // wraps transport; tests may wrap more
	bucket    string
	prefix    string // Config.Prefix ending in '/', or ""
	endpoint  string // URL of the server, for messages
	region    string
	partSize  int64
	threads   int
	unsigned  bool // send payloads unsigned, with a CRC32C trailer

	stats tiering.Counters
}

var _ tiering.ObjectStore = (*Store)(nil)

// New returns a store on cfg.Bucket after checking that the bucket exists
// (creating it if cfg.CreateBucket is set). A missing bucket is an error
// wrapping ErrBucketNotFound that names the bucket and the endpoint; an
// unreachable server is an error wrapping tiering.ErrUnavailable, so a
// caller that must start during an outage can retry New.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.ensureBucket(ctx, cfg.CreateBucket); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func newStore(cfg Config) (*Store, error) {
	host, secure, err := cfg.endpoint()
	if err != nil {
		return nil, err
	}
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: cfg.RequestTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = cfg.RequestTimeout
	tr.TLSHandshakeTimeout = cfg.RequestTimeout
	tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, 4*cfg.Concurrency)
	scheme := "http://"
	if secure {
		scheme = "https://"
	}
	s := &Store{
		transport: tr,
		bucket:    cfg.Bucket,
		prefix:    cfg.keyPrefix(),
		endpoint:  scheme + host,
		region:    cfg.region(),
		partSize:  cfg.PartSize,
		threads:   cfg.Concurrency,
		unsigned:  cfg.TrailingChecksum,
	}
	s.counting = &countingTransport{next: tr, stats: &s.stats}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	s.client, err = minio.New(host, &minio.Options{
		Creds:        credentialsFor(cfg),
		Secure:       secure,
		Transport:    s.counting,
		Region:       s.region,
		BucketLookup: lookup,
		MaxRetries:   cfg.MaxRetries + 1, // minio-go counts attempts
		// With trailing headers minio-go adds a CRC32C checksum
		// trailer to every upload; Put then skips the SHA-256.
		TrailingHeaders: cfg.TrailingChecksum,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: endpoint %s: %w", s.endpoint, err)
	}
	s.core = minio.Core{Client: s.client}
	return s, nil
}

// ensureBucket checks that the bucket exists and creates it if allowed.
func (s *Store) ensureBucket(ctx context.Context, create bool) error {
	err := s.CheckBucket(ctx)
	if !create || !errors.Is(err, ErrBucketNotFound) {
		return err
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: s.region})
	if err != nil && minio.ToErrorResponse(err).Code != minio.BucketAlreadyOwnedByYou {
		return s.wrap(ctx, "create bucket", s.bucket, err)
	}
	return nil
}

// CheckBucket reports whether the bucket is reachable: nil if it exists,
// an error wrapping ErrBucketNotFound if it does not, and one wrapping
// tiering.ErrUnavailable if the server cannot be reached.
func (s *Store) CheckBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.wrap(ctx, "check bucket", s.bucket, err)
	}
	if !ok {
		return &bucketNotFoundError{bucket: s.bucket, endpoint: s.endpoint}
	}
	return nil
}

// Stats returns a snapshot of the store's HTTP request counters.
func (s *Store) Stats() tiering.Stats { return s.stats.Stats() }

// Close releases idle connections. The store remains usable; it opens
// connections again as needed.
func (s *Store) Close() { s.transport.CloseIdleConnections() }

// Put implements tiering.ObjectStore. An object up to the part size goes
// in one PUT; a larger one in a multipart upload that S3 assembles into
// the object only when it completes, and that is aborted if Put fails.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := tiering.ValidateKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("s3: put %q: negative size %d", key, size)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: put %q: %w", key, err)
	}
	body, err := limit(r, size)
	if err != nil {
		return fmt.Errorf("s3: put %q: %w", key, err)
	}
	opts := minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    uint64(s.partSize),
		NumThreads:  uint(s.threads),
	}
	if s.unsigned {
		opts.DisableContentSha256 = true
		// Named explicitly: minio-go v7.4.1 leaves the automatic
		// checksum out of single-part uploads.
		opts.Checksum = minio.ChecksumCRC32C
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.prefix+key, body, size, opts)
	if err != nil {
		return s.wrap(ctx, "put", key, err)
	}
	return nil
}

// errShortReader is the error of a Put whose reader ends before size
// bytes. It is the caller's mistake, so it is never ErrUnavailable. (Its
// text must not contain "EOF": minio-go replaces such errors with one of
// its own that reads as a closed connection.)
var errShortReader = errors.New("reader ended before the object's size")

// limit returns a reader of exactly the first size bytes of r from its
// current position. It keeps io.ReaderAt where r has it (and io.Seeker,
// to find the position and the length), so minio-go can upload parts in
// parallel and resend them; any other reader becomes a stream that cannot
// run past size and fails with errShortReader if it ends early.
func limit(r io.Reader, size int64) (io.Reader, error) {
	ra, okRA := r.(io.ReaderAt)
	sk, okSK := r.(io.Seeker)
	if okRA && okSK {
		pos, err := sk.Seek(0, io.SeekCurrent)
		var end int64
		if err == nil {
			end, err = sk.Seek(0, io.SeekEnd)
		}
		if err == nil {
			_, err = sk.Seek(pos, io.SeekStart)
		}
		if err == nil {
			if end-pos < size {
				return nil, fmt.Errorf("%w: %d bytes left of %d", errShortReader, end-pos, size)
			}
			return io.NewSectionReader(ra, pos, size), nil
		}
	}
	return &exactReader{r: r, left: size}, nil
}

// exactReader reads r up to left bytes and fails if r ends before.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("%w: %d bytes short", errShortReader, e.left)
	}
	return n, err
}

// Get implements tiering.ObjectStore with one ranged GET. S3 answers a
// range that starts at or past the end with 416; Get then asks for the
// object's size to tell "at the end" (an empty reader) from "past it".
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := tiering.ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3: get %q: %w", key, err)
	}
	if offset < 0 {
		return nil, fmt.Errorf("s3: get %q: negative offset %d: %w", key, offset, tiering.ErrInvalidRange)
	}
	if length == 0 {
		return s.emptyAt(ctx, key, offset)
	}
	if length > 0 && offset > math.MaxInt64-length {
		length = -1
	}
	var opts minio.GetObjectOptions
	switch {
	case length > 0:
		err := opts.SetRange(offset, offset+length-1)
		if err != nil {
			return nil, fmt.Errorf("s3: get %q: %w", key, err)
		}
	case offset > 0:
		if err := opts.SetRange(offset, 0); err != nil {
			return nil, fmt.Errorf("s3: get %q: %w", key, err)
		}
	}
	body, _, _, err := s.core.GetObject(ctx, s.bucket, s.prefix+key, opts)
	if err != nil {
		err = s.wrap(ctx, "get", key, err)
		if errors.Is(err, tiering.ErrInvalidRange) {
			return s.emptyAt(ctx, key, offset)
		}
		return nil, err
	}
	return &reader{ctx: ctx, key: key, body: body}, nil
}

// emptyAt returns an empty reader if key exists and offset is at most its
// size, and ErrInvalidRange if offset is past it.
func (s *Store) emptyAt(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	oi, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset > oi.Size {
		return nil, fmt.Errorf("s3: get %q: offset %d of a %d-byte object: %w", key, offset, oi.Size, tiering.ErrInvalidRange)
	}
	return io.NopCloser(bytes.NewReader(nil)), nil
}

// reader is Get's io.ReadCloser: the response body, with its errors made
// to match the context's error or tiering.ErrUnavailable.
type reader struct {
	ctx  context.Context
	key  string
	body io.ReadCloser
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if err != nil && err != io.EOF {
		if cerr := r.ctx.Err(); cerr != nil {
			return n, fmt.Errorf("s3: get %q: %w", r.key, cerr)
		}
		return n, fmt.Errorf("s3: get %q: %w: %w", r.key, tiering.ErrUnavailable, err)
	}
	return n, err
}

func (r *reader) Close() error { return r.body.Close() }

// Stat implements tiering.ObjectStore with a HEAD request.
func (s *Store) Stat(ctx context.Context, key string) (tiering.ObjectInfo, error) {
	if err := tiering.ValidateKey(key); err != nil {
		return tiering.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return tiering.ObjectInfo{}, fmt.Errorf("s3: stat %q: %w", key, err)
	}
	oi, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return tiering.ObjectInfo{}, s.wrap(ctx, "stat", key, err)
	}
	return tiering.ObjectInfo{Key: key, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}, nil
}

// List implements tiering.ObjectStore with ListObjectsV2, one request per
// page of up to 1000 keys; S3 returns keys in byte order. Objects whose
// keys are not valid keys (written by something else under the prefix)
// are skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(tiering.ObjectInfo) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: list %q: %w", prefix, err)
	}
	objects := s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{
		Prefix:    s.prefix + prefix,
		Recursive: true,
	})
	for oi := range objects {
		if oi.Err != nil {
			return s.wrap(ctx, "list", prefix, oi.Err)
		}
		key, ok := strings.CutPrefix(oi.Key, s.prefix)
		if !ok || tiering.ValidateKey(key) != nil {
			continue
		}
		if err := fn(tiering.ObjectInfo{Key: key, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: list %q: %w", prefix, err)
	}
	return nil
}

// Delete implements tiering.ObjectStore with a DELETE request; S3 answers
// it with success whether or not the key held an object.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := tiering.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: delete %q: %w", key, err)
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
	if err != nil {
		err = s.wrap(ctx, "delete", key, err)
		if errors.Is(err, tiering.ErrNotFound) {
			return nil
		}
		return err
	}
	return nil
}
