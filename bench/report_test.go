package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	cfg := NewConfig()
	return &Report{
		Header: Header{
			BootstrapServers: []string{"localhost:9092"},
			Partitions:       6,
			RecordSize:       1024,
			Acks:             "all",
			Compression:      "none",
			Payload:          "random",
			Duration:         10 * time.Second,
			LatencyRate:      2000,
			Producers:        1,
			Scenarios:        AllScenarios,
			Producer:         cfg.producerSettings(),
			Consumer:         cfg.consumerSettings(),
			Machine:          Machine{GOMAXPROCS: 2, NumCPU: 2, CPUModel: "AMD EPYC", MemTotalBytes: 8 << 30, OS: "linux", Arch: "amd64", GoVersion: "go1.26"},
			Units:            Units,
		},
		Loopback: &Loopback{Bytes: 3_300_000_000, Elapsed: 2 * time.Second, MBPerSec: 1650, WriteSize: 1 << 20},
		Produce: &Throughput{Partitions: 6, RecordSize: 1024, Acks: "all", Compression: "none",
			Records: 5_003_000, MBPerSec: 512.34, RecsPerSec: 500_300.4, LoopbackFraction: 512.34 / 1650},
		Consume: &Throughput{Partitions: 6, RecordSize: 1024, Compression: "none", MBPerSec: 780.06, RecsPerSec: 761_800},
		Offload: &Offload{Topic: "tiered", WithinRecords: 8192},
		Catchup: &Catchup{Topic: "tiered", Partitions: 6, ReplicationFactor: 1, Records: 976_563, Bytes: 1_000_000_512,
			RemoteRecords: 960_000, RemoteFraction: 960_000.0 / 976_563, FirstRecord: 12300 * time.Microsecond,
			FirstRecordFromStart: 15200 * time.Microsecond, Elapsed: 1634 * time.Millisecond, MBPerSec: 612.0, RecsPerSec: 597_600,
			FetchMaxBytes: 50 << 20, FetchMaxPartitionBytes: 1 << 20, WaitedOffloaded: true, OffloadWait: 3100 * time.Millisecond},
		Latency: &Latency{Rate: 2000, Records: 20_000, P50: 410 * time.Microsecond, P99: 920 * time.Microsecond,
			P999: 1800 * time.Microsecond, Max: 3100 * time.Microsecond, SendLagP99: 30 * time.Microsecond, SendLagMax: 210 * time.Microsecond},
		E2E: &Latency{Rate: 2000, Records: 20_000, P50: 900 * time.Microsecond, P99: 2100 * time.Microsecond,
			P999: 4 * time.Millisecond, Max: 6 * time.Millisecond},
		Failover: &Failover{Partitions: 6, ReplicationFactor: 3, Rate: 2000, KilledNodeID: 2, KilledPID: 4242, NewLeader: 3, LeaderMoved: 1700 * time.Millisecond,
			Partition0: 1830 * time.Millisecond, All: 2100 * time.Millisecond, Sent: 20_000, Acked: 20_000,
			Latency: Latency{Rate: 2000, Records: 20_000, P50: 700 * time.Microsecond, P99: 1900 * time.Millisecond,
				Max: 2150 * time.Millisecond, SendLagP99: 50 * time.Microsecond}},
		RSS: []RSS{
			{After: "produce", PID: 123, VmRSSBytes: 88 << 20, VmHWMBytes: 120 << 20},
			{After: "catchup", PID: 123, VmRSSBytes: 89 << 20, VmHWMBytes: 120 << 20},
			{After: "e2e", PID: 123, VmRSSBytes: 90 << 20, VmHWMBytes: 121 << 20},
			{After: "failover", PID: 124, NodeID: ptr(int32(1)), VmRSSBytes: 70 << 20, VmHWMBytes: 80 << 20},
			{After: "failover", PID: 126, NodeID: ptr(int32(3)), VmRSSBytes: 71 << 20, VmHWMBytes: 81 << 20},
		},
	}
}

