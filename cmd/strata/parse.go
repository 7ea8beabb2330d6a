package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// parseKeyValues parses repeated "k=v" flag values into a map. The value is
// everything after the first "=" and may be empty or contain "=" and ",".
// flag names the flag in error messages.
func parseKeyValues(flag string, pairs []string) (map[string]string, error) {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want key=value", flag, p)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s: %q given twice", flag, k)
		}
		m[k] = v
	}
	return m, nil
}

// parseHeaders parses repeated "k=v" --header values into record headers, in
// order. Unlike configs, a header key may repeat (Kafka allows it).
func parseHeaders(values []string) ([]kgo.RecordHeader, error) {
	hs := make([]kgo.RecordHeader, 0, len(values))
	for _, h := range values {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--header %q: want key=value", h)
		}
		hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return hs, nil
}

// parseSeparator interprets a separator flag: Go escape sequences such as
// `\t`, `\n`, `\x00` and `\\` are decoded, so that a tab can be typed as
// --key-separator '\t'. Anything else is taken literally. The result is never
// empty.
func parseSeparator(flag, s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%s must not be empty", flag)
	}
	var b strings.Builder
	for rest := s; rest != ""; {
		if rest[0] != '\\' { // bytes outside escapes are copied as is, even invalid UTF-8
			b.WriteByte(rest[0])
			rest = rest[1:]
			continue
		}
		r, multibyte, tail, err := strconv.UnquoteChar(rest, '"')
		if err != nil {
			return "", fmt.Errorf("%s %q: invalid escape sequence", flag, s)
		}
		if multibyte {
			b.WriteRune(r)
		} else {
			b.WriteByte(byte(r))
		}
		rest = tail
	}
	return b.String(), nil
}

// splitKey splits line into key and value at the first sep. ok is false when
// line does not contain sep.
func splitKey(line, sep []byte) (key, value []byte, ok bool) {
	i := bytes.Index(line, sep)
	if i < 0 {
		return nil, nil, false
	}
	return line[:i], line[i+len(sep):], true
}

// offsetSpec is a parsed --offset: a position where consuming starts.
type offsetSpec struct {
	kind offsetKind
	at   int64 // for offsetExact
}

type offsetKind int

const (
	offsetEarliest offsetKind = iota
	offsetLatest
	offsetExact
)

// parseOffset parses --offset: "earliest" (alias "beginning"), "latest"
// (alias "end"), or an absolute offset ≥ 0.
func parseOffset(s string) (offsetSpec, error) {
	switch strings.ToLower(s) {
	case "earliest", "beginning", "oldest":
		return offsetSpec{kind: offsetEarliest}, nil
	case "latest", "end", "newest":
		return offsetSpec{kind: offsetLatest}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return offsetSpec{}, fmt.Errorf("--offset %q: want earliest, latest or an offset >= 0", s)
	}
	return offsetSpec{kind: offsetExact, at: n}, nil
}

// kgoOffset converts the spec to a franz-go start offset. An exact offset
// outside the log starts at the nearest end of the log.
func (s offsetSpec) kgoOffset() kgo.Offset {
	switch s.kind {
	case offsetEarliest:
		return kgo.NewOffset().AtStart()
	case offsetLatest:
		return kgo.NewOffset().AtEnd()
	default:
		return kgo.NewOffset().At(s.at)
	}
}

// parseAcks parses --acks: "all" (or -1), "1" (leader) or "0" (none). all is
// true for acks=all, the only setting that allows idempotent writes.
func parseAcks(s string) (acks kgo.Acks, all bool, err error) {
	switch strings.ToLower(s) {
	case "all", "-1":
		return kgo.AllISRAcks(), true, nil
	case "1", "leader":
		return kgo.LeaderAck(), false, nil
	case "0", "none":
		return kgo.NoAck(), false, nil
	}
	return kgo.Acks{}, false, fmt.Errorf("--acks %q: want all, 1 or 0", s)
}

// parseCompression parses --compression.
func parseCompression(s string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(s) {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("--compression %q: want none, gzip, snappy, lz4 or zstd", s)
}

// outputFormat is how list and describe print results.
type outputFormat string

const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
)

// parseOutput parses --output.
func parseOutput(s string) (outputFormat, error) {
	switch f := outputFormat(strings.ToLower(s)); f {
	case outputTable, outputJSON:
		return f, nil
	}
	return "", errors.New("--output " + strconv.Quote(s) + ": want table or json")
}
