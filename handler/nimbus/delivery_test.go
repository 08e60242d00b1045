package nimbus

import (
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		attempt Attempt
		want    Outcome
	}{
		{Attempt{Status: 200}, OutcomeDelivered},
		{Attempt{Status: 202}, OutcomeDelivered},
		{Attempt{Status: 204}, OutcomeDelivered},
		{Attempt{Status: 410}, OutcomeGone},
		{Attempt{Status: 404}, OutcomeNotFound},
		{Attempt{Status: 429, RetryAfter: time.Second}, OutcomeRetry},
		{Attempt{Status: 503}, OutcomeRetry},
		{Attempt{Status: 408}, OutcomeRetry},
		{Attempt{Status: 500}, OutcomeRetry},
		{Attempt{Status: 502}, OutcomeRetry},
		{Attempt{Err: "timeout"}, OutcomeRetry},
		{Attempt{Status: 400}, OutcomePermanent},
		{Attempt{Status: 401}, OutcomePermanent},
		{Attempt{Status: 403}, OutcomePermanent},
		{Attempt{Status: 413}, OutcomePermanent},
		{Attempt{Status: 301}, OutcomePermanent}, // redirects are never followed
	}
	for _, tt := range tests {
		if got := tt.attempt.Classify(); got != tt.want {
			t.Errorf("%+v: got %v, want %v", tt.attempt, got, tt.want)
		}
	}
}

func TestNextRetry(t *testing.T) {
	for n := 1; n <= len(DefaultRetrySchedule); n++ {
		base := DefaultRetrySchedule[n-1]
		for range 50 {
			d, ok := NextRetry(DefaultRetrySchedule, n, Attempt{Status: 500})
			lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
			if !ok || d < lo || d > hi {
				t.Fatalf("retry %d: got %v, %v; want within [%v, %v]", n, d, ok, lo, hi)
			}
		}
	}
	if _, ok := NextRetry(DefaultRetrySchedule, len(DefaultRetrySchedule)+1, Attempt{Status: 500}); ok {
		t.Error("a retry after the last one")
	}
	if d, _ := NextRetry(DefaultRetrySchedule, 1, Attempt{Status: 429, RetryAfter: 2 * time.Second}); d != 2*time.Second {
		t.Errorf("429 Retry-After 2s: got %v", d)
	}
	if d, _ := NextRetry(DefaultRetrySchedule, 1, Attempt{Status: 503, RetryAfter: 5 * time.Hour}); d != MaxRetryAfter {
		t.Errorf("Retry-After capped: got %v", d)
	}
	if d, _ := NextRetry(DefaultRetrySchedule, 1, Attempt{Status: 500, RetryAfter: time.Hour}); d > 6*time.Second {
		t.Errorf("Retry-After on a 500 is not honoured: got %v", d)
	}
}
