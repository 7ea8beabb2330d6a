package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Units states what MB/s figures count.
const Units = "1 MB = 10^6 bytes of record value"

// Report is the outcome of a run. A scenario that did not run has a nil
// field. Durations are encoded in JSON as integer nanoseconds.
type Report struct {
	Header   Header      `json:"header"`
	Loopback *Loopback   `json:"loopback,omitempty"`
	Produce  *Throughput `json:"produce,omitempty"`
	Consume  *Throughput `json:"consume,omitempty"`
	// Offload is set when the catchup scenario waited for its topic to be
	// offloaded (Config.WaitOffloaded), as soon as the wait began.
	Offload  *Offload  `json:"offload,omitempty"`
	Catchup  *Catchup  `json:"catchup,omitempty"`
	Txn      *Txn      `json:"txn,omitempty"`
	Latency  *Latency  `json:"latency,omitempty"`
	E2E      *Latency  `json:"e2e,omitempty"`
	Failover *Failover `json:"failover,omitempty"`
	// RSS holds the broker memory readings taken after each scenario: one
	// for Config.BrokerPID and one per live agent of Config.BrokerPIDs.
	RSS []RSS `json:"rss,omitempty"`
}

// Header records the configuration of a run and the machine it ran on.
type Header struct {
	BootstrapServers []string `json:"bootstrap_servers"`
	// Brokers is how many brokers Metadata listed before the first
	// scenario; 0 if no scenario talks to a broker.
	Brokers int `json:"brokers,omitempty"`
	// BrokerPIDs is Config.BrokerPIDs.
	BrokerPIDs  map[int32]int    `json:"broker_pids,omitempty"`
	Topic       string           `json:"topic,omitempty"`
	Partitions  int32            `json:"partitions"`
	RecordSize  int              `json:"record_size"`
	Acks        string           `json:"acks"`
	Compression string           `json:"compression"`
	Payload     string           `json:"payload"`
	Duration    time.Duration    `json:"duration_ns,omitempty"`
	Records     int64            `json:"records,omitempty"`
	Rate        int64            `json:"rate"`
	LatencyRate int64            `json:"latency_rate"`
	Producers   int              `json:"producers"`
	Scenarios   []Scenario       `json:"scenarios"`
	Producer    ProducerSettings `json:"producer"`
	Consumer    ConsumerSettings `json:"consumer"`
	// Failover is set when the failover scenario is selected.
	Failover *FailoverSettings `json:"failover,omitempty"`
	Machine  Machine           `json:"machine"`
	Units    string            `json:"units"`
}

// ProducerSettings are the franz-go producer settings of the run.
type ProducerSettings struct {
	BatchMaxBytes      int           `json:"batch_max_bytes"`
	MaxBufferedRecords int           `json:"max_buffered_records"`
	MaxBufferedBytes   int           `json:"max_buffered_bytes"`
	Linger             time.Duration `json:"linger_ns"`
	Idempotent         bool          `json:"idempotent"`
	MaxInflight        int           `json:"max_inflight_per_broker"`
	// Partitioner is the produce scenario's partitioner; latency and e2e
	// send round-robin over the partitions.
	Partitioner string `json:"partitioner"`
}

// ConsumerSettings are the franz-go consumer settings of the run.
type ConsumerSettings struct {
	FetchMaxBytes          int           `json:"fetch_max_bytes"`
	FetchMaxPartitionBytes int           `json:"fetch_max_partition_bytes"`
	E2EFetchMaxWait        time.Duration `json:"e2e_fetch_max_wait_ns"`
}

// FailoverSettings are the failover scenario's settings. Its producers are
// idempotent with acks=all whatever Config.Acks says.
type FailoverSettings struct {
	Warmup         time.Duration `json:"warmup_ns"`
	Timeout        time.Duration `json:"timeout_ns"`
	RetryBackoff   time.Duration `json:"retry_backoff_ns"`
	MetadataMinAge time.Duration `json:"metadata_min_age_ns"`
}

