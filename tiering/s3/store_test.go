package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strata-io/strata/tiering"
	"github.com/strata-io/strata/tiering/s3test"
	"github.com/strata-io/strata/tiering/storetest"
)

// configFor returns a config for srv with the smallest part size S3
// allows, so tests cover multipart uploads with objects of a few MiB.
func configFor(srv *s3test.Server) Config {
	cfg := NewConfig()
	cfg.Endpoint = srv.Endpoint
	cfg.UseTLS = false
	cfg.PathStyle = true
	cfg.Bucket = srv.Bucket
	cfg.Region = srv.Region
	cfg.AccessKey = srv.AccessKey
	cfg.SecretKey = srv.SecretKey
	cfg.PartSize = MinPartSize
	cfg.CreateBucket = srv.External
	return cfg
}

var prefixSeq atomic.Int64

// uniquePrefix returns a key prefix no other test of this run uses.
func uniquePrefix() string {
	return fmt.Sprintf("t%x-%d", time.Now().UnixNano(), prefixSeq.Add(1))
}

func openStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func runConformance(t *testing.T, srv *s3test.Server) {
	storetest.Run(t, func(t *testing.T) tiering.ObjectStore {
		cfg := configFor(srv)
		cfg.Prefix = uniquePrefix()
		s := openStore(t, cfg)
		if srv.External {
			t.Cleanup(func() { deleteAll(t, s) })
		}
		return s
	}, storetest.Options{LargeObjectSize: 2*MinPartSize + 123})
}

// deleteAll removes what a test left in a shared bucket.
func deleteAll(t testing.TB, s *Store) {
	ctx := context.Background()
	var keys []string
	if err := s.List(ctx, "", func(oi tiering.ObjectInfo) error {
		keys = append(keys, oi.Key)
		return nil
	}); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	for _, k := range keys {
		if err := s.Delete(ctx, k); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

func TestConformanceVersity(t *testing.T) {
	runConformance(t, s3test.Start(t))
}

func TestConformanceMinIO(t *testing.T) {
	runConformance(t, s3test.MinIO(t))
}

func TestMissingBucket(t *testing.T) {
	srv := s3test.Start(t)
	cfg := configFor(srv)
	cfg.Bucket = "no-such-bucket"
	_, err := New(t.Context(), cfg)
	if !errors.Is(err, ErrBucketNotFound) {
		t.Fatalf("New with a missing bucket = %v, want ErrBucketNotFound", err)
	}
	for _, want := range []string{`"no-such-bucket"`, "http://" + srv.Endpoint, "--s3-create-bucket"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	cfg.CreateBucket = true
	s := openStore(t, cfg)
	if err := s.Put(t.Context(), "k", strings.NewReader("v"), 1); err != nil {
		t.Fatalf("Put into the created bucket: %v", err)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir, "no-such-bucket", "k")); err != nil {
		t.Errorf("object not in the created bucket: %v", err)
	}
	// Creating a bucket that exists is fine.
	openStore(t, cfg)
}

func TestBadCredentials(t *testing.T) {
	srv := s3test.Start(t)
	cfg := configFor(srv)
	cfg.SecretKey = "wrong"
	cfg.MaxRetries = 0
	_, err := New(t.Context(), cfg)
	if !errors.Is(err, ErrAccessDenied) || errors.Is(err, tiering.ErrUnavailable) {
		t.Fatalf("New with a wrong secret = %v, want ErrAccessDenied", err)
	}
}

// TestOutage takes the server away: every call fails with ErrUnavailable,
// promptly, and works again, with the data intact, when the server is
// back.
func TestOutage(t *testing.T) {
	srv := s3test.Start(t)
	cfg := configFor(srv)
	cfg.MaxRetries = 1
	s := openStore(t, cfg)
	ctx := t.Context()
	if err := s.Put(ctx, "seg/0.log", strings.NewReader("records"), 7); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	start := time.Now()
	checkUnavailable := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, tiering.ErrUnavailable) {
			t.Errorf("%s while the server is down = %v, want ErrUnavailable", what, err)
		}
	}
	checkUnavailable("Put", s.Put(ctx, "seg/1.log", strings.NewReader("more"), 4))
	_, err := s.Get(ctx, "seg/0.log", 0, -1)
	checkUnavailable("Get", err)
	_, err = s.Stat(ctx, "seg/0.log")
	checkUnavailable("Stat", err)
	checkUnavailable("List", s.List(ctx, "", func(tiering.ObjectInfo) error { return nil }))
	checkUnavailable("Delete", s.Delete(ctx, "seg/0.log"))
	_, err = New(ctx, cfg)
	checkUnavailable("New", err)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("six calls to a stopped server took %v", d)
	}
	if st := s.Stats(); st.Errors[tiering.OpPut] == 0 || st.Errors[tiering.OpGet] == 0 {
		t.Errorf("Stats after an outage count no errors: %+v", st)
	}

	srv.Start()
	if err := s.Put(ctx, "seg/1.log", strings.NewReader("more"), 4); err != nil {
		t.Fatalf("Put after the server is back: %v", err)
	}
	var keys []string
	if err := s.List(ctx, "seg/", func(oi tiering.ObjectInfo) error {
		keys = append(keys, oi.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"seg/0.log", "seg/1.log"}) {
		t.Errorf("objects after the outage = %q", keys)
	}
}

