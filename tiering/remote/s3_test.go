package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/tiering"
	"github.com/strata-io/strata/tiering/s3"
	"github.com/strata-io/strata/tiering/s3test"
)

var s3Prefixes atomic.Int64

// newS3Store returns an S3 store on srv, under a key prefix of its own.
func newS3Store(t testing.TB, srv *s3test.Server) *s3.Store {
	t.Helper()
	cfg := s3.NewConfig()
	cfg.Endpoint, cfg.UseTLS, cfg.PathStyle = srv.Endpoint, false, true
	cfg.Bucket, cfg.Region = srv.Bucket, srv.Region
	cfg.AccessKey, cfg.SecretKey = srv.AccessKey, srv.SecretKey
	cfg.CreateBucket = srv.External
	cfg.MaxRetries = 0
	cfg.RequestTimeout = 5 * time.Second
	cfg.Prefix = fmt.Sprintf("remote-%d-%d", time.Now().UnixNano(), s3Prefixes.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestS3Outage runs the uploader against a real S3 server that goes away
// mid-run: uploads queue and retry, nothing counts as offloaded, and when
// the server is back everything uploads once and reads back byte for
// byte.
func TestS3Outage(t *testing.T) {
	srv := s3test.Start(t)
	store := newS3Store(t, srv)
	cat := newCatalogue(t)
	lg := newTestLog(t, t.TempDir(), newTP(), 64<<10)
	lg.fill(t, 500<<10)
	segs := lg.closed(5)
	u := startUploader(t, testUploaderConfig(t, store, cat))
	enqueueAll(t, u, segs[:2])
	drain(t, u)
	srv.Stop()
	enqueueAll(t, u, segs[2:])
	eventually(t, "failed uploads", func() bool { return u.Stats().Failures >= 2 })
	if up := u.UploadedUpTo(lg.tp, 0); up != segs[1].LastOffset+1 {
		t.Errorf("UploadedUpTo during the outage = %d, want %d", up, segs[1].LastOffset+1)
	}
	if st := u.Stats(); st.Pending != len(segs)-2 {
		t.Errorf("Stats during the outage = %+v", st)
	}
	srv.Start()
	drain(t, u)
	checkUploaded(t, store, cat, lg, segs, 5)

	remote, _ := u.RemoteSegments(testContext(t), lg.tp)
	end := segs[len(segs)-1].LastOffset + 1
	r := newTestReader(t, store, 32<<10, 1<<20)
	rng := rand.New(rand.NewPCG(7, 8))
	for range 50 {
		off := rng.Int64N(end)
		want, _ := lg.Read(off, 100<<10, end, true)
		got, err := r.Read(testContext(t), remote, off, 100<<10, end, true)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Read(%d) from S3 = %d bytes, %v; local log has %d", off, len(got), err, len(want))
		}
	}
	// Reads fail cleanly while the server is gone, and work when it is
	// back.
	srv.Stop()
	r2 := newTestReader(t, store, 32<<10, 1<<20)
	ctx, cancel := context.WithTimeout(testContext(t), 20*time.Second)
	defer cancel()
	if _, err := r2.Read(ctx, remote, 0, 1000, end, true); err == nil {
		t.Error("Read from a stopped server succeeded")
	} else if !errors.Is(err, tiering.ErrUnavailable) {
		t.Errorf("Read from a stopped server = %v, want ErrUnavailable", err)
	}
	srv.Start()
	if _, err := r2.Read(testContext(t), remote, 0, 1000, end, true); err != nil {
		t.Errorf("Read after the server is back: %v", err)
	}
}
