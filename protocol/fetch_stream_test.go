package protocol

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// randomFetchResponse builds a response using every field the agent sets,
// with records for partition (t, p) in data[t][p].
func randomFetchResponse(rng *rand.Rand, version int16) (*kmsg.FetchResponse, [][][]byte) {
	r := kmsg.NewPtrFetchResponse()
	r.Version = version
	r.ThrottleMillis = rng.Int32N(100)
	r.ErrorCode = int16(rng.IntN(3))
	r.SessionID = rng.Int32N(5)
	var data [][][]byte
	for t := range rng.IntN(4) {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = string(rune('a'+t)) + "-topic"
		rt.TopicID[0] = byte(t + 1)
		var td [][]byte
		for p := range rng.IntN(4) {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition = int32(p)
			rp.ErrorCode = int16(rng.IntN(2))
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = rng.Int64(), rng.Int64(), rng.Int64()
			if rng.IntN(3) == 0 {
				rp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 7, FirstOffset: 9}}
			} else if rng.IntN(2) == 0 {
				rp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			}
			rp.PreferredReadReplica = rng.Int32N(3) - 1
			if rng.IntN(3) == 0 {
				rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = 3, 42
			}
			if rng.IntN(3) == 0 {
				rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = 2, 5
			}
			d := make([]byte, rng.IntN(3000))
			for i := range d {
				d[i] = byte(rng.Uint32())
			}
			if rng.IntN(4) == 0 {
				d = []byte{}
			}
			td = append(td, d)
			rt.Partitions = append(rt.Partitions, rp)
		}
		data = append(data, td)
		r.Topics = append(r.Topics, rt)
	}
	if rng.IntN(3) == 0 {
		b := kmsg.NewFetchResponseBroker()
		b.NodeID, b.Host, b.Port = 3, "broker3.example", 9093
		if rng.IntN(2) == 0 {
			b.Rack = kmsg.StringPtr("rack-a")
		}
		r.Brokers = append(r.Brokers, b)
	}
	return r, data
}

// sectionsOver writes data into a file and returns sections covering it in
// up to three pieces per partition.
func sectionsOver(t *testing.T, f *os.File, data [][][]byte) [][][]FileSection {
	t.Helper()
	var out [][][]FileSection
	var off int64
	for _, td := range data {
		var ts [][]FileSection
		for _, d := range td {
			if _, err := f.WriteAt(d, off); err != nil {
				t.Fatal(err)
			}
			var secs []FileSection
			for start := 0; start < len(d); {
				n := min(len(d)-start, 1+len(d)/3)
				secs = append(secs, FileSection{File: f, Offset: off + int64(start), Length: int64(n)})
				start += n
			}
			off += int64(len(d))
			ts = append(ts, secs)
		}
		out = append(out, ts)
	}
	return out
}

