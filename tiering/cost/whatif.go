package cost

import (
	"fmt"
	"strings"
)

// Overrides are settings to try on topics, by Kafka config name (see
// Topic.SetConfig for the names and value forms), as in the CLI's
// --what-if retention.ms=30d,local.retention.ms=6h,segment.bytes=256MiB.
// Later entries win over earlier ones for the same name.
type Overrides []Override

// Override is one name=value setting.
type Override struct {
	Name, Value string
}

// ParseOverrides reads "name=value,name=value". Names and values are
// checked against a sample topic, so a typo fails here and not halfway
// through a report.
func ParseOverrides(s string) (Overrides, error) {
	var o Overrides
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%w: %q: want name=value", ErrUnknownSetting, item)
		}
		ov := Override{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)}
		sample := NewTopic("")
		if err := sample.SetConfig(ov.Name, ov.Value); err != nil {
			return nil, err
		}
		o = append(o, ov)
	}
	return o, nil
}

// Apply returns t with the overrides set. t itself is not changed.
func (o Overrides) Apply(t Topic) (Topic, error) {
	for _, ov := range o {
		if err := t.SetConfig(ov.Name, ov.Value); err != nil {
			return Topic{}, fmt.Errorf("topic %q: %w", t.Name, err)
		}
	}
	return t, nil
}

// WhatIfResult compares topics before and after overrides.
type WhatIfResult struct {
	Before Report `json:"before"`
	After  Report `json:"after"`
	// Delta is After minus Before for the Strata totals; TopicDeltas the
	// same per topic, in the reports' order.
	Delta       Breakdown   `json:"delta"`
	TopicDeltas []Breakdown `json:"topic_deltas"`
}

// WhatIf prices topics as they are and with the overrides applied to
// each, and returns both with the change. Measured request rates
// (Topic.Observed) are scaled by how much the model says the overrides
// change them, so a calibrated estimate stays calibrated; where the model
// derives no requests before, the derived figure after is used.
func WhatIf(topics []Topic, o Overrides, cfg Config) (WhatIfResult, error) {
	before, err := EstimateAll(topics, cfg)
	if err != nil {
		return WhatIfResult{}, err
	}
	changed := make([]Topic, len(topics))
	for i, t := range topics {
		if changed[i], err = o.Apply(t); err != nil {
			return WhatIfResult{}, err
		}
		if t.Observed != nil {
			changed[i].Observed, err = scaleObserved(t, changed[i], cfg)
			if err != nil {
				return WhatIfResult{}, err
			}
		}
	}
	after, err := EstimateAll(changed, cfg)
	if err != nil {
		return WhatIfResult{}, err
	}
	res := WhatIfResult{Before: before, After: after, Delta: after.Strata.Sub(before.Strata)}
	for i := range after.Topics {
		res.TopicDeltas = append(res.TopicDeltas, after.Topics[i].Strata.Cost.Sub(before.Topics[i].Strata.Cost))
	}
	return res, nil
}

// scaleObserved scales before's measured request rates, each by the ratio
// of the derived rates after and before.
func scaleObserved(before, after Topic, cfg Config) (*Requests, error) {
	derived := func(t Topic) (puts, gets float64, err error) {
		t.Observed = nil
		tc, err := Estimate(t, cfg)
		return tc.Strata.Usage.PutRequests, tc.Strata.Usage.GetRequests, err
	}
	p0, g0, err := derived(before)
	if err != nil {
		return nil, err
	}
	p1, g1, err := derived(after)
	if err != nil {
		return nil, err
	}
	month := cfg.monthSeconds()
	return &Requests{
		PutsPerSec: scale(before.Observed.PutsPerSec, p0, p1, month),
		GetsPerSec: scale(before.Observed.GetsPerSec, g0, g1, month),
	}, nil
}

// scale returns the measured rate times derivedAfter/derivedBefore, or the
// derived rate after when the model derived none before.
func scale(measured, derivedBefore, derivedAfter, month float64) float64 {
	if derivedBefore == 0 {
		return derivedAfter / month
	}
	return measured * derivedAfter / derivedBefore
}
