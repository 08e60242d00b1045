package nimbus

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)

func newEntry(maxAttempts int) *SchedulerEntry {
	e := &SchedulerEntry{ID: "e1", TenantID: tenantA, DueAt: t0, MaxAttempts: maxAttempts, AttemptTimeout: 60}
	e.Schedule(t0.Add(-time.Hour))
	return e
}

// The lifecycle of SPEC 6 as a table of steps and the states and events they lead to.
func TestSchedulerLifecycleSteps(t *testing.T) {
	const retry = 5 * time.Minute
	type step struct {
		do        func(e *SchedulerEntry) *SchedulerEntryEvent
		event     SchedulerEvent // "" = nothing raised
		attempt   int
		reason    string
		nextDueAt time.Time
	}
	fire := func(at time.Time) func(e *SchedulerEntry) *SchedulerEntryEvent {
		return func(e *SchedulerEntry) *SchedulerEntryEvent { return e.Fire(at) }
	}
	report := func(o AttemptOutcome, attempt int, reason string) func(e *SchedulerEntry) *SchedulerEntryEvent {
		return func(e *SchedulerEntry) *SchedulerEntryEvent { return e.Report(o, attempt, reason, "task-1", retry, t0) }
	}
	tests := []struct {
		name        string
		maxAttempts int
		steps       []step
	}{
		{"not due yet", 1, []step{{do: fire(t0.Add(-time.Second))}}},
		{"reached", 1, []step{
			{do: fire(t0), event: SchedulerDueDateReached, attempt: 1},
			{do: report(OutcomeReached, 1, ""), event: SchedulerHandled, attempt: 1, reason: ReasonDestinationReached},
			{do: report(OutcomeReached, 1, "")}, // repeated
		}},
		{"not reached, then reached", 2, []step{
			{do: fire(t0), event: SchedulerDueDateReached, attempt: 1},
			{do: report(OutcomeNotReached, 1, "Busy"), event: SchedulerScheduled, attempt: 2, nextDueAt: t0.Add(retry)},
			{do: report(OutcomeNotReached, 1, "Busy")}, // stale
			{do: fire(t0.Add(retry - time.Second))},
			{do: fire(t0.Add(retry)), event: SchedulerDueDateReached, attempt: 2},
			{do: report(OutcomeReached, 2, ""), event: SchedulerHandled, attempt: 2, reason: ReasonDestinationReached},
		}},
		{"limit reached", 1, []step{
			{do: fire(t0), event: SchedulerDueDateReached, attempt: 1},
			{do: report(OutcomeNotReached, 1, ""), event: SchedulerLimitReached, attempt: 1, reason: ReasonNoAnswer},
		}},
		{"failed", 3, []step{
			{do: fire(t0), event: SchedulerDueDateReached, attempt: 1},
			{do: report(OutcomeFailed, 1, "disk full"), event: SchedulerFailed, attempt: 1, reason: ReasonSystemError},
		}},
		{"killed by admin", 3, []step{
			{do: fire(t0), event: SchedulerDueDateReached, attempt: 1},
			{do: report(OutcomeFailed, 1, ReasonKilledByAdmin), event: SchedulerFailed, attempt: 1, reason: ReasonKilledByAdmin},
		}},
		{"attempt timeout", 1, []step{
			{do: fire(t0), event: SchedulerDueDateReached, attempt: 1},
			{do: func(e *SchedulerEntry) *SchedulerEntryEvent {
				return e.TimeOut(time.Minute, retry, t0.Add(2*time.Minute-time.Second))
			}},
			{do: func(e *SchedulerEntry) *SchedulerEntryEvent {
				return e.TimeOut(time.Minute, retry, t0.Add(2*time.Minute))
			}, event: SchedulerLimitReached, attempt: 1, reason: ReasonAttemptTimeout},
		}},
		{"report before the attempt started", 1, []step{{do: report(OutcomeReached, 1, "")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEntry(tt.maxAttempts)
			for i, s := range tt.steps {
				seq := e.Seq
				ev := s.do(e)
				if s.event == "" {
					if ev != nil || e.Seq != seq {
						t.Fatalf("step %d: raised %+v, want nothing", i, ev)
					}
					continue
				}
				if ev == nil || ev.Event != s.event || ev.Attempt != s.attempt || e.State != s.event || e.CompletionReason != s.reason || e.Seq != seq+1 {
					t.Fatalf("step %d: raised %+v, entry %s attempt %d reason %q; want %s attempt %d reason %q", i, ev, e.State, e.Attempt, e.CompletionReason, s.event, s.attempt, s.reason)
				}
				if !s.nextDueAt.IsZero() && !e.DueAt.Equal(s.nextDueAt) {
					t.Errorf("step %d: due %v, want %v", i, e.DueAt, s.nextDueAt)
				}
				if ev.Entry.Event != s.event || ev.Payload("x").EventID != "x" || ev.Payload("x").OccurredAt == nil {
					t.Errorf("step %d: event data %+v", i, ev.Entry)
				}
			}
		})
	}
}

func TestSchedulerChangeAndRemoveOnlyWhileScheduled(t *testing.T) {
	e := newEntry(1)
	spec := SchedulerEntrySpec{DueAt: t0, MaxAttempts: 2}
	if ev, err := e.Change(spec, t0); err != nil || ev != nil || e.MaxAttempts != 2 {
		t.Errorf("change without a new due date: %+v %v", ev, err)
	}
	spec.DueAt = t0.Add(time.Hour)
	if ev, err := e.Change(spec, t0); err != nil || ev == nil || ev.Event != SchedulerScheduled {
		t.Errorf("change of the due date: %+v %v", ev, err)
	}
	e.Fire(t0.Add(time.Hour))
	if _, err := e.Change(spec, t0); !errors.Is(err, ErrConflict) {
		t.Errorf("change in progress: %v", err)
	}
	if _, err := e.Remove(t0); !errors.Is(err, ErrConflict) {
		t.Errorf("remove in progress: %v", err)
	}
	r := newEntry(1)
	if ev, err := r.Remove(t0); err != nil || ev.Event != SchedulerRemoved || r.CompletionReason != ReasonRemoved {
		t.Errorf("remove: %+v %v", ev, err)
	}
}

func TestOutboundCommandIDs(t *testing.T) {
	a := OutboundCommandID(tenantA, "e1", 1)
	if a != OutboundCommandID(tenantA, "e1", 1) || a == OutboundCommandID(tenantA, "e1", 2) || a == OutboundCommandID(tenantA, "e2", 1) || a == OutboundCommandID("11111111-2222-3333-4444-555555555555", "e1", 1) {
		t.Errorf("command ids are not one per tenant, entry and attempt")
	}
}

func TestSchedulerWriteDefaults(t *testing.T) {
	w := SchedulerEntryWrite{ServiceUPN: "sales@contoso.com", Destination: "anna@contoso.com", DueDateTimeUTC: "2027-03-01T10:00:00+01:00", DistributionPriority: PriorityHigh, MaxQueueTimeInSeconds: new(int)}
	*w.MaxQueueTimeInSeconds = 4000
	if _, err := w.Validate(ConversationOutboundCall); err == nil || err.(*Error).Target != "maxQueueTimeInSeconds" {
		t.Errorf("queue time 4000: %v", err)
	}
	// With workflow, priority, queue time and RONA are not part of the call.
	s, err := w.Validate(ConversationOutboundCallWithWorkflow)
	if err != nil || s.MaxQueueTime != 0 || s.DistributionPriority != "" || s.MaxAttempts != 1 || s.AttemptTimeout != 3600 || !s.DueAt.Equal(time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("with workflow: %+v %v", s, err)
	}
	w.MaxQueueTimeInSeconds = nil
	s, err = w.Validate(ConversationOutboundCall)
	if err != nil || s.MaxQueueTime != 300 || s.RonaTimeout != 20 || s.DistributionPriority != PriorityHigh {
		t.Errorf("defaults: %+v %v", s, err)
	}
}
