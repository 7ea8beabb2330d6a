package tests

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Shared plumbing for the client-compatibility tests in compat_test.go.

// compatPython is the Debian interpreter, which is where apt installs
// python3-kafka and python3-confluent-kafka (a pyenv or venv python on PATH
// would not see them).
const compatPython = "/usr/bin/python3"

// Compression codec numbers as stored in a record batch's attributes.
const (
	compatCodecGzip   uint8 = 1
	compatCodecSnappy uint8 = 2
	compatCodecLZ4    uint8 = 3
	compatCodecZstd   uint8 = 4
)

// compatRecord is a record as the compat tests compare it, and the JSON line
// format the Python scripts in tests/clients read and print (bytes travel
// as base64, so binary data and null-vs-empty survive exactly).
type compatRecord struct {
	Partition int32          `json:"partition"`
	Offset    int64          `json:"offset"`
	Timestamp int64          `json:"timestamp,omitempty"` // ms since the epoch; 0: unchecked
	Key       []byte         `json:"key"`
	Value     []byte         `json:"value"`
	Headers   []compatHeader `json:"headers,omitempty"`
}

// compatHeader is one record header.
type compatHeader struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// compatDelivery is a producer's report of where a record landed.
type compatDelivery struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

// String renders r for comparisons and failure messages; nil and empty
// byte slices render differently (null vs "").
func (r compatRecord) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "p%d@%d ts=%d key=%s value=%s", r.Partition, r.Offset, r.Timestamp, compatQuote(r.Key), compatQuote(r.Value))
	for _, h := range r.Headers {
		fmt.Fprintf(&b, " h[%q]=%s", h.Key, compatQuote(h.Value))
	}
	return b.String()
}

// compatQuote renders b quoted, or null for nil.
func compatQuote(b []byte) string {
	if b == nil {
		return "null"
	}
	return strconv.Quote(string(b))
}

// compatSampleRecords returns n records for each of partitions partitions,
// with Offset set to where each must land in an empty topic. The records
// have the shapes a client must carry unchanged: text and binary keys and
// values, a null key, an empty key, a null value (tombstone), several
// headers (including binary and empty values) and explicit, distinct
// timestamps.
func compatSampleRecords(partitions int32, n int) []compatRecord {
	ts0 := time.Now().Add(-time.Hour).UnixMilli()
	var recs []compatRecord
	for p := range partitions {
		for i := range n {
			r := compatRecord{
				Partition: p,
				Offset:    int64(i),
				Timestamp: ts0 + int64(len(recs)),
				Key:       fmt.Appendf(nil, "key-%d-%d", p, i),
				Value:     fmt.Appendf(nil, "value-%d-%d", p, i),
			}
			switch i % 5 {
			case 1:
				r.Key = nil
			case 2:
				r.Key = []byte{}
				r.Value = []byte{0, 0xff, 0x80, '\n', byte(p), byte(i)}
			case 3:
				r.Headers = []compatHeader{
					{Key: "trace-id", Value: fmt.Appendf(nil, "trace-%d-%d", p, i)},
					{Key: "bin", Value: []byte{0, 1, 0xfe}},
					{Key: "empty", Value: []byte{}},
				}
			case 4:
				r.Value = nil
			}
			recs = append(recs, r)
		}
	}
	return recs
}

// compatRecordsFrom returns the records of recs in partition p at offsets
// from on.
func compatRecordsFrom(recs []compatRecord, p int32, from int64) []compatRecord {
	var out []compatRecord
	for _, r := range recs {
		if r.Partition == p && r.Offset >= from {
			out = append(out, r)
		}
	}
	return out
}

// compatCheckRecords fails the test unless got holds exactly want, in any
// order across partitions. A want Timestamp of 0 leaves the timestamp
// unchecked.
func compatCheckRecords(t testing.TB, what string, got, want []compatRecord) {
	t.Helper()
	sorted := func(rs []compatRecord) []compatRecord {
		rs = slices.Clone(rs)
		slices.SortStableFunc(rs, func(a, b compatRecord) int {
			return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
		})
		return rs
	}
	got, want = sorted(got), sorted(want)
	var g, w []string
	for i, r := range got {
		if i < len(want) && want[i].Timestamp == 0 {
			r.Timestamp = 0
		}
		g = append(g, r.String())
	}
	for _, r := range want {
		w = append(w, r.String())
	}
	if !slices.Equal(g, w) {
		t.Errorf("%s: records differ\ngot %d:\n  %s\nwant %d:\n  %s", what,
			len(g), strings.Join(g, "\n  "), len(w), strings.Join(w, "\n  "))
	}
}

// compatCheckDeliveries fails the test unless the producer reported each
// record of want at its expected partition and offset, in order.
func compatCheckDeliveries(t testing.TB, what string, got []compatDelivery, want []compatRecord) {
	t.Helper()
	var g, w []string
	for _, d := range got {
		g = append(g, fmt.Sprintf("p%d@%d", d.Partition, d.Offset))
	}
	for _, r := range want {
		w = append(w, fmt.Sprintf("p%d@%d", r.Partition, r.Offset))
	}
	if !slices.Equal(g, w) {
		t.Errorf("%s: delivery reports differ\ngot:  %v\nwant: %v", what, g, w)
	}
}

