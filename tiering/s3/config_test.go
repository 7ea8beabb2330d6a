package s3

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/strata-io/strata/tiering"
)

func validConfig() Config {
	cfg := NewConfig()
	cfg.Bucket = "strata-data"
	return cfg
}

func TestConfigValidate(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"no bucket", func(c *Config) { c.Bucket = "" }},
		{"bad bucket", func(c *Config) { c.Bucket = "bad..bucket" }},
		{"bucket with slash", func(c *Config) { c.Bucket = "a/b" }},
		{"short bucket", func(c *Config) { c.Bucket = "ab" }},
		{"access key alone", func(c *Config) { c.AccessKey = "a" }},
		{"secret key alone", func(c *Config) { c.SecretKey = "s" }},
		{"token alone", func(c *Config) { c.SessionToken = "t" }},
		{"bad prefix", func(c *Config) { c.Prefix = "../x" }},
		{"prefix with empty segment", func(c *Config) { c.Prefix = "a//" }},
		{"part too small", func(c *Config) { c.PartSize = MinPartSize - 1 }},
		{"part too large", func(c *Config) { c.PartSize = MaxPartSize + 1 }},
		{"no concurrency", func(c *Config) { c.Concurrency = 0 }},
		{"no timeout", func(c *Config) { c.RequestTimeout = 0 }},
		{"negative retries", func(c *Config) { c.MaxRetries = -1 }},
		{"endpoint with path", func(c *Config) { c.Endpoint = "host:9000/bucket" }},
		{"URL with path", func(c *Config) { c.Endpoint = "http://host:9000/bucket" }},
		{"URL with query", func(c *Config) { c.Endpoint = "http://host:9000?x=1" }},
		{"URL with user", func(c *Config) { c.Endpoint = "http://u:p@host:9000" }},
		{"ftp URL", func(c *Config) { c.Endpoint = "ftp://host" }},
		{"URL without host", func(c *Config) { c.Endpoint = "http://" }},
	} {
		cfg := validConfig()
		tc.mod(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v, want ErrInvalidConfig", tc.name, err)
		}
	}
}

func TestConfigEndpoint(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		useTLS   bool
		host     string
		tls      bool
	}{
		{"", true, DefaultEndpoint, true},
		{"minio:9000", false, "minio:9000", false},
		{"minio:9000", true, "minio:9000", true},
		{"http://127.0.0.1:7070", true, "127.0.0.1:7070", false},
		{"https://s3.example.com/", false, "s3.example.com", true},
		{"[::1]:9000", false, "[::1]:9000", false},
	} {
		cfg := validConfig()
		cfg.Endpoint, cfg.UseTLS = tc.endpoint, tc.useTLS
		host, tls, err := cfg.endpoint()
		if err != nil || host != tc.host || tls != tc.tls {
			t.Errorf("endpoint(%q, UseTLS=%v) = %q, %v, %v; want %q, %v", tc.endpoint, tc.useTLS, host, tls, err, tc.host, tc.tls)
		}
	}
}

func TestConfigPrefixAndRegion(t *testing.T) {
	for in, want := range map[string]string{"": "", "c1": "c1/", "c1/": "c1/", "a/b": "a/b/"} {
		cfg := validConfig()
		cfg.Prefix = in
		if err := cfg.Validate(); err != nil {
			t.Errorf("prefix %q: %v", in, err)
		}
		if got := cfg.keyPrefix(); got != want {
			t.Errorf("keyPrefix(%q) = %q, want %q", in, got, want)
		}
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "eu-west-1")
	cfg := validConfig()
	if r := cfg.region(); r != "eu-west-1" {
		t.Errorf("region from $AWS_DEFAULT_REGION = %q", r)
	}
	t.Setenv("AWS_REGION", "eu-central-1")
	if r := cfg.region(); r != "eu-central-1" {
		t.Errorf("region from $AWS_REGION = %q", r)
	}
	cfg.Region = "us-west-2"
	if r := cfg.region(); r != "us-west-2" {
		t.Errorf("configured region = %q", r)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		want        tiering.Op
	}{
		{http.MethodPut, "http://h/b/k", tiering.OpPut},
		{http.MethodPut, "http://h/b/k?partNumber=1&uploadId=x", tiering.OpPut},
		{http.MethodPost, "http://h/b/k?uploads=", tiering.OpPut},
		{http.MethodGet, "http://h/b/k", tiering.OpGet},
		{http.MethodGet, "http://h/b/k?versionId=3", tiering.OpGet},
		{http.MethodGet, "http://h/b/?list-type=2&prefix=a", tiering.OpList},
		{http.MethodGet, "http://h/b/?location=", tiering.OpList},
		{http.MethodHead, "http://h/b/k", tiering.OpHead},
		{http.MethodHead, "http://h/b/", tiering.OpHead},
		{http.MethodDelete, "http://h/b/k", tiering.OpDelete},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := classify(&http.Request{Method: tc.method, URL: u}); got != tc.want {
			t.Errorf("classify(%s %s) = %v, want %v", tc.method, tc.url, got, tc.want)
		}
	}
}
