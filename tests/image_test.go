package tests

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.yaml.in/yaml/v3"
)

// Container image and compose file (deploy/).
//
// TestImageProduceConsume builds the FROM-scratch image with
// deploy/build-image.sh — the script `make image` runs — from a freshly
// built static binary (no image is pulled), runs one containerised agent
// on a published random port, and produces and consumes through it with
// franz-go; then it stops the container (SIGTERM to PID 1 must end it
// cleanly), starts it again and reads the same records back from the
// volume. It skips where `docker info` fails. Containers and images it
// makes are removed when it ends, whatever the outcome; ones a killed run
// left behind (named strata-test-*) are swept by the next run.
//
// TestImageComposeFile checks deploy/compose.yaml's wiring without running it
// (its MinIO and etcd images cannot be pulled here), and has `docker
// compose config` validate it where a compose tool exists.

const (
	imageTestPrefix = "strata-test"
	imageTestLabel  = "io.strata.test"
	staleAfter      = 15 * time.Minute
)

func TestImageProduceConsume(t *testing.T) {
	docker := requireDocker(t)
	sweepStaleTestContainers(t, docker)

	stamp := time.Now().UnixNano()
	tag := fmt.Sprintf("%s:%d", imageTestPrefix, stamp)
	name := fmt.Sprintf("%s-%d", imageTestPrefix, stamp)
	// Registered before anything exists, so a failure at any step cleans up.
	t.Cleanup(func() {
		_ = exec.Command(docker, "rm", "--force", "--volumes", name).Run()
		_ = exec.Command(docker, "rmi", "--force", tag).Run()
	})
	ctx := testCtx(t, 3*time.Minute)

	build := exec.CommandContext(ctx, "bash", "../deploy/build-image.sh", tag)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("deploy/build-image.sh: %v\n%s", err, out)
	}
	checkImageConfig(t, docker, tag)

	port := freeLoopbackPort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dockerRun(t, ctx, docker, "run", "--detach", "--name", name,
		"--label", imageTestLabel+"="+strconv.FormatInt(stamp, 10),
		"--publish", fmt.Sprintf("%s:9092", addr),
		"--env", "STRATA_ADVERTISED_ADDR="+addr,
		tag)
	waitForBroker(t, docker, name, addr)

	const topic = "image-test"
	createTopic(t, addr, topic, 2, nil)
	want := produceSync(t, newClient(t, addr, kgo.DefaultProduceTopic(topic)), makeRecords(topic, 50, 7)...)
	readAll := func() []*kgo.Record {
		cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		return consumeN(t, cl, len(want), 30*time.Second)
	}
	checkSame(t, want, readAll())

	// A clean stop: the agent is PID 1 and must act on SIGTERM itself.
	dockerRun(t, ctx, docker, "stop", "--time", "30", name)
	if code := strings.TrimSpace(dockerRun(t, ctx, docker, "inspect", "--format", "{{.State.ExitCode}}", name)); code != "0" {
		t.Fatalf("agent exited with code %s after SIGTERM; logs:\n%s", code, containerLogs(docker, name))
	}
	dockerRun(t, ctx, docker, "start", name)
	waitForBroker(t, docker, name, addr)
	checkSame(t, want, readAll())
}

// requireDocker returns the docker CLI, or skips the test with the reason.
func requireDocker(t *testing.T) string {
	t.Helper()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("docker CLI not found: container image test skipped (install Docker to run it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker engine (docker info: %v: %s): container image test skipped", err, strings.TrimSpace(string(out)))
	}
	return docker
}

// sweepStaleTestContainers removes containers and images of earlier runs
// that were killed before their cleanup ran. Recent ones may belong to a
// run in progress and are left alone.
func sweepStaleTestContainers(t *testing.T, docker string) {
	t.Helper()
	cutoff := time.Now().Add(-staleAfter).UnixNano()
	out, err := exec.Command(docker, "ps", "--all", "--filter", "label="+imageTestLabel,
		"--format", `{{.Names}} {{.Label "`+imageTestLabel+`"}}`).Output()
	if err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			name, stamp, ok := strings.Cut(line, " ")
			if n, err := strconv.ParseInt(stamp, 10, 64); ok && err == nil && n < cutoff {
				_ = exec.Command(docker, "rm", "--force", "--volumes", name).Run()
			}
		}
	}
	out, err = exec.Command(docker, "images", imageTestPrefix, "--format", "{{.Tag}}").Output()
	if err == nil {
		for _, tag := range strings.Fields(string(out)) {
			if n, err := strconv.ParseInt(tag, 10, 64); err == nil && n < cutoff {
				_ = exec.Command(docker, "rmi", "--force", imageTestPrefix+":"+tag).Run()
			}
		}
	}
}

// checkImageConfig checks what the image promises: the agent as
// entrypoint, a non-root numeric user, the data volume and the ports.
func checkImageConfig(t *testing.T, docker, tag string) {
	t.Helper()
	got := strings.TrimSpace(dockerRun(t, context.Background(), docker, "image", "inspect", "--format",
		`{{json .Config.Entrypoint}} {{.Config.User}} {{json .Config.Volumes}} {{json .Config.ExposedPorts}}`, tag))
	want := `["/strata","agent"] 65532:65532 {"/data":{}} {"9092/tcp":{},"9644/tcp":{}}`
	if got != want {
		t.Errorf("image config = %s\nwant %s", got, want)
	}
}

