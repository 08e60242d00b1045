package nimbus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// SchedulerEntryWrite is the body of CreateSchedulerEntry and UpdateSchedulerEntry (the
// certified SchedulerEntryWriteData), and, without distributionPriority, maxQueueTime and
// RONA, of the outbound-call-with-workflow operations (SPEC 6.1). Pointers keep "absent"
// apart from a value, so defaults apply only to absent fields.
type SchedulerEntryWrite struct {
	ReferenceID                 string      `json:"ReferenceId"`
	Destination                 string      `json:"destination"`
	DistributionPriority        Priority    `json:"distributionPriority"`
	DueDateTimeUTC              string      `json:"dueDateTimeUtc"`
	ServiceUPN                  string      `json:"serviceUpn"`
	MaxAttempts                 *int        `json:"maxAttempts"`
	AttemptTimeoutInSeconds     *int        `json:"attemptTimeoutInSeconds"`
	MaxQueueTimeInSeconds       *int        `json:"maxQueueTimeInSeconds"`
	RonaTimeoutInSeconds        *int        `json:"ronaTimeoutInSeconds"`
	CustomCallContextParameters []Parameter `json:"customCallContextParameters"`
	Customer                    Customer    `json:"customer"`
}

// SchedulerEntrySpec is a validated write with its defaults applied.
type SchedulerEntrySpec struct {
	ConversationType     ConversationType
	ServiceUPN           string
	ReferenceID          string
	Destination          string
	DistributionPriority Priority
	DueAt                time.Time
	MaxAttempts          int
	AttemptTimeout       int
	MaxQueueTime         int
	RonaTimeout          int
	Parameters           []Parameter
	Customer             Customer
}

// Validate checks every limit of the write, naming the field, and applies the defaults
// (maxAttempts 1, attemptTimeout 3600, maxQueueTime 300, RONA 20, priority Normal). The
// service is checked by the use case.
func (w *SchedulerEntryWrite) Validate(ct ConversationType) (SchedulerEntrySpec, error) {
	s := SchedulerEntrySpec{ConversationType: ct, ServiceUPN: w.ServiceUPN, ReferenceID: w.ReferenceID, Destination: w.Destination, Customer: w.Customer, Parameters: w.CustomCallContextParameters}
	if w.ServiceUPN == "" {
		return s, Invalid("serviceUpn", "serviceUpn is required; see GetSchedulerEntryServices")
	}
	if !ValidUPN(w.ServiceUPN) {
		return s, Invalid("serviceUpn", "serviceUpn must be the UPN of a service; see GetSchedulerEntryServices")
	}
	if w.Destination == "" {
		return s, Invalid("destination", "destination is required: an E.164 telephone number such as +41441234567, or a user principal name")
	}
	if len(w.Destination) > MaxDestination || !ValidE164(w.Destination) && !ValidUPN(w.Destination) {
		return s, Invalid("destination", "destination must be an E.164 telephone number such as +41441234567, or a user principal name")
	}
	if err := CheckText("ReferenceId", w.ReferenceID, MaxReferenceID, false); err != nil {
		return s, err
	}
	if w.DueDateTimeUTC == "" {
		return s, Invalid("dueDateTimeUtc", "dueDateTimeUtc is required, in RFC 3339 such as 2027-03-23T11:00:00Z")
	}
	due, err := time.Parse(time.RFC3339, w.DueDateTimeUTC)
	if err != nil {
		return s, Invalid("dueDateTimeUtc", "dueDateTimeUtc must be a date and time in RFC 3339 such as 2027-03-23T11:00:00Z")
	}
	s.DueAt = due.UTC()
	var ok bool
	if s.MaxAttempts, ok = intField(w.MaxAttempts, DefaultMaxAttempts, MinMaxAttempts, MaxMaxAttempts); !ok {
		return s, rangeError("maxAttempts", MinMaxAttempts, MaxMaxAttempts, *w.MaxAttempts)
	}
	if s.AttemptTimeout, ok = intField(w.AttemptTimeoutInSeconds, DefaultAttemptTimeout, MinAttemptTimeout, MaxAttemptTimeout); !ok {
		return s, rangeError("attemptTimeoutInSeconds", MinAttemptTimeout, MaxAttemptTimeout, *w.AttemptTimeoutInSeconds)
	}
	if ct == ConversationOutboundCall {
		if s.MaxQueueTime, ok = intField(w.MaxQueueTimeInSeconds, DefaultMaxQueueTime, MinMaxQueueTime, MaxMaxQueueTime); !ok {
			return s, rangeError("maxQueueTimeInSeconds", MinMaxQueueTime, MaxMaxQueueTime, *w.MaxQueueTimeInSeconds)
		}
		if s.RonaTimeout, ok = intField(w.RonaTimeoutInSeconds, DefaultRonaTimeout, MinRonaTimeout, MaxRonaTimeout); !ok {
			return s, rangeError("ronaTimeoutInSeconds", MinRonaTimeout, MaxRonaTimeout, *w.RonaTimeoutInSeconds)
		}
		s.DistributionPriority = w.DistributionPriority
		if s.DistributionPriority == "" {
			s.DistributionPriority = PriorityNormal
		}
		if !KnownPriority(s.DistributionPriority) {
			return s, Invalid("distributionPriority", "distributionPriority %q is not a priority (Low, Normal, High, Strict); see GetDistributionPriorities", w.DistributionPriority)
		}
	}
	// Parameters and the customer share Update task's rules, under this body's names.
	u := TaskUpdate{Customer: w.Customer.patch()}
	if err := u.Validate(); err != nil {
		return s, err
	}
	if len(s.Parameters) > MaxTaskParameters {
		return s, Invalid("customCallContextParameters", "customCallContextParameters must have at most %d entries", MaxTaskParameters)
	}
	for i := range s.Parameters {
		if err := s.Parameters[i].Validate(fmt.Sprintf("customCallContextParameters[%d]", i)); err != nil {
			return s, err
		}
	}
	return s, nil
}

