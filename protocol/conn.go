package protocol

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConnInfo describes the connection a request arrived on. It is shared by
// every request of the connection and must be treated as read-only.
type ConnInfo struct {
	RemoteAddr net.Addr
	// ID is unique among the connections of this process.
	ID uint64
}

// Handler serves requests. ServeConn calls Handle for one request at a
// time per connection, in arrival order; one Handler may serve many
// connections concurrently.
type Handler interface {
	// Handle serves one request. A nil response means "send nothing"
	// (Produce with acks=0). The response's version is set to the
	// request's by ServeConn. Returning an error closes the connection
	// after the responses already produced are written.
	Handle(ctx context.Context, req *Request) (kmsg.Response, error)
}

// Defaults for ConnConfig's zero fields.
const (
	// DefaultMaxRequestBytes is Kafka's socket.request.max.bytes default.
	DefaultMaxRequestBytes = 100 << 20
	// DefaultIdleTimeout is Kafka's connections.max.idle.ms default.
	DefaultIdleTimeout = 10 * time.Minute
)

// pipelineDepth is how many parsed requests may wait for the handler, and
// how many encoded responses for the writer, per connection. It bounds the
// memory a pipelining client can pin to a few requests.
const pipelineDepth = 4

// connBufferSize is the size of each connection's read and write buffers.
// Frames larger than this bypass the buffers.
const connBufferSize = 32 << 10

// ConnConfig configures ServeConn. The zero value is usable: zero fields
// take the defaults.
type ConnConfig struct {
	// MaxRequestBytes bounds one request frame; a larger frame closes the
	// connection before its body is read. Default DefaultMaxRequestBytes.
	MaxRequestBytes int32
	// IdleTimeout closes a connection on which no frame starts arriving,
	// or to which no response can be written, for this long. Default
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Logger receives debug-level connection events. Default
	// slog.Default(). Errors that end the connection are returned by
	// ServeConn, not logged.
	Logger *slog.Logger
	// ID identifies the connection in ConnInfo; 0 assigns the next value
	// of a process-wide counter.
	ID uint64
}

// NewConnConfig returns a ConnConfig with every default filled in.
func NewConnConfig() ConnConfig {
	return ConnConfig{
		MaxRequestBytes: DefaultMaxRequestBytes,
		IdleTimeout:     DefaultIdleTimeout,
		Logger:          slog.Default(),
	}
}

// Validate reports a configuration ServeConn cannot use.
func (c ConnConfig) Validate() error {
	if c.MaxRequestBytes < 0 {
		return fmt.Errorf("protocol: MaxRequestBytes %d is negative", c.MaxRequestBytes)
	}
	if c.IdleTimeout < 0 {
		return fmt.Errorf("protocol: IdleTimeout %v is negative", c.IdleTimeout)
	}
	return nil
}

func (c ConnConfig) withDefaults() ConnConfig {
	d := NewConnConfig()
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = d.MaxRequestBytes
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.ID == 0 {
		c.ID = nextConnID.Add(1)
	}
	return c
}

var nextConnID atomic.Uint64

// inbound is one item from the reader to the handler: a request to
// handle, or a request answered without the handler (resp set).
type inbound struct {
	req  *Request
	resp kmsg.Response
}

// outbound is one response for the writer.
type outbound struct {
	correlationID int32
	resp          kmsg.Response
}

// errPeerGone marks a connection that ended normally: the peer closed it or
// it sat idle past IdleTimeout. ServeConn reports it as nil.
var errPeerGone = errors.New("protocol: connection closed by peer or idle")

