package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// RequestHeader is a decoded Kafka request header (v0, v1 or v2).
type RequestHeader struct {
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	// ClientID is nil when the client sent a null client id (and always
	// for header v0).
	ClientID *string
	// Flexible reports header v2: the request version is a flexible
	// (KIP-482) version of its API, so the header ended with tagged fields
	// and the response header (except ApiVersions') carries them too.
	Flexible bool
}

// Request is one decoded request.
type Request struct {
	Header RequestHeader
	// Body is the decoded request with its version set, or nil when the
	// key or version is not served. Byte-slice fields of Body (notably
	// Produce records) alias the frame passed to ParseRequest; strings are
	// copies.
	Body kmsg.Request
	// Conn is the connection the request arrived on; ParseRequest leaves
	// it nil and ServeConn fills it in.
	Conn *ConnInfo
}

// ParseRequest decodes a request frame (without its size prefix).
//
// The returned Request is non-nil whenever the frame holds the fixed 8-byte
// header prefix (key, version, correlation id), even when err is non-nil,
// so the caller can log or answer by correlation id. Errors:
//
//   - ErrMalformedFrame: the frame is shorter than 8 bytes, the client id or
//     header tags are truncated, or the body does not decode.
//   - ErrUnknownAPIKey: the key is not in APIs(); Body is nil.
//   - ErrUnsupportedVersion: the version is outside the served range; Body
//     is nil. For ApiVersions this is the KIP-511 case: the caller answers
//     with UnsupportedApiVersionsResponse instead of closing the connection.
//
// Byte-slice fields of the body alias frame, so frame must not be reused
// while the request is live.
func ParseRequest(frame []byte) (*Request, error) {
	if len(frame) < 8 {
		return nil, fmt.Errorf("%w: frame of %d bytes is shorter than a request header", ErrMalformedFrame, len(frame))
	}
	req := &Request{Header: RequestHeader{
		APIKey:        int16(binary.BigEndian.Uint16(frame[0:])),
		APIVersion:    int16(binary.BigEndian.Uint16(frame[2:])),
		CorrelationID: int32(binary.BigEndian.Uint32(frame[4:])),
	}}
	h := &req.Header
	if !knownKey(h.APIKey) {
		// We cannot know this API's header version; best effort at a v1
		// header for logging, the error stands either way.
		h.ClientID, _, _ = readClientID(frame[8:])
		return req, fmt.Errorf("%w: key %d", ErrUnknownAPIKey, h.APIKey)
	}
	body := kmsg.RequestForKey(h.APIKey)
	body.SetVersion(h.APIVersion)
	h.Flexible = body.IsFlexible()

	if !Supported(h.APIKey, h.APIVersion) {
		// The rest of the header is decoded only for the caller's logs:
		// a too-new ApiVersions request must be answered (KIP-511) even
		// if a future header layout confuses us.
		_, _ = parseHeaderTail(h, frame[8:])
		return req, fmt.Errorf("%w: %s v%d", ErrUnsupportedVersion, kmsg.NameForKey(h.APIKey), h.APIVersion)
	}
	rest, err := parseHeaderTail(h, frame[8:])
	if err != nil {
		return req, fmt.Errorf("%w: %s v%d correlation %d: %w",
			ErrMalformedFrame, kmsg.NameForKey(h.APIKey), h.APIVersion, h.CorrelationID, err)
	}
	if err := body.ReadFrom(rest); err != nil {
		return req, fmt.Errorf("%w: %s v%d correlation %d: body: %w",
			ErrMalformedFrame, kmsg.NameForKey(h.APIKey), h.APIVersion, h.CorrelationID, err)
	}
	req.Body = body
	return req, nil
}

// parseHeaderTail decodes the client id (header v1+) and, for header v2,
// the tagged fields, returning the bytes that follow the header.
func parseHeaderTail(h *RequestHeader, b []byte) ([]byte, error) {
	// Header v0 is only ControlledShutdown v0; it is listed for
	// completeness should that API ever be served.
	if h.APIKey == int16(kmsg.ControlledShutdown) && h.APIVersion == 0 {
		return b, nil
	}
	id, rest, err := readClientID(b)
	if err != nil {
		return nil, err
	}
	h.ClientID = id
	if !h.Flexible {
		return rest, nil
	}
	return skipTags(rest)
}

// readClientID reads the header's client id: a non-compact nullable string
// (int16 length, -1 for null) even in flexible headers, so that any broker
// can read an ApiVersions request's header.
func readClientID(b []byte) (*string, []byte, error) {
	if len(b) < 2 {
		return nil, nil, errors.New("truncated client id length")
	}
	n := int16(binary.BigEndian.Uint16(b))
	b = b[2:]
	switch {
	case n == -1:
		return nil, b, nil
	case n < 0:
		return nil, nil, fmt.Errorf("invalid client id length %d", n)
	case len(b) < int(n):
		return nil, nil, fmt.Errorf("client id of %d bytes truncated to %d", n, len(b))
	}
	id := string(b[:n])
	return &id, b[n:], nil
}

// skipTags skips a KIP-482 tagged-field section: an unsigned varint count,
// then per field an unsigned varint tag, an unsigned varint size and size
// bytes. Request headers define no tags of their own, so all are skipped.
func skipTags(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errors.New("truncated tag count")
	}
	b = b[n:]
	for i := uint64(0); i < count; i++ {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, fmt.Errorf("truncated tag %d key", i)
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("truncated tag %d size", i)
		}
		b = b[n:]
		if size > uint64(len(b)) {
			return nil, fmt.Errorf("tag %d of %d bytes truncated to %d", i, size, len(b))
		}
		b = b[size:]
	}
	return b, nil
}

// AppendResponse appends a complete framed response to dst: the int32 size,
// the response header (the correlation id, then an empty tagged-field
// section when resp is flexible) and the body. ApiVersions responses always
// use response header v0 (no tags), whatever their version, so that a
// client that does not yet know our versions can parse them. resp's version
// must already be set.
func AppendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0) // size, patched below
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		dst = append(dst, 0) // no header tags
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
