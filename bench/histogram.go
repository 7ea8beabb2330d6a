package bench

import (
	"math"
	"math/bits"
)

// histogramSubBits sets the histogram's precision. Values below
// 1<<histogramSubBits are counted exactly; every larger value v lands in a
// bucket [lo, hi] with hi-lo < v/2^(histogramSubBits-1), so a reported
// quantile is at most 0.2% above the exact one.
const histogramSubBits = 10

const (
	histSubCount  = 1 << histogramSubBits
	histHalfCount = histSubCount / 2
	// histMaxShift is the shift of the bucket holding math.MaxInt64.
	histMaxShift   = 63 - histogramSubBits
	histNumBuckets = histSubCount + histMaxShift*histHalfCount
)

// Histogram is a log-linear histogram of non-negative int64 values (here:
// nanoseconds), in the manner of HdrHistogram: each power-of-two range is
// split into histHalfCount equal buckets, so the relative error is bounded
// across the whole int64 range with a fixed 220 KiB of counters.
//
// A Histogram is not safe for concurrent use.
type Histogram struct {
	counts []uint64
	total  uint64
	sum    float64
	min    int64
	max    int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, histNumBuckets), min: math.MaxInt64}
}

// bucketIndex returns the bucket holding v.
func bucketIndex(v uint64) int {
	if v < histSubCount {
		return int(v)
	}
	shift := bits.Len64(v) - histogramSubBits
	return histSubCount + (shift-1)*histHalfCount + int(v>>shift) - histHalfCount
}

// bucketBounds returns the smallest and largest value of bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < histSubCount {
		return uint64(i), uint64(i)
	}
	k := i - histSubCount
	shift := k/histHalfCount + 1
	lo = uint64(k%histHalfCount+histHalfCount) << shift
	return lo, lo + (1 << shift) - 1
}

// Record adds one value. Negative values are recorded as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[bucketIndex(uint64(v))]++
	h.total++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Min returns the smallest recorded value exactly, or 0 if h is empty.
func (h *Histogram) Min() int64 {
	if h.total == 0 {
		return 0
	}
	return h.min
}

// Max returns the largest recorded value exactly, or 0 if h is empty.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the exact mean of the recorded values, or 0 if h is empty.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// ValueAtQuantile returns the value at quantile q in [0, 1] by the
// nearest-rank method: the quantileRank(q, Count())-th smallest value,
// rounded up to the top of its bucket and clamped to [Min, Max]. The result
// is never below the exact value and exceeds it by less than
// 1/2^(histogramSubBits-1) of it. It returns 0 if h is empty.
func (h *Histogram) ValueAtQuantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	rank := quantileRank(q, h.total)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			_, hi := bucketBounds(i)
			return min(max(int64(hi), h.min), h.max)
		}
	}
	return h.max // unreachable: the counts sum to total
}

// quantileRank returns the 1-based nearest rank of quantile q among n > 0
// values: ceil(q*n), at least 1. q is clamped to [0, 1]. A relative
// tolerance of 1e-12 absorbs binary rounding of the product, so 0.999 of
// 1000 is rank 999, not 1000.
func quantileRank(q float64, n uint64) uint64 {
	q = min(max(q, 0), 1)
	x := q * float64(n)
	r := uint64(math.Ceil(x - x*1e-12))
	return min(max(r, 1), n)
}
