package tiering

import (
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	long := strings.Repeat("x", MaxSegmentLen)
	valid := []string{
		"a",
		"a/b",
		"cluster-1/Zm9vYmFy_-/7/00000000000000000042-3.log",
		"a.b/c=d/e_f/G-H",
		"a..b/c.",
		long,
		strings.Repeat("ab/", 341) + "c", // MaxKeyLen bytes
	}
	for _, k := range valid {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	invalid := []string{
		"",
		"/",
		"/a",
		"a/",
		"a//b",
		".",
		"..",
		"../a",
		"a/../b",
		"a/./b",
		"a/..",
		".hidden",
		"a/.tmp/b",
		"a b",
		"a\\b",
		"a\x00b",
		"a\nb",
		"a+b",
		"a%2fb",
		"a?b",
		"a#b",
		"caf\xc3\xa9",
		long + "x",
		strings.Repeat("a/", MaxKeyLen/2) + "b",
	}
	for _, k := range invalid {
		if err := ValidateKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
}

func TestJoinKey(t *testing.T) {
	k, err := JoinKey("c1", "topic", "0", "00000000000000000000-1.log")
	if err != nil || k != "c1/topic/0/00000000000000000000-1.log" {
		t.Errorf("JoinKey = %q, %v", k, err)
	}
	for _, segs := range [][]string{{}, {""}, {"a", ""}, {"a", ".."}, {"a", "b c"}} {
		if k, err := JoinKey(segs...); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("JoinKey(%q) = %q, %v; want ErrInvalidKey", segs, k, err)
		}
	}
}

func TestOpString(t *testing.T) {
	want := []string{"PUT", "GET", "HEAD", "LIST", "DELETE"}
	for op := range NumOps {
		if op.String() != want[op] {
			t.Errorf("Op(%d).String() = %q, want %q", op, op.String(), want[op])
		}
	}
	if s := Op(-1).String(); s != "UNKNOWN" {
		t.Errorf("Op(-1).String() = %q", s)
	}
}

func TestCounters(t *testing.T) {
	var c Counters
	c.AddRequest(OpPut, false)
	c.AddRequest(OpPut, true)
	c.AddRequest(OpList, false)
	c.AddRequest(NumOps, true) // ignored
	c.AddBytesWritten(10)
	c.AddBytesRead(7)
	s := c.Stats()
	if s.Requests[OpPut] != 2 || s.Errors[OpPut] != 1 || s.Requests[OpList] != 1 || s.Errors[OpList] != 0 {
		t.Errorf("Stats = %+v", s)
	}
	if s.BytesWritten != 10 || s.BytesRead != 7 {
		t.Errorf("Stats bytes = %d written, %d read", s.BytesWritten, s.BytesRead)
	}
}

// FuzzValidateKey checks the promise the file-system store relies on: a
// valid key joined under a directory names a path inside it, equal to the
// key itself, and the key needs no escaping in a URL path.
func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../a", "a/../../b", "a//b", "/etc/passwd", ".x", "a/.", "a\\..\\b", "a/b=c/d-e_f.g", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidateKey(key) != nil {
			return
		}
		if !filepath.IsLocal(key) {
			t.Fatalf("valid key %q is not a local path", key)
		}
		if filepath.Clean(key) != key {
			t.Fatalf("valid key %q is not clean: %q", key, filepath.Clean(key))
		}
		root := "/srv/objects"
		if p := filepath.Join(root, key); !strings.HasPrefix(p, root+"/") {
			t.Fatalf("valid key %q escapes %s: %s", key, root, p)
		}
		for seg := range strings.SplitSeq(key, "/") {
			if url.PathEscape(seg) != seg {
				t.Fatalf("valid key %q needs URL escaping in %q", key, seg)
			}
		}
	})
}
