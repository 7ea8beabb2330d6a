package main

// End-to-end tests of `strata cost` against franz-go's kfake, a broker at
// $STRATA_TEST_BOOTSTRAP, and (cost_agent_test.go) a real Strata agent.
// A producer writes at a known rate during the sample; the figures are
// checked against what the broker stored, within broad tolerances — the
// sample is wall-clock time on a shared machine.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// producerRate is how often costProducer writes one record.
const producerRate = 10 * time.Millisecond

// costProducer writes one record every producerRate until stopped.
type costProducer struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	acked  atomic.Int64
	failed atomic.Value // first produce error
}

// startProducer starts a producer of value-sized records to topic,
// spread over its partitions.
func startCostProducer(t *testing.T, bootstrap, topic string, value []byte, opts ...kgo.Opt) *costProducer {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(bootstrap),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &costProducer{cancel: cancel}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer cl.Close()
		tick := time.NewTicker(producerRate)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				fctx, fcancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = cl.Flush(fctx)
				fcancel()
				return
			case <-tick.C:
				cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
					switch {
					case err == nil:
						p.acked.Add(1)
					case ctx.Err() == nil:
						p.failed.CompareAndSwap(nil, err)
					}
				})
			}
		}
	}()
	t.Cleanup(p.stop)
	return p
}

// stop stops the producer and waits for it.
func (p *costProducer) stop() {
	p.cancel()
	p.wg.Wait()
}

// waitFor polls cond every 20 ms until it holds or d passes.
func costWaitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not waiting for it to happen
	}
}

