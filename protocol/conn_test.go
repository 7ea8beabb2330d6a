package protocol

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var errBoom = errors.New("boom")

// testHandler answers ApiVersions, Produce and Metadata. Metadata's first
// topic name steers it: "fail" returns an error, "block" waits for ctx,
// "wrong-key" answers with a Produce response, "big" answers with a 1 MiB
// cluster id; any other name is echoed back.
type testHandler struct {
	mu      sync.Mutex
	conns   []*ConnInfo // guarded by mu
	blocked chan struct{}
}

func (h *testHandler) calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *testHandler) Handle(ctx context.Context, req *Request) (kmsg.Response, error) {
	h.mu.Lock()
	h.conns = append(h.conns, req.Conn)
	h.mu.Unlock()
	switch body := req.Body.(type) {
	case *kmsg.ApiVersionsRequest:
		return ApiVersionsResponse(body.Version, 0), nil
	case *kmsg.ProduceRequest:
		if body.Acks == 0 {
			return nil, nil
		}
		return kmsg.NewPtrProduceResponse(), nil // version set by ServeConn
	case *kmsg.MetadataRequest:
		name := ""
		if len(body.Topics) > 0 && body.Topics[0].Topic != nil {
			name = *body.Topics[0].Topic
		}
		resp := kmsg.NewPtrMetadataResponse()
		switch name {
		case "fail":
			return nil, errBoom
		case "block":
			close(h.blocked)
			<-ctx.Done()
			return nil, ctx.Err()
		case "wrong-key":
			return kmsg.NewPtrProduceResponse(), nil
		case "big":
			resp.ClusterID = kmsg.StringPtr(strings.Repeat("x", 1<<20))
		}
		topic := kmsg.NewMetadataResponseTopic()
		topic.Topic = kmsg.StringPtr(name)
		resp.Topics = append(resp.Topics, topic)
		return resp, nil
	}
	return nil, fmt.Errorf("unexpected %T", req.Body)
}

type served struct {
	client net.Conn
	done   chan error
	cancel context.CancelFunc
}

// serve starts ServeConn on the server side of a loopback TCP connection.
// Cleanup closes the client and checks that ServeConn returned.
func serve(t *testing.T, h Handler, cfg ConnConfig) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{client: client, done: make(chan error, 1), cancel: cancel}
	go func() { s.done <- ServeConn(ctx, server, h, cfg) }()
	t.Cleanup(func() {
		cancel()
		client.Close()
		s.wait(t)
	})
	return s
}

// wait returns ServeConn's result, failing if it does not come promptly.
func (s *served) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // keep it for a later wait (cleanup)
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("ServeConn did not return")
		return nil
	}
}

func (s *served) send(t *testing.T, req kmsg.Request, corr int32) {
	t.Helper()
	s.write(t, kmsg.NewRequestFormatter(kmsg.FormatterClientID("test")).AppendRequest(nil, req, corr))
}

func (s *served) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := s.client.Write(b); err != nil {
		t.Fatal(err)
	}
}

// recv reads one response into resp (whose version must be set) and
// returns its correlation id.
func (s *served) recv(t *testing.T, resp kmsg.Response) int32 {
	t.Helper()
	s.client.SetReadDeadline(time.Now().Add(10 * time.Second))
	frame, err := ReadFrame(s.client, 16<<20, nil)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	corr := int32(binary.BigEndian.Uint32(frame))
	body := frame[4:]
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		if body[0] != 0 {
			t.Fatalf("response header has %d tags", body[0])
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decoding %s v%d response: %v", kmsg.NameForKey(resp.Key()), resp.GetVersion(), err)
	}
	return corr
}

// expectClosed checks that the server closed the connection.
func (s *served) expectClosed(t *testing.T) {
	t.Helper()
	s.client.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, s.client)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("connection still open")
	}
}

// appendRequest appends a framed request to out. (kmsg's AppendRequest
// patches its size prefix at dst[0], so it cannot append to a non-empty
// slice itself.)
func appendRequest(out []byte, req kmsg.Request, corr int32) []byte {
	return append(out, kmsg.NewRequestFormatter().AppendRequest(nil, req, corr)...)
}

func metadataRequest(topic string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, t)
	return req
}

func produceRequest(tb testing.TB, acks int16) *kmsg.ProduceRequest {
	req := sampleRequests(tb)[0].(*kmsg.ProduceRequest)
	req.Acks = acks
	return req
}

// checkNoLeak waits until the goroutine count is back to base.
func checkNoLeak(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want <= %d:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // polling interval, not a wait for an event
	}
}