func TestResultLines(t *testing.T) {
	r := sampleReport()
	for _, tc := range []struct{ got, want string }{
		{loopbackLine(*r.Loopback), "loopback  1 stream, 1MiB writes  1650.0 MB/s"},
		{throughputLine(ScenarioProduce, *r.Produce, r.Loopback),
			"produce   acks=all size=1024 parts=6 comp=none  512.3 MB/s  500300 rec/s  (0.31 of loopback 1650 MB/s)"},
		{throughputLine(ScenarioConsume, *r.Consume, nil), "consume   size=1024 parts=6 comp=none  780.1 MB/s  761800 rec/s"},
		{throughputLine(ScenarioProduce, Throughput{Partitions: 1, RecordSize: 8, Acks: "1", Compression: "zstd", Rate: 500, MBPerSec: 0.004, RecsPerSec: 500}, nil),
			"produce   acks=1 size=8 parts=1 comp=zstd rate=500/s  0.0 MB/s  500 rec/s"},
		{latencyLine(ScenarioLatency, *r.Latency),
			"latency   rate=2000/s  p50=0.41ms p99=0.92ms p999=1.80ms max=3.10ms  (n=20000, send lag p99=0.03ms max=0.21ms)"},
		{latencyLine(ScenarioE2E, *r.E2E),
			"e2e       rate=2000/s  p50=0.90ms p99=2.10ms p999=4.00ms max=6.00ms  (n=20000, send lag p99=0.00ms max=0.00ms)"},
		{rssLine(r.RSS[0]), "rss       broker pid=123 after=produce VmRSS=88 MiB VmHWM=120 MiB"},
		{offloadLine(*r.Offload), "offload   topic=tiered  wait until local log start (ListOffsets -4) >= end offset - 8192 records on every partition"},
		{catchupLine(*r.Catchup), "catchup   remote=0.98  first=12.30ms  612.0 MB/s  597600 rec/s  (records=976563 remote_records=960000 rf=1 parts=6; " +
			"fresh consumer fetch_max=50MiB partition_max=1MiB; first record 15.20ms after client start; offload wait 3.10s)"},
		{catchupLine(Catchup{Partitions: 1, Records: 3, FirstRecord: time.Millisecond, FirstRecordFromStart: 2 * time.Millisecond, FetchMaxBytes: 1 << 20, FetchMaxPartitionBytes: 1 << 10}),
			"catchup   remote=0.00  first=1.00ms  0.0 MB/s  0 rec/s  (records=3 remote_records=0 parts=1; " +
				"fresh consumer fetch_max=1MiB partition_max=1KiB; first record 2.00ms after client start; no offload wait)"},
		{throughputLine(ScenarioProduce, Throughput{Partitions: 6, ReplicationFactor: 3, RecordSize: 1024, Acks: "all", Compression: "none", MBPerSec: 200, RecsPerSec: 195312.5}, nil),
			"produce   acks=all rf=3 size=1024 parts=6 comp=none  200.0 MB/s  195312 rec/s"},
		{latencyLine(ScenarioLatency, Latency{ReplicationFactor: 3, Rate: 2000, Records: 10, P50: time.Millisecond}),
			"latency   rf=3 rate=2000/s  p50=1.00ms p99=0.00ms p999=0.00ms max=0.00ms  (n=10, send lag p99=0.00ms max=0.00ms)"},
		{rssLine(RSS{After: "failover", PID: 77, NodeID: ptr(int32(2)), VmRSSBytes: 50 << 20, VmHWMBytes: 60 << 20}),
			"rss       agent=2 pid=77 after=failover VmRSS=50 MiB VmHWM=60 MiB"},
		{failoverLine(Failover{KilledNodeID: 1, KilledPID: 9, NewLeader: -1, Partitions: 1, Rate: 10, Failed: 3, FirstError: "timed out"}),
			"failover  killed=agent 1  partition0=0.00s  all=0.00s  failed=3  (pid 9; no new leader of partition 0 in metadata; acks=all parts=1 rate=10/s; " +
				"sent=0 acked=0; latency p50=0.00ms p99=0.00ms max=0.00ms, send lag p99=0.00ms)  first error: timed out"},
		{failoverLine(*r.Failover),
			"failover  killed=agent 2  partition0=1.83s  all=2.10s  failed=0  (pid 4242; metadata named agent 3 leader after 1.70s; acks=all rf=3 parts=6 rate=2000/s; " +
				"sent=20000 acked=20000; latency p50=0.70ms p99=1900.00ms max=2150.00ms, send lag p99=0.05ms)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %q\nwant %q", tc.got, tc.want)
		}
	}
}

