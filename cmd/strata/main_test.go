package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
)

type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the strata command line in process.
func runCLI(t *testing.T, ctx context.Context, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return cliResult{code: code, stdout: out.String(), stderr: errb.String()}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"},
		{"topic", "--help"},
		{"topic", "create", "--help"},
		{"topic", "describe", "--help"},
		{"topic", "alter-config", "--help"},
		{"produce", "--help"},
		{"consume", "--help"},
	} {
		r := runCLI(t, context.Background(), "", args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%v: code %d, stderr %q", args, r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%v: help has no examples:\n%s", args, r.stdout)
		}
	}
	r := runCLI(t, context.Background(), "", "topic", "create", "--help")
	for _, flag := range []string{"--partitions", "--replication-factor", "--config", "--if-not-exists",
		"--validate-only", "--bootstrap-server", "--timeout", "STRATA_BOOTSTRAP_SERVER"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("topic create --help does not mention %s", flag)
		}
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, context.Background(), "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "strata ") {
		t.Fatalf("version: %+v", r)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"topic", "create"}, "want one topic NAME"},
		{[]string{"topic", "create", "t", "--partitions", "0"}, "--partitions must be at least 1"},
		{[]string{"topic", "create", "t", "--config", "novalue"}, "want key=value"},
		{[]string{"topic", "create", "t", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"topic", "crate", "t"}, `did you mean "create"?`},
		{[]string{"topic", "list", "--output", "yaml"}, "want table or json"},
		{[]string{"topic", "alter-config", "t"}, "nothing to change"},
		{[]string{"topic", "add-partitions", "t"}, "--partitions TOTAL is required"},
		{[]string{"topic", "delete"}, "at least one topic NAME"},
		{[]string{"produce"}, "--topic is required"},
		{[]string{"produce", "--topic", "t", "--acks", "1", "--idempotent"}, "--idempotent requires --acks all"},
		{[]string{"consume", "--topic", "t", "--offset", "5"}, "--offset needs --partition"},
	} {
		r := runCLI(t, context.Background(), "", tc.args...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "strata: ") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: code %d, stderr %q; want exit 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
		if !strings.Contains(r.stderr, "--help' for usage") {
			t.Errorf("%v: usage error does not point at --help: %q", tc.args, r.stderr)
		}
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestBrokerUnreachable(t *testing.T) {
	addr := closedAddr(t)
	for _, args := range [][]string{
		{"topic", "list"},
		{"produce", "--topic", "t"},
		{"consume", "--topic", "t"},
	} {
		r := runCLI(t, context.Background(), "x\n", append(args, "--bootstrap-server", addr, "--timeout", "5s")...)
		if r.code != 1 {
			t.Fatalf("%v: code %d", args, r.code)
		}
		for _, want := range []string{"strata: cannot reach a Kafka broker at " + addr, "make run", "--bootstrap-server"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr %q does not contain %q", args, r.stderr, want)
			}
		}
	}
}

func TestBootstrapServerFromEnv(t *testing.T) {
	addr := closedAddr(t)
	t.Setenv(envBootstrapServer, addr)
	r := runCLI(t, context.Background(), "", "topic", "list", "--timeout", "5s")
	if r.code != 1 || !strings.Contains(r.stderr, "at "+addr) {
		t.Fatalf("$%s not used: %+v", envBootstrapServer, r)
	}
}

func TestInterruptedBeforeConnecting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := runCLI(t, ctx, "", "topic", "list", "--bootstrap-server", closedAddr(t))
	if r.code != 1 || r.stderr != "strata: interrupted\n" {
		t.Fatalf("got %+v", r)
	}
}