func TestServeConnPipelined(t *testing.T) {
	s := serve(t, &testHandler{}, ConnConfig{})
	// All requests go out in one write before any response is read.
	var out []byte
	const n = 30
	for i := range int32(n) {
		var req kmsg.Request
		switch i % 3 {
		case 0:
			req = metadataRequest(fmt.Sprintf("topic-%d", i))
		case 1:
			av := kmsg.NewPtrApiVersionsRequest()
			av.Version = 3
			req = av
		case 2:
			req = produceRequest(t, -1)
		}
		out = appendRequest(out, req, 1000+i)
	}
	s.write(t, out)
	for i := range int32(n) {
		var resp kmsg.Response
		switch i % 3 {
		case 0:
			resp = &kmsg.MetadataResponse{Version: 12}
		case 1:
			resp = &kmsg.ApiVersionsResponse{Version: 3}
		case 2:
			resp = &kmsg.ProduceResponse{Version: 11}
		}
		if corr := s.recv(t, resp); corr != 1000+i {
			t.Fatalf("response %d has correlation id %d", i, corr)
		}
		if md, ok := resp.(*kmsg.MetadataResponse); ok && *md.Topics[0].Topic != fmt.Sprintf("topic-%d", i) {
			t.Fatalf("response %d is for %s", i, *md.Topics[0].Topic)
		}
		if av, ok := resp.(*kmsg.ApiVersionsResponse); ok && len(av.ApiKeys) != len(APIs()) {
			t.Fatalf("ApiVersions lists %d keys", len(av.ApiKeys))
		}
	}
	s.client.Close()
	if err := s.wait(t); err != nil {
		t.Fatalf("peer close: %v", err)
	}
}

func TestServeConnAcksZeroSendsNothing(t *testing.T) {
	s := serve(t, &testHandler{}, ConnConfig{})
	s.send(t, produceRequest(t, 0), 1)
	s.send(t, metadataRequest("after"), 2)
	if corr := s.recv(t, &kmsg.MetadataResponse{Version: 12}); corr != 2 {
		t.Fatalf("first response has correlation id %d, want 2", corr)
	}
}

func TestServeConnTooNewApiVersions(t *testing.T) {
	s := serve(t, &testHandler{}, ConnConfig{})
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 4
	s.send(t, req, 5)
	// The answer is a v0 response with a v0 header whatever we asked.
	resp := &kmsg.ApiVersionsResponse{Version: 0}
	if corr := s.recv(t, resp); corr != 5 {
		t.Fatalf("correlation id %d", corr)
	}
	if resp.ErrorCode != 35 || len(resp.ApiKeys) != 1 || resp.ApiKeys[0].ApiKey != 18 ||
		resp.ApiKeys[0].MinVersion != 0 || resp.ApiKeys[0].MaxVersion != 3 {
		t.Fatalf("error %d, keys %+v", resp.ErrorCode, resp.ApiKeys)
	}
	// The client retries at a version we serve, on the same connection.
	req.Version = 3
	s.send(t, req, 6)
	v3 := &kmsg.ApiVersionsResponse{Version: 3}
	if corr := s.recv(t, v3); corr != 6 || v3.ErrorCode != 0 {
		t.Fatalf("correlation id %d error %d", corr, v3.ErrorCode)
	}
}

func TestServeConnClosesOnBadRequest(t *testing.T) {
	fetchV3 := kmsg.NewPtrFetchRequest()
	fetchV3.Version = 3
	unknown := appendHeader(nil, 999, 0, 2, nil, nil, false)
	truncatedBody := requestFrame(t, metadataRequest("x"), 2, nil)
	truncatedBody = truncatedBody[:len(truncatedBody)-2]
	tests := []struct {
		name  string
		frame []byte // without size prefix
		want  error
	}{
		{"unknown key", unknown, ErrUnknownAPIKey},
		{"unsupported version", requestFrame(t, fetchV3, 2, nil), ErrUnsupportedVersion},
		{"short frame", []byte{0, 3, 0}, ErrMalformedFrame},
		{"truncated body", truncatedBody, ErrMalformedFrame},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, &testHandler{}, ConnConfig{})
			// A good request first, the bad one, then one that must never
			// be answered, all in one write.
			out := kmsg.NewRequestFormatter().AppendRequest(nil, metadataRequest("first"), 1)
			out = append(out, sizePrefixed(int32(len(tc.frame)), tc.frame)...)
			out = appendRequest(out, metadataRequest("never"), 3)
			s.write(t, out)
			if corr := s.recv(t, &kmsg.MetadataResponse{Version: 12}); corr != 1 {
				t.Fatalf("correlation id %d", corr)
			}
			s.expectClosed(t)
			if err := s.wait(t); !errors.Is(err, tc.want) {
				t.Fatalf("ServeConn: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestServeConnOversizedFrame(t *testing.T) {
	s := serve(t, &testHandler{}, ConnConfig{MaxRequestBytes: 1 << 10})
	s.write(t, binary.BigEndian.AppendUint32(nil, 1<<30))
	s.expectClosed(t)
	if err := s.wait(t); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("ServeConn: %v", err)
	}
	// One byte over a small limit is rejected too, at the prefix.
	s = serve(t, &testHandler{}, ConnConfig{MaxRequestBytes: 1 << 10})
	s.write(t, sizePrefixed(1<<10+1, make([]byte, 1<<10+1)))
	s.expectClosed(t)
	if err := s.wait(t); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("ServeConn: %v", err)
	}
}

