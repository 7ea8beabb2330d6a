package shards

import "testing"

// TestOf: keys map to the shard Kafka puts them in: abs(String.hashCode)
// % 50, with Integer.MIN_VALUE mapping to 0.
func TestOf(t *testing.T) {
	for _, tc := range []struct {
		key   string
		hash  int32
		shard int32
	}{
		{"", 0, 0},
		{"g", 103, 3},
		{"my-group", -1906497762, 12},
		{"console-consumer-12345", 158455506, 6},
		{"grüße", 98768023, 23},
		{"😀emoji", -1233692477, 27},         // a surrogate pair in UTF-16
		{"polygenelubricants", -1 << 31, 0}, // hashCode is Integer.MIN_VALUE
	} {
		if h := javaStringHash(tc.key); h != tc.hash {
			t.Errorf("hash(%q) = %d, want %d", tc.key, h, tc.hash)
		}
		if s := Of(tc.key); s != tc.shard {
			t.Errorf("Of(%q) = %d, want %d", tc.key, s, tc.shard)
		}
	}
}
