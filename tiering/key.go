package tiering

import (
	"fmt"
	"strings"
)

// Key limits. MaxKeyLen is S3's limit on a key's length; MaxSegmentLen is
// the usual file-name limit (NAME_MAX), which the file-system store and
// S3 servers with a POSIX backend (versitygw) impose on each segment.
const (
	MaxKeyLen     = 1024
	MaxSegmentLen = 255
)

// ValidateKey reports, as an error wrapping ErrInvalidKey, whether key
// breaks the key rules. A key is one or more segments joined by '/':
//
//   - each segment is 1 to MaxSegmentLen bytes of ASCII letters, digits,
//     '-', '_', '.' and '=';
//   - no segment starts with '.', which rules out "." and ".." and keeps
//     names starting with '.' free for a store's own files;
//   - the whole key is at most MaxKeyLen bytes.
//
// So a key has no leading or trailing '/', no empty segment, and nothing a
// file system or a URL would interpret: joined under a directory it always
// names a path inside that directory, and it needs no escaping in a URL.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key of %d bytes is longer than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	start := 0
	for i := 0; i <= len(key); i++ {
		if i < len(key) && key[i] != '/' {
			if !keyByte(key[i]) {
				return fmt.Errorf("%w: %q has byte %#x at %d", ErrInvalidKey, key, key[i], i)
			}
			continue
		}
		if err := checkSegment(key, key[start:i]); err != nil {
			return err
		}
		start = i + 1
	}
	return nil
}

func checkSegment(key, seg string) error {
	switch {
	case seg == "":
		return fmt.Errorf("%w: %q has an empty segment", ErrInvalidKey, key)
	case seg[0] == '.':
		return fmt.Errorf("%w: %q has segment %q starting with '.'", ErrInvalidKey, key, seg)
	case len(seg) > MaxSegmentLen:
		return fmt.Errorf("%w: %q has a segment of %d bytes, longer than %d", ErrInvalidKey, key, len(seg), MaxSegmentLen)
	}
	return nil
}

// keyByte reports whether b may appear in a key segment.
func keyByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	case b == '-', b == '_', b == '.', b == '=':
		return true
	}
	return false
}

// JoinKey joins segments with '/' and validates the result, so callers
// build keys from parts (cluster, topic id, partition, file name) without
// repeating the rules.
func JoinKey(segments ...string) (string, error) {
	key := strings.Join(segments, "/")
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return key, nil
}
