package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzLineReader checks the stdin line splitter against a simple model:
// split at "\n", drop the empty piece after a final "\n", strip one "\r"
// before each "\n", and stop with errLineTooLong at the first line over max.
func FuzzLineReader(f *testing.F) {
	for _, seed := range []string{"", "a", "a\n", "a\r\nb", "\n\n", "k:v\r\n\r\n", "x\ry\r", strings.Repeat("z", 70000) + "\n"} {
		f.Add(seed, uint16(8))
		f.Add(seed, uint16(65535))
	}
	f.Fuzz(func(t *testing.T, in string, max uint16) {
		pieces := strings.Split(in, "\n")
		terminated := make([]bool, len(pieces))
		for i := range pieces[:len(pieces)-1] {
			terminated[i] = true
		}
		if pieces[len(pieces)-1] == "" {
			pieces, terminated = pieces[:len(pieces)-1], terminated[:len(terminated)-1]
		}

		lr := newLineReader(strings.NewReader(in), int(max))
		for i, p := range pieces {
			if terminated[i] {
				p = strings.TrimSuffix(p, "\r")
			}
			got, err := lr.next()
			if len(p) > int(max) {
				if !errors.Is(err, errLineTooLong) || lr.line != i+1 {
					t.Fatalf("line %d (%d bytes, max %d): err %v at line %d, want errLineTooLong", i+1, len(p), max, err, lr.line)
				}
				return
			}
			if err != nil || string(got) != p {
				t.Fatalf("line %d: got %q, %v; want %q", i+1, got, err, p)
			}
		}
		if _, err := lr.next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after %d lines: err %v, want EOF", len(pieces), err)
		}
	})
}

// FuzzParseSeparator checks that any flag value either fails cleanly or
// yields a non-empty separator, and that plain text without escapes is kept.
func FuzzParseSeparator(f *testing.F) {
	for _, seed := range []string{":", `\t`, `\x00`, `"`, `\`, `\u00e9`, "::", `a\\b`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseSeparator("--key-separator", in)
		if err != nil {
			return
		}
		if got == "" {
			t.Fatalf("parseSeparator(%q) = empty", in)
		}
		if !strings.Contains(in, `\`) && got != in {
			t.Fatalf("parseSeparator(%q) = %q, want it unchanged", in, got)
		}
	})
}
