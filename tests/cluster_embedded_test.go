package tests

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// freePorts reserves n distinct free loopback ports (released before use;
// fine on a test machine).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// TestEmbeddedEtcdCluster runs three agents that host a three-member etcd
// cluster themselves (no separate metadata service), replicates a topic
// across them, and keeps working after one agent — and its etcd member —
// is killed.
func TestEmbeddedEtcdCluster(t *testing.T) {
	t.Parallel()
	ports := freePorts(t, 6)
	var members []string
	for i := range 3 {
		members = append(members, fmt.Sprintf("m%d=http://127.0.0.1:%d", i+1, ports[2*i]))
	}
	initial := strings.Join(members, ",")
	c := &testCluster{t: t, agents: map[int32]*agentProc{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 3 {
		id := int32(i + 1)
		args := append([]string{"--node-id", strconv.Itoa(int(id)),
			"--etcd-name", fmt.Sprintf("m%d", id),
			"--etcd-listen-peer", fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			"--etcd-listen-client", fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			"--etcd-initial-cluster", initial}, clusterFlags...)
		// The members only become ready together (a quorum must start), so
		// start them concurrently.
		wg.Go(func() {
			p := startAgent(t, args...)
			mu.Lock()
			c.agents[id] = p
			mu.Unlock()
		})
	}
	wg.Wait()
	c.waitBrokers(3)
	topic := "embedded"
	createReplicated(t, c, topic, 2, "2")
	prod := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...))
	want := produceSync(t, prod, makeRecords(topic, 200, 7)...)

	// Kill agent 3 and its etcd member: two of three members keep a quorum.
	c.agents[3].kill()
	delete(c.agents, 3)
	c.waitBrokers(2)
	want = append(want, produceSync(t, prod, makeRecords(topic, 200, 8)...)...)
	cons := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consumeN(t, cons, len(want), 30*time.Second)
	checkSameMulti(t, want, sortRecords(got))
}

func sortRecords(rs []*kgo.Record) []*kgo.Record {
	out := append([]*kgo.Record(nil), rs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if cmpRecord(out[j], out[i]) < 0 {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