// newTestAdmin returns an admin client for bootstrap.
func costAdmin(t *testing.T, bootstrap string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// createTopic creates topic with partitions partitions and configs.
func costCreateTopic(t *testing.T, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	resp, err := adm.CreateTopic(t.Context(), partitions, -1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// waitRecords waits until every partition of topic holds at least n
// records.
func costWaitRecords(t *testing.T, adm *kadm.Client, topic string, n int64) {
	t.Helper()
	costWaitFor(t, 30*time.Second, fmt.Sprintf("%d records in each partition of %s", n, topic), func() bool {
		ends, err := adm.ListEndOffsets(t.Context(), topic)
		if err != nil || len(ends[topic]) == 0 {
			return false
		}
		for _, o := range ends[topic] {
			if o.Err != nil || o.Offset < n {
				return false
			}
		}
		return true
	})
}

// costStoredPerRecord is what topic's partition leaders store per record
// on disk now: their local log sizes over the records from their local
// log start to their end.
func costStoredPerRecord(t *testing.T, adm *kadm.Client, topic string) float64 {
	t.Helper()
	tds, err := adm.ListTopics(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := adm.DescribeAllLogDirs(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	dirs.Each(func(d kadm.DescribedLogDir) {
		if remoteDirName.MatchString(d.Dir) {
			return
		}
		for p, dp := range d.Topics[topic] {
			if tds[topic].Partitions[p].Leader == d.Broker {
				size += dp.Size
			}
		}
	})
	starts, err := adm.ListLocalLogStartOffsets(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var records int64
	for p, e := range ends[topic] {
		records += e.Offset - starts[topic][p].Offset
	}
	if records == 0 {
		t.Fatalf("%s holds no records", topic)
	}
	return float64(size) / float64(records)
}

// runCostJSON runs `strata cost ... --output json` and decodes it, after
// checking its shape.
func runCostJSON(t *testing.T, bootstrap string, args ...string) costReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	r := runCLI(t, ctx, "", append([]string{"cost", "--bootstrap-server", bootstrap, "--timeout", "20s", "--output", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("strata cost %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	whatIf := false
	for _, a := range args {
		whatIf = whatIf || a == "--what-if"
	}
	checkCostJSON(t, r.stdout, whatIf)
	var rep costReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkIngress checks a topic's measured ingress against a producer of
// one record every producerRate and what the broker stores per record.
func checkCostIngress(t *testing.T, tp costTopic, perRecord float64) {
	t.Helper()
	m := tp.Measured
	want := float64(time.Second / producerRate)
	if m.RecordsPerSec < want/4 || m.RecordsPerSec > want*1.5 {
		t.Errorf("records/s = %.1f, want about %.0f", m.RecordsPerSec, want)
	}
	if got := m.IngressBytesPerSec / m.RecordsPerSec; got < perRecord*0.6 || got > perRecord*1.5 {
		t.Errorf("ingress %.0f B/s over %.1f records/s = %.0f B/record; the broker stores %.0f", m.IngressBytesPerSec,
			m.RecordsPerSec, got, perRecord)
	}
}

func TestCostKfake(t *testing.T) {
	bootstrap := startKfake(t).ListenAddrs()[0]
	adm := costAdmin(t, bootstrap)
	const topic = "clicks"
	costCreateTopic(t, adm, topic, 2, nil)
	// Highly compressible values: zstd shrinks them many times.
	p := startCostProducer(t, bootstrap, topic, bytes.Repeat([]byte("strata cost "), 85), kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	costWaitRecords(t, adm, topic, 10)

	rep := runCostJSON(t, bootstrap, "--topic", topic, "--sample", "2s", "--what-if", "retention.ms=30d")
	p.stop()
	if err := p.failed.Load(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if len(rep.Topics) != 1 || rep.SampleSeconds < 1.9 || rep.Currency != "USD" {
		t.Fatalf("report: %+v", rep)
	}
	tp := rep.Topics[0]
	m := tp.Measured
	if tp.Partitions != 2 || tp.ReplicationFactor != 1 || !tp.Priced || m.IngressSource != "log_dirs" {
		t.Fatalf("topic: %+v", tp)
	}
	checkCostIngress(t, tp, costStoredPerRecord(t, adm, topic))
	if m.CompressionRatio == nil || *m.CompressionRatio < 3 || m.CompressionCodec != "zstd" {
		t.Errorf("compression: %v %q", m.CompressionRatio, m.CompressionCodec)
	}
	// kfake has no object tier: remote bytes are unknown, requests derived.
	if m.LocalBytes <= 0 || m.RemoteBytes != -1 || m.Requests.PutsSource != "model" {
		t.Errorf("measured: %+v", m)
	}
	if tp.Monthly.Strata.Total <= 0 || tp.Monthly.Classic.Total <= tp.Monthly.Strata.Total || rep.Total != tp.Monthly {
		t.Errorf("monthly: %+v, total %+v", tp.Monthly, rep.Total)
	}
	// 30 days instead of kfake's default 7 keep more in the object store.
	if tp.WhatIf == nil || !tp.WhatIf.Priced || tp.WhatIf.Delta.ObjectStorage <= 0 || rep.WhatIf.Delta != tp.WhatIf.Delta {
		t.Errorf("what-if: %+v / %+v", tp.WhatIf, rep.WhatIf)
	}

	// All topics by default, as tables.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	r := runCLI(t, ctx, "", "cost", "--bootstrap-server", bootstrap, "--sample", "500ms", "--price", "currency=EUR")
	if r.code != 0 || !strings.Contains(r.stderr, "sampling 1 topic(s) for 500ms") {
		t.Fatalf("table: %+v", r)
	}
	for _, want := range []string{"MONTHLY COST (EUR)", "\nclicks ", "\nTOTAL ", "Notes:", "remote.storage.enable is not reported"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, ctx, "", "cost", "--bootstrap-server", bootstrap, "--topic", "nope", "--sample", "1s")
	if r.code != 1 || !strings.Contains(r.stderr, `topic does not exist: "nope"`) {
		t.Errorf("unknown topic: %+v", r)
	}
}

// TestCostKfakeFallbacks covers the ways ingress bytes are found when
// log-dir growth is unusable.
func TestCostKfakeFallbacks(t *testing.T) {
	value := bytes.Repeat([]byte("x"), 1000)
	noCompression := kgo.ProducerBatchCompression(kgo.NoCompression())

	// Records deleted from partition 0 between the two snapshots: its
	// local log start moves, so its bytes come from offsets; partition
	// 1's from its log-dir growth.
	t.Run("segments deleted", func(t *testing.T) {
		bootstrap := startKfake(t).ListenAddrs()[0]
		adm := costAdmin(t, bootstrap)
		costCreateTopic(t, adm, "orders", 2, nil)
		p := startCostProducer(t, bootstrap, "orders", value, noCompression)
		costWaitRecords(t, adm, "orders", 10)
		deleted := false
		o := &costOptions{topics: []string{"orders"}, sample: 2 * time.Second, readFanout: 1, output: "json",
			wait: func(ctx context.Context, d time.Duration) error {
				starts, err := adm.ListStartOffsets(ctx, "orders")
				if err != nil {
					return err
				}
				to := kadm.Offsets{}
				to.AddOffset("orders", 0, starts["orders"][0].Offset+1, -1)
				resp, err := adm.DeleteRecords(ctx, to)
				if err == nil {
					err = resp.Error()
				}
				deleted = err == nil
				if err != nil {
					return err
				}
				return sleepCtx(ctx, d)
			}}
		plan, err := o.plan()
		if err != nil {
			t.Fatal(err)
		}
		co := &clientOptions{bootstrapServer: bootstrap, clientID: "cost-test", timeout: 20 * time.Second}
		var out bytes.Buffer
		if err := o.run(t.Context(), co, plan, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		p.stop()
		var rep costReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Topics) != 1 || !deleted {
			t.Fatalf("report %v, deleted %v:\n%s", err, deleted, out.String())
		}
		tp := rep.Topics[0]
		if tp.Measured.IngressSource != "log_dirs+offsets" {
			t.Errorf("source = %q", tp.Measured.IngressSource)
		}
		checkCostIngress(t, tp, costStoredPerRecord(t, adm, "orders"))
	})

	// A broker without DescribeLogDirs: bytes come from fetched batches.
	t.Run("no log dirs", func(t *testing.T) {
		vs := kversion.Stable()
		vs.SetMaxKeyVersion(int16(kmsg.DescribeLogDirs), -1)
		bootstrap := startKfake(t, kfake.MaxVersions(vs)).ListenAddrs()[0]
		adm := costAdmin(t, bootstrap)
		costCreateTopic(t, adm, "orders", 2, nil)
		p := startCostProducer(t, bootstrap, "orders", value, noCompression)
		costWaitRecords(t, adm, "orders", 10)
		rep := runCostJSON(t, bootstrap, "--sample", "2s")
		p.stop()
		tp := rep.Topics[0]
		m := tp.Measured
		if m.IngressSource != "fetched_batches" || m.LocalBytes != -1 || m.RemoteBytes != -1 ||
			!strings.Contains(strings.Join(rep.Notes, "|"), "DescribeLogDirs") {
			t.Fatalf("report: %+v", rep)
		}
		// An uncompressed batch of one record: the 61-byte header, the
		// record's ~10 bytes of framing and the 1,000-byte value; batches
		// of two records store a little less per record.
		checkCostIngress(t, tp, 1040)
		if m.CompressionRatio == nil || *m.CompressionRatio != 1 || m.CompressionCodec != "none" {
			t.Errorf("compression %v %q", m.CompressionRatio, m.CompressionCodec)
		}
	})
}

// TestCostExternal runs `strata cost` against the broker at
// $STRATA_TEST_BOOTSTRAP (e.g. a Strata cluster from `make cluster`).
func TestCostExternal(t *testing.T) {
	bootstrap := os.Getenv(envTestBootstrap)
	if bootstrap == "" {
		t.Skipf("%s is unset; set it to a broker address (e.g. localhost:9092 after 'make run') "+
			"to run strata cost against a real broker", envTestBootstrap)
	}
	adm := costAdmin(t, bootstrap)
	topic := fmt.Sprintf("strata-cost-test-%d", time.Now().UnixNano())
	costCreateTopic(t, adm, topic, 2, nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopic(ctx, topic)
	})
	p := startCostProducer(t, bootstrap, topic, bytes.Repeat([]byte("x"), 1000), kgo.ProducerBatchCompression(kgo.NoCompression()))
	costWaitRecords(t, adm, topic, 10)
	rep := runCostJSON(t, bootstrap, "--topic", topic, "--sample", "5s", "--what-if", "retention.ms=30d")
	p.stop()
	tp := rep.Topics[0]
	if !tp.Priced || tp.Measured.LocalBytes <= 0 || tp.Monthly.Strata.Total <= 0 {
		t.Fatalf("topic: %+v", tp)
	}
	checkCostIngress(t, tp, costStoredPerRecord(t, adm, topic))
}
