package nimbus

import (
	"strings"
	"time"
)

// SchedulerEvent is a state of a scheduler entry and the event raised on entering it (SPEC 6).
type SchedulerEvent string

const (
	SchedulerScheduled      SchedulerEvent = "Scheduled"
	SchedulerDueDateReached SchedulerEvent = "DueDateReached"
	SchedulerHandled        SchedulerEvent = "Handled"
	SchedulerLimitReached   SchedulerEvent = "LimitReached"
	SchedulerRemoved        SchedulerEvent = "Removed"
	SchedulerFailed         SchedulerEvent = "Failed"
)

// SchedulerEvents is the GetSchedulerEntriesEvents dropdown.
var SchedulerEvents = []NameValue{
	{Name: "Scheduled", Value: string(SchedulerScheduled)},
	{Name: "Due date reached", Value: string(SchedulerDueDateReached)},
	{Name: "Handled", Value: string(SchedulerHandled)},
	{Name: "Limit reached", Value: string(SchedulerLimitReached)},
	{Name: "Removed", Value: string(SchedulerRemoved)},
	{Name: "Failed", Value: string(SchedulerFailed)},
}

// KnownSchedulerEvent reports whether e is a scheduler-entry event.
func KnownSchedulerEvent(e SchedulerEvent) bool { return listed(SchedulerEvents, string(e)) }

// Final reports whether an entry in this state changes no more.
func (e SchedulerEvent) Final() bool {
	switch e {
	case SchedulerHandled, SchedulerLimitReached, SchedulerRemoved, SchedulerFailed:
		return true
	}
	return false
}

// ConversationType tells an ordinary outbound call from one that runs through the service's
// workflow once the destination answers (SPEC 6.1).
type ConversationType string

const (
	ConversationOutboundCall             ConversationType = "OutboundCall"
	ConversationOutboundCallWithWorkflow ConversationType = "OutboundCallWithWorkflow"
)

// Completion reasons of scheduler entries (SPEC 6).
const (
	ReasonDestinationReached = "DestinationReached"
	ReasonNoAnswer           = "NoAnswer"
	ReasonAttemptTimeout     = "AttemptTimeout"
	ReasonSystemError        = "SystemError"
	ReasonKilledByAdmin      = "KilledByAdmin"
	ReasonRemoved            = "Removed"
)

// Limits and defaults of SchedulerEntryWriteData (SPEC 3).
const (
	MinMaxAttempts        = 1
	MaxMaxAttempts        = 10
	DefaultMaxAttempts    = 1
	MinAttemptTimeout     = 30
	MaxAttemptTimeout     = 86400
	DefaultAttemptTimeout = 3600
	MinMaxQueueTime       = 5
	MaxMaxQueueTime       = 3600
	DefaultMaxQueueTime   = 300
	MinRonaTimeout        = 5
	MaxRonaTimeout        = 30
	DefaultRonaTimeout    = 20
	MaxReferenceID        = 256
	MaxDestination        = 256
	MaxCompletionReason   = 64
	MinOutboundRetryDelay = 1
	MaxOutboundRetryDelay = 86400
)

// DefaultOutboundRetryDelay is the retry delay of a service that does not set
// outboundRetryDelaySeconds.
const DefaultOutboundRetryDelay = 300 * time.Second

// RetryDelay is how long a not-reached attempt of the service waits before the next one.
func (s *Service) RetryDelay() time.Duration {
	if s.OutboundRetryDelaySeconds <= 0 {
		return DefaultOutboundRetryDelay
	}
	return time.Duration(s.OutboundRetryDelaySeconds) * time.Second
}

