package s3

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/strata-io/strata/tiering"
)

// Defaults of NewConfig.
const (
	DefaultEndpoint       = "s3.amazonaws.com"
	DefaultPartSize       = 16 << 20
	DefaultConcurrency    = 4
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxRetries     = 3
)

// S3's limits on multipart uploads.
const (
	MinPartSize = 5 << 20
	MaxPartSize = 5 << 30
)

// Config says where the store's objects live and how to reach them. Build
// one with NewConfig and change what differs.
type Config struct {
	// Endpoint is the server's "host:port", or a URL "http://host:port" or
	// "https://host:port" whose scheme then decides UseTLS. Empty means
	// AWS S3 (DefaultEndpoint).
	Endpoint string
	// Bucket holds the objects; it must exist unless CreateBucket is set.
	Bucket string
	// Region is the bucket's region. Empty takes $AWS_REGION, then
	// $AWS_DEFAULT_REGION, and failing both asks the server.
	Region string

	// AccessKey, SecretKey and SessionToken are static credentials. When
	// AccessKey is empty the store looks for credentials, at each
	// refresh, in the standard AWS environment variables
	// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the
	// shared credentials file (~/.aws/credentials, $AWS_PROFILE), and the
	// IAM role of the instance, container (ECS) or pod (IRSA), in that
	// order; with none it sends anonymous requests.
	AccessKey    string
	SecretKey    string
	SessionToken string

	// UseTLS selects https. NewConfig sets it.
	UseTLS bool
	// PathStyle addresses the bucket in the path (http://host/bucket/key),
	// as MinIO and versitygw expect; otherwise the store picks
	// virtual-host style (http://bucket.host/key) where the server
	// supports it, as AWS does.
	PathStyle bool
	// Prefix is put in front of every key, so several clusters can share
	// a bucket. It must be empty or a valid key, optionally ending in '/';
	// a '/' is added if missing.
	Prefix string

	// PartSize is the size of a multipart upload's parts; objects up to
	// this size go in one PUT. Between MinPartSize and MaxPartSize.
	PartSize int64
	// Concurrency is how many parts of one object upload at once when the
	// reader is an io.ReaderAt; a streamed upload buffers one part.
	Concurrency int
	// RequestTimeout bounds how long a request waits to connect and for
	// the server's response headers. It does not bound transferring a
	// body: a large Put or a Get's reader is bounded by the caller's
	// context.
	RequestTimeout time.Duration
	// MaxRetries is how many times a failed request is retried (with
	// exponential backoff, at most a second apart) before the error is
	// returned; 0 disables retries. Callers such as the uploader retry on
	// their own schedule too, so keep this small.
	MaxRetries int
	// CreateBucket makes New create the bucket when it does not exist.
	CreateBucket bool
	// TrailingChecksum sends object data unsigned, with a CRC32C checksum
	// in a trailer that the server verifies (S3's flexible checksums),
	// instead of signing every 64 KiB chunk with SHA-256 over plain HTTP;
	// that costs far less CPU (a 64 MiB PUT to a local versitygw: about
	// 500 MB/s instead of 330). AWS S3, MinIO and versitygw support it;
	// turn it off for a server that does not. NewConfig sets it.
	TrailingChecksum bool
}

// NewConfig returns a Config with defaults: AWS S3 over TLS, 16 MiB parts
// uploaded 4 at a time, a 30 s request timeout, 3 retries and trailing
// checksums. Bucket must still be set.
func NewConfig() Config {
	return Config{
		Endpoint:         DefaultEndpoint,
		UseTLS:           true,
		PartSize:         DefaultPartSize,
		Concurrency:      DefaultConcurrency,
		RequestTimeout:   DefaultRequestTimeout,
		MaxRetries:       DefaultMaxRetries,
		TrailingChecksum: true,
	}
}

// Validate reports the first problem with c as an error wrapping
// ErrInvalidConfig.
func (c Config) Validate() error {
	if _, _, err := c.endpoint(); err != nil {
		return err
	}
	if err := s3utils.CheckValidBucketName(c.Bucket); err != nil {
		return invalid("bucket %q: %v", c.Bucket, err)
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return invalid("access key and secret key must be given together")
	}
	if c.SessionToken != "" && c.AccessKey == "" {
		return invalid("a session token needs an access key and a secret key")
	}
	if p := strings.TrimSuffix(c.Prefix, "/"); c.Prefix != "" {
		if err := tiering.ValidateKey(p); err != nil {
			return invalid("prefix %q: %v", c.Prefix, err)
		}
	}
	if c.PartSize < MinPartSize || c.PartSize > MaxPartSize {
		return invalid("part size %d is outside [%d, %d]", c.PartSize, MinPartSize, MaxPartSize)
	}
	if c.Concurrency < 1 {
		return invalid("concurrency %d is less than 1", c.Concurrency)
	}
	if c.RequestTimeout <= 0 {
		return invalid("request timeout %v is not positive", c.RequestTimeout)
	}
	if c.MaxRetries < 0 {
		return invalid("max retries %d is negative", c.MaxRetries)
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// endpoint returns the host:port to connect to and whether to use TLS.
func (c Config) endpoint() (host string, tls bool, err error) {
	e := c.Endpoint
	if e == "" {
		e = DefaultEndpoint
	}
	if !strings.Contains(e, "://") {
		if strings.ContainsAny(e, "/?#") {
			return "", false, invalid("endpoint %q: want host:port or a URL", c.Endpoint)
		}
		return e, c.UseTLS, nil
	}
	u, err := url.Parse(e)
	if err != nil {
		return "", false, invalid("endpoint %q: %v", c.Endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, invalid("endpoint %q: scheme must be http or https", c.Endpoint)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", false, invalid("endpoint %q: want only a scheme, a host and a port", c.Endpoint)
	}
	return u.Host, u.Scheme == "https", nil
}

// region returns the configured region or the one in the environment.
func (c Config) region() string {
	for _, r := range []string{c.Region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")} {
		if r != "" {
			return r
		}
	}
	return ""
}

// keyPrefix returns Prefix ending in '/', or "".
func (c Config) keyPrefix() string {
	if c.Prefix == "" || strings.HasSuffix(c.Prefix, "/") {
		return c.Prefix
	}
	return c.Prefix + "/"
}
