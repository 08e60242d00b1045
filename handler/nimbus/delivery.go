package nimbus

import (
	"math/rand/v2"
	"time"
)

// Attempt is what happened when one webhook delivery was attempted.
type Attempt struct {
	Status     int           // HTTP status; 0 when no response came (Err is set)
	RetryAfter time.Duration // from a Retry-After header (seconds or HTTP date); 0 when absent
	Err        string        // transport failure, e.g. "timeout" or "connection refused"; never the URL
}

// Outcome classifies an Attempt (SPEC 4.4).
type Outcome int

const (
	OutcomeDelivered Outcome = iota + 1 // 2xx
	OutcomeGone                         // 410: the subscription is dead
	OutcomeNotFound                     // 404: retried; three in a row make the subscription dead
	OutcomeRetry                        // 408, 429, 5xx, timeouts, connection errors
	OutcomePermanent                    // other 4xx: this delivery is a dead letter
)

func (o Outcome) String() string {
	switch o {
	case OutcomeDelivered:
		return "delivered"
	case OutcomeGone:
		return "gone"
	case OutcomeNotFound:
		return "not found"
	case OutcomeRetry:
		return "retry"
	case OutcomePermanent:
		return "permanent failure"
	}
	return "unknown"
}

// Classify applies the outcome table of SPEC 4.4.
func (a Attempt) Classify() Outcome {
	switch s := a.Status; {
	case s == 0:
		return OutcomeRetry
	case s >= 200 && s < 300:
		return OutcomeDelivered
	case s == 410:
		return OutcomeGone
	case s == 404:
		return OutcomeNotFound
	case s == 408, s == 429, s >= 500:
		return OutcomeRetry
	}
	return OutcomePermanent
}

// MaxRetryAfter caps how long a receiver's Retry-After may postpone a delivery.
const MaxRetryAfter = time.Hour

// DefaultRetrySchedule is the delay before each retry (SPEC 4.4); after the last one a
// delivery that still fails is a dead letter.
var DefaultRetrySchedule = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour,
}

// RetryJitter is the ± fraction applied to scheduled retry delays, so that retries of a
// burst do not all arrive at once.
const RetryJitter = 0.2

// RetrySpan is how long a delivery lives: the sum of the schedule's delays, counted from its
// first attempt (about 15 h 43 min with DefaultRetrySchedule).
func RetrySpan(schedule []time.Duration) time.Duration {
	var span time.Duration
	for _, d := range schedule {
		span += d
	}
	return span
}

// NextAttempt decides when a delivery whose attempt failed at now is attempted again (SPEC
// 4.4). first is the time of the delivery's first attempt and step how many of the schedule's
// delays it has used so far; nextStep is the count to carry into the next attempt.
//
// The delivery lives for RetrySpan(schedule) from first: ok is false, and the delivery a
// dead letter, only once that span has passed (this failed attempt being its last). Until
// then:
//   - a receiver's Retry-After on 429 or 503, capped at MaxRetryAfter, sets the next attempt
//     and uses no step, so a short Retry-After brings attempts forward without shortening the
//     delivery's life (and a long one is honoured even past the end of the span);
//   - otherwise the next step's delay applies, ±RetryJitter; steps whose whole time has
//     already passed since first (after long Retry-After waits) are skipped; no such attempt
//     is set later than the end of the span, and the last step ends exactly there, so the
//     final attempt is made once the span has passed.
func NextAttempt(schedule []time.Duration, first, now time.Time, step int, a Attempt) (at time.Time, nextStep int, ok bool) {
	end := first.Add(RetrySpan(schedule))
	if !now.Before(end) {
		return time.Time{}, step, false
	}
	if a.RetryAfter > 0 && (a.Status == 429 || a.Status == 503) {
		return now.Add(min(a.RetryAfter, MaxRetryAfter)), step, true
	}
	step = max(step, 0)
	mark := first.Add(RetrySpan(schedule[:min(step+1, len(schedule))]))
	for step+1 < len(schedule) && !mark.After(now) {
		step++
		mark = mark.Add(schedule[step])
	}
	if step+1 >= len(schedule) {
		return end, len(schedule), true
	}
	jitter := (rand.Float64()*2 - 1) * RetryJitter
	return earliest(now.Add(time.Duration(float64(schedule[step])*(1+jitter))), end), step + 1, true
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// AttemptTimedOut is Attempt.Err when no answer came within the attempt's timeout.
const AttemptTimedOut = "timeout"

// TimedOut reports whether the attempt ended because the receiver did not answer in time.
func (a Attempt) TimedOut() bool { return a.Err == AttemptTimedOut }

// AttemptRefused is Attempt.Err when the callback's address is not allowed by the callback
// policy (a private address, a host off the allowed list): retrying cannot help.
const AttemptRefused = "callback address not allowed"
