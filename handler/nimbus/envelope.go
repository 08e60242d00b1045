package nimbus

// EventKind names a kind of event on the events queue. Each kind has its own state (task
// projection, scheduler entry, transcript metadata), its own subscription kind and its own
// notification payload; they all travel the same path: events queue, fan-out, deliveries.
type EventKind string

const (
	// EventKindTask is a task event reported by Nimbus core (SPEC 5).
	EventKindTask EventKind = "task"
	// EventKindSchedulerEntry is a lifecycle event of a scheduler entry (SPEC 6).
	EventKindSchedulerEntry EventKind = "schedulerEntry"
	// EventKindTranscript is a transcript core stored (SPEC 8): VoiceTranscriptionReady.
	EventKindTranscript EventKind = "transcript"
)

// Envelope is the body of a message on the events queue: what every kind shares (kind,
// tenant, service) and the kind's own body in the field named after it. Exactly one kind
// field is set. The fan-out decodes an envelope once and hands the kind's field to that
// kind's apply step.
//
// Adding a kind adds a constant above, one field here, and one entry to the fan-out's kind
// table (handler/app/fanout_kinds.go).
type Envelope struct {
	Kind   EventKind `json:"kind"`
	Tenant string    `json:"tenant"`
	// Service is the UPN of the service the event belongs to, checked at ingest; the
	// fan-out resolves it again (the directory may have changed since) with the same rule.
	Service string `json:"service"`
	// ID is the event's id as its source chose it (unique within the tenant).
	ID string `json:"id"`

	Task           *IngestEvent         `json:"task,omitempty"`
	SchedulerEntry *SchedulerEntryEvent `json:"schedulerEntry,omitempty"`
	Transcript     *TranscriptEvent     `json:"transcript,omitempty"`
}

// EventName is the event's value as its trigger filters on it: the task event, the scheduler
// entry event, or VoiceTranscriptionReady; "" for an envelope of no known kind.
func (e *Envelope) EventName() string {
	switch {
	case e.Task != nil:
		return string(e.Task.Event)
	case e.SchedulerEntry != nil:
		return string(e.SchedulerEntry.Event)
	case e.Transcript != nil:
		return EventVoiceTranscriptionReady
	}
	return ""
}
