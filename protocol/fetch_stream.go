package protocol

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FetchStream is a Fetch response whose record batches are sent from files
// (see StreamedResponse). Partitions with no sections send their
// RecordBatches bytes as usual. It encodes exactly what
// kmsg.FetchResponse.AppendTo would for the versions the agent serves
// (4–16), and falls back to AppendTo's bytes (copying the sections) for
// anything it does not encode itself, such as unknown tagged fields.
type FetchStream struct {
	*kmsg.FetchResponse
	// Sections[t][p] are the record batches of Topics[t].Partitions[p].
	Sections [][][]FileSection
	release  func()
}

// NewFetchStream wraps resp; release is called once the response is sent
// or dropped.
func NewFetchStream(resp *kmsg.FetchResponse, sections [][][]FileSection, release func()) *FetchStream {
	return &FetchStream{FetchResponse: resp, Sections: sections, release: release}
}

// Release implements StreamedResponse.
func (s *FetchStream) Release() {
	if s.release != nil {
		s.release()
		s.release = nil
	}
}

// sections returns the sections of partition p of topic t.
func (s *FetchStream) sections(t, p int) []FileSection {
	if t < len(s.Sections) && p < len(s.Sections[t]) {
		return s.Sections[t][p]
	}
	return nil
}

// BodyPieces implements StreamedResponse.
func (s *FetchStream) BodyPieces() []Piece {
	if !s.encodable() {
		return []Piece{{Bytes: s.inlined().AppendTo(nil)}}
	}
	e := fetchEncoder{flexible: s.Version >= 12, version: s.Version}
	r := s.FetchResponse
	e.int32(r.ThrottleMillis)
	if s.Version >= 7 {
		e.int16(r.ErrorCode)
		e.int32(r.SessionID)
	}
	e.arrayLen(len(r.Topics))
	for ti := range r.Topics {
		t := &r.Topics[ti]
		if s.Version >= 13 {
			e.buf = append(e.buf, t.TopicID[:]...)
		} else {
			e.string(t.Topic)
		}
		e.arrayLen(len(t.Partitions))
		for pi := range t.Partitions {
			e.partition(&t.Partitions[pi], s.sections(ti, pi))
		}
		if e.flexible {
			e.buf = append(e.buf, 0) // topic tags
		}
	}
	if e.flexible {
		e.buf = appendBrokersTag(e.buf, r.Brokers)
	}
	return e.done()
}

// encodable reports whether the encoder below covers every field that is set.
func (s *FetchStream) encodable() bool {
	r := s.FetchResponse
	if s.Version < 4 || s.Version > 16 || r.UnknownTags.Len() > 0 {
		return false
	}
	for _, t := range r.Topics {
		if t.UnknownTags.Len() > 0 {
			return false
		}
		for _, p := range t.Partitions {
			if p.UnknownTags.Len() > 0 || p.SnapshotID.EndOffset != -1 || p.SnapshotID.Epoch != -1 ||
				p.DivergingEpoch.UnknownTags.Len() > 0 || p.CurrentLeader.UnknownTags.Len() > 0 {
				return false
			}
			for _, a := range p.AbortedTransactions {
				if a.UnknownTags.Len() > 0 {
					return false
				}
			}
		}
	}
	for _, b := range r.Brokers {
		if b.UnknownTags.Len() > 0 {
			return false
		}
	}
	return true
}

// inlined returns a copy of the response with every partition's sections
// read into RecordBatches (the slow path).
func (s *FetchStream) inlined() *kmsg.FetchResponse {
	c := *s.FetchResponse
	c.Topics = append([]kmsg.FetchResponseTopic(nil), c.Topics...)
	for ti := range c.Topics {
		t := &c.Topics[ti]
		t.Partitions = append([]kmsg.FetchResponseTopicPartition(nil), t.Partitions...)
		for pi := range t.Partitions {
			secs := s.sections(ti, pi)
			if len(secs) == 0 {
				continue
			}
			var b []byte
			for _, sec := range secs {
				n := len(b)
				b = append(b, make([]byte, sec.Length)...)
				if _, err := sec.File.ReadAt(b[n:], sec.Offset); err != nil {
					// A partition we cannot read is sent without records; the
					// client fetches again.
					b = b[:0]
					break
				}
			}
			t.Partitions[pi].RecordBatches = b
		}
	}
	return &c
}

// fetchEncoder appends the wire encoding of a Fetch response, cutting a new
// piece wherever file sections go.
type fetchEncoder struct {
	version  int16
	flexible bool
	buf      []byte
	pieces   []Piece
}

func (e *fetchEncoder) int16(v int16) { e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(v)) }
func (e *fetchEncoder) int32(v int32) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v)) }
func (e *fetchEncoder) int64(v int64) { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }

