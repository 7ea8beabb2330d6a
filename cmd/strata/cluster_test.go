package main

// Unit tests of the cluster-administration commands' logic: partition
// health, reassignment plans, offsets files and flag validation. The
// commands end to end are in cluster_integration_test.go.

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestAssessPartitions(t *testing.T) {
	pd := func(p, leader int32, replicas, isr []int32, err error) kadm.PartitionDetail {
		return kadm.PartitionDetail{Topic: "t", Partition: p, Leader: leader, Replicas: replicas, ISR: isr, Err: err}
	}
	tds := []kadm.TopicDetail{{Topic: "t", Partitions: kadm.PartitionDetails{
		0: pd(0, 1, []int32{1, 2, 3}, []int32{1, 2, 3}, nil),                     // healthy
		1: pd(1, 2, []int32{2, 3, 1}, []int32{2, 3}, nil),                        // under-replicated
		2: pd(2, -1, []int32{3, 1, 2}, nil, kerr.LeaderNotAvailable),             // offline
		3: pd(3, 2, []int32{1, 2, 3}, []int32{1, 2, 3}, nil),                     // not preferred
		4: pd(4, 3, []int32{3, 1, 2}, []int32{3}, kerr.ReplicaNotAvailable),      // under min ISR
		5: pd(5, 1, []int32{1}, []int32{1}, nil),                                 // RF below min ISR
		6: pd(6, 2, []int32{2, 3, 1}, []int32{2, 3, 1}, kerr.LeaderNotAvailable), // electing
	}}}
	minISR := map[string]int{"t": 2}

	h := assessPartitions(tds, minISR, healthFilter{})
	if h.Total != 7 || h.UnderReplicated != 3 || h.UnderMinISR != 3 || h.Offline != 2 || h.PreferredLeaderImbalance != 1 {
		t.Fatalf("counts %+v", h)
	}
	affected := func(h partitionHealth) []int32 {
		var ps []int32
		for _, s := range h.Affected {
			ps = append(ps, s.Partition)
		}
		return ps
	}
	if got := affected(h); !slices.Equal(got, []int32{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("affected %v", got)
	}
	s := h.Affected[1] // partition 2
	if !s.Offline || !s.UnderReplicated || !s.UnderMinISR || s.PreferredLeaderImbalance ||
		s.MinInsyncReplicas != 2 || s.Error != kerr.LeaderNotAvailable.Error() || s.ISR == nil {
		t.Fatalf("partition 2: %+v", s)
	}
	if got := s.problems(); !slices.Equal(got, []string{"offline", "under-min-isr", "under-replicated"}) {
		t.Fatalf("problems %v", got)
	}

	for _, tc := range []struct {
		f    healthFilter
		want []int32
	}{
		{healthFilter{offline: true}, []int32{2, 6}},
		{healthFilter{underReplicated: true}, []int32{1, 2, 4}},
		{healthFilter{underMinISR: true}, []int32{2, 4, 5}},
		{healthFilter{leaderImbalance: true}, []int32{3}},
		{healthFilter{leaderImbalance: true, underMinISR: true}, []int32{2, 3, 4, 5}},
	} {
		h := assessPartitions(tds, minISR, tc.f)
		if got := affected(h); !slices.Equal(got, tc.want) || h.Total != 7 || h.Offline != 2 {
			t.Errorf("filter %+v: affected %v, want %v (counts %+v)", tc.f, got, tc.want, h)
		}
	}

	// Without min.insync.replicas the count is unknown and nothing is
	// under it.
	h = assessPartitions(tds, nil, healthFilter{})
	if h.UnderMinISR != -1 || h.Affected[0].MinInsyncReplicas != -1 || h.Affected[3].UnderMinISR {
		t.Fatalf("without min ISR: %+v", h)
	}
	if h := assessPartitions(nil, nil, healthFilter{}); h.Affected == nil || h.Total != 0 {
		t.Fatalf("no topics: %+v", h)
	}
}

func TestGeneratePlan(t *testing.T) {
	cur := replicaAssignment{
		"b": {0: {1, 2}, 1: {2, 3}},
		"a": {0: {1, 2, 3}, 1: {1, 2, 3}, 2: {1, 2, 3}},
	}
	plan, err := generatePlan(cur, []string{"b", "a"}, []int32{4, 1, 2, 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"partitions":[` +
		`{"topic":"a","partition":0,"replicas":[4,1,2]},` +
		`{"topic":"a","partition":1,"replicas":[1,2,3]},` +
		`{"topic":"a","partition":2,"replicas":[2,3,4]},` +
		`{"topic":"b","partition":0,"replicas":[3,4]},` +
		`{"topic":"b","partition":1,"replicas":[4,1]}]}`
	if got := plan.compactJSON(); got != want {
		t.Fatalf("plan\n got %s\nwant %s", got, want)
	}
	// The generated plan is a valid plan.
	if _, err := parsePlan([]byte(plan.compactJSON())); err != nil {
		t.Fatal(err)
	}

	// Racks: agents alternate between racks when every agent has one.
	racks := map[int32]string{1: "a", 2: "a", 3: "b", 4: "b", 5: "c"}
	if got := interleaveRacks([]int32{1, 2, 3, 4, 5}, racks); !slices.Equal(got, []int32{1, 3, 5, 2, 4}) {
		t.Fatalf("interleaved %v", got)
	}
	plan, err = generatePlan(replicaAssignment{"t": {0: {1, 2}, 1: {1, 2}}}, []string{"t"}, []int32{1, 2, 3, 4}, racks)
	if err != nil {
		t.Fatal(err)
	}
	for _, pp := range plan.Partitions {
		if racks[pp.Replicas[0]] == racks[pp.Replicas[1]] {
			t.Fatalf("partition %d: both replicas in rack %s: %v", pp.Partition, racks[pp.Replicas[0]], pp.Replicas)
		}
	}
	delete(racks, 5)
	if got := interleaveRacks([]int32{5, 1, 3}, racks); !slices.Equal(got, []int32{5, 1, 3}) {
		t.Fatalf("agent without rack: %v, want the given order", got)
	}

	if _, err := generatePlan(cur, []string{"a"}, []int32{1, 2}, nil); err == nil ||
		!strings.Contains(err.Error(), `topic "a" has 3 replicas per partition but --agents lists only 2 agents`) {
		t.Fatalf("too few agents: %v", err)
	}
}

func TestParsePlan(t *testing.T) {
	p, err := parsePlan([]byte(`{"version":1,"partitions":[{"topic":"t","partition":1,"replicas":[3,1],"log_dirs":["any","any"]},
		{"topic":"s","partition":0,"replicas":[2]}]}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.topics(); !slices.Equal(got, []string{"s", "t"}) {
		t.Fatalf("topics %v", got)
	}
	if got := p.replicas(); !slices.Equal(got, []int32{1, 2, 3}) {
		t.Fatalf("replicas %v", got)
	}
	if s := p.set(); !s.Lookup("t", 1) || !s.Lookup("s", 0) || s.Lookup("t", 0) {
		t.Fatalf("set %v", s)
	}
	cur := replicaAssignment{"t": {0: {1}, 1: {1, 2}}, "s": {0: {1}}}
	if err := p.checkAgainst(cur); err != nil {
		t.Fatal(err)
	}
	if err := p.checkAgainst(replicaAssignment{"t": {0: {1}}, "s": {0: {1}}}); !errors.Is(err, errInvalidPlan) ||
		!strings.Contains(err.Error(), `partition 1 of topic "t" does not exist (it has 1 partition)`) {
		t.Fatalf("missing partition: %v", err)
	}
	if err := p.checkAgainst(replicaAssignment{"t": {1: {1}}}); !errors.Is(err, errTopicNotFound) {
		t.Fatalf("missing topic: %v", err)
	}
	if got := currentPlan(p, cur).compactJSON(); got !=
		`{"version":1,"partitions":[{"topic":"t","partition":1,"replicas":[1,2]},{"topic":"s","partition":0,"replicas":[1]}]}` {
		t.Fatalf("rollback %s", got)
	}

	for _, tc := range []struct{ in, want string }{
		{``, "EOF"},
		{`[]`, "cannot unmarshal array"},
		{`{"version":2,"partitions":[{"topic":"t","partition":0,"replicas":[1]}]}`, `"version" is 2, want 1`},
		{`{"partitions":[{"topic":"t","partition":0,"replicas":[1]}]}`, `"version" is 0, want 1`},
		{`{"version":1,"partitions":[]}`, `"partitions" is empty`},
		{`{"version":1}`, `"partitions" is empty`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"replica":[1]}]}`, `unknown field "replica"`},
		{`{"version":1,"partitions":[{"partition":0,"replicas":[1]}]}`, `"topic" is missing or empty`},
		{`{"version":1,"partitions":[{"topic":"t","partition":-1,"replicas":[1]}]}`, `"partition" -1 is negative`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":null}]}`, `"replicas" is empty (to cancel`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,1]}]}`, `t-0: "replicas": agent 1 given twice`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[-2]}]}`, `agent ID -2 must be >= 0`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1],"log_dirs":["/d"]}]}`, `log dir "/d": only "any"`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1],"log_dirs":[]}]}`, `"log_dirs" has 0 entries for 1 replicas`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1]},{"topic":"t","partition":0,"replicas":[2]}]}`,
			`partitions[1]: t-0 is listed twice`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1]}]} {}`, "unexpected data after"},
		{`{"version":1,"partitions":[{"topic":"t","partition":4294967296,"replicas":[1]}]}`, "cannot unmarshal number"},
	} {
		_, err := parsePlan([]byte(tc.in))
		if !errors.Is(err, errInvalidPlan) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want errInvalidPlan with %q", tc.in, err, tc.want)
		}
	}
}

