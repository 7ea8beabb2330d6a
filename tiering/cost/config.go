package cost

import (
	"fmt"
	"math"
	"time"
)

// Config holds the prices and the deployment assumptions the model applies
// to every topic. Build one with NewConfig and change what differs. It is
// plain data, safe to copy and to share.
type Config struct {
	// Prices are the unit prices.
	Prices Prices

	// MonthHours is the length of a billing month in hours; AWS prices
	// assume 730 (8,760 hours a year / 12).
	MonthHours float64
	// PartSize is the object store's multipart part size: a segment up to
	// this size is one PUT, a larger one is a multipart upload of
	// ceil(size/PartSize) parts plus its create and complete requests.
	// The default is the S3 store's (16 MiB).
	PartSize int64
	// GetBytes is the size of one ranged GET of the remote reader: reading
	// a whole segment of S bytes costs ceil(S/GetBytes) GETs.
	GetBytes int64
	// ObjectsPerSegment is how many objects one uploaded segment makes:
	// the segment and its index (2). Each object besides the segment is
	// one more PUT when uploaded and one more GET when a consumer starts
	// reading the segment from the remote tier.
	ObjectsPerSegment int
	// DiskHeadroom is provisioned disk over used disk (≥ 1): the 1.5
	// default keeps disks two-thirds full at steady state, leaving room
	// for bursts, a consumer that stops reading, a partition moving in,
	// and (tiered) an object-store outage during which local data is kept.
	DiskHeadroom float64
	// ClientCrossAZFraction is the fraction of client traffic, produce and
	// fetch, that crosses zones, unless a topic sets its own. With clients
	// and leaders spread evenly over three zones it is 2/3 (the default);
	// clients that fetch from a replica in their own zone lower it.
	ClientCrossAZFraction float64
	// ReplicaCrossAZFraction is the fraction of the RF-1 follower copies
	// that cross zones. Rack-aware placement over as many zones as
	// replicas puts every follower in another zone than its leader: 1, the
	// default. Placement that ignores zones, over three zones, gives 2/3.
	ReplicaCrossAZFraction float64
	// ClassicReplicationFactor is the replication factor of the classic
	// Kafka deployment the model compares with (3).
	ClassicReplicationFactor int
	// UnboundedHorizon is what the model does with a topic that keeps data
	// forever. Zero (the default) makes Estimate fail with
	// ErrUnboundedRetention; a positive duration prices the topic as it
	// will be once it holds that much history (for example one year) and
	// marks the result Unbounded.
	UnboundedHorizon time.Duration
}

// NewConfig returns the defaults: AWS us-east-1 prices, a 730-hour month,
// 16 MiB parts, 4 MiB ranged GETs, two objects per segment, disks kept
// two-thirds full, 2/3 of client traffic and every follower copy crossing
// zones, classic Kafka at RF=3, and unbounded retention refused.
func NewConfig() Config {
	return Config{
		Prices:                   DefaultPrices(),
		MonthHours:               730,
		PartSize:                 16 << 20,
		GetBytes:                 4 << 20,
		ObjectsPerSegment:        2,
		DiskHeadroom:             1.5,
		ClientCrossAZFraction:    2.0 / 3.0,
		ReplicaCrossAZFraction:   1,
		ClassicReplicationFactor: 3,
	}
}

// Validate reports, wrapping ErrInvalidConfig (or ErrInvalidPrices), the
// first setting out of range.
func (c Config) Validate() error {
	if err := c.Prices.Validate(); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case !(c.MonthHours > 0) || math.IsInf(c.MonthHours, 0):
		return bad("month of %v hours: want a finite length > 0", c.MonthHours)
	case c.PartSize < 1:
		return bad("part size %d < 1", c.PartSize)
	case c.GetBytes < 1:
		return bad("GET size %d < 1", c.GetBytes)
	case c.ObjectsPerSegment < 1:
		return bad("objects per segment %d < 1", c.ObjectsPerSegment)
	case !(c.DiskHeadroom >= 1) || math.IsInf(c.DiskHeadroom, 0):
		return bad("disk headroom %v: want a finite factor ≥ 1", c.DiskHeadroom)
	case !fraction(c.ClientCrossAZFraction):
		return bad("client cross-AZ fraction %v: want a value in [0, 1]", c.ClientCrossAZFraction)
	case !fraction(c.ReplicaCrossAZFraction):
		return bad("replica cross-AZ fraction %v: want a value in [0, 1]", c.ReplicaCrossAZFraction)
	case c.ClassicReplicationFactor < 1:
		return bad("classic replication factor %d < 1", c.ClassicReplicationFactor)
	case c.UnboundedHorizon < 0:
		return bad("unbounded horizon %v < 0", c.UnboundedHorizon)
	}
	return nil
}

// monthSeconds is the billing month in seconds.
func (c Config) monthSeconds() float64 { return c.MonthHours * 3600 }
