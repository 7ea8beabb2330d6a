package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// requestFrame encodes req the way franz-go's client does and returns the
// frame without its size prefix.
func requestFrame(tb testing.TB, req kmsg.Request, correlationID int32, clientID *string) []byte {
	tb.Helper()
	f := kmsg.NewRequestFormatter()
	if clientID != nil {
		f = kmsg.NewRequestFormatter(kmsg.FormatterClientID(*clientID))
	}
	b := f.AppendRequest(nil, req, correlationID)
	if got := int(binary.BigEndian.Uint32(b)); got != len(b)-4 {
		tb.Fatalf("formatter size prefix %d, frame %d", got, len(b)-4)
	}
	return b[4:]
}

// sampleRequests returns requests with non-default fields for the APIs
// Strata serves, at the given version.
func sampleRequests(tb testing.TB) []kmsg.Request {
	tb.Helper()
	batch, err := AppendBatch(nil, BatchHeader{ProducerID: -1, BaseSequence: -1, PartitionLeaderEpoch: -1},
		CodecNone, []Record{{Timestamp: 1700000000000, Key: []byte("k"), Value: []byte("v")}})
	if err != nil {
		tb.Fatal(err)
	}
	produce := kmsg.NewPtrProduceRequest()
	produce.Version = 11
	produce.Acks = -1
	produce.TimeoutMillis = 30000
	produce.TransactionID = kmsg.StringPtr("txn")
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "orders"
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Partition = 3
	pp.Records = batch
	pt.Partitions = append(pt.Partitions, pp)
	produce.Topics = append(produce.Topics, pt)

	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version = 16
	fetch.MaxWaitMillis = 500
	fetch.MinBytes = 1
	fetch.SessionEpoch = -1
	ft := kmsg.NewFetchRequestTopic()
	ft.TopicID = [16]byte{1, 2, 3}
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition = 1
	fp.FetchOffset = 42
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)

	metadata := kmsg.NewPtrMetadataRequest()
	metadata.Version = 12
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr("orders")
	metadata.Topics = append(metadata.Topics, mt)

	apiVersions := kmsg.NewPtrApiVersionsRequest()
	apiVersions.Version = 3
	apiVersions.ClientSoftwareName = "strata-test"
	apiVersions.ClientSoftwareVersion = "1.0"

	listOffsets := kmsg.NewPtrListOffsetsRequest()
	listOffsets.Version = 8
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = "orders"
	lp := kmsg.NewListOffsetsRequestTopicPartition()
	lp.Timestamp = -1
	lt.Partitions = append(lt.Partitions, lp)
	listOffsets.Topics = append(listOffsets.Topics, lt)

	createTopics := kmsg.NewPtrCreateTopicsRequest()
	createTopics.Version = 7
	ct := kmsg.NewCreateTopicsRequestTopic()
	ct.Topic = "new"
	ct.NumPartitions = 3
	ct.ReplicationFactor = 1
	createTopics.Topics = append(createTopics.Topics, ct)

	initPID := kmsg.NewPtrInitProducerIDRequest()
	initPID.Version = 5
	initPID.TransactionTimeoutMillis = 60000

	describeCluster := kmsg.NewPtrDescribeClusterRequest()
	describeCluster.Version = 1

	return []kmsg.Request{produce, fetch, metadata, apiVersions, listOffsets, createTopics, initPID, describeCluster}
}

func TestParseRequestRoundTrip(t *testing.T) {
	clientID := "client-1"
	for _, req := range sampleRequests(t) {
		for _, id := range []*string{nil, &clientID} {
			frame := requestFrame(t, req, 77, id)
			got, err := ParseRequest(frame)
			if err != nil {
				t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
			}
			checkHeader(t, got.Header, req, 77, id)
			if want, have := req.AppendTo(nil), got.Body.AppendTo(nil); !bytes.Equal(want, have) {
				t.Fatalf("%s v%d: body re-encodes differently", kmsg.NameForKey(req.Key()), req.GetVersion())
			}
		}
	}
}

// TestParseRequestEveryServedVersion decodes a default request of every
// API at every version Strata advertises.
func TestParseRequestEveryServedVersion(t *testing.T) {
	for key, r := range APIs() {
		for v := r.Min; v <= r.Max; v++ {
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			frame := requestFrame(t, req, int32(v), kmsg.StringPtr("c"))
			got, err := ParseRequest(frame)
			if err != nil {
				t.Fatalf("%s v%d: %v", kmsg.NameForKey(key), v, err)
			}
			checkHeader(t, got.Header, req, int32(v), kmsg.StringPtr("c"))
			if got.Body.GetVersion() != v || got.Body.Key() != key {
				t.Fatalf("%s v%d: body is %s v%d", kmsg.NameForKey(key), v, kmsg.NameForKey(got.Body.Key()), got.Body.GetVersion())
			}
		}
	}
}

