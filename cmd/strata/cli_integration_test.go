package main

// End-to-end tests of the client commands against a broker.
//
// TestCLIScenario runs one scenario twice: against franz-go's in-process fake
// broker (kfake), always, and against the broker at $STRATA_TEST_BOOTSTRAP
// (for example a Strata agent started with `make run`), only when that
// variable is set. The scenario uses a fresh topic name so it can be rerun
// against a long-lived broker.
//
// kfake serves every request these commands send (CreateTopics, Metadata,
// ListOffsets, DescribeConfigs, IncrementalAlterConfigs, AlterConfigs,
// CreatePartitions, DeleteTopics, Produce, Fetch and the classic consumer
// group APIs). It can also pretend not to serve an API (kfake.MaxVersions),
// which the tests below use for the fallbacks a partial broker needs. What it
// cannot stand in for: replication (one fake broker, so replicas and ISR are
// trivial), TLS/SASL, and the real broker's exact error messages.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

const envTestBootstrap = "STRATA_TEST_BOOTSTRAP"

// startKfake starts an in-process fake Kafka broker for the test.
func startKfake(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// cli runs strata commands against one broker.
type cli struct {
	t         *testing.T
	ctx       context.Context
	bootstrap string
}

func newCLI(t *testing.T, bootstrap string) *cli {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return &cli{t: t, ctx: ctx, bootstrap: bootstrap}
}

// run runs one command with the connection flags appended.
func (c *cli) run(stdin string, args ...string) cliResult {
	c.t.Helper()
	return runCLI(c.t, c.ctx, stdin, append(args, "--bootstrap-server", c.bootstrap, "--timeout", "20s")...)
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("strata %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail with wantErr in its error message.
func (c *cli) fails(wantErr string, args ...string) {
	c.t.Helper()
	r := c.run("", args...)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "strata: ") || !strings.Contains(r.stderr, wantErr) {
		c.t.Fatalf("strata %s: exit %d, stderr %q; want exit 1 with %q", strings.Join(args, " "), r.code, r.stderr, wantErr)
	}
}

// describe returns the JSON description of one topic.
func (c *cli) describe(topic string) topicDescription {
	c.t.Helper()
	var ds []topicDescription
	out := c.ok("", "topic", "describe", topic, "--output", "json")
	if err := json.Unmarshal([]byte(out), &ds); err != nil || len(ds) != 1 || ds[0].Name != topic {
		c.t.Fatalf("describe %s: %v\n%s", topic, err, out)
	}
	return ds[0]
}

func configOf(d topicDescription, name string) (configEntry, bool) {
	for _, c := range d.Configs {
		if c.Name == name {
			return c, true
		}
	}
	return configEntry{}, false
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return lines
}

func TestCLIScenario(t *testing.T) {
	t.Run("kfake", func(t *testing.T) {
		scenario(t, newCLI(t, strings.Join(startKfake(t).ListenAddrs(), ",")))
	})
	t.Run("external", func(t *testing.T) {
		addr := os.Getenv(envTestBootstrap)
		if addr == "" {
			t.Skipf("%s is unset; set it to a broker address (e.g. localhost:9092 after 'make run') "+
				"to run this scenario against a real broker", envTestBootstrap)
		}
		scenario(t, newCLI(t, addr))
	})
}

// scenario walks a topic through its whole life with every command.
func scenario(t *testing.T, c *cli) {
	topic := fmt.Sprintf("strata-cli-test-%d", time.Now().UnixNano())
	scenarioCreate(t, c, topic)
	scenarioProduceConsume(t, c, topic)
	scenarioAlter(t, c, topic)
	scenarioGroupAndDelete(t, c, topic)
}

// scenarioCreate creates topic with 2 partitions and retention.ms=3600000,
// including the --if-not-exists and --validate-only variants.
func scenarioCreate(t *testing.T, c *cli, topic string) {
	if out := c.ok("", "topic", "create", topic, "--partitions", "2", "--config", "retention.ms=3600000"); !strings.Contains(out, "Created topic") {
		t.Fatalf("create: %q", out)
	}
	c.fails("TOPIC_ALREADY_EXISTS", "topic", "create", topic)
	if out := c.ok("", "topic", "create", topic, "--if-not-exists"); !strings.Contains(out, "already exists") {
		t.Fatalf("create --if-not-exists: %q", out)
	}
	c.ok("", "topic", "create", topic+"-dry", "--validate-only")

	var list []topicSummary
	if err := json.Unmarshal([]byte(c.ok("", "topic", "list", "--output", "json")), &list); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list, func(s topicSummary) bool { return s.Name == topic })
	if i < 0 || list[i].Partitions != 2 {
		t.Fatalf("list: topic missing or wrong: %+v", list)
	}
	if slices.ContainsFunc(list, func(s topicSummary) bool { return s.Name == topic+"-dry" }) {
		t.Fatal("--validate-only created the topic")
	}
}

// scenarioProduceConsume produces 5 keyed records with headers, one far
// larger than a default bufio.Scanner token, reads them back, and checks the
// offsets and configs that describe reports.
func scenarioProduceConsume(t *testing.T, c *cli, topic string) {
	big := strings.Repeat("b", 300<<10)
	input := "k1:v1\nk2:v2 with spaces\nk3:a:b\nk4:\nk5:" + big + "\n"
	r := c.run(input, "produce", "--topic", topic, "--key-separator", ":", "--header", "src=cli", "--header", "n=1")
	if r.code != 0 || !strings.Contains(r.stderr, "produced 5 records") {
		t.Fatalf("produce: %+v", r)
	}
	want := []string{"src=cli,n=1\tk1\tv1", "src=cli,n=1\tk2\tv2 with spaces", "src=cli,n=1\tk3\ta:b",
		"src=cli,n=1\tk4\t", "src=cli,n=1\tk5\t" + big}
	slices.Sort(want)
	out := c.ok("", "consume", "--topic", topic, "--from-beginning", "--max-messages", "5",
		"--print-headers", "--print-key", "--timeout-idle", "30s")
	if got := sortedLines(out); !slices.Equal(got, want) {
		t.Fatalf("consumed %d lines, want %d:\n%.500s", len(got), len(want), out)
	}

	// Describe: offsets, leaders and configs as the broker reports them.
	d := c.describe(topic)
	var total int64
	for _, p := range d.Partitions {
		if p.Leader < 0 || len(p.Replicas) == 0 || len(p.ISR) == 0 || p.LogStartOffset != 0 || p.Error != "" {
			t.Errorf("partition %+v", p)
		}
		total += p.HighWatermark
	}
	if len(d.Partitions) != 2 || total != 5 || d.TopicID == "" {
		t.Fatalf("describe: %+v", d)
	}
	if cfg, ok := configOf(d, "retention.ms"); !ok || *cfg.Value != "3600000" || cfg.Source != "DYNAMIC_TOPIC_CONFIG" {
		t.Fatalf("retention.ms = %+v, %v", cfg, ok)
	}
	if out := c.ok("", "topic", "describe", topic); !strings.Contains(out, "HIGH-WATERMARK") || !strings.Contains(out, topic) {
		t.Fatalf("describe table:\n%s", out)
	}

	// Each partition on its own, in offset order, from an explicit offset.
	for _, p := range d.Partitions {
		if p.HighWatermark == 0 {
			continue
		}
		out := c.ok("", "consume", "--topic", topic, "--partition", fmt.Sprint(p.Partition), "--offset", "0",
			"--max-messages", fmt.Sprint(p.HighWatermark), "--print-partition", "--print-offset", "--timeout-idle", "30s")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for i, l := range lines {
			if prefix := fmt.Sprintf("Partition:%d\tOffset:%d\t", p.Partition, i); !strings.HasPrefix(l, prefix) {
				t.Fatalf("partition %d line %d = %.80q, want prefix %q", p.Partition, i, l, prefix)
			}
		}
	}
}

// scenarioAlter sets and deletes configs and grows topic to 4 partitions.
func scenarioAlter(t *testing.T, c *cli, topic string) {
	c.ok("", "topic", "alter-config", topic, "--set", "retention.ms=1000", "--set", "message.timestamp.type=LogAppendTime")
	d := c.describe(topic)
	if cfg, _ := configOf(d, "retention.ms"); cfg.Value == nil || *cfg.Value != "1000" {
		t.Fatalf("after set: retention.ms = %+v", cfg)
	}
	if cfg, _ := configOf(d, "message.timestamp.type"); cfg.Value == nil || *cfg.Value != "LogAppendTime" {
		t.Fatalf("after set: message.timestamp.type = %+v", cfg)
	}
	c.ok("", "topic", "alter-config", topic, "--delete", "retention.ms")
	d = c.describe(topic)
	if cfg, ok := configOf(d, "retention.ms"); ok && cfg.Source == "DYNAMIC_TOPIC_CONFIG" {
		t.Fatalf("after delete: retention.ms still overridden: %+v", cfg)
	}
	if _, ok := configOf(d, "message.timestamp.type"); !ok {
		t.Fatal("deleting retention.ms lost message.timestamp.type")
	}

	// Add partitions; shrinking is refused with the Kafka error name.
	c.ok("", "topic", "add-partitions", topic, "--partitions", "4")
	if d = c.describe(topic); len(d.Partitions) != 4 {
		t.Fatalf("after add-partitions: %d partitions", len(d.Partitions))
	}
	c.fails("INVALID_PARTITIONS", "topic", "add-partitions", topic, "--partitions", "3")
}

// scenarioGroupAndDelete consumes as a group, checks that it resumes after
// its committed offsets, checks errors for missing topics and deletes topic.
func scenarioGroupAndDelete(t *testing.T, c *cli, topic string) {
	group := topic + "-group"
	out := c.ok("", "consume", "--topic", topic, "--group", group, "--from-beginning", "--max-messages", "5",
		"--timeout-idle", "30s")
	if n := len(sortedLines(out)); n != 5 {
		t.Fatalf("group consume: %d lines", n)
	}
	c.ok("k6:v6\n", "produce", "--topic", topic, "--partition", "0", "--key-separator", ":")
	// Without committed offsets this would print an older record of
	// partition 0 or 1 first.
	if out := c.ok("", "consume", "--topic", topic, "--group", group, "--from-beginning", "--max-messages", "1",
		"--timeout-idle", "30s"); out != "v6\n" {
		t.Fatalf("group resume: %q, want v6", out)
	}

	// Errors for a topic that does not exist.
	c.fails("topic does not exist", "consume", "--topic", topic+"-missing")
	c.fails("topic does not exist", "produce", "--topic", topic+"-missing")
	c.fails("topic does not exist", "topic", "describe", topic+"-missing")
	c.fails("partition 9 does not exist", "consume", "--topic", topic, "--partition", "9")

	// Delete.
	if out := c.ok("", "topic", "delete", topic); !strings.Contains(out, "Deleted topic") {
		t.Fatalf("delete: %q", out)
	}
	c.fails("UNKNOWN_TOPIC_OR_PARTITION", "topic", "delete", topic)
	c.ok("", "topic", "delete", topic, "--if-exists")
}

// TestAlterConfigFallback checks the AlterConfigs path used when a broker does
// not serve IncrementalAlterConfigs: untouched overrides survive the
// whole-set replacement.
func TestAlterConfigFallback(t *testing.T) {
	vs := kversion.Stable()
	vs.SetMaxKeyVersion(int16(kmsg.IncrementalAlterConfigs), -1)
	cluster := startKfake(t, kfake.MaxVersions(vs))
	var alterConfigs atomic.Int32
	cluster.ControlKey(int16(kmsg.AlterConfigs), func(kmsg.Request) (kmsg.Response, error, bool) {
		alterConfigs.Add(1)
		return nil, nil, false // let the broker handle it
	})
	c := newCLI(t, cluster.ListenAddrs()[0])

	c.ok("", "topic", "create", "t", "--config", "retention.ms=1000", "--config", "segment.ms=600000")
	c.ok("", "topic", "alter-config", "t", "--set", "cleanup.policy=compact", "--delete", "segment.ms")
	if alterConfigs.Load() != 1 {
		t.Fatalf("AlterConfigs requests: %d, want 1", alterConfigs.Load())
	}
	d := c.describe("t")
	var got []string
	for _, cfg := range d.Configs {
		if cfg.Source == "DYNAMIC_TOPIC_CONFIG" {
			got = append(got, cfg.Name+"="+*cfg.Value)
		}
	}
	if want := []string{"cleanup.policy=compact", "retention.ms=1000"}; !slices.Equal(got, want) {
		t.Fatalf("overrides after fallback alter: %v, want %v", got, want)
	}
}

// TestBrokerWithoutOptionalAPIs checks the clear failures and warnings for a
// broker that serves neither consumer groups nor DescribeConfigs.
func TestBrokerWithoutOptionalAPIs(t *testing.T) {
	vs := kversion.Stable()
	vs.SetMaxKeyVersion(int16(kmsg.JoinGroup), -1)
	vs.SetMaxKeyVersion(int16(kmsg.DescribeConfigs), -1)
	c := newCLI(t, startKfake(t, kfake.MaxVersions(vs)).ListenAddrs()[0])

	c.ok("", "topic", "create", "t")
	c.fails("consumer groups are not supported by the broker (it does not serve JoinGroup)",
		"consume", "--topic", "t", "--group", "g")

	r := c.run("", "topic", "describe", "t", "--output", "json")
	if r.code != 0 || !strings.Contains(r.stderr, "does not serve DescribeConfigs") {
		t.Fatalf("describe: %+v", r)
	}
	var ds []topicDescription
	if err := json.Unmarshal([]byte(r.stdout), &ds); err != nil || len(ds) != 1 || ds[0].Configs == nil {
		t.Fatalf("describe JSON: %v %q", err, r.stdout)
	}
}

// signalWriter is a concurrency-safe buffer that reports when it holds n
// lines.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	n     int
	ready chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.ready != nil && bytes.Count(w.buf.Bytes(), []byte("\n")) >= w.n {
		close(w.ready)
		w.ready = nil
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// runAsync runs strata in the background and returns its exit code channel.
func runAsync(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) <-chan int {
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, stdin, stdout, stderr) }()
	return done
}

