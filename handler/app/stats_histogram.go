package app

import (
	"slices"
	"sync"
)

// Bucket upper bounds, in seconds. An attempt is bounded by the callback timeout (10 s by
// default); an event's way to a 2xx includes queueing and retries, so its buckets reach far.
var (
	AttemptLatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	IngestLatencyBuckets  = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 14400}
)

// Histogram counts observations in fixed buckets, as a Prometheus histogram does. Safe for
// concurrent use.
type Histogram struct {
	mu      sync.Mutex
	bounds  []float64
	buckets []uint64 // counts per bucket, not cumulative
	count   uint64
	sum     float64
}

func newHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, buckets: make([]uint64, len(bounds))}
}

func (h *Histogram) observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v)
	h.mu.Lock()
	if i < len(h.buckets) {
		h.buckets[i]++
	}
	h.count++
	h.sum += v
	h.mu.Unlock()
}

// HistogramSnapshot is a copy of a Histogram: Cumulative[i] counts the observations up to
// Bounds[i] inclusive.
type HistogramSnapshot struct {
	Bounds     []float64
	Cumulative []uint64
	Count      uint64
	Sum        float64
}

func (h *Histogram) snapshot() HistogramSnapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := HistogramSnapshot{Bounds: h.bounds, Cumulative: make([]uint64, len(h.buckets)), Count: h.count, Sum: h.sum}
	var run uint64
	for i, n := range h.buckets {
		run += n
		out.Cumulative[i] = run
	}
	return out
}