// TestOutageDuringGet stops the server while a reader streams an object:
// the read fails with ErrUnavailable instead of returning short data.
func TestOutageDuringGet(t *testing.T) {
	srv := s3test.Start(t)
	s := openStore(t, configFor(srv))
	ctx := t.Context()
	data := make([]byte, 32<<20)
	if err := s.Put(ctx, "big", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "big", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if n, err := io.Copy(io.Discard, rc); !errors.Is(err, tiering.ErrUnavailable) {
		t.Errorf("reading after the server stopped: %d more bytes, err = %v; want ErrUnavailable", n, err)
	}
}

// TestRequestTimeout points the store at a server that accepts
// connections and never answers: calls fail with ErrUnavailable after
// about RequestTimeout instead of hanging.
func TestRequestTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	t.Cleanup(func() { l.Close(); conns.Wait() })
	conns.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Go(func() { _, _ = io.Copy(io.Discard, c); c.Close() })
		}
	})
	cfg := NewConfig()
	cfg.Endpoint = "http://" + l.Addr().String()
	cfg.Bucket = "silent"
	cfg.Region = "us-east-1"
	cfg.AccessKey, cfg.SecretKey = "a", "b"
	cfg.RequestTimeout = 200 * time.Millisecond
	cfg.MaxRetries = 0
	s, err := newStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.transport.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = s.Stat(ctx, "k")
	if !errors.Is(err, tiering.ErrUnavailable) {
		t.Errorf("Stat against a silent server = %v, want ErrUnavailable", err)
	}
	if ctx.Err() != nil {
		t.Error("Stat waited for the caller's deadline, not the request timeout")
	}
	// The caller's context still wins over a longer request timeout.
	cfg.RequestTimeout = time.Minute
	s2, err := newStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.transport.CloseIdleConnections()
	short, cancel2 := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel2()
	if _, err := s2.Stat(short, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stat past the caller's deadline = %v, want DeadlineExceeded", err)
	}
}

