package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// etcdProc is a `strata etcd` process: the metadata service shared by the
// agents of a test cluster, so that killing agents never takes metadata
// down with them.
type etcdProc struct {
	url string
	cmd *exec.Cmd
}

func startEtcd(t testing.TB) *etcdProc {
	t.Helper()
	cmd := exec.Command(strataBin, "etcd", "--data-dir", t.TempDir(), "--listen-client", "127.0.0.1:0",
		"--listen-peer", "127.0.0.1:0", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct {
				Msg  string `json:"msg"`
				URLs string `json:"client_urls"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "etcd ready" {
				ready <- strings.Split(rec.URLs, ",")[0]
			}
		}
	}()
	select {
	case u := <-ready:
		return &etcdProc{url: u, cmd: cmd}
	case <-time.After(30 * time.Second):
		t.Fatal("strata etcd not ready after 30s")
	}
	return nil
}

// testCluster is several agents sharing one etcd.
type testCluster struct {
	t      testing.TB
	etcd   *etcdProc
	agents map[int32]*agentProc
	// etcdProxies, when the cluster was started with them, sit between
	// each agent and etcd so a test can cut an agent off.
	etcdProxies map[int32]*tcpProxy
}

// clusterFlags make failover quick in tests.
var clusterFlags = []string{"--session-timeout", "2s", "--replica-lag-time-max", "3s", "--leader-rebalance-interval", "1s",
	"--group-initial-rebalance-delay", "0s"}

// startCluster starts n agents (ids 1..n) on one etcd and waits until each
// sees all of them. With proxied, each agent reaches etcd through its own
// proxy.
func startCluster(t testing.TB, n int, proxied bool, extra ...string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, etcd: startEtcd(t), agents: map[int32]*agentProc{}, etcdProxies: map[int32]*tcpProxy{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := int32(1); i <= int32(n); i++ {
		endpoint := c.etcd.url
		if proxied {
			px := startProxy(t, strings.TrimPrefix(c.etcd.url, "http://"))
			c.etcdProxies[i] = px
			endpoint = "http://" + px.addr()
		}
		args := append([]string{"--node-id", strconv.Itoa(int(i)), "--etcd-endpoints", endpoint}, clusterFlags...)
		args = append(args, extra...)
		wg.Go(func() {
			p := startAgent(t, args...)
			mu.Lock()
			c.agents[i] = p
			mu.Unlock()
		})
	}
	wg.Wait()
	c.waitBrokers(n)
	return c
}

// bootstrap lists every agent's address.
func (c *testCluster) bootstrap() []string {
	var out []string
	for _, a := range c.agents {
		out = append(out, a.addr)
	}
	return out
}

// waitBrokers waits until every agent's Metadata lists n live agents. It
// asks each agent directly: a client's cached view would hide a stale one.
func (c *testCluster) waitBrokers(n int) {
	c.t.Helper()
	checkFor(c.t, 30*time.Second, func() error {
		for id, a := range c.agents {
			req := kmsg.NewPtrMetadataRequest()
			req.SetVersion(9)
			resp, err := tryRawRequest(a.addr, req)
			if err != nil {
				return fmt.Errorf("agent %d: %w", id, err)
			}
			if got := len(resp.(*kmsg.MetadataResponse).Brokers); got != n {
				return fmt.Errorf("agent %d lists %d live agents, want %d", id, got, n)
			}
		}
		return nil
	})
}

// tcpProxy forwards connections to a target until cut.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool                  // guarded by mu
	conns map[net.Conn]struct{} // guarded by mu
}

func startProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			in.Close()
			continue
		}
		out, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			p.mu.Unlock()
			in.Close()
			continue
		}
		p.conns[in], p.conns[out] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// setCut cuts every connection and refuses new ones, or heals.
func (p *tcpProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
	}
}