// Throughput is the result of the produce or consume scenario.
type Throughput struct {
	Topic      string `json:"topic"`
	Partitions int32  `json:"partitions"`
	// ReplicationFactor is the topic's replica count as Metadata lists
	// it; 0 if unknown.
	ReplicationFactor int           `json:"replication_factor,omitempty"`
	RecordSize        int           `json:"record_size"`
	Acks              string        `json:"acks,omitempty"`
	Compression       string        `json:"compression"`
	Rate              int64         `json:"rate,omitempty"`
	Records           int64         `json:"records"`
	Bytes             int64         `json:"bytes"`
	Elapsed           time.Duration `json:"elapsed_ns"`
	MBPerSec          float64       `json:"mb_per_sec"`
	RecsPerSec        float64       `json:"records_per_sec"`
	// LoopbackFraction is MBPerSec over the loopback figure, 0 if the
	// loopback scenario did not run.
	LoopbackFraction float64 `json:"loopback_fraction,omitempty"`
}

// Txn is the result of the txn scenario: the same produce load sent by
// idempotent producers, then by transactional producers committing every
// Interval.
type Txn struct {
	Interval      time.Duration `json:"interval_ns"`
	Idempotent    Throughput    `json:"idempotent"`
	Transactional Throughput    `json:"transactional"`
	// Transactions is how many transactions committed.
	Transactions int64 `json:"transactions"`
	// Ratio is Transactional.MBPerSec over Idempotent.MBPerSec.
	Ratio float64 `json:"ratio"`
}

// Offload is the condition the catchup scenario waits for before it reads
// (Config.WaitOffloaded).
type Offload struct {
	Topic string `json:"topic"`
	// WithinRecords is Config.OffloadedWithin: the wait ends once every
	// partition's local log start offset is at least its end offset minus
	// this many records.
	WithinRecords int64 `json:"within_records"`
}

// Catchup is the result of the catchup scenario: a fresh consumer with
// franz-go's default fetch settings replaying a topic from its log start.
type Catchup struct {
	Topic             string `json:"topic"`
	Partitions        int32  `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor,omitempty"`
	// Records and Bytes count the records, and their value bytes, below
	// the end offsets listed when the scenario started.
	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
	// RemoteRecords of Records were below their partition's local log
	// start offset (ListOffsets -4) when the scenario started, i.e. in the
	// broker's object tier only; RemoteFraction is RemoteRecords over the
	// records between the log start and end offsets then.
	RemoteRecords  int64   `json:"remote_records"`
	RemoteFraction float64 `json:"remote_fraction"`
	// FirstRecord runs from the moment the client began to write its
	// first Fetch request to the moment a poll delivered the first record;
	// FirstRecordFromStart from the client's creation (connection,
	// metadata and ListOffsets included) to the same moment.
	FirstRecord          time.Duration `json:"first_record_ns"`
	FirstRecordFromStart time.Duration `json:"first_record_from_start_ns"`
	// Elapsed runs from the first Fetch request to the delivery of the
	// last record; MBPerSec and RecsPerSec are over it.
	Elapsed    time.Duration `json:"elapsed_ns"`
	MBPerSec   float64       `json:"mb_per_sec"`
	RecsPerSec float64       `json:"records_per_sec"`
	// FetchMaxBytes and FetchMaxPartitionBytes are the consumer's
	// (franz-go's defaults).
	FetchMaxBytes          int32 `json:"fetch_max_bytes"`
	FetchMaxPartitionBytes int32 `json:"fetch_max_partition_bytes"`
	// WaitedOffloaded says whether the scenario first waited for the data
	// to be offloaded (see Report.Offload), and OffloadWait how long.
	WaitedOffloaded bool          `json:"waited_offloaded"`
	OffloadWait     time.Duration `json:"offload_wait_ns,omitempty"`
}