func checkHeader(t *testing.T, h RequestHeader, req kmsg.Request, corr int32, clientID *string) {
	t.Helper()
	if h.APIKey != req.Key() || h.APIVersion != req.GetVersion() || h.CorrelationID != corr {
		t.Fatalf("header %+v, want key %d version %d correlation %d", h, req.Key(), req.GetVersion(), corr)
	}
	if h.Flexible != req.IsFlexible() {
		t.Fatalf("%s v%d: Flexible = %v, want %v", kmsg.NameForKey(req.Key()), req.GetVersion(), h.Flexible, req.IsFlexible())
	}
	switch {
	case clientID == nil && h.ClientID != nil:
		t.Fatalf("client id %q, want null", *h.ClientID)
	case clientID != nil && (h.ClientID == nil || *h.ClientID != *clientID):
		t.Fatalf("client id %v, want %q", h.ClientID, *clientID)
	}
}

// appendHeader hand-builds a request header.
func appendHeader(dst []byte, key, version int16, corr int32, clientID *string, tags [][2][]byte, flexible bool) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(key))
	dst = binary.BigEndian.AppendUint16(dst, uint16(version))
	dst = binary.BigEndian.AppendUint32(dst, uint32(corr))
	if clientID == nil {
		dst = binary.BigEndian.AppendUint16(dst, 0xffff)
	} else {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(*clientID)))
		dst = append(dst, *clientID...)
	}
	if flexible {
		dst = binary.AppendUvarint(dst, uint64(len(tags)))
		for _, tag := range tags {
			dst = append(dst, tag[0]...)
			dst = binary.AppendUvarint(dst, uint64(len(tag[1])))
			dst = append(dst, tag[1]...)
		}
	}
	return dst
}

func TestParseRequestHeaderTags(t *testing.T) {
	body := kmsg.NewPtrApiVersionsRequest()
	body.Version = 3
	body.ClientSoftwareName = "sw"
	body.ClientSoftwareVersion = "9"
	tags := [][2][]byte{{{0}, []byte("xyz")}, {{5}, nil}, {{0x80, 0x01}, []byte("long key")}}
	frame := appendHeader(nil, 18, 3, 9, kmsg.StringPtr("id"), tags, true)
	frame = body.AppendTo(frame)
	req, err := ParseRequest(frame)
	if err != nil {
		t.Fatal(err)
	}
	got := req.Body.(*kmsg.ApiVersionsRequest)
	if !req.Header.Flexible || got.ClientSoftwareName != "sw" || got.ClientSoftwareVersion != "9" {
		t.Fatalf("header %+v body %+v", req.Header, got)
	}
}

func TestParseRequestErrors(t *testing.T) {
	apiV3 := kmsg.NewPtrApiVersionsRequest()
	apiV3.Version = 3
	good := requestFrame(t, apiV3, 1, kmsg.StringPtr("abc"))
	fetchV3 := kmsg.NewPtrFetchRequest()
	fetchV3.Version = 3
	apiV4 := kmsg.NewPtrApiVersionsRequest()
	apiV4.Version = 4
	controlledShutdown := kmsg.NewPtrControlledShutdownRequest()
	controlledShutdown.Version = 1

	tests := []struct {
		name       string
		frame      []byte
		want       error
		wantHeader bool
	}{
		{"empty", nil, ErrMalformedFrame, false},
		{"seven bytes", good[:7], ErrMalformedFrame, false},
		{"no client id", good[:8], ErrMalformedFrame, true},
		{"truncated client id", good[:11], ErrMalformedFrame, true},
		{"missing tags", good[:13], ErrMalformedFrame, true},
		{"truncated tag", appendHeader(nil, 18, 3, 1, nil, [][2][]byte{{{1}, []byte("abcdef")}}, true)[:14], ErrMalformedFrame, true},
		{"truncated body", good[:len(good)-1], ErrMalformedFrame, true},
		{"unknown key", appendHeader(nil, 999, 0, 1, nil, nil, false), ErrUnknownAPIKey, true},
		{"negative key", appendHeader(nil, -1, 0, 1, nil, nil, false), ErrUnknownAPIKey, true},
		{"unserved key", requestFrame(t, controlledShutdown, 1, nil), ErrUnknownAPIKey, true},
		{"old fetch", requestFrame(t, fetchV3, 1, nil), ErrUnsupportedVersion, true},
		{"new api versions", requestFrame(t, apiV4, 1, nil), ErrUnsupportedVersion, true},
	}
	// A client id length below -1.
	bad := appendHeader(nil, 18, 0, 1, nil, nil, false)
	binary.BigEndian.PutUint16(bad[8:], 0xfffe)
	tests = append(tests, struct {
		name       string
		frame      []byte
		want       error
		wantHeader bool
	}{"client id length -2", bad, ErrMalformedFrame, true})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseRequest(tc.frame)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if (req != nil) != tc.wantHeader {
				t.Fatalf("request = %+v, want header: %v", req, tc.wantHeader)
			}
			if req != nil {
				if req.Body != nil {
					t.Fatalf("body %T returned with error", req.Body)
				}
				if req.Header.CorrelationID != 1 {
					t.Fatalf("correlation id %d", req.Header.CorrelationID)
				}
			}
		})
	}
}