func TestServeConnHandlerError(t *testing.T) {
	for _, topic := range []string{"fail", "wrong-key"} {
		s := serve(t, &testHandler{}, ConnConfig{})
		s.send(t, metadataRequest("ok"), 1)
		s.send(t, metadataRequest(topic), 2)
		if corr := s.recv(t, &kmsg.MetadataResponse{Version: 12}); corr != 1 {
			t.Fatalf("correlation id %d", corr)
		}
		s.expectClosed(t)
		err := s.wait(t)
		if err == nil || (topic == "fail" && !errors.Is(err, errBoom)) {
			t.Fatalf("%s: ServeConn: %v", topic, err)
		}
	}
}

func TestServeConnCancelWhileHandling(t *testing.T) {
	base := runtime.NumGoroutine()
	h := &testHandler{blocked: make(chan struct{})}
	s := serve(t, h, ConnConfig{})
	s.send(t, metadataRequest("block"), 1)
	<-h.blocked
	s.cancel()
	if err := s.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("ServeConn: %v", err)
	}
	s.expectClosed(t)
	s.client.Close()
	checkNoLeak(t, base)
}

func TestServeConnCancelIdle(t *testing.T) {
	base := runtime.NumGoroutine()
	s := serve(t, &testHandler{}, ConnConfig{})
	s.send(t, metadataRequest("x"), 1)
	s.recv(t, &kmsg.MetadataResponse{Version: 12})
	s.cancel()
	if err := s.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("ServeConn: %v", err)
	}
	s.client.Close()
	checkNoLeak(t, base)
}

// TestServeConnCancelStuckWriter cancels while the writer is blocked on a
// client that stopped reading, the handler is blocked on the full response
// queue and the reader on the full request queue. net.Pipe has no
// buffering, so the writer blocks on its first response.
func TestServeConnCancelStuckWriter(t *testing.T) {
	base := runtime.NumGoroutine()
	a, b := net.Pipe()
	defer b.Close()
	h := &testHandler{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeConn(ctx, a, h, ConnConfig{}) }()
	var out []byte
	for i := range int32(64) {
		out = appendRequest(out, metadataRequest("x"), i)
	}
	go b.Write(out) // never completes: the server stops reading
	// One response in the writer, pipelineDepth queued, one more in the
	// handler's hands: then nothing moves until cancel.
	deadline := time.Now().Add(10 * time.Second)
	for h.calls() < pipelineDepth+2 {
		if time.Now().After(deadline) {
			t.Fatalf("handler called %d times", h.calls())
		}
		time.Sleep(time.Millisecond) // polling interval
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ServeConn: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeConn stuck after cancel")
	}
	b.Close()
	checkNoLeak(t, base)
}

func TestServeConnIdleTimeout(t *testing.T) {
	s := serve(t, &testHandler{}, ConnConfig{IdleTimeout: 50 * time.Millisecond})
	s.expectClosed(t)
	if err := s.wait(t); err != nil {
		t.Fatalf("idle close: %v", err)
	}
}

func TestServeConnInfo(t *testing.T) {
	h := &testHandler{}
	a := serve(t, h, ConnConfig{})
	b := serve(t, h, ConnConfig{ID: 77})
	a.send(t, metadataRequest("x"), 1)
	a.recv(t, &kmsg.MetadataResponse{Version: 12})
	a.send(t, metadataRequest("y"), 2)
	a.recv(t, &kmsg.MetadataResponse{Version: 12})
	b.send(t, metadataRequest("z"), 1)
	b.recv(t, &kmsg.MetadataResponse{Version: 12})
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.conns) != 3 || h.conns[0] != h.conns[1] {
		t.Fatalf("conn infos %v", h.conns)
	}
	if h.conns[0].ID == 0 || h.conns[0].RemoteAddr.String() != a.client.LocalAddr().String() {
		t.Fatalf("conn info %+v, client %v", h.conns[0], a.client.LocalAddr())
	}
	if h.conns[2].ID != 77 || h.conns[2].RemoteAddr.String() != b.client.LocalAddr().String() {
		t.Fatalf("conn info %+v", h.conns[2])
	}
}