// Latency is the result of the latency or e2e scenario.
type Latency struct {
	Topic      string `json:"topic"`
	Partitions int32  `json:"partitions"`
	// ReplicationFactor is the topic's replica count as Metadata lists
	// it; 0 if unknown.
	ReplicationFactor int           `json:"replication_factor,omitempty"`
	Rate              int64         `json:"rate"`
	Records           int64         `json:"records"`
	Min               time.Duration `json:"min_ns"`
	Mean              time.Duration `json:"mean_ns"`
	P50               time.Duration `json:"p50_ns"`
	P99               time.Duration `json:"p99_ns"`
	P999              time.Duration `json:"p999_ns"`
	Max               time.Duration `json:"max_ns"`
	// SendLagP99 and SendLagMax say how late the generator issued sends
	// relative to the timeline; that lateness is part of every latency.
	SendLagP99 time.Duration `json:"send_lag_p99_ns"`
	SendLagMax time.Duration `json:"send_lag_max_ns"`
}

// newLatency summarizes a latency histogram and a send-lag histogram.
func newLatency(topic string, partitions int32, rate int64, lat, lag *Histogram) *Latency {
	return &Latency{
		Topic:      topic,
		Partitions: partitions,
		Rate:       rate,
		Records:    int64(lat.Count()),
		Min:        time.Duration(lat.Min()),
		Mean:       time.Duration(lat.Mean()),
		P50:        time.Duration(lat.ValueAtQuantile(0.50)),
		P99:        time.Duration(lat.ValueAtQuantile(0.99)),
		P999:       time.Duration(lat.ValueAtQuantile(0.999)),
		Max:        time.Duration(lat.Max()),
		SendLagP99: time.Duration(lag.ValueAtQuantile(0.99)),
		SendLagMax: time.Duration(lag.Max()),
	}
}

// Failover is the result of the failover scenario.
type Failover struct {
	Topic             string `json:"topic"`
	Partitions        int32  `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor,omitempty"`
	Rate              int64  `json:"rate"`
	// KilledNodeID and KilledPID name the agent that led partition 0 at
	// the end of the warm-up, and was killed.
	KilledNodeID int32 `json:"killed_node_id"`
	KilledPID    int   `json:"killed_pid"`
	// NewLeader is the first leader of partition 0 other than the killed
	// agent that Metadata named after the kill, and LeaderMoved when, after
	// the kill (polled every 50 ms). NewLeader is -1 if none was seen.
	NewLeader   int32         `json:"new_leader"`
	LeaderMoved time.Duration `json:"leader_moved_ns"`
	// Partition0 is the time from the kill to the acknowledgement of the
	// first record sent to partition 0 after the kill.
	Partition0 time.Duration `json:"partition0_ns"`
	// All is the same time for the partition that took longest.
	All time.Duration `json:"all_ns"`
	// Sent counts the records sent, Acked those acknowledged and Failed
	// those whose produce failed for good. With idempotence and retries
	// Failed should be 0.
	Sent   int64 `json:"sent"`
	Acked  int64 `json:"acked"`
	Failed int64 `json:"failed"`
	// FirstError is the error of the first record that failed.
	FirstError string `json:"first_error,omitempty"`
	// Latency is the produce latency, from intended send time to
	// acknowledgement, of every acknowledged record of the run: warm-up,
	// failover and after.
	Latency Latency `json:"latency"`
}

