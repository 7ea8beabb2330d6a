package etcd

import (
	"errors"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"defaults", func(*Config) {}, true},
		{"other prefix", func(c *Config) { c.Prefix = "/x/y/" }, true},
		{"prefix without leading slash", func(c *Config) { c.Prefix = "strata/" }, false},
		{"prefix without trailing slash", func(c *Config) { c.Prefix = "/strata" }, false},
		{"root prefix", func(c *Config) { c.Prefix = "/" }, false},
		{"zero request timeout", func(c *Config) { c.RequestTimeout = 0 }, false},
		{"zero dial timeout", func(c *Config) { c.DialTimeout = 0 }, false},
		{"short lease", func(c *Config) { c.LeaseTTL = 500 * time.Millisecond }, false},
		{"empty endpoint", func(c *Config) { c.Endpoints = []string{"http://a:1", " "} }, false},
	}
	for _, c := range cases {
		cfg := NewConfig()
		c.change(&cfg)
		err := cfg.Validate()
		if (err == nil) != c.ok || err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	cfg := NewConfig()
	cfg.LeaseTTL = 2500 * time.Millisecond
	if got := cfg.leaseSeconds(); got != 3 {
		t.Errorf("leaseSeconds(2.5s) = %d, want 3", got)
	}
}

func TestEmbedConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*EmbedConfig)
		ok     bool
	}{
		{"defaults", func(*EmbedConfig) {}, true},
		{"no dir", func(c *EmbedConfig) { c.Dir = "" }, false},
		{"bad name", func(c *EmbedConfig) { c.Name = "a=b" }, false},
		{"bad state", func(c *EmbedConfig) { c.InitialClusterState = "old" }, false},
		{"bad url", func(c *EmbedConfig) { c.ListenClientURL = "127.0.0.1:2379" }, false},
		{"url without port", func(c *EmbedConfig) { c.ListenPeerURL = "http://127.0.0.1" }, false},
		{"member missing", func(c *EmbedConfig) { c.InitialCluster = "other=http://127.0.0.1:2380" }, false},
		{"duplicate member", func(c *EmbedConfig) {
			c.InitialCluster = "strata=http://127.0.0.1:2380,strata=http://127.0.0.1:2381"
		}, false},
		{"cluster with port 0", func(c *EmbedConfig) {
			c.InitialCluster = "strata=http://127.0.0.1:0,b=http://127.0.0.1:2381"
		}, false},
		{"cluster", func(c *EmbedConfig) {
			c.ListenPeerURL = "http://127.0.0.1:2380"
			c.InitialCluster = "strata=http://127.0.0.1:2380,b=http://127.0.0.1:2381"
		}, true},
		{"election too short", func(c *EmbedConfig) {
			c.TickInterval, c.ElectionTimeout = 100*time.Millisecond, 200*time.Millisecond
		}, false},
		{"no quota", func(c *EmbedConfig) { c.QuotaBackendBytes = 0 }, false},
		{"negative retention", func(c *EmbedConfig) { c.CompactionRetention = -1 }, false},
	}
	for _, c := range cases {
		cfg := NewEmbedConfig("/tmp/x")
		c.change(&cfg)
		err := cfg.Validate()
		if (err == nil) != c.ok || err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

// TestEmbedConfigTiming: zero timings pick fast ones for a single member
// and etcd's defaults for a cluster.
func TestEmbedConfigTiming(t *testing.T) {
	single := NewEmbedConfig("/tmp/x")
	if err := single.Validate(); err != nil {
		t.Fatal(err)
	}
	if single.TickInterval != singleMemberTick || single.ElectionTimeout != singleMemberElection {
		t.Errorf("single member timing %v/%v", single.TickInterval, single.ElectionTimeout)
	}
	cluster := NewEmbedConfig("/tmp/x")
	cluster.ListenPeerURL = "http://127.0.0.1:2380"
	cluster.InitialCluster = "strata=http://127.0.0.1:2380,b=http://127.0.0.1:2381,c=http://127.0.0.1:2382"
	if err := cluster.Validate(); err != nil {
		t.Fatal(err)
	}
	if cluster.TickInterval != clusterTick || cluster.ElectionTimeout != clusterElection {
		t.Errorf("cluster timing %v/%v", cluster.TickInterval, cluster.ElectionTimeout)
	}
}
