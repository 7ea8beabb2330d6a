package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/protocol"
)

// startTestAgent runs an in-process agent with an embedded etcd in a temp
// dir on a random loopback port.
func startTestAgent(t *testing.T, mod ...func(*Config)) *Agent {
	t.Helper()
	cfg := NewConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, m := range mod {
		m(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close agent: %v", err)
		}
	})
	return a
}

func handle(t *testing.T, a *Agent, req kmsg.Request) kmsg.Response {
	t.Helper()
	resp, err := a.Handle(t.Context(), &protocol.Request{Body: req})
	if err != nil {
		t.Fatalf("%T v%d: %v", req, req.GetVersion(), err)
	}
	return resp
}

// TestEveryAPIHasHandler sends every advertised API at its lowest and highest
// version (with an empty body) and expects a response of the matching kind.
func TestEveryAPIHasHandler(t *testing.T) {
	a := startTestAgent(t)
	for key, vr := range protocol.APIs() {
		for _, v := range []int16{vr.Min, vr.Max} {
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			if p, ok := req.(*kmsg.ProduceRequest); ok {
				p.Acks = -1
			}
			resp, err := a.Handle(t.Context(), &protocol.Request{Body: req})
			if err != nil {
				t.Errorf("%s v%d: %v", kmsg.NameForKey(key), v, err)
				continue
			}
			if resp == nil || resp.Key() != key {
				t.Errorf("%s v%d: response %T", kmsg.NameForKey(key), v, resp)
			}
		}
	}
}

func TestValidateTopicName(t *testing.T) {
	long := make([]byte, 250)
	for i := range long {
		long[i] = 'a'
	}
	for name, ok := range map[string]bool{
		"orders": true, "a.b_c-D9": true, string(long[:249]): true,
		"": false, ".": false, "..": false, "a/b": false, "a b": false, "ü": false, string(long): false,
	} {
		err := validateTopicName(name)
		if (err == nil) != ok {
			t.Errorf("validateTopicName(%q) = %v, want ok=%v", name, err, ok)
		}
		if err != nil && !errors.Is(err, errInvalidTopic) {
			t.Errorf("validateTopicName(%q) = %v, not errInvalidTopic", name, err)
		}
	}
}

func TestValidateTopicConfigs(t *testing.T) {
	cases := []struct {
		configs map[string]string
		ok      bool
	}{
		{map[string]string{"retention.ms": "-1", "segment.bytes": "1048576"}, true},
		{map[string]string{"message.timestamp.type": "LogAppendTime", "flush.messages": "1"}, true},
		{map[string]string{"retention.ms": "soon"}, false},
		{map[string]string{"retention.ms": "-2"}, false},
		{map[string]string{"segment.bytes": "100"}, false},
		{map[string]string{"cleanup.policy": "compact"}, false},
		{map[string]string{"compression.type": "zstd"}, false},
		{map[string]string{"no.such.config": "1"}, false},
		{map[string]string{"min.insync.replicas": "0"}, false},
		{map[string]string{"segment.bytes": "2048", "max.message.bytes": "4096"}, false},
	}
	for _, c := range cases {
		err := validateTopicConfigs(c.configs)
		if (err == nil) != c.ok {
			t.Errorf("validateTopicConfigs(%v) = %v, want ok=%v", c.configs, err, c.ok)
		}
		if err != nil && errorCode(err) != kerr.InvalidConfig.Code {
			t.Errorf("validateTopicConfigs(%v): code %d, want INVALID_CONFIG", c.configs, errorCode(err))
		}
	}
	cfg := NewConfig()
	tc := cfg.effectiveTopicConfig(map[string]string{"retention.ms": "60000", "message.timestamp.type": "LogAppendTime", "flush.messages": "1"})
	if tc.log.RetentionMS != time.Minute || tc.retentionMS != time.Minute || !tc.logAppendTime || tc.log.FlushMessages != 1 {
		t.Errorf("effective config = %+v", tc)
	}
	// With remote storage, the local log keeps local.retention.ms.
	tc = cfg.effectiveTopicConfig(map[string]string{"retention.ms": "86400000", "local.retention.ms": "60000"})
	if !tc.remote || tc.retentionMS != 24*time.Hour || tc.log.RetentionMS != time.Minute {
		t.Errorf("tiered effective config = %+v", tc)
	}
	if err := validateTopicConfigs(map[string]string{"retention.ms": "1000", "local.retention.ms": "2000"}); err == nil {
		t.Error("local.retention.ms above retention.ms accepted")
	}
}

func TestIncrementalEdit(t *testing.T) {
	set := kmsg.IncrementalAlterConfigOpSet
	del := kmsg.IncrementalAlterConfigOpDelete
	v := func(s string) *string { return &s }
	got, err := incrementalEdit([]kmsg.IncrementalAlterConfigsRequestResourceConfig{
		{Name: "retention.ms", Op: set, Value: v("1000")},
		{Name: "segment.ms", Op: del},
	})(map[string]string{"segment.ms": "5", "flush.ms": "7"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["retention.ms"] != "1000" || got["flush.ms"] != "7" {
		t.Fatalf("edit = %v", got)
	}
	_, err = incrementalEdit([]kmsg.IncrementalAlterConfigsRequestResourceConfig{
		{Name: "retention.ms", Op: kmsg.IncrementalAlterConfigOpAppend, Value: v("1")},
	})(nil)
	if errorCode(err) != kerr.InvalidConfig.Code {
		t.Fatalf("APPEND to a non-list: %v", err)
	}
}

// TestFetchWakesOnProduce: a fetch long-polling an empty partition returns
// as soon as a record is produced, well before its max wait.
func TestFetchWakesOnProduce(t *testing.T) {
	a := startTestAgent(t)
	if _, err := a.createTopic(t.Context(), topicSpec{name: "wake", partitions: 1, replicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	fetch := kmsg.NewPtrFetchRequest()
	fetch.SetVersion(11)
	fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes = 60_000, 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "wake"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	fetch.Topics = append(fetch.Topics, rt)

	done := make(chan *protocol.FetchStream, 1)
	go func() {
		resp, _ := a.Handle(context.Background(), &protocol.Request{Body: fetch})
		done <- resp.(*protocol.FetchStream)
	}()
	batch, err := protocol.AppendBatch(nil, protocol.BatchHeader{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1},
		protocol.CodecNone, []protocol.Record{{Value: []byte("hello")}})
	if err != nil {
		t.Fatal(err)
	}
	produce := kmsg.NewPtrProduceRequest()
	produce.SetVersion(9)
	produce.Acks = -1
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "wake"
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = batch
	pt.Partitions = append(pt.Partitions, pp)
	produce.Topics = append(produce.Topics, pt)
	presp := handle(t, a, produce).(*kmsg.ProduceResponse)
	if code := presp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("produce: %v", kerr.ErrorForCode(code))
	}
	select {
	case resp := <-done:
		defer resp.Release()
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.HighWatermark != 1 || len(resp.Sections[0][0]) != 1 || resp.Sections[0][0][0].Length != int64(len(batch)) {
			t.Fatalf("fetch: error %d, hw %d, sections %v", p.ErrorCode, p.HighWatermark, resp.Sections)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("fetch was not woken by the produce")
	}
}