// WriteText writes r in the line format Run streams: the header, then one
// line per scenario in execution order, each followed by its memory line.
func (r *Report) WriteText(w io.Writer) error {
	lines := []string{headerLine(r.Header)}
	add := func(after Scenario, line string) {
		lines = append(lines, line)
		for _, s := range r.RSS {
			if s.After == string(after) {
				lines = append(lines, rssLine(s))
			}
		}
	}
	if r.Loopback != nil {
		add(ScenarioLoopback, loopbackLine(*r.Loopback))
	}
	if r.Produce != nil {
		add(ScenarioProduce, throughputLine(ScenarioProduce, *r.Produce, r.Loopback))
	}
	if r.Consume != nil {
		add(ScenarioConsume, throughputLine(ScenarioConsume, *r.Consume, r.Loopback))
	}
	if r.Offload != nil {
		lines = append(lines, offloadLine(*r.Offload))
	}
	if r.Catchup != nil {
		add(ScenarioCatchup, catchupLine(*r.Catchup))
	}
	if r.Txn != nil {
		add(ScenarioTxn, txnLine(*r.Txn))
	}
	if r.Latency != nil {
		add(ScenarioLatency, latencyLine(ScenarioLatency, *r.Latency))
	}
	if r.E2E != nil {
		add(ScenarioE2E, latencyLine(ScenarioE2E, *r.E2E))
	}
	if r.Failover != nil {
		add(ScenarioFailover, failoverLine(*r.Failover))
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

func headerLine(h Header) string {
	var b strings.Builder
	topic := h.Topic
	if topic == "" {
		topic = "fresh"
	}
	fmt.Fprintf(&b, "bench     bootstrap=%s", strings.Join(h.BootstrapServers, ","))
	if h.Brokers > 0 {
		fmt.Fprintf(&b, " brokers=%d", h.Brokers)
	}
	fmt.Fprintf(&b, " topic=%s parts=%d size=%d acks=%s comp=%s payload=%s",
		topic, h.Partitions, h.RecordSize, h.Acks, h.Compression, h.Payload)
	if h.Records > 0 {
		fmt.Fprintf(&b, " records=%d", h.Records)
	} else {
		fmt.Fprintf(&b, " duration=%s", h.Duration)
	}
	fmt.Fprintf(&b, " rate=%s latency_rate=%d/s producers=%d scenarios=%s",
		rateString(h.Rate), h.LatencyRate, h.Producers, joinScenarios(h.Scenarios))
	p := h.Producer
	fmt.Fprintf(&b, " | producer batch_max=%s buffered=%drec/%s linger=%s idempotent=%t inflight=%d partitioner=%s",
		iec(uint64(p.BatchMaxBytes)), p.MaxBufferedRecords, iec(uint64(p.MaxBufferedBytes)), p.Linger, p.Idempotent, p.MaxInflight, p.Partitioner)
	c := h.Consumer
	fmt.Fprintf(&b, " | consumer fetch_max=%s partition_max=%s e2e_max_wait=%s",
		iec(uint64(c.FetchMaxBytes)), iec(uint64(c.FetchMaxPartitionBytes)), c.E2EFetchMaxWait)
	if f := h.Failover; f != nil {
		fmt.Fprintf(&b, " | failover acks=all idempotent=true warmup=%s timeout=%s retry_backoff=%s metadata_min_age=%s",
			f.Warmup, f.Timeout, f.RetryBackoff, f.MetadataMinAge)
	}
	m := h.Machine
	fmt.Fprintf(&b, " | machine GOMAXPROCS=%d cpus=%d cpu=%q mem=%s %s/%s %s | %s",
		m.GOMAXPROCS, m.NumCPU, m.CPUModel, iec(m.MemTotalBytes), m.OS, m.Arch, m.GoVersion, h.Units)
	return b.String()
}

func loopbackLine(l Loopback) string {
	return fmt.Sprintf("%-9s 1 stream, %s writes  %.1f MB/s", ScenarioLoopback, iec(uint64(l.WriteSize)), l.MBPerSec)
}

func throughputLine(s Scenario, t Throughput, loop *Loopback) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s ", s)
	if t.Acks != "" {
		fmt.Fprintf(&b, "acks=%s ", t.Acks)
	}
	if t.ReplicationFactor > 0 {
		fmt.Fprintf(&b, "rf=%d ", t.ReplicationFactor)
	}
	fmt.Fprintf(&b, "size=%d parts=%d comp=%s ", t.RecordSize, t.Partitions, t.Compression)
	if t.Rate > 0 {
		fmt.Fprintf(&b, "rate=%d/s ", t.Rate)
	}
	fmt.Fprintf(&b, " %.1f MB/s  %.0f rec/s", t.MBPerSec, t.RecsPerSec)
	if loop != nil && loop.MBPerSec > 0 {
		fmt.Fprintf(&b, "  (%.2f of loopback %.0f MB/s)", t.MBPerSec/loop.MBPerSec, loop.MBPerSec)
	}
	return b.String()
}

func txnLine(x Txn) string {
	t := x.Transactional
	var rf string
	if t.ReplicationFactor > 0 {
		rf = fmt.Sprintf("rf=%d ", t.ReplicationFactor)
	}
	return fmt.Sprintf("%-9s acks=%s %ssize=%d parts=%d comp=%s interval=%s  idempotent=%.1fMB/s  transactional=%.1fMB/s  transactions=%d  ratio=%.2f",
		ScenarioTxn, t.Acks, rf, t.RecordSize, t.Partitions, t.Compression, x.Interval,
		x.Idempotent.MBPerSec, t.MBPerSec, x.Transactions, x.Ratio)
}

func offloadLine(o Offload) string {
	return fmt.Sprintf("%-9s topic=%s  wait until %s", "offload", o.Topic, offloadCriterion(o.WithinRecords))
}

func catchupLine(c Catchup) string {
	wait := "no offload wait"
	if c.WaitedOffloaded {
		wait = "offload wait " + seconds(c.OffloadWait)
	}
	return fmt.Sprintf("%-9s remote=%.2f  first=%s  %.1f MB/s  %.0f rec/s  "+
		"(records=%d remote_records=%d %sparts=%d; fresh consumer fetch_max=%s partition_max=%s; first record %s after client start; %s)",
		ScenarioCatchup, c.RemoteFraction, ms(c.FirstRecord), c.MBPerSec, c.RecsPerSec,
		c.Records, c.RemoteRecords, rfField(c.ReplicationFactor), c.Partitions,
		iec(uint64(c.FetchMaxBytes)), iec(uint64(c.FetchMaxPartitionBytes)), ms(c.FirstRecordFromStart), wait)
}

func latencyLine(s Scenario, l Latency) string {
	return fmt.Sprintf("%-9s %srate=%d/s  p50=%s p99=%s p999=%s max=%s  (n=%d, send lag p99=%s max=%s)",
		s, rfField(l.ReplicationFactor), l.Rate, ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max), l.Records, ms(l.SendLagP99), ms(l.SendLagMax))
}