// SchedulerEntry is one scheduled outbound call and where it stands. It is what the
// schedulerentries table stores.
type SchedulerEntry struct {
	ID               string           `json:"id"`
	TenantID         string           `json:"tenantId"`
	ServiceID        string           `json:"serviceId"`
	ServiceUPN       string           `json:"serviceUpn"`
	ConversationType ConversationType `json:"conversationType"`

	ReferenceID          string      `json:"referenceId,omitempty"`
	Destination          string      `json:"destination"`
	DistributionPriority Priority    `json:"distributionPriority"`
	DueAt                time.Time   `json:"dueAt"`
	MaxAttempts          int         `json:"maxAttempts"`
	AttemptTimeout       int         `json:"attemptTimeout"`
	MaxQueueTime         int         `json:"maxQueueTime"`
	RonaTimeout          int         `json:"ronaTimeout"`
	Parameters           []Parameter `json:"parameters,omitempty"`
	Customer             Customer    `json:"customer"`

	State SchedulerEvent `json:"state"`
	// Attempt is the number of the current attempt (DueDateReached) or of the next one
	// (Scheduled), from 1.
	Attempt               int       `json:"attempt"`
	AttemptStartedAt      time.Time `json:"attemptStartedAt,omitzero"`
	CompletionReason      string    `json:"completionReason,omitempty"`
	UnifiedConversationID string    `json:"unifiedConversationId,omitempty"`
	// Seq counts the events the entry raised; the n-th event's id is EventID(n).
	Seq     int       `json:"seq"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Timeout is when the current attempt counts as not reached without an outcome.
func (e *SchedulerEntry) Timeout(grace time.Duration) time.Time {
	d := time.Duration(e.AttemptTimeout)*time.Second + grace
	return e.AttemptStartedAt.Add(max(d, time.Second))
}

// EventID is the id of the entry's n-th event, unique within the tenant.
func (e *SchedulerEntry) EventID(n int) string { return e.ID + "." + itoa(n) }

// CommandID is the id of the OutboundCallRequested command of one attempt: derived from
// tenant, entry and attempt, so a command sent again for the same attempt is recognisably
// the same one, and a new attempt is a new command.
func OutboundCommandID(tenant, entryID string, attempt int) string {
	return "oc-" + shortHash(strings.ToLower(tenant)+"\x00"+entryID+"\x00"+itoa(attempt))
}

// SchedulerEntryEventData is the certified SchedulerEntryEventData: what the operations
// answer, and, with EventID, OccurredAt and Attempt, what the trigger delivers.
type SchedulerEntryEventData struct {
	SchedulerEntryID        string           `json:"schedulerEntryId"`
	Event                   SchedulerEvent   `json:"event"`
	Direction               Direction        `json:"direction"`
	Modality                Modality         `json:"modality"`
	ReferenceID             string           `json:"ReferenceId"`
	UnifiedConversationID   string           `json:"unifiedConversationId"`
	CompletionReason        string           `json:"completionReason"`
	Destination             string           `json:"destination"`
	DistributionPriority    Priority         `json:"distributionPriority"`
	DueDateTimeUTC          string           `json:"dueDateTimeUtc"`
	ServiceUPN              string           `json:"serviceUpn"`
	MaxAttempts             int              `json:"maxAttempts"`
	AttemptTimeoutInSeconds int              `json:"attemptTimeoutInSeconds"`
	MaxQueueTimeInSeconds   int              `json:"maxQueueTimeInSeconds"`
	RonaTimeoutInSeconds    int              `json:"ronaTimeoutInSeconds"`
	CustomCallContextParams []Parameter      `json:"customCallContextParameters"`
	Customer                Customer         `json:"customer"`
	ConversationType        ConversationType `json:"conversationType"`

	// Set on trigger notifications only.
	EventID    string     `json:"eventId,omitempty"`
	OccurredAt *time.Time `json:"occurredAt,omitempty"`
	Attempt    int        `json:"attempt,omitempty"`
}

// Data describes the entry as the operations answer it.
func (e *SchedulerEntry) Data() SchedulerEntryEventData {
	params := e.Parameters
	if params == nil {
		params = []Parameter{}
	}
	return SchedulerEntryEventData{
		SchedulerEntryID: e.ID, Event: e.State, Direction: DirectionOutbound, Modality: ModalityAudio,
		ReferenceID: e.ReferenceID, UnifiedConversationID: e.UnifiedConversationID, CompletionReason: e.CompletionReason,
		Destination: e.Destination, DistributionPriority: e.DistributionPriority,
		DueDateTimeUTC: e.DueAt.UTC().Format(time.RFC3339), ServiceUPN: e.ServiceUPN,
		MaxAttempts: e.MaxAttempts, AttemptTimeoutInSeconds: e.AttemptTimeout, MaxQueueTimeInSeconds: e.MaxQueueTime,
		RonaTimeoutInSeconds: e.RonaTimeout, CustomCallContextParams: params, Customer: e.Customer,
		ConversationType: e.ConversationType,
	}
}

// SchedulerEntryEvent is the body of a scheduler-entry event on the events queue: the
// entry as it was when it entered the state, so every notification of the event carries
// the same data however late it is delivered.
type SchedulerEntryEvent struct {
	Event      SchedulerEvent          `json:"event"`
	Attempt    int                     `json:"attempt"`
	OccurredAt time.Time               `json:"occurredAt"`
	Entry      SchedulerEntryEventData `json:"entry"`
}

// Payload is the trigger notification (SPEC 4.3): SchedulerEntryEventData plus eventId,
// occurredAt and attempt.
func (ev *SchedulerEntryEvent) Payload(eventID string) SchedulerEntryEventData {
	p := ev.Entry
	p.Event, p.EventID, p.Attempt = ev.Event, eventID, ev.Attempt
	at := ev.OccurredAt.UTC()
	p.OccurredAt = &at
	return p
}

// OutboundCall is the content of an OutboundCallRequested command (SPEC 9).
type OutboundCall struct {
	SchedulerEntryID        string           `json:"schedulerEntryId"`
	Attempt                 int              `json:"attempt"`
	ConversationType        ConversationType `json:"conversationType"`
	Destination             string           `json:"destination"`
	ReferenceID             string           `json:"referenceId,omitempty"`
	DistributionPriority    Priority         `json:"distributionPriority,omitempty"`
	AttemptTimeoutInSeconds int              `json:"attemptTimeoutInSeconds"`
	MaxQueueTimeInSeconds   int              `json:"maxQueueTimeInSeconds,omitempty"`
	RonaTimeoutInSeconds    int              `json:"ronaTimeoutInSeconds,omitempty"`
	CustomCallContextParams []Parameter      `json:"customCallContextParameters"`
	Customer                Customer         `json:"customer"`
}

// OutboundCall describes the entry's current attempt for core.
func (e *SchedulerEntry) OutboundCall() OutboundCall {
	params := e.Parameters
	if params == nil {
		params = []Parameter{}
	}
	return OutboundCall{
		SchedulerEntryID: e.ID, Attempt: e.Attempt, ConversationType: e.ConversationType, Destination: e.Destination,
		ReferenceID: e.ReferenceID, DistributionPriority: e.DistributionPriority, AttemptTimeoutInSeconds: e.AttemptTimeout,
		MaxQueueTimeInSeconds: e.MaxQueueTime, RonaTimeoutInSeconds: e.RonaTimeout, CustomCallContextParams: params,
		Customer: e.Customer,
	}
}
