package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// strataBin is the strata binary under test, set by TestMain.
var strataBin string

func TestMain(m *testing.M) {
	code, err := runTests(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func runTests(m *testing.M) (int, error) {
	strataBin = os.Getenv("STRATA_BIN")
	if strataBin == "" {
		dir, err := os.MkdirTemp("", "strata-bin-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		strataBin = filepath.Join(dir, "strata")
		build := exec.Command("go", "build", "-o", strataBin, "../cmd/strata")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return 0, fmt.Errorf("build strata: %w", err)
		}
	}
	return m.Run(), nil
}

// agentProc is a `strata agent` process started by a test.
type agentProc struct {
	t       testing.TB
	dataDir string
	args    []string
	addr    string // Kafka listener host:port

	mu       sync.Mutex
	httpAddr string // guarded by mu; the HTTP listener of the current run
	cmd      *exec.Cmd
	logs     bytes.Buffer // guarded by mu
	exited   chan struct{}
}

// startAgent starts an agent on a random loopback port with its own data
// dir (kept across restarts) and waits until it serves. extra flags are
// appended. The process is killed when the test ends.
func startAgent(t testing.TB, extra ...string) *agentProc {
	t.Helper()
	p := &agentProc{t: t, dataDir: t.TempDir(), args: extra}
	p.start("127.0.0.1:0")
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *agentProc) start(listen string) {
	p.t.Helper()
	args := append([]string{"agent", "--listen", listen, "--http-addr", "127.0.0.1:0", "--data-dir", p.dataDir, "--log-format", "json", "--log-level", "info"}, p.args...)
	cmd := exec.Command(strataBin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start agent: %v", err)
	}
	ready := make(chan string, 1)
	exited := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	go p.readLogs(stderr, ready)
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case addr := <-ready:
		p.addr = addr
	case <-exited:
		p.t.Fatalf("agent exited before it was ready:\n%s", p.logText())
	case <-time.After(30 * time.Second):
		p.t.Fatalf("agent not ready after 30s:\n%s", p.logText())
	}
}

// readLogs keeps the agent's log and reports the Kafka address from the
// "agent ready" line.
func (p *agentProc) readLogs(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		p.mu.Lock()
		p.logs.Write(line)
		p.logs.WriteByte('\n')
		p.mu.Unlock()
		var rec struct {
			Msg      string `json:"msg"`
			Addr     string `json:"kafka_addr"`
			HTTPAddr string `json:"http_addr"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "agent ready" {
			p.mu.Lock()
			p.httpAddr = rec.HTTPAddr
			p.mu.Unlock()
			select {
			case ready <- rec.Addr:
			default:
			}
		}
	}
}

func (p *agentProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// kill sends SIGKILL and waits for the process to go.
func (p *agentProc) kill() {
	p.signal(syscall.SIGKILL)
}

// stop sends SIGTERM (clean shutdown) and waits.
func (p *agentProc) stop() {
	p.signal(syscall.SIGTERM)
}

func (p *agentProc) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		p.t.Errorf("agent did not exit within 30s of %v:\n%s", sig, p.logText())
	}
}

// restart starts the agent again on the same address and data dir.
func (p *agentProc) restart() {
	p.t.Helper()
	p.start(p.addr)
}

// checkFor polls cond until it returns nil or the timeout passes.
func checkFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for delay := time.Millisecond; ; delay = min(delay*2, 100*time.Millisecond) {
		if err = cond(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(delay)
	}
}

// testCtx is a context that ends with the test or after d.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