// waitForBroker polls until the containerised agent answers Metadata and
// advertises addr, or fails with the container's logs.
func waitForBroker(t *testing.T, docker, name, addr string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var lastErr error
	for delay := 10 * time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 500*time.Millisecond) {
		if lastErr = brokerAdvertises(addr); lastErr == nil {
			return
		}
		state, _ := exec.Command(docker, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name).Output()
		if st := strings.TrimSpace(string(state)); !strings.HasPrefix(st, "running") {
			t.Fatalf("containerised agent is %q, not running\nlogs:\n%s", st, containerLogs(docker, name))
		}
		time.Sleep(delay)
	}
	t.Fatalf("containerised agent not serving on %s after 60s: %v\nlogs:\n%s", addr, lastErr, containerLogs(docker, name))
}

func brokerAdvertises(addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RetryTimeout(time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	brokers, err := kadm.NewClient(cl).ListBrokers(ctx)
	if err != nil {
		return err
	}
	for _, b := range brokers {
		if net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))) == addr {
			return nil
		}
	}
	return fmt.Errorf("brokers %v do not include %s", brokers, addr)
}

func containerLogs(docker, name string) string {
	out, _ := exec.Command(docker, "logs", "--tail", "100", name).CombinedOutput()
	return string(out)
}

// dockerRun runs a docker command and returns its stdout, failing the test
// with its output on error.
func dockerRun(t *testing.T, ctx context.Context, docker string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, docker, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// freeLoopbackPort returns a port that was free on 127.0.0.1 a moment ago;
// the container's published port must be known before it starts, since
// the agent advertises it.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// --- Compose file ---------------------------------------------------------

// composeFile is the part of a compose file the test reads.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	NetworkMode string            `yaml:"network_mode"`
	Ports       []string          `yaml:"ports"`
	Environment map[string]string `yaml:"environment"`
	DependsOn   any               `yaml:"depends_on"`
	Volumes     []string          `yaml:"volumes"`
	Command     any               `yaml:"command"`
}

func TestImageComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	minio, ok := cf.Services["minio"]
	if !ok || !strings.HasPrefix(expandDefault(minio.Image), "minio/minio") {
		t.Fatalf("want a minio service running minio/minio, got %+v", minio)
	}
	published := publishedPorts(t, minio.Ports)
	for name, s := range cf.Services {
		if name != "minio" && s.NetworkMode != "service:minio" {
			t.Errorf("service %s: network_mode %q, want service:minio (one namespace, so localhost means the same everywhere)", name, s.NetworkMode)
		}
		if name != "minio" && len(s.Ports) > 0 {
			t.Errorf("service %s publishes ports; only the namespace owner (minio) can", name)
		}
	}
	listening := map[int]string{9000: "minio", 9001: "minio"}
	claim := func(svc string, port int) {
		if other, dup := listening[port]; dup {
			t.Errorf("%s and %s both listen on port %d of the shared namespace", svc, other, port)
		}
		listening[port] = svc
	}
	etcdClients := checkComposeEtcd(t, cf, claim)
	agents := checkComposeAgents(t, cf, claim, published, etcdClients)
	if agents != 3 {
		t.Errorf("compose.yaml runs %d agents, want 3", agents)
	}
	bucket := cf.Services["strata-1"].Environment["STRATA_S3_BUCKET"]
	if mb := fmt.Sprint(cf.Services["createbucket"].Command); !strings.Contains(mb, "mc mb --ignore-existing local/"+bucket) {
		t.Errorf("createbucket does not create the agents' bucket %q: %s", bucket, mb)
	}
	composeConfigCheck(t)
}

// checkComposeEtcd checks the etcd members form one cluster on distinct
// ports and returns their client URLs.
func checkComposeEtcd(t *testing.T, cf composeFile, claim func(string, int)) []string {
	t.Helper()
	var clients, peers []string
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("etcd-%d", i)
		env := cf.Services[name].Environment
		if env["ETCD_NAME"] != name {
			t.Errorf("%s: ETCD_NAME = %q", name, env["ETCD_NAME"])
		}
		if env["ETCD_LISTEN_CLIENT_URLS"] != env["ETCD_ADVERTISE_CLIENT_URLS"] || env["ETCD_LISTEN_PEER_URLS"] != env["ETCD_INITIAL_ADVERTISE_PEER_URLS"] {
			t.Errorf("%s listens on other URLs than it advertises: %v", name, env)
		}
		claim(name, urlPort(t, env["ETCD_LISTEN_CLIENT_URLS"]))
		claim(name, urlPort(t, env["ETCD_LISTEN_PEER_URLS"]))
		clients = append(clients, env["ETCD_ADVERTISE_CLIENT_URLS"])
		peers = append(peers, name+"="+env["ETCD_INITIAL_ADVERTISE_PEER_URLS"])
		if !slices.Contains(cf.Services[name].Volumes, name+":/var/lib/etcd") {
			t.Errorf("%s keeps its data outside its own volume: %v", name, cf.Services[name].Volumes)
		}
	}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("etcd-%d", i)
		if got, want := cf.Services[name].Environment["ETCD_INITIAL_CLUSTER"], strings.Join(peers, ","); got != want {
			t.Errorf("%s: ETCD_INITIAL_CLUSTER = %q, want every member: %q", name, got, want)
		}
	}
	return clients
}

