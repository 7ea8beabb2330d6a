package cost

import "fmt"

// Report prices a set of topics: each topic, and the sums.
type Report struct {
	// Currency is the price sheet's currency.
	Currency string `json:"currency"`
	// Topics holds one entry per topic, in the order given.
	Topics []TopicCost `json:"topics"`
	// Strata and Classic are the sums over the topics.
	Strata  Breakdown `json:"strata_total"`
	Classic Breakdown `json:"classic_total"`
	// Unbounded is set when any topic is priced at the unbounded horizon.
	Unbounded bool `json:"unbounded"`
}

// EstimateAll prices every topic (see Estimate) and sums the results. The
// first topic that cannot be priced fails the whole report.
func EstimateAll(topics []Topic, cfg Config) (Report, error) {
	r := Report{Currency: cfg.Prices.Currency, Topics: make([]TopicCost, 0, len(topics))}
	for _, t := range topics {
		tc, err := Estimate(t, cfg)
		if err != nil {
			return Report{}, err
		}
		r.add(tc)
	}
	return r, nil
}

func (r *Report) add(tc TopicCost) {
	r.Topics = append(r.Topics, tc)
	r.Strata = r.Strata.Add(tc.Strata.Cost)
	r.Classic = r.Classic.Add(tc.Classic.Cost)
	r.Unbounded = r.Unbounded || tc.Unbounded
}

// Topic returns the entry of the named topic.
func (r Report) Topic(name string) (TopicCost, bool) {
	for _, tc := range r.Topics {
		if tc.Topic == name {
			return tc, true
		}
	}
	return TopicCost{}, false
}

// String summarises the report in one line, for logs and test failures.
func (r Report) String() string {
	return fmt.Sprintf("%d topics: strata %.2f %s/month (classic %.2f)", len(r.Topics), r.Strata.Total(), r.Currency, r.Classic.Total())
}
