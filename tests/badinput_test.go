package tests

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/protocol"
)

// rawFrame encodes req as a complete request frame.
func rawFrame(req kmsg.Request, corr int32) []byte {
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw-test"))
	return f.AppendRequest(nil, req, corr)
}

// sizePrefixed returns body with a big-endian int32 length in front.
func sizePrefixed(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// expectClosed fails unless the agent closes conn (EOF or reset) in time.
func expectClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1024)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after bad input")
		}
		return // EOF or connection reset
	}
}

// readResponse reads one response frame and returns its correlation id and
// the bytes after it.
func readResponse(t *testing.T, conn net.Conn) (int32, []byte) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		t.Fatalf("read response size: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(conn, body); err != nil {
		t.Fatalf("read response: %v", err)
	}
	return int32(binary.BigEndian.Uint32(body)), body[4:]
}

// rawRequest sends req at exactly its set version on a fresh connection and
// decodes the response, bypassing any client-side version negotiation.
func rawRequest(t *testing.T, addr string, req kmsg.Request) kmsg.Response {
	t.Helper()
	resp, err := tryRawRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// tryRawRequest is rawRequest returning errors instead of failing the test,
// for use off the test goroutine.
func tryRawRequest(addr string, req kmsg.Request) (kmsg.Response, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(rawFrame(req, 1)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, fmt.Errorf("read response size: %w", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	body = body[4:] // correlation id
	resp := req.ResponseKind()
	if resp.IsFlexible() && req.Key() != 18 {
		body = body[1:] // empty response-header tag buffer
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decode %T: %w", resp, err)
	}
	return resp, nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestMalformedFramesKeepServing sends bad frames on raw connections: each
// such connection is closed, while an established client keeps working.
func TestMalformedFramesKeepServing(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	topic := "survivor"
	createTopic(t, ag.addr, topic, 1, nil)
	good := newClient(t, ag.addr)
	produceSync(t, good, &kgo.Record{Topic: topic, Value: []byte("before")})

	meta := rawFrame(kmsg.NewPtrMetadataRequest(), 7)
	unknownKey := append([]byte(nil), meta...)
	binary.BigEndian.PutUint16(unknownKey[4:], 9999)
	badVersion := append([]byte(nil), meta...)
	binary.BigEndian.PutUint16(badVersion[6:], 99) // Metadata v99
	cases := map[string][]byte{
		"garbage body":           sizePrefixed([]byte("this is not a kafka request at all")),
		"negative size":          {0xff, 0xff, 0xff, 0xf0, 1, 2, 3},
		"oversized frame":        {0x7f, 0xff, 0xff, 0xff, 0, 0},
		"tiny frame":             sizePrefixed([]byte{0, 3}),
		"unknown api key":        unknownKey,
		"unsupported version":    badVersion,
		"truncated body":         sizePrefixed(meta[4 : len(meta)-1]),
		"size beyond data, eof":  {0, 0, 1, 0, 0, 3, 0, 12},
		"produce body truncated": sizePrefixed(rawFrame(kmsg.NewPtrProduceRequest(), 1)[4:15]),
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			c := dial(t, ag.addr)
			if _, err := c.Write(frame); err != nil {
				t.Fatal(err)
			}
			if name == "size beyond data, eof" {
				_ = c.(*net.TCPConn).CloseWrite()
			}
			expectClosed(t, c)
		})
	}
	// The agent and the established client still work.
	produceSync(t, good, &kgo.Record{Topic: topic, Value: []byte("after")})
	cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consumeN(t, cons, 2, 10*time.Second)
	if string(got[0].Value) != "before" || string(got[1].Value) != "after" {
		t.Fatalf("got %q, %q", got[0].Value, got[1].Value)
	}
}

// TestPipelinedRequestsInOrder writes many requests before reading any
// response: the responses come back in order with matching correlation ids.
func TestPipelinedRequestsInOrder(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	c := dial(t, ag.addr)
	var out []byte
	for i := range 50 {
		var req kmsg.Request = kmsg.NewPtrApiVersionsRequest()
		if i%2 == 1 {
			req = kmsg.NewPtrMetadataRequest()
			req.SetVersion(9) // flexible header
		}
		out = append(out, rawFrame(req, int32(1000+i))...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		corr, _ := readResponse(t, c)
		if corr != int32(1000+i) {
			t.Fatalf("response %d has correlation id %d, want %d", i, corr, 1000+i)
		}
	}
}

// TestApiVersionsTooNew: a client asking ApiVersions at a version the agent
// lacks gets a v0 answer with UNSUPPORTED_VERSION and the API list (KIP-511).
func TestApiVersionsTooNew(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	c := dial(t, ag.addr)
	frame := rawFrame(kmsg.NewPtrApiVersionsRequest(), 42)
	binary.BigEndian.PutUint16(frame[6:], 99)
	if _, err := c.Write(frame); err != nil {
		t.Fatal(err)
	}
	corr, body := readResponse(t, c)
	if corr != 42 {
		t.Fatalf("correlation id %d", corr)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decode v0 response: %v", err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code || len(resp.ApiKeys) == 0 {
		t.Fatalf("error %d with %d api keys; want UNSUPPORTED_VERSION and the list", resp.ErrorCode, len(resp.ApiKeys))
	}
}

// produceRaw sends one Produce request for topic-partition with records
// and returns the partition's error code.
func produceRaw(t *testing.T, addr string, topic string, partition int32, acks int16, records []byte) int16 {
	t.Helper()
	if acks == 0 {
		t.Fatal("produceRaw needs a response; acks=0 has none")
	}
	code, err := tryProduceRaw(addr, topic, partition, acks, records)
	if err != nil {
		t.Fatalf("produce: %v", err)
	}
	return code
}

// tryProduceRaw is produceRaw returning errors instead of failing the test.
func tryProduceRaw(addr string, topic string, partition int32, acks int16, records []byte) (int16, error) {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks, req.TimeoutMillis = acks, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := tryRawRequest(addr, req)
	if err != nil {
		return 0, err
	}
	return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode, nil
}

func testBatch(t *testing.T, values ...string) []byte {
	t.Helper()
	var recs []protocol.Record
	for _, v := range values {
		recs = append(recs, protocol.Record{Value: []byte(v), Timestamp: time.Now().UnixMilli()})
	}
	h := protocol.BatchHeader{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, FirstTimestamp: time.Now().UnixMilli()}
	b, err := protocol.AppendBatch(nil, h, protocol.CodecNone, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProduceBadBatches: every malformed batch gets its Kafka error code and
// nothing of it is stored.
func TestProduceBadBatches(t *testing.T) {
	t.Parallel()
	ag := startAgent(t, "--auto-create-topics=false")
	topic := "strict"
	createTopic(t, ag.addr, topic, 1, nil)
	good := testBatch(t, "ok")
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-1] ^= 0xff
	magic1 := append([]byte(nil), good...)
	magic1[16] = 1
	truncated := good[:len(good)-3]
	twoBatches := append(append([]byte(nil), good...), good...)
	cases := []struct {
		name    string
		topic   string
		part    int32
		acks    int16
		records []byte
		want    *kerr.Error
	}{
		{"bad crc", topic, 0, -1, badCRC, kerr.CorruptMessage},
		{"magic v1", topic, 0, -1, magic1, kerr.InvalidRecord},
		{"truncated batch", topic, 0, -1, truncated, kerr.CorruptMessage},
		{"two batches", topic, 0, -1, twoBatches, kerr.InvalidRecord},
		{"no batch", topic, 0, -1, nil, kerr.InvalidRecord},
		{"bad acks", topic, 0, 5, good, kerr.InvalidRequiredAcks},
		{"unknown partition", topic, 7, -1, good, kerr.UnknownTopicOrPartition},
		{"unknown topic", "nope", 0, -1, good, kerr.UnknownTopicOrPartition},
	}
	for _, c := range cases {
		if code := produceRaw(t, ag.addr, c.topic, c.part, c.acks, c.records); code != c.want.Code {
			t.Errorf("%s: error %v, want %v", c.name, kerr.ErrorForCode(code), c.want)
		}
	}
	if code := produceRaw(t, ag.addr, topic, 0, -1, good); code != 0 {
		t.Fatalf("good batch after bad ones: %v", kerr.ErrorForCode(code))
	}
	cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consumeN(t, cons, 1, 10*time.Second)
	if string(got[0].Value) != "ok" || got[0].Offset != 0 {
		t.Fatalf("stored %q at %d; only the good batch should be at offset 0", got[0].Value, got[0].Offset)
	}
}

// TestFetchErrors: out-of-range offsets and unknown topics get their codes.
func TestFetchErrors(t *testing.T) {
	t.Parallel()
	ag := startAgent(t, "--auto-create-topics=false")
	topic := "fetcherr"
	createTopic(t, ag.addr, topic, 1, nil)
	cl := newClient(t, ag.addr)
	produceSync(t, cl, &kgo.Record{Topic: topic, Value: []byte("x")})
	fetch := func(topic string, offset int64) int16 {
		req := kmsg.NewPtrFetchRequest()
		req.SetVersion(11)
		req.MaxWaitMillis, req.MaxBytes = 100, 1<<20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.FetchOffset, rp.PartitionMaxBytes = offset, 1<<20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := rawRequest(t, ag.addr, req).(*kmsg.FetchResponse)
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	if code := fetch(topic, 5); code != kerr.OffsetOutOfRange.Code {
		t.Errorf("offset past end: %v", kerr.ErrorForCode(code))
	}
	if code := fetch(topic, -3); code != kerr.OffsetOutOfRange.Code {
		t.Errorf("negative offset: %v", kerr.ErrorForCode(code))
	}
	if code := fetch("nope", 0); code != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown topic: %v", kerr.ErrorForCode(code))
	}
	if code := fetch(topic, 1); code != 0 {
		t.Errorf("fetch at end: %v", kerr.ErrorForCode(code))
	}
}

// TestCreateTopicsErrors: each invalid topic gets its own error code.
func TestCreateTopicsErrors(t *testing.T) {
	t.Parallel()
	ag := startAgent(t)
	cl := newClient(t, ag.addr)
	createTopic(t, ag.addr, "exists", 1, nil)
	str := func(s string) *string { return &s }
	cases := []struct {
		name    string
		parts   int32
		rf      int16
		configs map[string]*string
		want    *kerr.Error
	}{
		{"bad/name", 1, 1, nil, kerr.InvalidTopicException},
		{"..", 1, 1, nil, kerr.InvalidTopicException},
		{"zero-parts", 0, 1, nil, kerr.InvalidPartitions},
		{"rf-too-big", 1, 3, nil, kerr.InvalidReplicationFactor},
		{"unknown-config", 1, 1, map[string]*string{"no.such.config": str("1")}, kerr.InvalidConfig},
		{"bad-value", 1, 1, map[string]*string{"retention.ms": str("soon")}, kerr.InvalidConfig},
		{"compacted", 1, 1, map[string]*string{"cleanup.policy": str("compact")}, kerr.InvalidConfig},
		{"exists", 1, 1, nil, kerr.TopicAlreadyExists},
	}
	for _, c := range cases {
		req := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = c.name, c.parts, c.rf
		for k, v := range c.configs {
			rc := kmsg.NewCreateTopicsRequestTopicConfig()
			rc.Name, rc.Value = k, v
			rt.Configs = append(rt.Configs, rc)
		}
		req.Topics = append(req.Topics, rt)
		req.TimeoutMillis = 5000
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		got := resp.Topics[0]
		if got.ErrorCode != c.want.Code {
			t.Errorf("%s: %v, want %v", c.name, kerr.ErrorForCode(got.ErrorCode), c.want)
		}
		if got.ErrorMessage == nil || *got.ErrorMessage == "" {
			t.Errorf("%s: no error message", c.name)
		}
	}
}
