package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func readAllLines(t *testing.T, in string, max int) ([]string, error) {
	t.Helper()
	lr := newLineReader(strings.NewReader(in), max)
	var lines []string
	for {
		l, err := lr.next()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
		lines = append(lines, string(l))
	}
}

func TestLineReader(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"empty input", "", nil},
		{"one line", "a\n", []string{"a"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"lone cr kept", "a\rb\n", []string{"a\rb"}},
		{"cr at eof kept", "a\r", []string{"a\r"}},
		{"empty lines", "\n\nx\n", []string{"", "", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAllLines(t, tc.in, 100)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLineReaderLongLines(t *testing.T) {
	// Far beyond bufio.Scanner's 64 KiB default token and the reader's own
	// 64 KiB buffer.
	big := strings.Repeat("x", 3<<20)
	got, err := readAllLines(t, "small\n"+big+"\r\nafter", 3<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "small" || got[1] != big || got[2] != "after" {
		t.Fatalf("got %d lines, lengths %v", len(got), lens(got))
	}

	lr := newLineReader(strings.NewReader("ok\n"+big+"\nnext\n"), 1<<20)
	if _, err := lr.next(); err != nil {
		t.Fatal(err)
	}
	_, err = lr.next()
	if !errors.Is(err, errLineTooLong) || !strings.Contains(err.Error(), "line 2 ") {
		t.Fatalf("err = %v, want errLineTooLong for line 2", err)
	}

	// Exactly max bytes fits, with either terminator.
	exact := strings.Repeat("y", 1000)
	if got, err := readAllLines(t, exact+"\r\n"+exact, 1000); err != nil || len(got) != 2 {
		t.Fatalf("exact max: %d lines, %v", len(got), err)
	}
	if _, err := readAllLines(t, exact+"z\n", 1000); !errors.Is(err, errLineTooLong) {
		t.Fatalf("max+1: err = %v", err)
	}
}

func lens(ss []string) []int {
	var n []int
	for _, s := range ss {
		n = append(n, len(s))
	}
	return n
}

func TestLineReaderReturnsFreshSlices(t *testing.T) {
	lr := newLineReader(strings.NewReader("aaaa\nbbbb\n"), 10)
	a, _ := lr.next()
	b, _ := lr.next()
	if string(a) != "aaaa" || string(b) != "bbbb" {
		t.Fatalf("records share a buffer: %q %q", a, b)
	}
}

func TestProduceConfig(t *testing.T) {
	base := func() produceOptions {
		return produceOptions{topic: "t", partition: -1, acks: "all", compression: "none",
			linger: time.Millisecond, idempotent: true, maxMessageBytes: 1 << 20, deliveryTimeout: time.Minute}
	}
	for _, tc := range []struct {
		name          string
		mod           func(*produceOptions)
		idempotentSet bool
		wantErr       string
	}{
		{name: "defaults", mod: func(*produceOptions) {}},
		{name: "acks 1 turns idempotence off", mod: func(o *produceOptions) { o.acks = "1" }},
		{name: "explicit idempotent with acks 1", mod: func(o *produceOptions) { o.acks = "1" },
			idempotentSet: true, wantErr: "--idempotent requires --acks all"},
		{name: "no topic", mod: func(o *produceOptions) { o.topic = "" }, wantErr: "--topic is required"},
		{name: "bad partition", mod: func(o *produceOptions) { o.partition = -2 }, wantErr: "--partition"},
		{name: "bad acks", mod: func(o *produceOptions) { o.acks = "2" }, wantErr: "--acks"},
		{name: "bad compression", mod: func(o *produceOptions) { o.compression = "x" }, wantErr: "--compression"},
		{name: "bad header", mod: func(o *produceOptions) { o.headers = []string{"x"} }, wantErr: "--header"},
		{name: "bad separator", mod: func(o *produceOptions) { o.keySeparator = `\` }, wantErr: "--key-separator"},
		{name: "bad max bytes", mod: func(o *produceOptions) { o.maxMessageBytes = 0 }, wantErr: "--max-message-bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.mod(&o)
			_, err := o.config(tc.idempotentSet)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestProduceRecord(t *testing.T) {
	o := produceOptions{topic: "t", partition: 3, acks: "all", compression: "none", maxMessageBytes: 100,
		keySeparator: "::", headers: []string{"a=1", "b=2"}}
	cfg, err := o.config(false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.record([]byte("key::val::ue"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Topic != "t" || r.Partition != 3 || string(r.Key) != "key" || string(r.Value) != "val::ue" ||
		len(r.Headers) != 2 || r.Headers[1].Key != "b" || string(r.Headers[1].Value) != "2" {
		t.Fatalf("record = %+v", r)
	}
	if _, err := cfg.record([]byte("no separator"), 7); err == nil || !strings.Contains(err.Error(), "line 7") {
		t.Fatalf("err = %v, want one naming line 7", err)
	}

	o.keySeparator = ""
	cfg, _ = o.config(false)
	r, _ = cfg.record([]byte(""), 1)
	if r.Key != nil || r.Value == nil {
		t.Fatalf("value-only empty line: key %v value %v; want null key, empty non-null value", r.Key, r.Value)
	}
}

func TestProduceTally(t *testing.T) {
	fails := 0
	tally := &produceTally{}
	tally.setOnFail(func() { fails++ })
	tally.done(nil, nil)
	tally.done(nil, nil)
	first := errors.New("first")
	tally.done(nil, first)
	tally.done(nil, errors.New("second"))
	acked, err := tally.result()
	if acked != 2 || err != first || fails != 1 {
		t.Fatalf("acked %d, first %v, onFail calls %d", acked, err, fails)
	}
}

func TestInflightLimit(t *testing.T) {
	l := newInflightLimit(2, 100)
	ctx := context.Background()
	if err := l.acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	// 60+60 > 100 bytes: blocks until released.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.acquire(cctx, 60); !errors.Is(err, context.Canceled) {
		t.Fatalf("over the byte bound: err = %v, want to wait", err)
	}
	done := make(chan error, 1)
	go func() { done <- l.acquire(ctx, 60) }()
	l.release(60)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The record bound: 2 in flight.
	if err := l.acquire(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := l.acquire(cctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("over the record bound: err = %v, want to wait", err)
	}
	l.release(60)
	l.release(1)
	// Alone, a record larger than the byte bound is admitted.
	if err := l.acquire(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	l.release(1000)
	if l.records != 0 || l.bytes != 0 {
		t.Fatalf("leaked: %d records, %d bytes", l.records, l.bytes)
	}
}

func TestReadRecordsStops(t *testing.T) {
	cfg := produceConfig{topic: "t", partition: -1, maxLine: 10}
	records, stop, readErr := readRecords(strings.NewReader("a\nb\nc\n"), &cfg)
	r := <-records
	if string(r.Value) != "a" {
		t.Fatalf("first record %q", r.Value)
	}
	close(stop)
	for range records { // may deliver at most the one record in hand
	}
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}

	records, stop, readErr = readRecords(bytes.NewReader([]byte("ok\nway too long line\n")), &cfg)
	defer close(stop)
	var n int
	for range records {
		n++
	}
	if err := <-readErr; n != 1 || !errors.Is(err, errLineTooLong) {
		t.Fatalf("%d records, err %v; want 1 and errLineTooLong", n, err)
	}
}
