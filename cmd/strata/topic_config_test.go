package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestParseConfigChange(t *testing.T) {
	c, err := parseConfigChange([]string{"retention.ms=1000", "cleanup.policy=compact,delete"}, []string{"segment.ms"})
	if err != nil {
		t.Fatal(err)
	}
	wantOps := []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "cleanup.policy", Value: strp("compact,delete")},
		{Op: kadm.SetConfig, Name: "retention.ms", Value: strp("1000")},
		{Op: kadm.DeleteConfig, Name: "segment.ms"},
	}
	if got := c.incremental(); !reflect.DeepEqual(got, wantOps) {
		t.Fatalf("incremental = %+v, want %+v", got, wantOps)
	}
	for _, tc := range []struct {
		set, del []string
		wantErr  string
	}{
		{wantErr: "nothing to change"},
		{set: []string{"a"}, wantErr: "key=value"},
		{set: []string{"a=1"}, del: []string{"a"}, wantErr: "both set and deleted"},
		{del: []string{"a", "a"}, wantErr: "twice"},
		{del: []string{""}, wantErr: "empty"},
	} {
		if _, err := parseConfigChange(tc.set, tc.del); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("parseConfigChange(%q, %q) = %v, want %q", tc.set, tc.del, err, tc.wantErr)
		}
	}
}

func TestConfigChangeMerged(t *testing.T) {
	current := []kadm.Config{
		{Key: "retention.ms", Value: strp("1000"), Source: kmsg.ConfigSourceDynamicTopicConfig},
		{Key: "segment.ms", Value: strp("60000"), Source: kmsg.ConfigSourceDynamicTopicConfig},
		{Key: "max.message.bytes", Value: strp("2000000"), Source: kmsg.ConfigSourceDynamicTopicConfig},
		// Not the topic's own overrides: never written back.
		{Key: "cleanup.policy", Value: strp("delete"), Source: kmsg.ConfigSourceDefaultConfig},
		{Key: "log.retention.hours", Value: strp("1"), Source: kmsg.ConfigSourceStaticBrokerConfig},
	}
	c, err := parseConfigChange([]string{"retention.ms=5", "cleanup.policy=compact"}, []string{"segment.ms"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.merged(current)
	if err != nil {
		t.Fatal(err)
	}
	want := []kadm.AlterConfig{
		{Name: "cleanup.policy", Value: strp("compact")},
		{Name: "max.message.bytes", Value: strp("2000000")}, // kept
		{Name: "retention.ms", Value: strp("5")},            // overwritten
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged = %+v, want %+v", got, want)
	}

	// A hidden sensitive override cannot be carried over.
	secret := append(current, kadm.Config{Key: "secret", Sensitive: true, Source: kmsg.ConfigSourceDynamicTopicConfig})
	if _, err := c.merged(secret); err == nil || !strings.Contains(err.Error(), `"secret"`) {
		t.Fatalf("err = %v, want one naming the sensitive config", err)
	}
	// ... unless the change sets or deletes it.
	c2, _ := parseConfigChange([]string{"secret=x"}, nil)
	if _, err := c2.merged(secret); err != nil {
		t.Fatal(err)
	}
	c3, _ := parseConfigChange(nil, []string{"secret"})
	if _, err := c3.merged(secret); err != nil {
		t.Fatal(err)
	}
}
