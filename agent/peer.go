package agent

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/protocol"
)

// maxPeerResponse bounds a response read from another agent.
const maxPeerResponse = 256 << 20

// peerConn is a Kafka connection from this agent to another one, for
// inter-agent requests such as replica fetches. One request is in flight at
// a time; it is not safe for concurrent use.
type peerConn struct {
	conn net.Conn
	br   *bufio.Reader
	f    *kmsg.RequestFormatter
	corr int32
	buf  []byte
	// rbuf is reused for every response: a response's byte fields (fetched
	// records) alias it until the next request.
	rbuf []byte
}

func dialPeer(ctx context.Context, addr, clientID string) (*peerConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return &peerConn{
		conn: conn,
		br:   bufio.NewReaderSize(conn, 64<<10),
		f:    kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID)),
	}, nil
}

// request sends req (its version already set) and reads the response,
// failing after timeout or when ctx ends. Byte fields of the response
// (such as fetched records) are only valid until the next request.
func (c *peerConn) request(ctx context.Context, req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Now()) })
	defer stop()
	if err := c.conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	c.corr++
	c.buf = c.f.AppendRequest(c.buf[:0], req, c.corr)
	if _, err := c.conn.Write(c.buf); err != nil {
		return nil, err
	}
	frame, err := protocol.ReadFrame(c.br, maxPeerResponse, c.rbuf[:cap(c.rbuf)])
	if err != nil {
		return nil, err
	}
	if cap(frame) <= 64<<20 {
		c.rbuf = frame[:0] // keep for the next response (bounded)
	}
	if len(frame) < 4 {
		return nil, fmt.Errorf("response of %d bytes", len(frame))
	}
	if corr := int32(binary.BigEndian.Uint32(frame)); corr != c.corr {
		return nil, fmt.Errorf("response for correlation id %d, want %d", corr, c.corr)
	}
	body := frame[4:]
	resp := req.ResponseKind()
	if resp.IsFlexible() && req.Key() != int16(kmsg.ApiVersions) {
		if len(body) < 1 || body[0] != 0 {
			return nil, fmt.Errorf("response header carries tagged fields")
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decode %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	return resp, nil
}

func (c *peerConn) close() { _ = c.conn.Close() }