// compatTopic returns a topic name unique to the test and this run.
func compatTopic(t testing.TB, what string) string {
	name := strings.NewReplacer("/", ".", "_", "-").Replace(t.Name())
	return fmt.Sprintf("%s.%s.%08x", name, what, rand.Uint32())
}

// compatRequireBinary skips the test unless bin is on PATH.
func compatRequireBinary(t testing.TB, bin, debianPkg string) {
	t.Helper()
	if _, err := exec.LookPath(bin); err != nil {
		t.Skipf("%s not found: install the Debian package %s (tests/install-deps.sh, run by make test as root, does)", bin, debianPkg)
	}
}

// compatRequirePython skips the test unless /usr/bin/python3 can import
// module.
func compatRequirePython(t testing.TB, module, debianPkg string) {
	t.Helper()
	if _, err := os.Stat(compatPython); err != nil {
		t.Skipf("%s not found: install the Debian packages python3 and %s", compatPython, debianPkg)
	}
	if out, err := exec.Command(compatPython, "-c", "import "+module).CombinedOutput(); err != nil {
		t.Skipf("%s cannot import %s (%v: %s): install the Debian package %s (tests/install-deps.sh, run by make test as root, does)",
			compatPython, module, err, bytes.TrimSpace(out), debianPkg)
	}
}

// compatRun runs a client program with stdin and returns its stdout and
// stderr, failing the test with both if it fails or outlives ctx.
func compatRun(t testing.TB, ctx context.Context, stdin []byte, name string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (killed: %w)", err, ctx.Err())
		}
		t.Fatalf("%s %s: %v\nstderr:\n%s\nstdout:\n%s", name, strings.Join(args, " "), err,
			compatElide(errOut.Bytes()), compatElide(out.Bytes()))
	}
	return out.Bytes(), errOut.Bytes()
}

// compatElide shortens a client's output for a failure message, keeping its
// start and its end (a client that retries can log the same line for as
// long as it runs).
func compatElide(b []byte) []byte {
	const head, tail = 4 << 10, 4 << 10
	if len(b) <= head+tail {
		return b
	}
	return fmt.Appendf(nil, "%s\n... [%d bytes elided] ...\n%s", b[:head], len(b)-head-tail, b[len(b)-tail:])
}

// compatPythonTimeout is the budget each Python client invocation gets; the
// script exits on its own (status 3) when it runs out.
const compatPythonTimeout = 20 * time.Second

// compatRunPython runs tests/clients/<script> against addr and topic with
// the given command and arguments, feeding it stdin, and returns its stdout
// and stderr (where librdkafka's log lines go).
func compatRunPython(t testing.TB, script, addr, topic string, stdin []byte, args ...string) (stdout, stderr []byte) {
	t.Helper()
	// The context is a backstop: the script's own watchdog fires first.
	ctx, cancel := context.WithTimeout(context.Background(), compatPythonTimeout+10*time.Second)
	defer cancel()
	argv := append([]string{
		"-B", // write no __pycache__ into the source tree
		filepath.Join("clients", script),
		"--bootstrap", addr, "--topic", topic,
		"--timeout", strconv.Itoa(int(compatPythonTimeout / time.Second)),
	}, args...)
	return compatRun(t, ctx, stdin, compatPython, argv...)
}

// compatJSONLines decodes one JSON value of type T per non-empty line of out.
func compatJSONLines[T any](t testing.TB, out []byte) []T {
	t.Helper()
	var vs []T
	for line := range bytes.Lines(out) {
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("client output line %q: %v", line, err)
		}
		vs = append(vs, v)
	}
	return vs
}