// checkComposeAgents checks each agent's identity, ports, advertised
// address, metadata store and data volume, and returns how many there are.
func checkComposeAgents(t *testing.T, cf composeFile, claim func(string, int), published map[int]bool, etcdClients []string) int {
	t.Helper()
	ids := map[string]string{}
	n := 0
	for name, s := range cf.Services {
		if !strings.HasPrefix(name, "strata-") {
			continue
		}
		n++
		env := s.Environment
		if !strings.HasPrefix(expandDefault(s.Image), "strata:") {
			t.Errorf("%s runs %q, want the locally built strata image", name, s.Image)
		}
		if other, dup := ids[env["STRATA_NODE_ID"]]; dup || env["STRATA_NODE_ID"] == "" {
			t.Errorf("%s: node id %q missing or shared with %s", name, env["STRATA_NODE_ID"], other)
		}
		ids[env["STRATA_NODE_ID"]] = name
		listen := hostPort(t, env["STRATA_LISTEN"])
		metrics := hostPort(t, env["STRATA_HTTP_ADDR"])
		claim(name, listen)
		claim(name, metrics)
		if want := fmt.Sprintf("localhost:%d", listen); env["STRATA_ADVERTISED_ADDR"] != want {
			t.Errorf("%s advertises %q, want %q (its own port, the same inside and outside)", name, env["STRATA_ADVERTISED_ADDR"], want)
		}
		if !published[listen] || !published[metrics] {
			t.Errorf("%s: ports %d and %d must both be published as the same port on the host", name, listen, metrics)
		}
		if got := strings.Split(env["STRATA_ETCD_ENDPOINTS"], ","); !slices.Equal(got, etcdClients) {
			t.Errorf("%s: etcd endpoints %v, want the members %v", name, got, etcdClients)
		}
		if env["STRATA_S3_ENDPOINT"] != "127.0.0.1:9000" || env["STRATA_S3_PATH_STYLE"] != "true" || env["STRATA_S3_TLS"] != "false" {
			t.Errorf("%s is not wired to MinIO on 127.0.0.1:9000 (path style, no TLS): %v", name, env)
		}
		if !slices.Contains(s.Volumes, name+":/data") {
			t.Errorf("%s keeps its data outside its own volume: %v", name, s.Volumes)
		}
		if _, ok := cf.Volumes[name]; !ok {
			t.Errorf("volume %s is not declared", name)
		}
	}
	return n
}

// publishedPorts reads "127.0.0.1:H:C" entries, requiring H == C (an
// advertised port must be the same inside and outside).
func publishedPorts(t *testing.T, ports []string) map[int]bool {
	t.Helper()
	out := map[int]bool{}
	for _, p := range ports {
		parts := strings.Split(p, ":")
		if len(parts) != 3 || parts[0] != "127.0.0.1" || parts[1] != parts[2] {
			t.Errorf("published port %q: want 127.0.0.1:PORT:PORT", p)
			continue
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil {
			t.Errorf("published port %q: %v", p, err)
		}
		out[n] = true
	}
	return out
}

func hostPort(t *testing.T, addr string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		t.Errorf("address %q: want [host]:port", addr)
	}
	return n
}

func urlPort(t *testing.T, s string) int {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Errorf("URL %q: want http://127.0.0.1:PORT", s)
		return 0
	}
	return hostPort(t, u.Host)
}

// expandDefault resolves compose's ${VAR:-default} to its default.
func expandDefault(s string) string {
	if rest, ok := strings.CutPrefix(s, "${"); ok {
		if _, def, ok := strings.Cut(strings.TrimSuffix(rest, "}"), ":-"); ok {
			return def
		}
	}
	return s
}

// composeConfigCheck has the compose tool validate the file against its
// schema, where one is installed.
func composeConfigCheck(t *testing.T) {
	t.Helper()
	var cmd []string
	if docker, err := exec.LookPath("docker"); err == nil && exec.Command(docker, "compose", "version").Run() == nil {
		cmd = []string{docker, "compose"}
	} else if dc, err := exec.LookPath("docker-compose"); err == nil {
		cmd = []string{dc}
	} else {
		t.Log("no docker compose or docker-compose: schema validation of compose.yaml skipped")
		return
	}
	c := exec.Command(cmd[0], append(cmd[1:], "--file", "../deploy/compose.yaml", "config", "--quiet")...)
	if out, err := c.CombinedOutput(); err != nil {
		t.Errorf("%s config: %v\n%s", strings.Join(cmd, " "), err, out)
	}
}