func TestHeaderLine(t *testing.T) {
	h := headerLine(sampleReport().Header)
	for _, want := range []string{
		"bootstrap=localhost:9092", "topic=fresh", "parts=6", "size=1024", "acks=all", "comp=none",
		"payload=random", "duration=10s", "rate=unlimited", "latency_rate=2000/s", "producers=1",
		"batch_max=1MiB", "buffered=100000rec/256MiB", "linger=0s", "idempotent=true",
		"fetch_max=64MiB", "partition_max=8MiB", "e2e_max_wait=500ms",
		"GOMAXPROCS=2", `cpu="AMD EPYC"`, "mem=8GiB", Units,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("header lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, "\n") {
		t.Error("header spans lines")
	}
	if strings.Contains(h, "brokers=") || strings.Contains(h, "failover") {
		t.Errorf("header names brokers or failover settings it does not have: %s", h)
	}
	hc := sampleReport().Header
	hc.Brokers = 3
	hc.Failover = NewConfig().failoverSettings()
	h = headerLine(hc)
	for _, want := range []string{"brokers=3", "| failover acks=all idempotent=true warmup=3s timeout=30s retry_backoff=100ms metadata_min_age=100ms |"} {
		if !strings.Contains(h, want) {
			t.Errorf("cluster header lacks %q:\n%s", want, h)
		}
	}
	hr := sampleReport().Header
	hr.Records, hr.Topic = 5000, "mine"
	if h := headerLine(hr); !strings.Contains(h, "records=5000") || strings.Contains(h, "duration=") || !strings.Contains(h, "topic=mine") {
		t.Errorf("records-mode header: %s", h)
	}
}

func TestWriteTextOrder(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	var firsts []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		firsts = append(firsts, strings.Fields(line)[0]+"/"+afterField(line))
	}
	want := "bench/ loopback/ produce/ rss/produce consume/ offload/ catchup/ rss/catchup latency/ e2e/ rss/e2e failover/ rss/failover rss/failover"
	if got := strings.Join(firsts, " "); got != want {
		t.Fatalf("line order %q, want %q", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func afterField(line string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "after="); ok {
			return v
		}
	}
	return ""
}

func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"p99_ns":920000`, `"mb_per_sec":512.34`, `"vm_hwm_bytes":125829120`, `"loopback_fraction"`, `"units":"1 MB = 10^6 bytes of record value"`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if *back.Latency != *sampleReport().Latency || back.Header.Machine != sampleReport().Header.Machine ||
		*back.Failover != *sampleReport().Failover || *back.RSS[4].NodeID != 3 || *back.Catchup != *sampleReport().Catchup || *back.Offload != *sampleReport().Offload || back.RSS[0].NodeID != nil {
		t.Fatal("JSON round trip changed the report")
	}
}

func TestFormatHelpers(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ms(1500 * time.Microsecond), "1.50ms"},
		{ms(0), "0.00ms"},
		{seconds(1834 * time.Millisecond), "1.83s"},
		{seconds(0), "0.00s"},
		{ms(1234 * time.Millisecond), "1234.00ms"},
		{iec(0), "0B"},
		{iec(1 << 20), "1MiB"},
		{iec(1536), "1.5KiB"},
		{iec(7_800_000_000), "7.3GiB"},
		{rateString(0), "unlimited"},
		{rateString(2000), "2000/s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
