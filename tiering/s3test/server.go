package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials and region of the versitygw servers Start runs.
const (
	AccessKey = "strata-test-access"
	SecretKey = "strata-test-secret"
	Region    = "us-east-1"
	Bucket    = "strata-test"
)

// Install is the command that installs the versitygw binary Start runs.
const Install = "make test-deps (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 into bin/)"

// startTimeout bounds how long the server may take to answer.
const startTimeout = 15 * time.Second

// Server is a running (or stoppable) S3-compatible server. Its fields say
// how to reach it; connect with path-style addressing and no TLS. Methods
// are safe for concurrent use.
type Server struct {
	// Endpoint is "127.0.0.1:port" for a versitygw server, or as given
	// in $STRATA_TEST_MINIO.
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string
	// Dir is versitygw's posix root: each directory in it is a bucket,
	// each file below an object. Empty for an external server.
	Dir string
	// External is true for a server the test did not start (MinIO): Stop
	// and Start fail the test, and Bucket may not exist yet (create it
	// with the store's CreateBucket option).
	External bool

	t    testing.TB
	bin  string
	logs string

	mu     sync.Mutex
	cmd    *exec.Cmd     // guarded by mu; nil while stopped
	exited chan struct{} // guarded by mu; closed when cmd has exited
}

// Start starts a versitygw server with one empty bucket, Bucket, and
// stops it when the test ends. It skips the test if versitygw is not
// installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, tried := findBinary()
	if bin == "" {
		t.Skipf("versitygw not found (tried %s); install it with %s", strings.Join(tried, ", "), Install)
	}
	s := &Server{
		Bucket:    Bucket,
		AccessKey: AccessKey,
		SecretKey: SecretKey,
		Region:    Region,
		Dir:       filepath.Join(t.TempDir(), "gw"),
		t:         t,
		bin:       bin,
	}
	s.logs = filepath.Join(filepath.Dir(s.Dir), "versitygw.log")
	if err := os.MkdirAll(filepath.Join(s.Dir, s.Bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	var err error
	for range 3 { // another process may take the port we picked
		var port int
		if port, err = freePort(); err != nil {
			break
		}
		s.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err = s.start(); err == nil {
			return s
		}
	}
	t.Fatalf("start versitygw: %v", err)
	return nil
}

// MinIO returns the MinIO server given by $STRATA_TEST_MINIO (host:port
// or URL), with $STRATA_TEST_MINIO_ACCESS_KEY and _SECRET_KEY (default
// minioadmin), _BUCKET (default strata-test) and _REGION (default
// us-east-1). It skips the test when $STRATA_TEST_MINIO is not set.
func MinIO(t testing.TB) *Server {
	t.Helper()
	endpoint := os.Getenv("STRATA_TEST_MINIO")
	if endpoint == "" {
		t.Skip("STRATA_TEST_MINIO is not set: set it to a MinIO endpoint to run these tests against MinIO")
	}
	env := func(name, def string) string {
		if v := os.Getenv("STRATA_TEST_MINIO_" + name); v != "" {
			return v
		}
		return def
	}
	return &Server{
		Endpoint:  endpoint,
		Bucket:    env("BUCKET", Bucket),
		AccessKey: env("ACCESS_KEY", "minioadmin"),
		SecretKey: env("SECRET_KEY", "minioadmin"),
		Region:    env("REGION", Region),
		External:  true,
		t:         t,
	}
}

// CreateBucket adds an empty bucket to a versitygw server.
func (s *Server) CreateBucket(name string) error {
	if s.External {
		return errors.New("s3test: cannot create buckets on an external server")
	}
	return os.Mkdir(filepath.Join(s.Dir, name), 0o755)
}

// Stop kills the server (SIGKILL, as a crash or a network cut looks to a
// client) and waits for it to exit. Its data stays; Start brings it back
// on the same port. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.External {
		s.t.Fatal("s3test: cannot stop an external server")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Start restarts a stopped server on the same port and data, and waits
// until it answers. Starting a running server does nothing.
func (s *Server) Start() {
	s.t.Helper()
	if s.External {
		s.t.Fatal("s3test: cannot start an external server")
	}
	if err := s.start(); err != nil {
		s.t.Fatalf("restart versitygw: %v", err)
	}
}

// Running reports whether the server process is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logs, err := os.OpenFile(s.logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logs.Close() // the child has its own descriptor
	cmd := exec.Command(s.bin,
		"--port", s.Endpoint,
		"--access", s.AccessKey,
		"--secret", s.SecretKey,
		"--region", s.Region,
		"--health", "/health",
		"--quiet",
		"posix", s.Dir)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	if err := waitHealthy(s.Endpoint, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%w; log:\n%s", err, tail(s.logs))
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// waitHealthy polls the health endpoint until it answers 200, the process
// exits, or startTimeout passes.
func waitHealthy(endpoint string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+endpoint+"/health", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("versitygw exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("versitygw did not answer on %s within %v", endpoint, startTimeout)
		case <-tick.C:
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// findBinary returns the versitygw binary to run, or "" and where it
// looked.
func findBinary() (string, []string) {
	var tried []string
	if p := os.Getenv("STRATA_VERSITYGW"); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		tried = append(tried, "$STRATA_VERSITYGW="+p)
	}
	if root := moduleRoot(); root != "" {
		p := filepath.Join(root, "bin", "versitygw")
		if isExecutable(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", append(tried, "$PATH")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// moduleRoot returns the directory of the strata module's go.mod at or
// above the working directory (a test's package directory).
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/strata-io/strata\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// tail returns the end of the log file, for failure messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