func TestParseOffsetsFile(t *testing.T) {
	got, err := parseOffsetsFile([]byte(`{"partitions":[{"topic":"t","partition":0,"offset":5},
		{"topic":"t","partition":1,"offset":-1}],"version":1}`))
	want := []deleteBefore{{"t", 0, 5}, {"t", 1, -1}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"partitions":[{"topic":"t","partition":0,"offset":5}]}`, `"version" is 0, want 1`},
		{`{"version":1,"partitions":[]}`, `"partitions" is empty`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"offset":-2}]}`, `"offset" -2`},
		{`{"version":1,"partitions":[{"topic":"","partition":0,"offset":1}]}`, `"topic" is missing`},
		{`{"version":1,"partitions":[{"topic":"t","partition":-3,"offset":1}]}`, `"partition" -3 is negative`},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"offset":1},{"topic":"t","partition":0,"offset":2}]}`, "listed twice"},
		{`{"version":1,"partitions":[{"topic":"t","partition":0,"ofset":1}]}`, `unknown field "ofset"`},
	} {
		if _, err := parseOffsetsFile([]byte(tc.in)); !errors.Is(err, errInvalidPlan) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestParseBefore(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "42": 42, "end": -1, "LATEST": -1, "-1": -1} {
		if got, err := parseBefore(in); err != nil || got != want {
			t.Errorf("%q: %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-2", "x", "1.5"} {
		if _, err := parseBefore(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{-1: "-", 0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 1 << 62: "4.0 EiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	p := newProgress(&buf)
	p.now = func() time.Time { return now }
	p.report("a")
	p.report("a") // repeated at once: quiet
	now = now.Add(progressEvery)
	p.report("a") // repeated after a while: printed
	p.report("b") // changed: printed at once
	if got, want := buf.String(), "12:00:00 a\n12:00:10 a\n12:00:10 b\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestPoll(t *testing.T) {
	n := 0
	err := poll(context.Background(), time.Millisecond, func(context.Context) (bool, error) {
		n++
		return n == 3, nil
	})
	if err != nil || n != 3 {
		t.Fatalf("poll: %v after %d checks", err, n)
	}
	boom := errors.New("boom")
	if err := poll(context.Background(), time.Millisecond, func(context.Context) (bool, error) { return false, boom }); err != boom {
		t.Fatalf("poll error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	err = poll(ctx, time.Hour, func(context.Context) (bool, error) { cancel(); return false, nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled poll: %v", err)
	}
}

func TestElectionResults(t *testing.T) {
	rs := kadm.ElectLeadersResults{"t": {
		0: {Topic: "t", Partition: 0},
		1: {Topic: "t", Partition: 1, Err: kerr.ElectionNotNeeded},
		2: {Topic: "t", Partition: 2, Err: kerr.PreferredLeaderNotAvailable, ErrMessage: "replica 3 is down"},
	}}
	var set kadm.TopicsSet
	set.Add("t", 0, 1, 2, 3)
	got := electionResults(rs, set)
	var statuses []string
	for _, r := range got {
		statuses = append(statuses, r.Status)
	}
	if !slices.Equal(statuses, []string{electionElected, electionNotNeeded, electionFailed, electionFailed}) ||
		!strings.Contains(got[2].Error, "replica 3 is down") || !strings.Contains(got[3].Error, "does not mention") {
		t.Fatalf("results %+v", got)
	}
	err := electionError(got, kadm.ElectPreferredReplica)
	if err == nil || !strings.Contains(err.Error(), "2 of 4 partitions failed, first: t-2: PREFERRED_LEADER_NOT_AVAILABLE") ||
		!strings.Contains(err.Error(), "preferred replica is down or not in sync") {
		t.Fatalf("error %v", err)
	}
	unclean := []electionResult{{Topic: "t", Partition: 0, Status: electionFailed, err: kerr.EligibleLeadersNotAvailable,
		Error: kerr.EligibleLeadersNotAvailable.Error()}}
	if err := electionError(unclean, kadm.ElectLiveReplica); err == nil ||
		!strings.Contains(err.Error(), "1 of 1 partition failed") || !strings.Contains(err.Error(), "restart one of the partition's agents") {
		t.Fatalf("unclean: %v", err)
	}
	if err := electionError(unclean, kadm.ElectPreferredReplica); err == nil || !strings.Contains(err.Error(), "--type unclean elects") {
		t.Fatalf("preferred: %v", err)
	}
	if err := electionError(got[:2], kadm.ElectPreferredReplica); err != nil {
		t.Fatalf("no failures: %v", err)
	}
}

func TestClusterCommandsHelp(t *testing.T) {
	for _, args := range [][]string{
		{"cluster", "--help"},
		{"cluster", "describe", "--help"},
		{"cluster", "elect-leaders", "--help"},
		{"topic", "reassign", "--help"},
		{"log-dirs", "--help"},
		{"delete-records", "--help"},
		{"config", "--help"},
		{"config", "describe", "--help"},
		{"config", "alter", "--help"},
	} {
		r := runCLI(t, context.Background(), "", args...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Examples:") ||
			!strings.Contains(r.stdout, "--bootstrap-server") {
			t.Errorf("%v: code %d, stderr %q, help without examples or connection flags:\n%s", args, r.code, r.stderr, r.stdout)
		}
	}
}

func TestClusterUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cluster", "describ"}, `did you mean "describe"?`},
		{[]string{"cluster", "describe", "x"}, "want no arguments"},
		{[]string{"cluster", "describe", "--output", "yaml"}, "want table or json"},
		{[]string{"cluster", "elect-leaders"}, "give --topic TOPIC[:PARTITION,...] (repeatable) or --all-topics"},
		{[]string{"cluster", "elect-leaders", "--all-topics", "--topic", "t"}, "exclusive"},
		{[]string{"cluster", "elect-leaders", "--all-topics", "--type", "dirty"}, `--type "dirty": want preferred or unclean`},
		{[]string{"cluster", "elect-leaders", "--topic", "t:x"}, `partition "x" is not a number`},
		{[]string{"topic", "reassign"}, "give --plan FILE, or --generate"},
		{[]string{"topic", "reassign", "--plan", "p", "--generate"}, "exclusive"},
		{[]string{"topic", "reassign", "--generate", "--topics", "t"}, "--generate needs --topics T,... and --agents ID,..."},
		{[]string{"topic", "reassign", "--plan", "p", "--agents", "1"}, "only go with --generate"},
		{[]string{"topic", "reassign", "--generate", "--topics", "t", "--agents", "1,1"}, "--agents: agent 1 given twice"},
		{[]string{"topic", "reassign", "--plan", "p", "--execute", "--cancel"}, "--execute and --cancel are exclusive"},
		{[]string{"topic", "reassign", "--plan", "p", "--execute", "--verify", "--cancel"}, "--execute, --verify and --cancel are exclusive"},
		{[]string{"topic", "reassign", "--plan", "p", "--wait"}, "--wait goes with --execute or --verify"},
		{[]string{"topic", "reassign", "--plan", "p", "--verify", "--poll-interval", "0s"}, "--poll-interval must be positive"},
		{[]string{"log-dirs", "--agent", "-1"}, "agent ID -1 must be >= 0"},
		{[]string{"log-dirs", "--topic", ":0"}, "want TOPIC or TOPIC:PARTITION"},
		{[]string{"delete-records"}, "give --topic TOPIC --before OFFSET, or --offset-json FILE"},
		{[]string{"delete-records", "--topic", "t"}, "--before OFFSET is required"},
		{[]string{"delete-records", "--topic", "t", "--before", "x"}, `--before "x": want an offset >= 0`},
		{[]string{"delete-records", "--topic", "t", "--offset-json", "f"}, "exclusive"},
		{[]string{"delete-records", "--offset-json", "f", "--before", "1"}, "go with --topic"},
		{[]string{"delete-records", "--topic", "t", "--before", "1", "--partition", "-2"}, "--partition -2 must be >= 0"},
		{[]string{"config", "describe"}, "give --agent ID, --agent-defaults or --topic NAME"},
		{[]string{"config", "alter", "--set", "a=b"}, "give exactly one of --agent ID"},
		{[]string{"config", "alter", "--agent", "1", "--topic", "t", "--set", "a=b"}, "give exactly one of"},
		{[]string{"config", "alter", "--agent", "1"}, "nothing to change"},
		{[]string{"config", "alter", "--agent", "-1", "--set", "a=b"}, "agent ID -1 must be >= 0"},
		{[]string{"config", "fiddle"}, `unknown command "fiddle"`},
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

// TestPlanFileErrors checks that a bad plan or offsets file fails before
// anything connects, naming the file.
func TestPlanFileErrors(t *testing.T) {
	addr := closedAddr(t)
	r := runCLI(t, context.Background(), `{"version":1,"partitions":[]}`, "topic", "reassign", "--plan", "-",
		"--bootstrap-server", addr)
	if r.code != 1 || r.stderr != "strata: -: invalid plan: \"partitions\" is empty\n" {
		t.Fatalf("bad plan on stdin: %+v", r)
	}
	r = runCLI(t, context.Background(), "", "topic", "reassign", "--plan", t.TempDir()+"/missing.json",
		"--bootstrap-server", addr)
	if r.code != 1 || !strings.Contains(r.stderr, "missing.json: no such file or directory") {
		t.Fatalf("missing plan: %+v", r)
	}
	r = runCLI(t, context.Background(), `{"version":1,"partitions":[{"topic":"t","partition":0,"offset":-5}]}`,
		"delete-records", "--offset-json", "-", "--bootstrap-server", addr)
	if r.code != 1 || !strings.Contains(r.stderr, `strata: -: invalid plan: partitions[0]: "offset" -5`) {
		t.Fatalf("bad offsets file: %+v", r)
	}
}

func TestClusterCommandsUnreachable(t *testing.T) {
	addr := closedAddr(t)
	for _, args := range [][]string{
		{"cluster", "describe"},
		{"cluster", "elect-leaders", "--all-topics"},
		{"topic", "reassign", "--generate", "--topics", "t", "--agents", "1"},
		{"log-dirs"},
		{"delete-records", "--topic", "t", "--before", "end"},
		{"config", "describe", "--agent", "1"},
	} {
		r := runCLI(t, context.Background(), "", append(args, "--bootstrap-server", addr, "--timeout", "5s")...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "strata: cannot reach a Kafka broker at "+addr) {
			t.Errorf("%v: %+v", args, r)
		}
	}
}
