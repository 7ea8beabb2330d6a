package cost

import "errors"

var (
	// ErrInvalidTopic wraps every problem Topic.Validate finds: a value
	// out of range, or a combination Kafka refuses (local retention
	// longer than total retention).
	ErrInvalidTopic = errors.New("cost: invalid topic")
	// ErrInvalidConfig wraps every problem Config.Validate finds.
	ErrInvalidConfig = errors.New("cost: invalid config")
	// ErrInvalidPrices wraps a price sheet that cannot be read or holds a
	// negative, infinite or unknown price.
	ErrInvalidPrices = errors.New("cost: invalid price sheet")
	// ErrUnboundedRetention is returned for a topic that keeps data
	// forever (retention.ms and retention.bytes both -1) when
	// Config.UnboundedHorizon is zero: its storage, and so its cost,
	// grows without limit and has no steady state to report.
	ErrUnboundedRetention = errors.New("cost: retention is unbounded (retention.ms and retention.bytes are -1)")
	// ErrUnknownSetting is returned for a setting name the model does not
	// know, in an override or a price.
	ErrUnknownSetting = errors.New("cost: unknown setting")
)