func intField(v *int, def, lo, hi int) (int, bool) {
	if v == nil {
		return def, true
	}
	return *v, *v >= lo && *v <= hi
}

func rangeError(field string, lo, hi, got int) error {
	return Invalid(field, "%s must be between %d and %d, got %d", field, lo, hi, got)
}

// Apply sets the entry's call from spec (create, or update while Scheduled).
func (e *SchedulerEntry) Apply(s SchedulerEntrySpec) {
	e.ConversationType = s.ConversationType
	e.ReferenceID, e.Destination, e.DistributionPriority = s.ReferenceID, s.Destination, s.DistributionPriority
	e.DueAt, e.MaxAttempts, e.AttemptTimeout = s.DueAt, s.MaxAttempts, s.AttemptTimeout
	e.MaxQueueTime, e.RonaTimeout = s.MaxQueueTime, s.RonaTimeout
	e.Parameters, e.Customer = s.Parameters, s.Customer
}

// AttemptOutcome is what core reports about one attempt.
type AttemptOutcome string

const (
	OutcomeReached    AttemptOutcome = "DestinationReached"
	OutcomeNotReached AttemptOutcome = "NotReached"
	OutcomeFailed     AttemptOutcome = "Failed"
)

// AttemptReport is the body of POST /internal/v1/scheduler-entries/{id}/attempts (SPEC 9).
type AttemptReport struct {
	TenantID   string         `json:"tenantId"`
	Attempt    int            `json:"attempt"`
	Outcome    AttemptOutcome `json:"outcome"`
	Reason     string         `json:"reason"`
	TaskID     string         `json:"taskId"`
	OccurredAt string         `json:"occurredAt"`
}

// Validate checks the report, naming the field.
func (r *AttemptReport) Validate() (time.Time, error) {
	if !ValidTenantID(r.TenantID) {
		return time.Time{}, Invalid("tenantId", "tenantId must be a tenant id (a GUID)")
	}
	if r.Attempt < 1 || r.Attempt > MaxMaxAttempts {
		return time.Time{}, Invalid("attempt", "attempt must be between 1 and %d, got %d", MaxMaxAttempts, r.Attempt)
	}
	switch r.Outcome {
	case OutcomeReached, OutcomeNotReached, OutcomeFailed:
	case "":
		return time.Time{}, Invalid("outcome", "outcome is required: DestinationReached, NotReached or Failed")
	default:
		return time.Time{}, Invalid("outcome", "outcome %q is not DestinationReached, NotReached or Failed", r.Outcome)
	}
	if err := CheckText("reason", r.Reason, MaxCompletionReason, false); err != nil {
		return time.Time{}, err
	}
	if err := CheckText("taskId", r.TaskID, MaxIDLength, false); err != nil {
		return time.Time{}, err
	}
	at, err := time.Parse(time.RFC3339Nano, r.OccurredAt)
	if err != nil {
		return time.Time{}, Invalid("occurredAt", "occurredAt is required, in RFC 3339")
	}
	return at.UTC(), nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
