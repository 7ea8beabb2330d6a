package s3test

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func healthy(s *Server) bool {
	resp, err := http.Get("http://" + s.Endpoint + "/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestStartStop(t *testing.T) {
	s := Start(t)
	if !s.Running() || !healthy(s) {
		t.Fatal("started server does not answer")
	}
	if host, _, err := net.SplitHostPort(s.Endpoint); err != nil || host != "127.0.0.1" {
		t.Errorf("Endpoint = %q, want a loopback address", s.Endpoint)
	}
	if fi, err := os.Stat(filepath.Join(s.Dir, s.Bucket)); err != nil || !fi.IsDir() {
		t.Errorf("bucket directory: %v", err)
	}
	endpoint := s.Endpoint
	s.Stop()
	s.Stop() // idempotent
	if s.Running() || healthy(s) {
		t.Fatal("stopped server still answers")
	}
	s.Start()
	s.Start() // idempotent
	if s.Endpoint != endpoint || !healthy(s) {
		t.Fatalf("restarted server: endpoint %q (was %q), healthy %v", s.Endpoint, endpoint, healthy(s))
	}
	if err := s.CreateBucket("second"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket("second"); err == nil {
		t.Error("creating an existing bucket succeeded")
	}
}

func TestFindBinary(t *testing.T) {
	bin, _ := findBinary()
	if bin == "" {
		t.Skipf("versitygw not installed: %s", Install)
	}
	t.Setenv("STRATA_VERSITYGW", bin)
	if got, _ := findBinary(); got != bin {
		t.Errorf("findBinary with $STRATA_VERSITYGW = %q, want %q", got, bin)
	}
	t.Setenv("STRATA_VERSITYGW", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("PATH", "")
	t.Chdir(t.TempDir()) // outside the module
	got, tried := findBinary()
	if got != "" || len(tried) != 2 {
		t.Errorf("findBinary with nothing to find = %q, tried %q", got, tried)
	}
}

func TestMinIOSkipsWithoutEndpoint(t *testing.T) {
	if os.Getenv("STRATA_TEST_MINIO") != "" {
		t.Skip("STRATA_TEST_MINIO is set")
	}
	var skipped bool
	t.Run("minio", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		MinIO(t)
	})
	if !skipped {
		t.Error("MinIO did not skip without $STRATA_TEST_MINIO")
	}
}
