package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Prices are the unit prices the model multiplies usage by, in Currency.
// AWS bills storage per "GB" of 2^30 bytes, and so does the model (see
// GiB). A Prices value is plain data, safe to copy and to share.
//
// DefaultPrices holds AWS's on-demand list prices for US East (N.
// Virginia), us-east-1. Sources, as listed there in 2025 (these prices
// have not changed since gp3's launch in December 2020; check the pages
// before relying on them, and put your own — a discount, another region
// or provider — in a price file):
//
//   - S3 Standard storage, first 50 TB per month: $0.023 per GB-month;
//     requests: PUT, COPY, POST, LIST $0.005 per 1,000, GET, SELECT and
//     all other requests $0.0004 per 1,000; data transfer from S3 to EC2
//     in the same region is free. https://aws.amazon.com/s3/pricing/
//   - EBS gp3: $0.08 per GB-month of provisioned storage (3,000 IOPS and
//     125 MB/s included). https://aws.amazon.com/ebs/pricing/
//   - Data transfer between Availability Zones in one region: $0.01 per
//     GB in each direction, so a byte that crosses zones costs $0.02 per
//     GB. https://aws.amazon.com/ec2/pricing/on-demand/ ("Data Transfer
//     within the same AWS Region").
type Prices struct {
	// Currency names the unit of every price, for display ("USD").
	Currency string `json:"currency"`
	// S3StoragePerGBMonth is object storage (S3 Standard) per GB-month.
	S3StoragePerGBMonth float64 `json:"s3_storage_per_gb_month"`
	// S3PutPer1000 is the price of 1,000 PUT-class requests (PUT, COPY,
	// POST, LIST): one per single-part upload, and create + parts +
	// complete for a multipart upload.
	S3PutPer1000 float64 `json:"s3_put_per_1000"`
	// S3GetPer1000 is the price of 1,000 GET-class requests (GET, HEAD,
	// SELECT and everything else).
	S3GetPer1000 float64 `json:"s3_get_per_1000"`
	// DiskPerGBMonth is provisioned block storage (gp3) per GB-month.
	DiskPerGBMonth float64 `json:"disk_per_gb_month"`
	// CrossAZPerGB is inter-zone data transfer per GB in EACH direction;
	// the model charges a byte that crosses zones twice (out and in).
	CrossAZPerGB float64 `json:"cross_az_per_gb"`
}

// DefaultPrices returns AWS us-east-1 list prices (see Prices for the
// sources).
func DefaultPrices() Prices {
	return Prices{
		Currency:            "USD",
		S3StoragePerGBMonth: 0.023,
		S3PutPer1000:        0.005,
		S3GetPer1000:        0.0004,
		DiskPerGBMonth:      0.08,
		CrossAZPerGB:        0.01,
	}
}

// GiB is the "GB" of AWS's storage and transfer prices: 2^30 bytes.
const GiB = 1 << 30

// maxPriceFileSize bounds what LoadPrices reads: a price sheet is a few
// hundred bytes, anything much larger is not one.
const maxPriceFileSize = 1 << 20

// PriceNames lists the names Set and price files accept, in a fixed order.
func PriceNames() []string {
	var p Prices
	names := make([]string, 0, 8)
	for name := range p.fields() {
		names = append(names, name)
	}
	slices.Sort(names)
	return append([]string{"currency"}, names...)
}

// fields maps each numeric price's JSON name to the field.
func (p *Prices) fields() map[string]*float64 {
	return map[string]*float64{
		"s3_storage_per_gb_month": &p.S3StoragePerGBMonth,
		"s3_put_per_1000":         &p.S3PutPer1000,
		"s3_get_per_1000":         &p.S3GetPer1000,
		"disk_per_gb_month":       &p.DiskPerGBMonth,
		"cross_az_per_gb":         &p.CrossAZPerGB,
	}
}

// Validate reports, wrapping ErrInvalidPrices, a price that is negative,
// NaN or infinite, or a missing currency.
func (p Prices) Validate() error {
	if strings.TrimSpace(p.Currency) == "" {
		return fmt.Errorf("%w: currency is empty", ErrInvalidPrices)
	}
	for _, name := range PriceNames()[1:] {
		v := *p.fields()[name]
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("%w: %s = %v: want a finite price ≥ 0", ErrInvalidPrices, name, v)
		}
	}
	return nil
}

// Set changes one price by its JSON name (as in a price file, e.g.
// "s3_put_per_1000=0.0054" split at '='), for command-line overrides.
func (p *Prices) Set(name, value string) error {
	name = strings.TrimSpace(name)
	if name == "currency" {
		p.Currency = strings.TrimSpace(value)
		return p.Validate()
	}
	f, ok := p.fields()[name]
	if !ok {
		return fmt.Errorf("%w: price %q (known: %s)", ErrUnknownSetting, name, strings.Join(PriceNames(), ", "))
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil {
		return fmt.Errorf("%w: %s = %q: not a number", ErrInvalidPrices, name, value)
	}
	old := *f
	*f = v
	if err := p.Validate(); err != nil {
		*f = old
		return err
	}
	return nil
}

// ParsePrices reads a JSON price sheet over base: prices the document
// names replace base's, the others keep base's values, so a file may
// hold only what differs from DefaultPrices. Unknown names are an error
// (a typo would otherwise silently keep a default), and so is anything
// after the one JSON object.
func ParsePrices(data []byte, base Prices) (Prices, error) {
	p := base
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return base, fmt.Errorf("%w: %v", ErrInvalidPrices, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return base, fmt.Errorf("%w: data after the price object", ErrInvalidPrices)
	}
	if err := p.Validate(); err != nil {
		return base, err
	}
	return p, nil
}

// LoadPrices reads the JSON price sheet at path over base (see
// ParsePrices). It is the package's only I/O.
func LoadPrices(path string, base Prices) (Prices, error) {
	f, err := os.Open(path)
	if err != nil {
		return base, fmt.Errorf("price sheet: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPriceFileSize+1))
	if err != nil {
		return base, fmt.Errorf("price sheet %s: %w", path, err)
	}
	if len(data) > maxPriceFileSize {
		return base, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidPrices, path, maxPriceFileSize)
	}
	p, err := ParsePrices(data, base)
	if err != nil {
		return base, fmt.Errorf("price sheet %s: %w", path, err)
	}
	return p, nil
}
