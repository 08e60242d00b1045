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

func TestNextAttemptFollowsTheSchedule(t *testing.T) {
	first := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	now, step := first, 0
	for n := range DefaultRetrySchedule {
		at, next, ok := NextAttempt(DefaultRetrySchedule, first, now, step, Attempt{Status: 500})
		if !ok || next != n+1 {
			t.Fatalf("retry %d: ok %v, step %d", n+1, ok, next)
		}
		base := DefaultRetrySchedule[n]
		lo, hi := now.Add(time.Duration(float64(base)*0.8)), now.Add(time.Duration(float64(base)*1.2))
		if n == len(DefaultRetrySchedule)-1 {
			lo, hi = first.Add(RetrySpan(DefaultRetrySchedule)), first.Add(RetrySpan(DefaultRetrySchedule))
		}
		if at.Before(lo) || at.After(hi) {
			t.Fatalf("retry %d at %v after the first attempt, want within [%v, %v]", n+1, at.Sub(first), lo.Sub(first), hi.Sub(first))
		}
		now, step = at, next
	}
	if _, _, ok := NextAttempt(DefaultRetrySchedule, first, now, step, Attempt{Status: 500}); ok {
		t.Errorf("a retry after the last one, at %v", now.Sub(first))
	}
	if span := RetrySpan(DefaultRetrySchedule); span != 15*time.Hour+42*time.Minute+35*time.Second {
		t.Errorf("span %v", span)
	}
}

func TestNextAttemptRetryAfter(t *testing.T) {
	first := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	schedule := []time.Duration{time.Second, time.Second, time.Second, 4 * time.Second} // span 7 s
	tests := []struct {
		name     string
		now      time.Duration // after first
		step     int
		attempt  Attempt
		wantAt   time.Duration // after first; -1: no retry
		wantStep int
	}{
		{"429 Retry-After wins and uses no step", 0, 0, Attempt{Status: 429, RetryAfter: 2 * time.Second}, 2 * time.Second, 0},
		{"503 Retry-After 1 s near the end of the schedule", 5 * time.Second, 3, Attempt{Status: 503, RetryAfter: time.Second}, 6 * time.Second, 3},
		{"Retry-After is honoured past the span", 6500 * time.Millisecond, 0, Attempt{Status: 503, RetryAfter: 3 * time.Second}, 9500 * time.Millisecond, 0},
		{"Retry-After is capped", 0, 0, Attempt{Status: 503, RetryAfter: 5 * time.Hour}, MaxRetryAfter, 0},
		{"Retry-After on a 500 is not honoured", 0, 0, Attempt{Status: 500, RetryAfter: time.Hour}, time.Second, 1},
		{"after many short Retry-After attempts, steps whose time passed are skipped", 3500 * time.Millisecond, 0, Attempt{Status: 500}, 7 * time.Second, 4},
		{"dead only once the span has passed", 7 * time.Second, 0, Attempt{Status: 503, RetryAfter: time.Second}, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, step, ok := NextAttempt(schedule, first, first.Add(tt.now), tt.step, tt.attempt)
			if tt.wantAt < 0 {
				if ok {
					t.Fatalf("got a retry at %v, want a dead letter", at.Sub(first))
				}
				return
			}
			lo, hi := tt.wantAt, tt.wantAt
			if tt.attempt.RetryAfter == 0 || tt.attempt.Status == 500 {
				lo, hi = time.Duration(float64(tt.wantAt-tt.now)*0.8)+tt.now, time.Duration(float64(tt.wantAt-tt.now)*1.2)+tt.now
				hi = min(hi, 7*time.Second)
			}
			if got := at.Sub(first); !ok || got < lo || got > hi || step != tt.wantStep {
				t.Errorf("got at %v step %d ok %v; want at [%v, %v] step %d", got, step, ok, lo, hi, tt.wantStep)
			}
		})
	}
}
