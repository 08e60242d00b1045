package nimbus

import "time"

// The lifecycle of SPEC 6, as pure steps on an entry. Each step changes the entry and
// returns the event it raised (nil when nothing changed); the use case stores the entry
// with an ETag condition first and only then sends the event and any command, so two
// instances racing on the same entry cannot both succeed.

// raise records that the entry entered its current state and returns the event.
func (e *SchedulerEntry) raise(now time.Time) *SchedulerEntryEvent {
	e.Seq++
	e.Updated = now
	return &SchedulerEntryEvent{Event: e.State, Attempt: e.Attempt, OccurredAt: now, Entry: e.Data()}
}

// Schedule starts a new entry: Scheduled, attempt 1.
func (e *SchedulerEntry) Schedule(now time.Time) *SchedulerEntryEvent {
	e.State, e.Attempt, e.Created = SchedulerScheduled, 1, now
	return e.raise(now)
}

// Change applies an update. Only a Scheduled entry can change (KindConflict otherwise). A
// changed due date re-schedules and raises Scheduled again; other changes raise nothing.
func (e *SchedulerEntry) Change(s SchedulerEntrySpec, now time.Time) (*SchedulerEntryEvent, error) {
	if e.State != SchedulerScheduled {
		return nil, Conflict("Scheduler entry %q is %s; it can be changed only while it is Scheduled.", e.ID, e.State)
	}
	rescheduled := !s.DueAt.Equal(e.DueAt)
	e.Apply(s)
	e.Updated = now
	if !rescheduled {
		return nil, nil
	}
	return e.raise(now), nil
}

// Remove removes a Scheduled entry (KindConflict once it is in progress or final).
func (e *SchedulerEntry) Remove(now time.Time) (*SchedulerEntryEvent, error) {
	if e.State != SchedulerScheduled {
		return nil, Conflict("Scheduler entry %q is %s; it can be removed only while it is Scheduled.", e.ID, e.State)
	}
	e.State, e.CompletionReason = SchedulerRemoved, ReasonRemoved
	return e.raise(now), nil
}

// Fire starts the attempt of a Scheduled entry whose due time came: DueDateReached. The
// caller sends OutboundCallRequested for it.
func (e *SchedulerEntry) Fire(now time.Time) *SchedulerEntryEvent {
	if e.State != SchedulerScheduled || e.DueAt.After(now) {
		return nil
	}
	e.State, e.AttemptStartedAt = SchedulerDueDateReached, now
	return e.raise(now)
}

// Report applies core's outcome of an attempt. A report for another attempt than the
// current one, or for an entry not in progress (a repeated report), changes nothing.
func (e *SchedulerEntry) Report(outcome AttemptOutcome, attempt int, reason, taskID string, retryDelay time.Duration, now time.Time) *SchedulerEntryEvent {
	if e.State != SchedulerDueDateReached || attempt != e.Attempt {
		return nil
	}
	if taskID != "" {
		e.UnifiedConversationID = taskID
	}
	switch outcome {
	case OutcomeReached:
		e.State, e.CompletionReason = SchedulerHandled, ReasonDestinationReached
	case OutcomeFailed:
		e.State, e.CompletionReason = SchedulerFailed, ReasonSystemError
		if reason == ReasonKilledByAdmin {
			e.CompletionReason = reason
		}
	default:
		if reason == "" {
			reason = ReasonNoAnswer
		}
		if e.Attempt >= e.MaxAttempts {
			e.State, e.CompletionReason = SchedulerLimitReached, reason
			break
		}
		e.State, e.Attempt, e.DueAt = SchedulerScheduled, e.Attempt+1, now.Add(retryDelay).Truncate(time.Second)
		e.AttemptStartedAt = time.Time{}
	}
	return e.raise(now)
}

// TimeOut counts an attempt without an outcome past its timeout (plus grace) as not reached
// with AttemptTimeout.
func (e *SchedulerEntry) TimeOut(grace, retryDelay time.Duration, now time.Time) *SchedulerEntryEvent {
	if e.State != SchedulerDueDateReached || now.Before(e.Timeout(grace)) {
		return nil
	}
	return e.Report(OutcomeNotReached, e.Attempt, ReasonAttemptTimeout, "", retryDelay, now)
}

// FinalEntryRetention is how long an entry is kept after it ended (its notifications may
// still be on their way, and a late report must find it); then it is deleted.
const FinalEntryRetention = 7 * 24 * time.Hour

// NextAction is when the entry next needs the scheduler's attention: its due time while
// Scheduled, its attempt's timeout while in progress, and once final, when it is deleted.
func (e *SchedulerEntry) NextAction(grace time.Duration) time.Time {
	switch e.State {
	case SchedulerScheduled:
		return e.DueAt
	case SchedulerDueDateReached:
		return e.Timeout(grace)
	}
	return e.Updated.Add(FinalEntryRetention)
}
