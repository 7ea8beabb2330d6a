package cost

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParsePricesOverridesOnlyWhatItNames(t *testing.T) {
	p, err := ParsePrices([]byte(`{"disk_per_gb_month": 0.1, "currency": "EUR"}`), DefaultPrices())
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultPrices()
	want.DiskPerGBMonth, want.Currency = 0.1, "EUR"
	if p != want {
		t.Errorf("ParsePrices = %+v, want %+v", p, want)
	}
}

func TestParsePricesRefusesBadSheets(t *testing.T) {
	for _, in := range []string{
		``,
		`[]`,
		`{"disk_per_gb_month": -0.1}`,
		`{"disk_per_gb_mnth": 0.1}`,
		`{"disk_per_gb_month": "0.1"}`,
		`{"currency": ""}`,
		`{"disk_per_gb_month": 0.1} {}`,
		`{"disk_per_gb_month": 1e999}`,
	} {
		p, err := ParsePrices([]byte(in), DefaultPrices())
		if !errors.Is(err, ErrInvalidPrices) {
			t.Errorf("ParsePrices(%q): err = %v, want ErrInvalidPrices", in, err)
		}
		if p != DefaultPrices() {
			t.Errorf("ParsePrices(%q) failed but returned %+v, not the base", in, p)
		}
	}
}

func TestLoadPrices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prices.json")
	if err := os.WriteFile(path, []byte(`{"s3_storage_per_gb_month": 0.021}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPrices(path, DefaultPrices())
	if err != nil {
		t.Fatal(err)
	}
	if p.S3StoragePerGBMonth != 0.021 || p.S3PutPer1000 != 0.005 {
		t.Errorf("LoadPrices = %+v", p)
	}
	if _, err := LoadPrices(filepath.Join(t.TempDir(), "missing.json"), DefaultPrices()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, make([]byte, maxPriceFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrices(big, DefaultPrices()); !errors.Is(err, ErrInvalidPrices) {
		t.Errorf("oversized file: err = %v", err)
	}
}

func TestPricesSet(t *testing.T) {
	p := DefaultPrices()
	if err := p.Set("cross_az_per_gb", "0.02"); err != nil || p.CrossAZPerGB != 0.02 {
		t.Errorf("Set cross_az_per_gb: %v, %+v", err, p)
	}
	if err := p.Set("cross_az_per_gb", "-1"); !errors.Is(err, ErrInvalidPrices) || p.CrossAZPerGB != 0.02 {
		t.Errorf("Set negative: err = %v, price now %v", err, p.CrossAZPerGB)
	}
	if err := p.Set("cross_az_per_gb", "NaN"); !errors.Is(err, ErrInvalidPrices) || p.CrossAZPerGB != 0.02 {
		t.Errorf("Set NaN: err = %v, price now %v", err, p.CrossAZPerGB)
	}
	if err := p.Set("cross_az", "0.02"); !errors.Is(err, ErrUnknownSetting) {
		t.Errorf("Set unknown: err = %v", err)
	}
	if err := p.Set("currency", "GBP"); err != nil || p.Currency != "GBP" {
		t.Errorf("Set currency: %v, %+v", err, p)
	}
}

// TestPriceNamesMatchJSON keeps PriceNames, Set and the JSON tags in step:
// every name Set accepts is a key of the marshalled sheet and vice versa.
func TestPriceNamesMatchJSON(t *testing.T) {
	raw, err := json.Marshal(DefaultPrices())
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	names := PriceNames()
	if len(names) != len(keys) {
		t.Fatalf("PriceNames %v, JSON keys %v", names, keys)
	}
	for _, n := range names {
		if _, ok := keys[n]; !ok {
			t.Errorf("price %q is not a JSON key of Prices", n)
		}
		p := DefaultPrices()
		if err := p.Set(n, "7"); err != nil {
			t.Errorf("Set(%q): %v", n, err)
		}
	}
}
