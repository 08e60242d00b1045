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

// NextRetry returns the delay before retry number n (1-based, after n failed attempts) and
// whether there is one. A receiver's Retry-After (429, 503) wins over the schedule, capped at
// MaxRetryAfter; schedule delays get ±RetryJitter.
func NextRetry(schedule []time.Duration, n int, a Attempt) (time.Duration, bool) {
	if n < 1 || n > len(schedule) {
		return 0, false
	}
	if a.RetryAfter > 0 && (a.Status == 429 || a.Status == 503) {
		return min(a.RetryAfter, MaxRetryAfter), true
	}
	d := schedule[n-1]
	jitter := (rand.Float64()*2 - 1) * RetryJitter
	return time.Duration(float64(d) * (1 + jitter)), true
}

// AttemptRefused is Attempt.Err when the callback's address is not allowed by the callback
// policy (a private address, a host off the allowed list): retrying cannot help.
const AttemptRefused = "callback address not allowed"
