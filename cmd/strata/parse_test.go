package main

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseKeyValues(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    map[string]string
		wantErr bool
	}{
		{name: "none", in: nil, want: map[string]string{}},
		{name: "simple", in: []string{"retention.ms=1000", "cleanup.policy=compact"},
			want: map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}},
		{name: "value keeps = and ,", in: []string{"cleanup.policy=compact,delete", "x=a=b"},
			want: map[string]string{"cleanup.policy": "compact,delete", "x": "a=b"}},
		{name: "empty value", in: []string{"k="}, want: map[string]string{"k": ""}},
		{name: "missing =", in: []string{"retention.ms"}, wantErr: true},
		{name: "empty key", in: []string{"=1"}, wantErr: true},
		{name: "duplicate", in: []string{"a=1", "a=2"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseKeyValues("--config", tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	got, err := parseHeaders([]string{"a=1", "a=2", "trace=x=y", "empty="})
	if err != nil {
		t.Fatal(err)
	}
	want := []kgo.RecordHeader{
		{Key: "a", Value: []byte("1")},
		{Key: "a", Value: []byte("2")}, // repeated keys are legal in Kafka
		{Key: "trace", Value: []byte("x=y")},
		{Key: "empty", Value: []byte("")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"novalue", "=v"} {
		if _, err := parseHeaders([]string{bad}); err == nil {
			t.Errorf("parseHeaders(%q): want error", bad)
		}
	}
}

func TestParseSeparator(t *testing.T) {
	for in, want := range map[string]string{
		":":      ":",
		`\t`:     "\t",
		"\t":     "\t",
		`\x00`:   "\x00",
		`::\n`:   "::\n",
		`a\\b`:   `a\b`,
		`"`:      `"`,
		`\u00e9`: "é",
		"é|":     "é|",
	} {
		got, err := parseSeparator("--key-separator", in)
		if err != nil || got != want {
			t.Errorf("parseSeparator(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", `\`, `\q`, `a\x0`} {
		if got, err := parseSeparator("--key-separator", bad); err == nil {
			t.Errorf("parseSeparator(%q) = %q, want error", bad, got)
		}
	}
}

func TestSplitKey(t *testing.T) {
	for _, tc := range []struct {
		line, sep, key, value string
		ok                    bool
	}{
		{"k:v", ":", "k", "v", true},
		{"k:v:w", ":", "k", "v:w", true}, // first separator only
		{":v", ":", "", "v", true},
		{"k:", ":", "k", "", true},
		{"k::v", "::", "k", "v", true},
		{"kv", ":", "", "", false},
		{"", ":", "", "", false},
	} {
		k, v, ok := splitKey([]byte(tc.line), []byte(tc.sep))
		if ok != tc.ok || string(k) != tc.key || string(v) != tc.value {
			t.Errorf("splitKey(%q, %q) = %q, %q, %v; want %q, %q, %v", tc.line, tc.sep, k, v, ok, tc.key, tc.value, tc.ok)
		}
		if ok && (k == nil || v == nil) {
			t.Errorf("splitKey(%q): empty key or value must not be nil (nil means null)", tc.line)
		}
	}
}

func TestParseOffset(t *testing.T) {
	for in, want := range map[string]offsetSpec{
		"earliest":  {kind: offsetEarliest},
		"beginning": {kind: offsetEarliest},
		"EARLIEST":  {kind: offsetEarliest},
		"latest":    {kind: offsetLatest},
		"end":       {kind: offsetLatest},
		"0":         {kind: offsetExact, at: 0},
		"12345":     {kind: offsetExact, at: 12345},
	} {
		got, err := parseOffset(in)
		if err != nil || got != want {
			t.Errorf("parseOffset(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "first", "1.5", "99999999999999999999"} {
		if _, err := parseOffset(bad); err == nil {
			t.Errorf("parseOffset(%q): want error", bad)
		}
	}
}

func TestParseAcks(t *testing.T) {
	for in, wantAll := range map[string]bool{"all": true, "-1": true, "1": false, "0": false, "leader": false} {
		_, all, err := parseAcks(in)
		if err != nil || all != wantAll {
			t.Errorf("parseAcks(%q) all = %v, %v; want %v", in, all, err, wantAll)
		}
	}
	if _, _, err := parseAcks("2"); err == nil {
		t.Error("parseAcks(2): want error")
	}
}

func TestParseCompression(t *testing.T) {
	for _, in := range []string{"none", "gzip", "snappy", "lz4", "zstd", "ZSTD"} {
		if _, err := parseCompression(in); err != nil {
			t.Errorf("parseCompression(%q): %v", in, err)
		}
	}
	if _, err := parseCompression("brotli"); err == nil {
		t.Error("parseCompression(brotli): want error")
	}
}

func TestParseOutput(t *testing.T) {
	for in, want := range map[string]outputFormat{"table": outputTable, "json": outputJSON, "JSON": outputJSON} {
		if got, err := parseOutput(in); err != nil || got != want {
			t.Errorf("parseOutput(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := parseOutput("yaml"); err == nil {
		t.Error("parseOutput(yaml): want error")
	}
}
