package bench

import (
	"bytes"
	"encoding/json"
	"errors"
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
	} {
		if _, err := execute(t, args...); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%v: %v, want ErrInvalidConfig", args, err)
		}
	}
	if _, err := execute(t, "extra-arg"); err == nil {
		t.Error("positional argument accepted")
	}
}
