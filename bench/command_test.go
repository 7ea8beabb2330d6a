package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := Command()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestCommandLoopbackJSON(t *testing.T) {
	out, err := execute(t, "--scenarios", "loopback", "--loopback-duration", "200ms", "--json",
		"--bootstrap-server", "") // loopback needs no broker
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, out)
	}
	if rep.Loopback == nil || rep.Loopback.MBPerSec <= 0 || rep.Produce != nil || rep.Header.Units != Units {
		t.Fatalf("report %+v", rep)
	}
}

func TestCommandAgainstKfake(t *testing.T) {
	c, _ := newCluster(t)
	out, err := execute(t, "--bootstrap-server", strings.Join(c.ListenAddrs(), ","),
		"--scenarios", "produce,consume,latency,e2e", "--records", "100", "--rate", "2000",
		"--partitions", "2", "--record-size", "100", "--compression", "lz4")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var names []string
	for _, l := range lines {
		names = append(names, strings.Fields(l)[0])
	}
	if got := strings.Join(names, " "); got != "bench produce consume latency e2e" {
		t.Fatalf("lines %q:\n%s", got, out)
	}
	for _, want := range []string{"records=100", "comp=lz4", "payload=text", "parts=2", "size=100"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("header lacks %q: %s", want, lines[0])
		}
	}
}

func TestCommandRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--duration", "1s", "--records", "5"},
		{"--scenarios", "produce,warp"},
		{"--acks", "2"},
		{"--record-size", "1"},
		{"--scenarios", "failover"},
		{"--scenarios", "failover", "--broker-pids", "1=x"},
		{"--scenarios", "failover", "--broker-pids", "1=10,2=10"},
		{"--broker-pids", "1"},
		{"--scenarios", "failover", "--broker-pids", "1=10", "--failover-warmup", "0s"},
		{"--wait-brokers", "-1"},
		{"--scenarios", "catchup"},
		{"--wait-offloaded"},
		{"--scenarios", "catchup", "--topic", "t", "--offloaded-within", "-1"},
	} {
		if _, err := execute(t, args...); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%v: %v, want ErrInvalidConfig", args, err)
		}
	}
	if _, err := execute(t, "extra-arg"); err == nil {
		t.Error("positional argument accepted")
	}
}

func TestCommandBrokerPIDs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	pids := startAgents(t, 1, 2)
	out, err := execute(t, "--scenarios", "loopback", "--loopback-duration", "100ms", "--json", "--bootstrap-server", "",
		"--broker-pids", fmt.Sprintf("2=%d, 1=%d", pids[2], pids[1]))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, out)
	}
	if len(rep.RSS) != 2 {
		t.Fatalf("memory readings %+v, want one per agent", rep.RSS)
	}
	for i, m := range rep.RSS {
		node := int32(i + 1) // in node order
		if m.NodeID == nil || *m.NodeID != node || m.PID != pids[node] || m.After != "loopback" || m.VmHWMBytes == 0 {
			t.Errorf("reading %d: %+v", i, m)
		}
	}
	if len(rep.Header.BrokerPIDs) != 2 || rep.Header.BrokerPIDs[1] != pids[1] {
		t.Errorf("header broker pids %v", rep.Header.BrokerPIDs)
	}
}