// waitExit waits for a background run, failing the test if it hangs.
func waitExit(t *testing.T, done <-chan int) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(time.Minute):
		t.Fatal("strata did not exit within a minute of being interrupted")
		return -1
	}
}

// TestInterrupt checks that Ctrl-C (a cancelled context) stops produce and
// consume cleanly: what was read is flushed and reported, exit status 0.
func TestInterrupt(t *testing.T) {
	c := newCLI(t, startKfake(t).ListenAddrs()[0])
	c.ok("", "topic", "create", "t")
	conn := []string{"--bootstrap-server", c.bootstrap}

	// produce: blocked reading a stdin that never ends.
	ctx, cancel := context.WithCancel(c.ctx)
	pr, pw := io.Pipe()
	defer pw.Close()
	var stderr signalWriter
	done := runAsync(ctx, pr, io.Discard, &stderr, append([]string{"produce", "--topic", "t"}, conn...)...)
	if _, err := io.WriteString(pw, "one\ntwo\n"); err != nil {
		t.Fatal(err)
	}
	// Wait until both records are in the log, then interrupt.
	for deadline := time.Now().Add(time.Minute); ; {
		if d := c.describe("t"); d.Partitions[0].HighWatermark == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("records never reached the broker")
		}
	}
	cancel()
	if code := waitExit(t, done); code != 0 || !strings.Contains(stderr.String(), "produced 2 records") {
		t.Fatalf("interrupted produce: exit %d, stderr %q", code, stderr.String())
	}

	// consume: following the topic with no end.
	ctx, cancel = context.WithCancel(c.ctx)
	defer cancel()
	stdout := &signalWriter{n: 2, ready: make(chan struct{})}
	ready := stdout.ready
	done = runAsync(ctx, strings.NewReader(""), stdout, io.Discard,
		append([]string{"consume", "--topic", "t", "--from-beginning"}, conn...)...)
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("consume exited early with %d", code)
	}
	cancel()
	if code := waitExit(t, done); code != 0 || stdout.String() != "one\ntwo\n" {
		t.Fatalf("interrupted consume: exit %d, stdout %q", code, stdout.String())
	}
}

