package protocol

import (
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAPIsTable(t *testing.T) {
	want := map[int16]VersionRange{
		0: {0, 11}, 1: {4, 16}, 2: {1, 9}, 3: {0, 12}, 18: {0, 3}, 19: {2, 7},
		20: {1, 6}, 21: {0, 2}, 22: {0, 5}, 23: {2, 4}, 27: {0, 1}, 61: {0, 0}, 35: {1, 4}, 43: {0, 2}, 45: {0, 1}, 46: {0, 0}, 32: {1, 4}, 33: {0, 2}, 37: {0, 3}, 44: {0, 1}, 60: {0, 1},
		8: {0, 9}, 9: {0, 9}, 10: {0, 6}, 11: {0, 9}, 12: {0, 4}, 13: {0, 5}, 14: {0, 5},
		15: {0, 5}, 16: {0, 5}, 42: {0, 2}, 47: {0, 0},
		24: {0, 5}, 25: {0, 4}, 26: {0, 4}, 28: {0, 4}, 65: {0, 0}, 66: {0, 2},
	}
	got := APIs()
	if !maps.Equal(got, want) {
		t.Fatalf("APIs() = %v, want %v", got, want)
	}
	got[0] = VersionRange{0, 0}
	if APIs()[0] != want[0] {
		t.Fatal("APIs() returned the table itself")
	}
}

// TestAPIsDecodableByKmsg guards against advertising a version kmsg cannot
// decode (a kmsg downgrade, or a typo in the table).
func TestAPIsDecodableByKmsg(t *testing.T) {
	for key, r := range APIs() {
		req := kmsg.RequestForKey(key)
		if req == nil {
			t.Fatalf("kmsg does not know key %d", key)
		}
		if r.Min < 0 || r.Min > r.Max || r.Max > req.MaxVersion() {
			t.Errorf("%s: serving %d-%d, kmsg decodes up to %d", kmsg.NameForKey(key), r.Min, r.Max, req.MaxVersion())
		}
	}
}

func TestSupported(t *testing.T) {
	tests := []struct {
		key, version int16
		want         bool
	}{
		{0, 0, true}, {0, 11, true}, {0, 12, false}, {1, 3, false}, {1, 4, true},
		{18, 0, true}, {18, 3, true}, {18, 4, false}, {18, -1, false},
		{60, 1, true}, {60, 2, false},
		{11, 0, true}, {11, 9, true}, {11, 10, false}, {8, 9, true}, {8, 10, false}, {47, 0, true}, {47, 1, false},
		{24, 5, true}, {24, 6, false}, {26, 4, true}, {26, 5, false}, {28, 4, true}, {28, 5, false}, {66, 2, true}, {66, 3, false},
		{68, 0, false}, {69, 0, false}, // KIP-848's APIs are not advertised
		{7, 0, false}, {-1, 0, false}, {maxAPIKey, 0, false}, {maxAPIKey + 1, 0, false}, {32767, 0, false},
	}
	for _, tc := range tests {
		if got := Supported(tc.key, tc.version); got != tc.want {
			t.Errorf("Supported(%d, %d) = %v, want %v", tc.key, tc.version, got, tc.want)
		}
	}
}

func TestApiVersionsResponse(t *testing.T) {
	for v := int16(0); v <= 3; v++ {
		resp := ApiVersionsResponse(v, unsupportedVersionCode)
		// Decode it as a client would and compare with the table.
		decoded := kmsg.NewPtrApiVersionsResponse()
		decoded.Version = v
		if err := decoded.ReadFrom(resp.AppendTo(nil)); err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if decoded.ErrorCode != unsupportedVersionCode {
			t.Fatalf("v%d: error code %d", v, decoded.ErrorCode)
		}
		got := map[int16]VersionRange{}
		prev := int16(-1)
		for _, k := range decoded.ApiKeys {
			if k.ApiKey <= prev {
				t.Fatalf("v%d: keys not sorted: %d after %d", v, k.ApiKey, prev)
			}
			prev = k.ApiKey
			got[k.ApiKey] = VersionRange{k.MinVersion, k.MaxVersion}
		}
		if !maps.Equal(got, APIs()) {
			t.Fatalf("v%d: advertised %v, want %v", v, got, APIs())
		}
		if v == 3 && (decoded.FinalizedFeaturesEpoch != -1 || len(decoded.SupportedFeatures) != 0) {
			t.Fatalf("v3 features: epoch %d supported %v", decoded.FinalizedFeaturesEpoch, decoded.SupportedFeatures)
		}
	}
}

func TestUnsupportedApiVersionsResponse(t *testing.T) {
	resp := UnsupportedApiVersionsResponse()
	// Encoded at v0 and decoded as a client would.
	decoded := kmsg.NewPtrApiVersionsResponse()
	if err := decoded.ReadFrom(resp.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	if resp.Version != 0 || decoded.ErrorCode != 35 || len(decoded.ApiKeys) != 1 {
		t.Fatalf("version %d error %d keys %+v", resp.Version, decoded.ErrorCode, decoded.ApiKeys)
	}
	k := decoded.ApiKeys[0]
	if want := APIs()[18]; k.ApiKey != 18 || k.MinVersion != want.Min || k.MaxVersion != want.Max {
		t.Fatalf("key %+v, want ApiVersions %+v", k, want)
	}
}