func joinPieces(t *testing.T, ps []Piece) []byte {
	t.Helper()
	var out []byte
	for _, p := range ps {
		if p.Bytes != nil {
			out = append(out, p.Bytes...)
			continue
		}
		b := make([]byte, p.Section.Length)
		if _, err := p.Section.File.ReadAt(b, p.Section.Offset); err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// TestFetchStreamMatchesKmsg: for every version the agent serves, the
// streamed encoding is byte-identical to kmsg's encoding of the same
// response with the records inline.
func TestFetchStreamMatchesKmsg(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "segment"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for v := int16(4); v <= 16; v++ {
		for range 50 {
			resp, data := randomFetchResponse(rng, v)
			secs := sectionsOver(t, f, data)
			// Half the partitions send bytes instead of sections, and so do
			// empty ones (as the agent does: an empty, never a null, set).
			for ti := range secs {
				for pi := range secs[ti] {
					if rng.IntN(2) == 0 || len(secs[ti][pi]) == 0 {
						resp.Topics[ti].Partitions[pi].RecordBatches = data[ti][pi]
						secs[ti][pi] = nil
					}
				}
			}
			got := joinPieces(t, NewFetchStream(resp, secs, nil).BodyPieces())
			inline := *resp
			inline.Topics = nil
			for ti, rt := range resp.Topics {
				rt.Partitions = append([]kmsg.FetchResponseTopicPartition(nil), rt.Partitions...)
				for pi := range rt.Partitions {
					rt.Partitions[pi].RecordBatches = data[ti][pi]
				}
				inline.Topics = append(inline.Topics, rt)
			}
			if want := inline.AppendTo(nil); !bytes.Equal(got, want) {
				t.Fatalf("v%d: streamed encoding differs from kmsg (%d vs %d bytes)", v, len(got), len(want))
			}
		}
	}
}

// TestFetchStreamUnknownTags falls back to kmsg's own encoding.
func TestFetchStreamUnknownTags(t *testing.T) {
	resp, data := randomFetchResponse(rand.New(rand.NewPCG(5, 6)), 12)
	resp.UnknownTags.Set(9, []byte{1, 2})
	f, err := os.Create(filepath.Join(t.TempDir(), "segment"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	secs := sectionsOver(t, f, data)
	for ti := range secs {
		for pi := range secs[ti] {
			if len(secs[ti][pi]) == 0 {
				resp.Topics[ti].Partitions[pi].RecordBatches = data[ti][pi]
			}
		}
	}
	got := joinPieces(t, NewFetchStream(resp, secs, nil).BodyPieces())
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			resp.Topics[ti].Partitions[pi].RecordBatches = data[ti][pi]
		}
	}
	if want := resp.AppendTo(nil); !bytes.Equal(got, want) {
		t.Fatal("fallback encoding differs from kmsg")
	}
}

// fetchHandler answers every Fetch with a FetchStream over file sections.
type fetchHandler struct {
	f        *os.File
	data     []byte
	released chan struct{}
}

func (h *fetchHandler) Handle(_ context.Context, req *Request) (kmsg.Response, error) {
	resp := req.Body.ResponseKind().(*kmsg.FetchResponse)
	rt := kmsg.NewFetchResponseTopic()
	rt.Topic = "t"
	rp := kmsg.NewFetchResponseTopicPartition()
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	half := int64(len(h.data) / 2)
	secs := [][][]FileSection{{{{File: h.f, Offset: 0, Length: half}, {File: h.f, Offset: half, Length: int64(len(h.data)) - half}}}}
	return NewFetchStream(resp, secs, func() { h.released <- struct{}{} }), nil
}

// TestServeConnStreamsFiles sends a streamed Fetch response over TCP
// (sendfile) and over a pipe (copy); the client decodes the same records.
func TestServeConnStreamsFiles(t *testing.T) {
	data := make([]byte, 3<<20+123)
	for i := range data {
		data[i] = byte(i * 31)
	}
	path := filepath.Join(t.TempDir(), "segment")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	for _, transport := range []string{"tcp", "pipe"} {
		t.Run(transport, func(t *testing.T) {
			sentWithSendfile.Store(0)
			var server, client net.Conn
			if transport == "tcp" {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				accepted := make(chan net.Conn, 1)
				go func() { c, _ := ln.Accept(); accepted <- c }()
				if client, err = net.Dial("tcp", ln.Addr().String()); err != nil {
					t.Fatal(err)
				}
				server = <-accepted
			} else {
				server, client = net.Pipe()
			}
			defer client.Close()
			h := &fetchHandler{f: f, data: data, released: make(chan struct{}, 4)}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- ServeConn(ctx, server, h, NewConnConfig()) }()

			req := kmsg.NewPtrFetchRequest()
			for _, v := range []int16{11, 12} { // non-flexible and flexible
				req.SetVersion(v)
				frame := kmsg.NewRequestFormatter().AppendRequest(nil, req, int32(v))
				if _, err := client.Write(frame); err != nil {
					t.Fatal(err)
				}
				_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
				var size [4]byte
				if _, err := io.ReadFull(client, size[:]); err != nil {
					t.Fatal(err)
				}
				body := make([]byte, binary.BigEndian.Uint32(size[:]))
				if _, err := io.ReadFull(client, body); err != nil {
					t.Fatal(err)
				}
				if corr := int32(binary.BigEndian.Uint32(body)); corr != int32(v) {
					t.Fatalf("correlation %d", corr)
				}
				body = body[4:]
				if v >= 12 {
					body = body[1:]
				}
				resp := kmsg.NewPtrFetchResponse()
				resp.Version = v
				if err := resp.ReadFrom(body); err != nil {
					t.Fatalf("v%d decode: %v", v, err)
				}
				if got := resp.Topics[0].Partitions[0].RecordBatches; !bytes.Equal(got, data) {
					t.Fatalf("v%d: records differ (%d bytes)", v, len(got))
				}
				select {
				case <-h.released:
				case <-time.After(10 * time.Second):
					t.Fatal("stream not released")
				}
			}
			cancel()
			<-done
			if sent := sentWithSendfile.Load(); (sent > 0) != (transport == "tcp") {
				t.Fatalf("%s: %d bytes went through sendfile", transport, sent)
			}
		})
	}
}