// ServeConn serves Kafka requests on conn until ctx ends, the peer closes
// the connection or idles past cfg.IdleTimeout, a frame is oversized or
// malformed, a request names an unknown API key or an unsupported version,
// or h returns an error. It always closes conn, and all its goroutines have
// exited when it returns.
//
// One goroutine reads and parses frames ahead of the handler (up to a few
// requests), requests are handled one at a time in arrival order on the
// calling goroutine, and one goroutine writes responses in request order
// through a buffered writer that is flushed whenever no further response is
// ready. A too-new ApiVersions request is answered with
// UnsupportedApiVersionsResponse (KIP-511) without calling h. When the connection ends because of a bad frame or a
// handler error, responses to the requests before it are still written.
//
// ServeConn returns nil when the peer closed or idled out, ctx.Err() when
// ctx ended, and otherwise the error that ended the connection (wrapping
// ErrFrameTooLarge, ErrMalformedFrame, ErrUnknownAPIKey,
// ErrUnsupportedVersion, h's error or a network error).
func ServeConn(ctx context.Context, conn net.Conn, h Handler, cfg ConnConfig) error {
	defer conn.Close()
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	s := &connServer{
		conn:  conn,
		cfg:   cfg,
		info:  &ConnInfo{RemoteAddr: conn.RemoteAddr(), ID: cfg.ID},
		reqs:  make(chan inbound, pipelineDepth),
		resps: make(chan outbound, pipelineDepth),
	}
	var cancel context.CancelCauseFunc
	s.ctx, cancel = context.WithCancelCause(ctx)

	var closer, reader, writer sync.WaitGroup
	// Closing conn is what unblocks the reader and writer in I/O.
	closer.Go(func() {
		<-s.ctx.Done()
		conn.Close()
	})
	reader.Go(s.readLoop)
	writer.Go(func() {
		if err := s.writeLoop(); err != nil {
			cancel(err)
		}
	})

	handleErr := s.handleLoop(h)
	close(s.resps)
	writer.Wait() // responses already produced are flushed before conn closes
	for out := range s.resps {
		release(out.resp) // left behind by a writer that failed
	}
	cancel(handleErr)
	closer.Wait()
	reader.Wait()

	if ctx.Err() != nil {
		return ctx.Err()
	}
	err := handleErr
	if err == nil {
		err = context.Cause(s.ctx) // a write error
	}
	if err == nil || errors.Is(err, context.Canceled) {
		err = s.readErr
	}
	if errors.Is(err, errPeerGone) {
		return nil
	}
	return err
}

// connServer is the state of one ServeConn call.
type connServer struct {
	ctx   context.Context
	conn  net.Conn
	cfg   ConnConfig
	info  *ConnInfo
	reqs  chan inbound  // closed by the reader when it stops
	resps chan outbound // closed by ServeConn when the handler stops

	// readErr is why the reader stopped; written before reqs is closed,
	// so it is safe to read once reqs is drained or the reader has exited.
	readErr error
}

// readLoop reads and parses frames into s.reqs until the connection ends or
// a frame must close it, then records why in s.readErr and closes s.reqs.
func (s *connServer) readLoop() {
	defer close(s.reqs)
	br := bufio.NewReaderSize(s.conn, connBufferSize)
	for {
		if err := s.conn.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout)); err != nil {
			s.readErr = s.ioErr("set read deadline", err)
			return
		}
		frame, err := ReadFrame(br, s.cfg.MaxRequestBytes, nil)
		if err != nil {
			s.readErr = s.ioErr("read frame", err)
			return
		}
		item, err := s.parse(frame)
		if err != nil {
			s.readErr = err
			return
		}
		select {
		case s.reqs <- item:
		case <-s.ctx.Done():
			s.readErr = s.ctx.Err()
			return
		}
	}
}

// parse turns one frame into an inbound item, or an error that must close
// the connection.
func (s *connServer) parse(frame []byte) (inbound, error) {
	req, err := ParseRequest(frame)
	if err == nil {
		req.Conn = s.info
		return inbound{req: req}, nil
	}
	if errors.Is(err, ErrUnsupportedVersion) && req.Header.APIKey == int16(kmsg.ApiVersions) {
		s.cfg.Logger.Debug("answering too-new ApiVersions request with UNSUPPORTED_VERSION",
			"conn_id", s.info.ID, "remote_addr", s.info.RemoteAddr, "api_version", req.Header.APIVersion)
		req.Conn = s.info
		return inbound{req: req, resp: UnsupportedApiVersionsResponse()}, nil
	}
	return inbound{}, err
}