func TestPrefix(t *testing.T) {
	srv := s3test.Start(t)
	ctx := t.Context()
	stores := map[string]*Store{}
	for _, p := range []string{"cluster-a", "cluster-b/"} {
		cfg := configFor(srv)
		cfg.Prefix = p
		stores[p] = openStore(t, cfg)
		if err := stores[p].Put(ctx, "topic/0/1.log", strings.NewReader(p), int64(len(p))); err != nil {
			t.Fatal(err)
		}
	}
	for p, s := range stores {
		rc, err := s.Get(ctx, "topic/0/1.log", 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != p {
			t.Errorf("store with prefix %q read %q", p, b)
		}
		var keys []string
		_ = s.List(ctx, "", func(oi tiering.ObjectInfo) error { keys = append(keys, oi.Key); return nil })
		if !slices.Equal(keys, []string{"topic/0/1.log"}) {
			t.Errorf("store with prefix %q lists %q", p, keys)
		}
	}
	if _, err := os.Stat(filepath.Join(srv.Dir, srv.Bucket, "cluster-a", "topic", "0", "1.log")); err != nil {
		t.Errorf("object not under its prefix: %v", err)
	}
}

func TestStats(t *testing.T) {
	srv := s3test.Start(t)
	s := openStore(t, configFor(srv))
	ctx := t.Context()
	base := s.Stats() // New's bucket check
	small := bytes.Repeat([]byte("x"), 1000)
	if err := s.Put(ctx, "small", bytes.NewReader(small), 1000); err != nil {
		t.Fatal(err)
	}
	large := make([]byte, 2*MinPartSize+1) // three parts
	if err := s.Put(ctx, "large", bytes.NewReader(large), int64(len(large))); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "small", 100, 300)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := s.Stat(ctx, "small"); err != nil {
		t.Fatal(err)
	}
	if err := s.List(ctx, "", func(tiering.ObjectInfo) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "small"); err != nil {
		t.Fatal(err)
	}
	got := s.Stats()
	for op := range tiering.NumOps {
		got.Requests[op] -= base.Requests[op]
	}
	want := tiering.Stats{
		// One PUT; then POST (start), three part PUTs, POST (complete).
		Requests:     [tiering.NumOps]int64{tiering.OpPut: 6, tiering.OpGet: 1, tiering.OpHead: 1, tiering.OpList: 1, tiering.OpDelete: 1},
		BytesWritten: int64(len(small) + len(large)),
		BytesRead:    300,
	}
	if got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestEnvironmentCredentials(t *testing.T) {
	srv := s3test.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_REGION", srv.Region)
	cfg := configFor(srv)
	cfg.AccessKey, cfg.SecretKey, cfg.Region = "", "", ""
	s := openStore(t, cfg)
	if s.region != srv.Region {
		t.Errorf("region = %q, want $AWS_REGION %q", s.region, srv.Region)
	}
	if err := s.Put(t.Context(), "k", strings.NewReader("v"), 1); err != nil {
		t.Fatalf("Put with credentials from the environment: %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if _, err := New(t.Context(), cfg); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("New with a wrong secret in the environment = %v, want ErrAccessDenied", err)
	}
}

// TestTrailingChecksum checks that with TrailingChecksum the server
// receives, and stores, a CRC32C of every upload, single-part or
// multipart, and that uploads work with it off.
func TestTrailingChecksum(t *testing.T) {
	srv := s3test.Start(t)
	ctx := t.Context()
	for _, trailing := range []bool{true, false} {
		cfg := configFor(srv)
		cfg.TrailingChecksum = trailing
		cfg.Prefix = uniquePrefix()
		s := openStore(t, cfg)
		for _, size := range []int64{1000, 2*MinPartSize + 1} {
			if err := s.Put(ctx, "obj", bytes.NewReader(make([]byte, size)), size); err != nil {
				t.Fatalf("Put of %d bytes with TrailingChecksum=%v: %v", size, trailing, err)
			}
			oi, err := s.client.StatObject(ctx, s.bucket, s.prefix+"obj", minio.StatObjectOptions{Checksum: true})
			if err != nil {
				t.Fatal(err)
			}
			if trailing && oi.ChecksumCRC32C == "" {
				t.Errorf("Put of %d bytes stored no CRC32C", size)
			}
		}
	}
}

// corruptingTransport flips one byte of every PUT body on its way out,
// after the client computed its checksums.
type corruptingTransport struct{ next http.RoundTripper }

func (c corruptingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && req.Body != nil {
		req.Body = &flipReader{ReadCloser: req.Body, at: 500}
	}
	return c.next.RoundTrip(req)
}

type flipReader struct {
	io.ReadCloser
	at, n int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if f.at >= f.n && f.at < f.n+int64(n) {
		p[f.at-f.n] ^= 0xff
	}
	f.n += int64(n)
	return n, err
}

// TestCorruptionDetected sends objects whose bytes change on the way: the
// server must refuse them, with either kind of payload protection.
func TestCorruptionDetected(t *testing.T) {
	srv := s3test.Start(t)
	ctx := t.Context()
	for _, trailing := range []bool{true, false} {
		cfg := configFor(srv)
		cfg.TrailingChecksum = trailing
		cfg.MaxRetries = 0
		s := openStore(t, cfg)
		s.counting.next = corruptingTransport{next: s.counting.next}
		for _, size := range []int64{1000, 2*MinPartSize + 1} {
			key := fmt.Sprintf("corrupt-%v-%d", trailing, size)
			err := s.Put(ctx, key, bytes.NewReader(make([]byte, size)), size)
			if err == nil {
				t.Errorf("Put of %d bytes corrupted in flight (TrailingChecksum=%v) succeeded", size, trailing)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, tiering.ErrNotFound) {
				t.Errorf("Stat after a refused Put = %v, want ErrNotFound", err)
			}
		}
	}
}
