package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"
)

// loopbackWriteSize is the size of every write (and read) of the loopback
// scenario.
const loopbackWriteSize = 1 << 20

// Loopback is the single-stream loopback TCP bandwidth of this machine.
type Loopback struct {
	Bytes     int64         `json:"bytes"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	MBPerSec  float64       `json:"mb_per_sec"`
	WriteSize int           `json:"write_size"`
}

// MeasureLoopback streams over one loopback TCP connection for about d: one
// goroutine writes 1 MiB buffers, the caller's goroutine reads into a 1 MiB
// buffer until the writer closes. The figure is bytes received over the
// time from the first write to end of stream. A broker serving one
// connection cannot move more bytes than this through the kernel's TCP
// stack, so it is a yardstick for the throughput scenarios.
func MeasureLoopback(ctx context.Context, d time.Duration) (Loopback, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return Loopback{}, fmt.Errorf("bench: loopback listen: %w", err)
	}
	accepted := make(chan acceptResult, 1)
	go func() {
		c, err := ln.AcceptTCP()
		accepted <- acceptResult{c, err}
	}()
	var dialer net.Dialer
	nc, dialErr := dialer.DialContext(ctx, "tcp", ln.Addr().String())
	if dialErr != nil {
		ln.Close() // unblocks Accept
	}
	res := <-accepted
	ln.Close()
	if dialErr != nil || res.err != nil {
		if res.conn != nil {
			res.conn.Close()
		}
		if nc != nil {
			nc.Close()
		}
		return Loopback{}, fmt.Errorf("bench: loopback connect: %w", errors.Join(dialErr, res.err))
	}
	send, recv := nc.(*net.TCPConn), res.conn
	defer send.Close()
	defer recv.Close()
	stop := context.AfterFunc(ctx, func() {
		now := time.Now()
		_ = send.SetDeadline(now)
		_ = recv.SetDeadline(now)
	})
	defer stop()
	return stream(ctx, send, recv, d)
}

type acceptResult struct {
	conn *net.TCPConn
	err  error
}

// stream runs the measurement over an established connection pair.
func stream(ctx context.Context, send, recv *net.TCPConn, d time.Duration) (Loopback, error) {
	wbuf := make([]byte, loopbackWriteSize)
	_, _ = rand.NewChaCha8(payloadSeed).Read(wbuf) // never fails
	start := time.Now()
	deadline := start.Add(d)
	sent := make(chan error, 1)
	go func() {
		var err error
		for err == nil && time.Now().Before(deadline) {
			_, err = send.Write(wbuf)
		}
		sent <- errors.Join(err, send.CloseWrite())
	}()
	rbuf := make([]byte, loopbackWriteSize)
	var total int64
	var readErr error
	for {
		n, err := recv.Read(rbuf)
		total += int64(n)
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
	}
	elapsed := time.Since(start)
	if readErr != nil {
		send.Close() // unblocks a writer stuck on a full socket buffer
	}
	sendErr := <-sent
	if err := ctx.Err(); err != nil {
		return Loopback{}, err
	}
	if err := errors.Join(readErr, sendErr); err != nil {
		return Loopback{}, fmt.Errorf("bench: loopback stream: %w", err)
	}
	return Loopback{
		Bytes:     total,
		Elapsed:   elapsed,
		MBPerSec:  mbPerSec(total, elapsed),
		WriteSize: loopbackWriteSize,
	}, nil
}

// mbPerSec converts bytes over elapsed to MB/s, 1 MB = 10^6 bytes.
func mbPerSec(bytes int64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / elapsed.Seconds()
}

// perSec converts a count over elapsed to a rate per second.
func perSec(n int64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(n) / elapsed.Seconds()
}