func failoverLine(f Failover) string {
	l := f.Latency
	moved := "no new leader of partition 0 in metadata"
	if f.NewLeader >= 0 {
		moved = fmt.Sprintf("metadata named agent %d leader after %s", f.NewLeader, seconds(f.LeaderMoved))
	}
	line := fmt.Sprintf("%-9s killed=agent %d  partition0=%s  all=%s  failed=%d  "+
		"(pid %d; %s; acks=all %sparts=%d rate=%d/s; sent=%d acked=%d; latency p50=%s p99=%s max=%s, send lag p99=%s)",
		ScenarioFailover, f.KilledNodeID, seconds(f.Partition0), seconds(f.All), f.Failed,
		f.KilledPID, moved, rfField(f.ReplicationFactor), f.Partitions, f.Rate, f.Sent, f.Acked,
		ms(l.P50), ms(l.P99), ms(l.Max), ms(l.SendLagP99))
	if f.FirstError != "" {
		line += "  first error: " + f.FirstError
	}
	return line
}

func rssLine(r RSS) string {
	who := "broker"
	if r.NodeID != nil {
		who = fmt.Sprintf("agent=%d", *r.NodeID)
	}
	return fmt.Sprintf("%-9s %s pid=%d after=%s VmRSS=%.0f MiB VmHWM=%.0f MiB",
		"rss", who, r.PID, r.After, float64(r.VmRSSBytes)/(1<<20), float64(r.VmHWMBytes)/(1<<20))
}

// rfField is "rf=N " for a known replication factor, else "".
func rfField(rf int) string {
	if rf <= 0 {
		return ""
	}
	return "rf=" + strconv.Itoa(rf) + " "
}

// seconds formats d in seconds with two decimals.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

// ms formats d in milliseconds with two decimals.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// iec formats a byte count with binary units: 1MiB, 256MiB, 7.8GiB.
func iec(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == float64(uint64(v)) {
		return fmt.Sprintf("%d%s", uint64(v), units[i])
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}

func rateString(rate int64) string {
	if rate == 0 {
		return "unlimited"
	}
	return strconv.FormatInt(rate, 10) + "/s"
}

func joinScenarios(ss []Scenario) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ",")
}