// compatEncodeRecords renders recs as the JSON lines the Python scripts read.
func compatEncodeRecords(t testing.TB, recs []compatRecord) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// compatFranzClient returns a franz-go client for addr, closed when the test
// ends.
func compatFranzClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// compatCreateTopic creates topic with partitions partitions and replication
// factor 1 through kadm.
func compatCreateTopic(t testing.TB, addr, topic string, partitions int32) {
	t.Helper()
	adm := kadm.NewClient(compatFranzClient(t, addr))
	resp, err := adm.CreateTopic(testCtx(t, 15*time.Second), partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// compatCheckPartitions fails the test unless topic exists with exactly
// partitions partitions, each with a leader, as franz-go's kadm sees it.
func compatCheckPartitions(t testing.TB, addr, topic string, partitions int) {
	t.Helper()
	adm := kadm.NewClient(compatFranzClient(t, addr))
	details, err := adm.ListTopics(testCtx(t, 15*time.Second), topic)
	if err != nil {
		t.Fatalf("list topic %s: %v", topic, err)
	}
	d, ok := details[topic]
	switch {
	case !ok:
		t.Fatalf("topic %s missing from metadata", topic)
	case d.Err != nil:
		t.Fatalf("topic %s: %v", topic, d.Err)
	case len(d.Partitions) != partitions:
		t.Fatalf("topic %s has %d partitions, want %d", topic, len(d.Partitions), partitions)
	}
	for _, p := range d.Partitions.Sorted() {
		if p.Err != nil || p.Leader < 0 {
			t.Errorf("topic %s partition %d: leader %d, err %v", topic, p.Partition, p.Leader, p.Err)
		}
	}
}

// compatCheckEndOffsets fails the test unless each partition of topic ends at
// the offset in want (so nothing beyond the records a test expects, such as
// a duplicate from a retried produce, is stored).
func compatCheckEndOffsets(t testing.TB, addr, topic string, want map[int32]int64) {
	t.Helper()
	adm := kadm.NewClient(compatFranzClient(t, addr))
	listed, err := adm.ListEndOffsets(testCtx(t, 15*time.Second), topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	got := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { got[o.Partition] = o.Offset })
	if !maps.Equal(got, want) {
		t.Errorf("end offsets of %s = %v, want %v", topic, got, want)
	}
}

// compatEndOffsets returns what each partition's end offset must be once recs
// are stored in an empty topic with partitions partitions.
func compatEndOffsets(recs []compatRecord, partitions int32) map[int32]int64 {
	m := make(map[int32]int64, partitions)
	for p := range partitions {
		m[p] = 0
	}
	for _, r := range recs {
		m[r.Partition] = max(m[r.Partition], r.Offset+1)
	}
	return m
}

// compatConsumeFranz reads n records of topic from the start of every
// partition with franz-go (no group) and returns them with their batch
// attributes.
func compatConsumeFranz(t testing.TB, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := compatFranzClient(t, addr,
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	ctx := testCtx(t, 15*time.Second)
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("franz-go read %d of %d records from %s: %v", len(recs), n, topic, err)
		}
		for _, fe := range fs.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				t.Fatalf("franz-go fetch %s[%d]: %v", fe.Topic, fe.Partition, fe.Err)
			}
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// compatFromFranz converts franz-go records for compatCheckRecords.
func compatFromFranz(recs []*kgo.Record) []compatRecord {
	out := make([]compatRecord, 0, len(recs))
	for _, r := range recs {
		c := compatRecord{Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			c.Headers = append(c.Headers, compatHeader{Key: h.Key, Value: h.Value})
		}
		out = append(out, c)
	}
	return out
}

// compatCheckIdempotent fails the test unless every record carries a
// producer id, as batches from an idempotent producer must.
func compatCheckIdempotent(t testing.TB, recs []*kgo.Record) {
	t.Helper()
	for _, r := range recs {
		if r.ProducerID < 0 {
			t.Errorf("record %s[%d]@%d has producer id %d: the idempotent producer's id was not stored", r.Topic, r.Partition, r.Offset, r.ProducerID)
			return
		}
	}
}

// compatCheckCodec fails the test unless every record came from a batch
// stored with the given compression codec. Kafka's default compression.type
// "producer" keeps the producer's batches as they were sent, so this proves
// the client really compressed and the broker kept the batch intact.
// clientLog is the producing client's stderr: it explains a failure when
// librdkafka decided not to compress.
func compatCheckCodec(t testing.TB, recs []*kgo.Record, codec uint8, clientLog []byte) {
	t.Helper()
	for _, r := range recs {
		if got := r.Attrs.CompressionType(); got != codec {
			t.Errorf("record %s[%d]@%d stored with codec %d, want %d%s", r.Topic, r.Partition, r.Offset, got, codec, compatCodecHint(clientLog))
			return
		}
	}
}

// compatCodecHint explains librdkafka's silent fallback to uncompressed
// batches when clientLog shows it.
func compatCodecHint(clientLog []byte) string {
	i := bytes.Index(clientLog, []byte("Broker does not support compression type"))
	if i < 0 {
		return ""
	}
	line := clientLog[i:]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	return fmt.Sprintf("\nlibrdkafka logged %q and sent the batch uncompressed: this librdkafka "+
		"(Debian's 2.0.2; see confluentinc/librdkafka#4956) uses gzip, snappy or lz4 only if the "+
		"broker's ApiVersions range for Produce includes v0, and lz4 only if FindCoordinator v0 "+
		"is listed too (zstd needs Produce v7 and Fetch v10)", line)
}

// compatSkipLZ4WithoutCoordinator skips an lz4 check with librdkafka while
// the agent does not advertise FindCoordinator: Debian's librdkafka 2.0.2
// sends lz4 batches uncompressed unless FindCoordinator v0 is listed
// (confluentinc/librdkafka#4956). The check runs by itself once consumer
// groups (which serve FindCoordinator) land.
func compatSkipLZ4WithoutCoordinator(t testing.TB, addr, codec string) {
	t.Helper()
	if codec != "lz4" {
		return
	}
	cl := compatFranzClient(t, addr)
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatalf("ApiVersions: %v", err)
	}
	for _, k := range resp.ApiKeys {
		if k.ApiKey == int16(kmsg.FindCoordinator) {
			return
		}
	}
	t.Skip("librdkafka 2.0.2 compresses with lz4 only when the broker lists FindCoordinator, which the agent serves once consumer groups land")
}
