package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/strata-io/strata/tiering"
)

// credentialsFor returns static credentials if cfg has them, else the
// chain Config.AccessKey documents.
func credentialsFor(cfg Config) *credentials.Credentials {
	if cfg.AccessKey != "" {
		return credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	}
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{},
	})
}

// countingTransport counts the HTTP requests the store sends, by kind,
// and the object bytes they carry, in a tiering.Counters. Counting here
// rather than per Store call sees what the server bills: every part of a
// multipart upload, every page of a listing and every retry.
type countingTransport struct {
	next  http.RoundTripper
	stats *tiering.Counters
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := classify(req)
	resp, err := t.next.RoundTrip(req)
	failed := (err != nil && req.Context().Err() == nil && !errors.Is(err, errShortReader)) ||
		(err == nil && resp.StatusCode >= 500)
	t.stats.AddRequest(op, failed)
	if err != nil || resp.StatusCode/100 != 2 {
		return resp, err
	}
	switch {
	case op == tiering.OpPut && req.Method == http.MethodPut:
		t.stats.AddBytesWritten(payloadLength(req))
	case op == tiering.OpGet && req.Method == http.MethodGet:
		resp.Body = &countingBody{ReadCloser: resp.Body, stats: t.stats}
	}
	return resp, nil
}

// classify tells the kind of an S3 request from its method and query.
// A GET with a query other than versionId or partNumber addresses the
// bucket (a listing, the bucket's location), not an object.
func classify(req *http.Request) tiering.Op {
	switch req.Method {
	case http.MethodPut, http.MethodPost:
		return tiering.OpPut
	case http.MethodHead:
		return tiering.OpHead
	case http.MethodDelete:
		return tiering.OpDelete
	}
	for k := range req.URL.Query() {
		if k != "versionId" && k != "partNumber" {
			return tiering.OpList
		}
	}
	return tiering.OpGet
}

// payloadLength returns the object bytes a PUT carries: the decoded
// length of a chunk-signed (aws-chunked) body, else its length.
func payloadLength(req *http.Request) int64 {
	if v := req.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return max(req.ContentLength, 0)
}

// countingBody counts the bytes read from a GET response body.
type countingBody struct {
	io.ReadCloser
	stats *tiering.Counters
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.stats.AddBytesRead(int64(n))
	return n, err
}

// wrap turns an error of minio-go into the store's: the context's error
// if ctx is done, tiering.ErrNotFound for a missing key,
// tiering.ErrInvalidRange for an unsatisfiable range, ErrBucketNotFound
// for a missing bucket, ErrAccessDenied for a 403, and
// tiering.ErrUnavailable (joined with the original error) for network
// failures and server-side errors.
func (s *Store) wrap(ctx context.Context, op, key string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("s3: %s %q: %w", op, key, cerr)
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == minio.NoSuchBucket:
		return fmt.Errorf("s3: %s %q: %w", op, key, &bucketNotFoundError{bucket: s.bucket, endpoint: s.endpoint})
	case resp.Code == minio.NoSuchKey || resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("s3: %s %q: %w", op, key, tiering.ErrNotFound)
	case resp.Code == "InvalidRange" || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("s3: %s %q: %w", op, key, tiering.ErrInvalidRange)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("s3: %s %q at %s: %w: %w", op, key, s.endpoint, ErrAccessDenied, err)
	case errors.Is(err, errShortReader):
		return fmt.Errorf("s3: %s %q: %w", op, key, errShortReader)
	case transient(resp, err):
		return fmt.Errorf("s3: %s %q at %s: %w: %w", op, key, s.endpoint, tiering.ErrUnavailable, err)
	}
	return fmt.Errorf("s3: %s %q at %s: %w", op, key, s.endpoint, err)
}

// transient reports whether a request failed in a way a later retry may
// not: the server could not be reached or answered in time, or it
// reported an error of its own (5xx) or throttled the client.
func transient(resp minio.ErrorResponse, err error) bool {
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests:
		return true
	case resp.Code == "SlowDown", resp.Code == "RequestTimeout", resp.Code == "InternalError", resp.Code == "ServiceUnavailable":
		return true
	case resp.StatusCode != 0:
		return false
	}
	// No response: look beneath *url.Error (which is itself a net.Error)
	// for what went wrong on the way.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		// minio-go's stand-in for an EOF from the connection.
		strings.Contains(err.Error(), "Connection closed by foreign host")
}