// TestConsumeIdleTimeout checks --timeout-idle ends a consume that has
// caught up, and that consuming from the end skips existing records.
func TestConsumeIdleTimeout(t *testing.T) {
	c := newCLI(t, startKfake(t).ListenAddrs()[0])
	c.ok("", "topic", "create", "t")
	c.ok("old\n", "produce", "--topic", "t")
	r := c.run("", "consume", "--topic", "t", "--timeout-idle", "500ms")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "--timeout-idle") {
		t.Fatalf("consume from the end: %+v", r)
	}
}

// TestProduceRecordFailure checks that a record the broker rejects makes
// produce exit 1 with the Kafka error by name.
func TestProduceRecordFailure(t *testing.T) {
	c := newCLI(t, startKfake(t).ListenAddrs()[0])
	c.ok("", "topic", "create", "small", "--config", "max.message.bytes=1000")
	r := c.run(strings.Repeat("x", 5000)+"\n", "produce", "--topic", "small", "--max-message-bytes", "100000")
	if r.code != 1 || !strings.Contains(r.stderr, "produced 0 records") ||
		!strings.Contains(r.stderr, "1 of 1 records were not acknowledged") || !strings.Contains(r.stderr, "MESSAGE_TOO_LARGE") {
		t.Fatalf("got %+v", r)
	}
}
