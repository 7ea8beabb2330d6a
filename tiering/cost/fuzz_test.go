package cost

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// FuzzParsePrices feeds arbitrary bytes to the price-file parser: it
// either refuses them with ErrInvalidPrices and returns the base, or
// returns a valid sheet that survives a JSON round trip.
func FuzzParsePrices(f *testing.F) {
	def, _ := json.Marshal(DefaultPrices())
	for _, seed := range []string{
		string(def),
		`{"s3_storage_per_gb_month": 0.021, "currency": "EUR"}`,
		`{"disk_per_gb_month": -1}`,
		`{"cross_az_per_gb": 1e308}`,
		`{} {}`,
		`{"currency": "USD", "currency": ""}`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePrices(data, DefaultPrices())
		if err != nil {
			if !errors.Is(err, ErrInvalidPrices) {
				t.Fatalf("error %v does not wrap ErrInvalidPrices", err)
			}
			if p != DefaultPrices() {
				t.Fatalf("failed parse returned %+v, not the base", p)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted an invalid sheet %+v: %v", p, err)
		}
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePrices(raw, Prices{})
		if err != nil || q != p {
			t.Fatalf("round trip: %+v, %v; want %+v", q, err, p)
		}
	})
}

// FuzzWhatIf feeds arbitrary override strings through ParseOverrides and
// WhatIf: they are refused with a package error or give finite,
// non-negative costs.
func FuzzWhatIf(f *testing.F) {
	for _, seed := range []string{
		"retention.ms=30d,local.retention.ms=6h,segment.bytes=256MiB",
		"retention.bytes=1TiB,local.retention.bytes=-2",
		"remote.storage.enable=false,replication.factor=5",
		"segment.ms=1,segment.bytes=1",
		"retention.ms=-1,retention.bytes=-1",
		"partitions=0",
		"retention.ms=1e300d",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOverrides(s)
		if err != nil {
			if !errors.Is(err, ErrUnknownSetting) && !errors.Is(err, ErrInvalidTopic) {
				t.Fatalf("ParseOverrides(%q): unexpected error %v", s, err)
			}
			return
		}
		res, err := WhatIf([]Topic{tieredTopic()}, o, NewConfig())
		if err != nil {
			if !errors.Is(err, ErrInvalidTopic) && !errors.Is(err, ErrUnboundedRetention) {
				t.Fatalf("WhatIf(%q): unexpected error %v", s, err)
			}
			return
		}
		for _, b := range []Breakdown{res.After.Strata, res.After.Classic} {
			for _, v := range []float64{b.ObjectStorage, b.Requests, b.LocalDisk, b.CrossZone} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("WhatIf(%q): cost %+v", s, b)
				}
			}
		}
	})
}
