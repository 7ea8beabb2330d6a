package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketsTileTheInt64Range(t *testing.T) {
	lo, _ := bucketBounds(0)
	if lo != 0 {
		t.Fatalf("first bucket starts at %d", lo)
	}
	for i := 0; i < histNumBuckets-1; i++ {
		_, hi := bucketBounds(i)
		next, _ := bucketBounds(i + 1)
		if hi+1 != next {
			t.Fatalf("bucket %d ends at %d, bucket %d starts at %d", i, hi, i+1, next)
		}
	}
	if _, hi := bucketBounds(histNumBuckets - 1); hi != math.MaxInt64 {
		t.Fatalf("last bucket ends at %d, want MaxInt64", hi)
	}
}

func TestBucketIndexContainsValue(t *testing.T) {
	vals := []uint64{0, 1, histSubCount - 1, histSubCount, histSubCount + 1, 2*histSubCount - 1, 2 * histSubCount, math.MaxInt64}
	for s := range 63 {
		vals = append(vals, 1<<s-1, 1<<s, 1<<s+1)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		vals = append(vals, rng.Uint64N(math.MaxInt64)>>rng.UintN(63))
	}
	for _, v := range vals {
		i := bucketIndex(v)
		if i < 0 || i >= histNumBuckets {
			t.Fatalf("value %d: index %d out of range", v, i)
		}
		lo, hi := bucketBounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if width := hi - lo; v >= histSubCount && width > v>>(histogramSubBits-1) {
			t.Fatalf("value %d: bucket width %d exceeds relative bound", v, width)
		}
	}
}

func TestHistogramQuantilesMatchSortedReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dists := map[string]func() int64{
		"exact-range": func() int64 { return rng.Int64N(histSubCount) },
		"uniform-ms":  func() int64 { return rng.Int64N(10_000_000) },
		"exponential": func() int64 { return int64(rng.ExpFloat64() * 400_000) },
		"lognormal":   func() int64 { return int64(math.Exp(rng.NormFloat64()*1.5 + 13)) },
		"bimodal": func() int64 {
			if rng.IntN(100) == 0 {
				return 200_000_000 + rng.Int64N(1_000_000)
			}
			return 300_000 + rng.Int64N(100_000)
		},
		"constant": func() int64 { return 1_234_567 },
		"huge":     func() int64 { return math.MaxInt64 - rng.Int64N(1<<40) },
	}
	quantiles := []float64{0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1}
	for name, gen := range dists {
		for _, n := range []int{1, 2, 7, 1000, 100_003} {
			h := NewHistogram()
			ref := make([]int64, n)
			var sum float64
			for i := range ref {
				ref[i] = gen()
				h.Record(ref[i])
				sum += float64(ref[i])
			}
			slices.Sort(ref)
			if h.Count() != uint64(n) || h.Min() != ref[0] || h.Max() != ref[n-1] {
				t.Fatalf("%s/%d: count=%d min=%d max=%d, want %d %d %d", name, n, h.Count(), h.Min(), h.Max(), n, ref[0], ref[n-1])
			}
			if mean := sum / float64(n); math.Abs(h.Mean()-mean) > 1e-9*math.Abs(mean) {
				t.Fatalf("%s/%d: mean %v, want %v", name, n, h.Mean(), mean)
			}
			for _, q := range quantiles {
				want := ref[quantileRank(q, uint64(n))-1]
				got := h.ValueAtQuantile(q)
				if got < want || uint64(got-want) > uint64(want)>>(histogramSubBits-1) {
					t.Errorf("%s/%d: q=%v got %d, exact %d", name, n, q, got, want)
				}
			}
		}
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	h := NewHistogram()
	if h.Count() != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 || h.ValueAtQuantile(0.99) != 0 {
		t.Fatal("empty histogram reports non-zero")
	}
	h.Record(-5)
	if h.Count() != 1 || h.Min() != 0 || h.ValueAtQuantile(1) != 0 {
		t.Fatalf("negative value not recorded as 0: min=%d p100=%d", h.Min(), h.ValueAtQuantile(1))
	}
}

func TestHistogramMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 5000 {
		v := rng.Int64N(1 << 30)
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(b)
	a.Merge(NewHistogram())
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() || !slices.Equal(a.counts, all.counts) {
		t.Fatal("merged histogram differs from one recorded with every value")
	}
	for _, q := range []float64{0.5, 0.99, 0.999} {
		if a.ValueAtQuantile(q) != all.ValueAtQuantile(q) {
			t.Fatalf("q=%v: merged %d, direct %d", q, a.ValueAtQuantile(q), all.ValueAtQuantile(q))
		}
	}
}

func TestQuantileRank(t *testing.T) {
	for _, tc := range []struct {
		q    float64
		n    uint64
		want uint64
	}{
		{0, 10, 1}, {-1, 10, 1}, {0.5, 10, 5}, {0.51, 10, 6}, {1, 10, 10}, {2, 10, 10},
		{0.99, 100, 99}, {0.999, 1000, 999}, {0.999, 1001, 1000}, {0.9999, 10_000, 9999},
		{0.5, 1, 1}, {0.999, 20_000, 19_980},
	} {
		if got := quantileRank(tc.q, tc.n); got != tc.want {
			t.Errorf("quantileRank(%v, %d) = %d, want %d", tc.q, tc.n, got, tc.want)
		}
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	for i := range b.N {
		h.Record(int64(i) * 7919)
	}
}