func (e *fetchEncoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

func (e *fetchEncoder) arrayLen(n int) {
	if e.flexible {
		e.uvarint(uint64(n) + 1)
	} else {
		e.int32(int32(n))
	}
}

func (e *fetchEncoder) nullableArrayLen(n int, null bool) {
	switch {
	case null && e.flexible:
		e.uvarint(0)
	case null:
		e.int32(-1)
	default:
		e.arrayLen(n)
	}
}

func (e *fetchEncoder) string(s string) {
	if e.flexible {
		e.uvarint(uint64(len(s)) + 1)
	} else {
		e.int16(int16(len(s)))
	}
	e.buf = append(e.buf, s...)
}

// bytesLen writes the length prefix of a nullable byte field.
func (e *fetchEncoder) bytesLen(n int64, null bool) {
	switch {
	case null && e.flexible:
		e.uvarint(0)
	case null:
		e.int32(-1)
	case e.flexible:
		e.uvarint(uint64(n) + 1)
	default:
		e.int32(int32(n))
	}
}

func (e *fetchEncoder) partition(p *kmsg.FetchResponseTopicPartition, secs []FileSection) {
	e.int32(p.Partition)
	e.int16(p.ErrorCode)
	e.int64(p.HighWatermark)
	e.int64(p.LastStableOffset)
	if e.version >= 5 {
		e.int64(p.LogStartOffset)
	}
	e.nullableArrayLen(len(p.AbortedTransactions), p.AbortedTransactions == nil)
	for _, a := range p.AbortedTransactions {
		e.int64(a.ProducerID)
		e.int64(a.FirstOffset)
		if e.flexible {
			e.buf = append(e.buf, 0)
		}
	}
	if e.version >= 11 {
		e.int32(p.PreferredReadReplica)
	}
	if len(secs) == 0 {
		e.bytesLen(int64(len(p.RecordBatches)), p.RecordBatches == nil)
		e.buf = append(e.buf, p.RecordBatches...)
	} else {
		var n int64
		for _, s := range secs {
			n += s.Length
		}
		e.bytesLen(n, false)
		e.cut()
		for _, s := range secs {
			e.pieces = append(e.pieces, Piece{Section: s})
		}
	}
	if e.flexible {
		e.partitionTags(p)
	}
}

// partitionTags writes the tagged fields DivergingEpoch (0) and
// CurrentLeader (1) when they differ from their defaults.
func (e *fetchEncoder) partitionTags(p *kmsg.FetchResponseTopicPartition) {
	diverging := p.DivergingEpoch.Epoch != -1 || p.DivergingEpoch.EndOffset != -1
	leader := p.CurrentLeader.LeaderID != -1 || p.CurrentLeader.LeaderEpoch != -1
	n := 0
	if diverging {
		n++
	}
	if leader {
		n++
	}
	e.uvarint(uint64(n))
	if diverging {
		e.uvarint(0)
		e.uvarint(4 + 8 + 1)
		e.int32(p.DivergingEpoch.Epoch)
		e.int64(p.DivergingEpoch.EndOffset)
		e.buf = append(e.buf, 0)
	}
	if leader {
		e.uvarint(1)
		e.uvarint(4 + 4 + 1)
		e.int32(p.CurrentLeader.LeaderID)
		e.int32(p.CurrentLeader.LeaderEpoch)
		e.buf = append(e.buf, 0)
	}
}

// appendBrokersTag writes the response's tagged fields: Brokers (tag 0)
// when there are any.
func appendBrokersTag(dst []byte, brokers []kmsg.FetchResponseBroker) []byte {
	if len(brokers) == 0 {
		return append(dst, 0)
	}
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(brokers))+1)
	for _, b := range brokers {
		body = binary.BigEndian.AppendUint32(body, uint32(b.NodeID))
		body = binary.AppendUvarint(body, uint64(len(b.Host))+1)
		body = append(body, b.Host...)
		body = binary.BigEndian.AppendUint32(body, uint32(b.Port))
		if b.Rack == nil {
			body = append(body, 0)
		} else {
			body = binary.AppendUvarint(body, uint64(len(*b.Rack))+1)
			body = append(body, *b.Rack...)
		}
		body = append(body, 0) // broker tags
	}
	dst = append(dst, 1)                               // one tagged field
	dst = append(dst, 0)                               // tag 0
	dst = binary.AppendUvarint(dst, uint64(len(body))) // its size
	return append(dst, body...)
}

// cut ends the current bytes piece.
func (e *fetchEncoder) cut() {
	if len(e.buf) > 0 {
		e.pieces = append(e.pieces, Piece{Bytes: e.buf})
		e.buf = nil
	}
}

func (e *fetchEncoder) done() []Piece {
	e.cut()
	return e.pieces
}
