package main

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRecordFormat(t *testing.T) {
	ts := time.UnixMilli(1700000000123)
	rec := &kgo.Record{
		Key: []byte("k"), Value: []byte("v"), Partition: 2, Offset: 42, Timestamp: ts,
		Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: nil}},
	}
	null := &kgo.Record{Timestamp: ts}
	empty := &kgo.Record{Key: []byte{}, Value: []byte{}, Timestamp: ts}
	for _, tc := range []struct {
		name string
		f    recordFormat
		r    *kgo.Record
		want string
	}{
		{"value only", recordFormat{sep: "\t"}, rec, "v\n"},
		{"key", recordFormat{sep: "\t", key: true}, rec, "k\tv\n"},
		{"everything in Kafka's order", recordFormat{sep: "|", timestamp: true, partition: true, offset: true,
			headers: true, key: true}, rec, "CreateTime:1700000000123|Partition:2|Offset:42|a=1,b=|k|v\n"},
		{"no headers", recordFormat{sep: "\t", headers: true}, empty, "NO_HEADERS\t\n"},
		{"null prints empty", recordFormat{sep: "\t", key: true}, null, "\t\n"},
		{"null with --print-null", recordFormat{sep: "\t", key: true, null: true}, null, "null\tnull\n"},
		{"empty is not null", recordFormat{sep: "\t", key: true, null: true}, empty, "\t\n"},
		{"null header value", recordFormat{sep: " ", headers: true, null: true}, rec, "a=1,b=null v\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.f.append(nil, tc.r)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRecordFormatTimestampTypes(t *testing.T) {
	f := &recordFormat{sep: "\t", timestamp: true}
	for tsType, want := range map[int8]string{0: "CreateTime:5\t\n", 1: "LogAppendTime:5\t\n", -1: "NO_TIMESTAMP\t\n"} {
		r := &kgo.Record{Timestamp: time.UnixMilli(5), Attrs: kgo.NewRecordAttrs(kgo.RecordAttrsOpts{TimestampType: tsType})}
		if got := string(f.append(nil, r)); got != want {
			t.Errorf("timestamp type %d: got %q, want %q", tsType, got, want)
		}
	}
}

func TestConsumeConfig(t *testing.T) {
	base := func() consumeOptions {
		return consumeOptions{topic: "t", partition: -1, keySeparator: `\t`}
	}
	for _, tc := range []struct {
		name    string
		mod     func(*consumeOptions)
		wantErr string
	}{
		{name: "defaults", mod: func(*consumeOptions) {}},
		{name: "partition and offset", mod: func(o *consumeOptions) { o.partition, o.offset = 1, "earliest" }},
		{name: "group", mod: func(o *consumeOptions) { o.group, o.fromBeginning = "g", true }},
		{name: "no topic", mod: func(o *consumeOptions) { o.topic = "" }, wantErr: "--topic is required"},
		{name: "offset without partition", mod: func(o *consumeOptions) { o.offset = "5" }, wantErr: "--offset needs --partition"},
		{name: "offset and from-beginning", mod: func(o *consumeOptions) { o.partition, o.offset, o.fromBeginning = 0, "5", true },
			wantErr: "give one"},
		{name: "group and partition", mod: func(o *consumeOptions) { o.group, o.partition = "g", 0 }, wantErr: "exclusive"},
		{name: "bad offset", mod: func(o *consumeOptions) { o.partition, o.offset = 0, "-5" }, wantErr: "--offset"},
		{name: "negative max", mod: func(o *consumeOptions) { o.maxMessages = -1 }, wantErr: "--max-messages"},
		{name: "negative idle", mod: func(o *consumeOptions) { o.idleTimeout = -time.Second }, wantErr: "--timeout-idle"},
		{name: "empty separator", mod: func(o *consumeOptions) { o.keySeparator = "" }, wantErr: "--key-separator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.mod(&o)
			cfg, err := o.config()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.format.sep != "\t" {
					t.Fatalf("default separator %q, want a tab", cfg.format.sep)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