func TestConnConfigValidate(t *testing.T) {
	for _, cfg := range []ConnConfig{{MaxRequestBytes: -1}, {IdleTimeout: -time.Second}} {
		if cfg.Validate() == nil {
			t.Fatalf("%+v accepted", cfg)
		}
		a, b := net.Pipe()
		defer b.Close()
		if err := ServeConn(context.Background(), a, &testHandler{}, cfg); err == nil {
			t.Fatalf("ServeConn accepted %+v", cfg)
		}
		// ServeConn closed its end.
		if _, err := b.Write([]byte{1}); err == nil {
			t.Fatal("conn left open")
		}
	}
	if err := NewConnConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if d := NewConnConfig(); d.MaxRequestBytes != 100<<20 || d.IdleTimeout != 10*time.Minute || d.Logger == nil {
		t.Fatalf("defaults %+v", d)
	}
}

// TestServeConnOverPipe runs ServeConn on a net.Pipe, which has no
// buffering at all, to shake out ordering assumptions.
func TestServeConnOverPipe(t *testing.T) {
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- ServeConn(context.Background(), a, &testHandler{}, ConnConfig{}) }()
	go func() {
		var out []byte
		for i := range int32(10) {
			out = appendRequest(out, metadataRequest(fmt.Sprint(i)), i)
		}
		b.Write(out)
	}()
	for i := range int32(10) {
		frame, err := ReadFrame(b, 1<<20, nil)
		if err != nil {
			t.Fatal(err)
		}
		if corr := int32(binary.BigEndian.Uint32(frame)); corr != i {
			t.Fatalf("correlation id %d, want %d", corr, i)
		}
		resp := &kmsg.MetadataResponse{Version: 12}
		if err := resp.ReadFrom(frame[5:]); err != nil || *resp.Topics[0].Topic != fmt.Sprint(i) {
			t.Fatalf("response %d: %v", i, err)
		}
	}
	b.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// kgoHandler is the least a broker must answer for franz-go's client to
// talk to it: ApiVersions and Metadata naming itself.
type kgoHandler struct {
	host          string
	port          int32
	apiVersionsAt []int16 // versions of the ApiVersions requests seen
	mu            sync.Mutex
}

func (h *kgoHandler) Handle(_ context.Context, req *Request) (kmsg.Response, error) {
	switch body := req.Body.(type) {
	case *kmsg.ApiVersionsRequest:
		h.mu.Lock()
		h.apiVersionsAt = append(h.apiVersionsAt, body.Version)
		h.mu.Unlock()
		return ApiVersionsResponse(body.Version, 0), nil
	case *kmsg.MetadataRequest:
		resp := kmsg.NewPtrMetadataResponse()
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = 1, h.host, h.port
		resp.Brokers = append(resp.Brokers, b)
		resp.ControllerID = 1
		resp.ClusterID = kmsg.StringPtr("strata-test")
		return resp, nil
	}
	return nil, fmt.Errorf("unexpected %T", req.Body)
}

// TestServeConnFranzGoClient has franz-go's real client negotiate versions
// with ServeConn and issue a request. franz-go opens with ApiVersions at a
// version newer than we serve, so this exercises the KIP-511 fallback as a
// real client sees it.
func TestServeConnFranzGoClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	h := &kgoHandler{host: addr.IP.String(), port: int32(addr.Port)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { ServeConn(ctx, conn, h, ConnConfig{}) })
		}
	})
	defer func() {
		cancel()
		ln.Close()
		wg.Wait()
	}()

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr.String()), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	reqCtx, reqCancel := context.WithTimeout(ctx, 10*time.Second)
	defer reqCancel()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(reqCtx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ClusterID == nil || *resp.ClusterID != "strata-test" || resp.Version != APIs()[int16(kmsg.Metadata)].Max {
		t.Fatalf("metadata v%d cluster %v", resp.Version, resp.ClusterID)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.apiVersionsAt) == 0 || h.apiVersionsAt[0] != 3 {
		t.Fatalf("handler saw ApiVersions at %v, want a retry at v3 after the too-new first attempt", h.apiVersionsAt)
	}
}