// ioErr classifies a read-side I/O error.
func (s *connServer) ioErr(op string, err error) error {
	switch {
	case s.ctx.Err() != nil:
		return s.ctx.Err() // conn was closed under us on purpose
	case errors.Is(err, io.EOF), errors.Is(err, os.ErrDeadlineExceeded), peerReset(err):
		return errPeerGone
	case errors.Is(err, ErrFrameTooLarge), errors.Is(err, ErrMalformedFrame):
		return err
	}
	return fmt.Errorf("protocol: %s: %w", op, err)
}

// handleLoop hands requests to h in order and queues their responses. It
// returns when the reader stops (nil), ctx ends (the cause) or h fails.
func (s *connServer) handleLoop(h Handler) error {
	for {
		var item inbound
		var ok bool
		select {
		case item, ok = <-s.reqs:
			if !ok {
				return nil
			}
		case <-s.ctx.Done():
			return context.Cause(s.ctx)
		}
		resp := item.resp
		if resp == nil {
			var err error
			if resp, err = h.Handle(s.ctx, item.req); err != nil {
				return fmt.Errorf("protocol: handle %s correlation %d: %w",
					kmsg.NameForKey(item.req.Header.APIKey), item.req.Header.CorrelationID, err)
			}
			if resp == nil {
				continue
			}
			if resp.Key() != item.req.Header.APIKey {
				return fmt.Errorf("protocol: handler answered %s request with a %s response",
					kmsg.NameForKey(item.req.Header.APIKey), kmsg.NameForKey(resp.Key()))
			}
			resp.SetVersion(item.req.Header.APIVersion)
		}
		select {
		case s.resps <- outbound{correlationID: item.req.Header.CorrelationID, resp: resp}:
		case <-s.ctx.Done():
			release(resp)
			return context.Cause(s.ctx)
		}
	}
}

// writeLoop encodes and writes responses in order until s.resps is closed
// and drained, flushing whenever no further response is queued.
func (s *connServer) writeLoop() error {
	bw := bufio.NewWriterSize(s.conn, connBufferSize)
	var buf []byte
	for out := range s.resps {
		if err := s.conn.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout)); err != nil {
			release(out.resp)
			return s.writeErr(err)
		}
		if sr, ok := out.resp.(StreamedResponse); ok {
			err := writeStreamed(bw, s.conn, out.correlationID, sr)
			sr.Release()
			if err != nil {
				return s.writeErr(err)
			}
		} else {
			buf = AppendResponse(buf[:0], out.correlationID, out.resp)
			if _, err := bw.Write(buf); err != nil {
				return s.writeErr(err)
			}
		}
		if len(buf) > 1<<20 {
			buf = nil // do not pin one large response's buffer
		}
		if len(s.resps) == 0 {
			if err := bw.Flush(); err != nil {
				return s.writeErr(err)
			}
		}
	}
	return nil
}

// release frees a streamed response that will not be written.
func release(resp kmsg.Response) {
	if sr, ok := resp.(StreamedResponse); ok {
		sr.Release()
	}
}

// writeErr classifies a write-side I/O error.
func (s *connServer) writeErr(err error) error {
	switch {
	case s.ctx.Err() != nil:
		return nil // conn was closed under us on purpose
	case errors.Is(err, os.ErrDeadlineExceeded), peerReset(err):
		return errPeerGone
	}
	return fmt.Errorf("protocol: write response: %w", err)
}

// peerReset reports an error meaning the peer closed its end abruptly.
func peerReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