func TestParseRequestTooNewApiVersionsKeepsCorrelation(t *testing.T) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 5
	got, err := ParseRequest(requestFrame(t, req, 4242, kmsg.StringPtr("future")))
	if !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("err = %v", err)
	}
	if got.Header.CorrelationID != 4242 || got.Header.APIVersion != 5 || got.Header.ClientID == nil || *got.Header.ClientID != "future" {
		t.Fatalf("header %+v", got.Header)
	}
}

// TestParseRequestAliasesRecords proves the produce records are not copied
// out of the frame.
func TestParseRequestAliasesRecords(t *testing.T) {
	produce := sampleRequests(t)[0].(*kmsg.ProduceRequest)
	frame := requestFrame(t, produce, 1, nil)
	req, err := ParseRequest(frame)
	if err != nil {
		t.Fatal(err)
	}
	records := req.Body.(*kmsg.ProduceRequest).Topics[0].Partitions[0].Records
	if !within(records, frame) {
		t.Fatal("records were copied out of the frame")
	}
}

// within reports whether sub lies inside the memory of b.
func within(sub, b []byte) bool {
	if len(sub) == 0 || len(b) == 0 {
		return false
	}
	s, lo := uintptr(unsafe.Pointer(&sub[0])), uintptr(unsafe.Pointer(&b[0]))
	return s >= lo && s+uintptr(len(sub)) <= lo+uintptr(len(b))
}

func TestAppendResponse(t *testing.T) {
	metadata := kmsg.NewPtrMetadataResponse()
	metadata.ClusterID = kmsg.StringPtr("cluster")
	tests := []struct {
		name     string
		resp     kmsg.Response
		version  int16
		wantTags bool
	}{
		{"metadata v8 (not flexible)", metadata, 8, false},
		{"metadata v12 (flexible)", metadata, 12, true},
		{"api versions v0", ApiVersionsResponse(0, 0), 0, false},
		{"api versions v3 (flexible, header v0)", ApiVersionsResponse(3, 0), 3, false},
		{"produce v11 (flexible)", kmsg.NewPtrProduceResponse(), 11, true},
		{"produce v8", kmsg.NewPtrProduceResponse(), 8, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.resp.SetVersion(tc.version)
			prefix := []byte("keep")
			b := AppendResponse(prefix, -559038737, tc.resp)
			if string(b[:4]) != "keep" {
				t.Fatal("dst prefix clobbered")
			}
			b = b[4:]
			frame, err := ReadFrame(bytes.NewReader(b), 1<<20, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(frame) != len(b)-4 {
				t.Fatalf("size prefix %d, have %d bytes", len(frame), len(b)-4)
			}
			if corr := int32(binary.BigEndian.Uint32(frame)); corr != -559038737 {
				t.Fatalf("correlation id %d", corr)
			}
			body := frame[4:]
			if tc.wantTags {
				if body[0] != 0 {
					t.Fatalf("header tag count %d", body[0])
				}
				body = body[1:]
			}
			want := tc.resp.AppendTo(nil)
			if !bytes.Equal(body, want) {
				t.Fatalf("body differs from kmsg encoding")
			}
			// And the client side decodes it.
			decoded := kmsg.ResponseForKey(tc.resp.Key())
			decoded.SetVersion(tc.version)
			if err := decoded.ReadFrom(body); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestParseHeaderTailV0 covers request header v0 (ControlledShutdown v0
// only), which has no client id: nothing after the correlation id belongs
// to the header.
func TestParseHeaderTailV0(t *testing.T) {
	h := RequestHeader{APIKey: int16(kmsg.ControlledShutdown), APIVersion: 0}
	body := []byte{0, 0, 0, 7}
	rest, err := parseHeaderTail(&h, body)
	if err != nil || !bytes.Equal(rest, body) || h.ClientID != nil {
		t.Fatalf("rest %x, client id %v, err %v", rest, h.ClientID, err)
	}
	// The same bytes as a v1 header: an empty client id, then the body.
	h = RequestHeader{APIKey: int16(kmsg.ControlledShutdown), APIVersion: 1}
	rest, err = parseHeaderTail(&h, body)
	if err != nil || !bytes.Equal(rest, body[2:]) || h.ClientID == nil || *h.ClientID != "" {
		t.Fatalf("v1: rest %x, client id %v, err %v", rest, h.ClientID, err)
	}
}
