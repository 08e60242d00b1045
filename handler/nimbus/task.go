package nimbus

import "time"

// Customer is the customer of a task, as flows read and update it (certified field names).
type Customer struct {
	FirstName        string      `json:"firstName,omitempty"`
	LastName         string      `json:"lastName,omitempty"`
	DisplayName      string      `json:"displayName,omitempty"`
	Company          string      `json:"company,omitempty"`
	JobTitle         string      `json:"jobTitle,omitempty"`
	Department       string      `json:"department,omitempty"`
	StreetAddress    string      `json:"streetAddress,omitempty"`
	PostCode         string      `json:"postCode,omitempty"`
	City             string      `json:"city,omitempty"`
	State            string      `json:"state,omitempty"`
	Country          string      `json:"country,omitempty"`
	PrimaryTelNumber string      `json:"primaryTelNumber,omitempty"`
	TelNumbers       []Parameter `json:"telNumbers,omitempty"`
	UPN              string      `json:"UPN,omitempty"`
	IMAddress        string      `json:"imAddress,omitempty"`
	Email            string      `json:"email,omitempty"`
	CustomFields     []Parameter `json:"customFields,omitempty"`
}

// PreferredUser steers routing of a task to a user: priority 1 (high) to 99 (low).
type PreferredUser struct {
	UPN      string `json:"upn"`
	Priority int    `json:"priority"`
}

// TaskInformation is what flows may change on a task in progress.
type TaskInformation struct {
	Customer                Customer        `json:"customer"`
	CustomContextParameters []Parameter     `json:"customContextParameters"`
	PreferredUsers          []PreferredUser `json:"preferredUsers"`
}

// WithEmptyLists returns ti with nil lists as empty ones, so flows see [] rather than null.
func (ti TaskInformation) WithEmptyLists() TaskInformation {
	if ti.CustomContextParameters == nil {
		ti.CustomContextParameters = []Parameter{}
	}
	if ti.PreferredUsers == nil {
		ti.PreferredUsers = []PreferredUser{}
	}
	return ti
}

// TaskState is where a task is in its life.
type TaskState string

const (
	TaskInProgress TaskState = "InProgress"
	TaskTerminated TaskState = "Terminated"
	// TaskRemoved: an external task withdrawn through the connector, until core reports it
	// terminated.
	TaskRemoved TaskState = "Removed"
)

// Task is the projection of a task built from its events.
type Task struct {
	TenantID     string          `json:"tenantId"`
	TaskID       string          `json:"taskId"`
	ServiceID    string          `json:"serviceId"`
	Direction    Direction       `json:"direction"`
	Modality     Modality        `json:"modality"`
	State        TaskState       `json:"state"`
	Fields       TaskFields      `json:"fields"`
	Information  TaskInformation `json:"taskInformation"`
	LastSequence int64           `json:"lastSequence"`
	// Started records that WorkflowStarted was applied: a second one (after a transfer) is
	// not delivered again.
	Started   bool      `json:"started"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ApplyResult says what applying an event did.
type ApplyResult int

const (
	Applied       ApplyResult = iota + 1 // state changed; deliver the event
	AppliedSilent                        // state changed, but the event is not delivered (second WorkflowStarted)
	Stale                                // sequence at or below the last applied one: ignored
)

// Apply applies e to the task (a zero Task is a new one) and reports whether to deliver it.
// Events apply in sequence order; a duplicate or late one changes nothing.
func (t *Task) Apply(e *IngestEvent, serviceID string, now time.Time) ApplyResult {
	if t.TaskID != "" && *e.Sequence <= t.LastSequence {
		return Stale
	}
	if t.TaskID == "" {
		t.TenantID, t.TaskID, t.Direction, t.Modality, t.State = e.TenantID, e.TaskID, e.Direction, e.Modality, TaskInProgress
	}
	// The service changes on a transfer; the task keeps its first modality and direction.
	t.ServiceID = serviceID
	t.LastSequence = *e.Sequence
	t.UpdatedAt = now
	t.Fields.merge(e.Fields)
	result := Applied
	switch e.Event {
	case EventWorkflowStarted:
		if t.Started {
			result = AppliedSilent
		}
		t.Started = true
	case EventParameterUpdated:
		t.Information.SetParameter(*e.Parameter)
	case EventTerminated:
		t.State = TaskTerminated
		if t.Fields.Terminated == "" {
			t.Fields.Terminated = e.OccurredAt
		}
	}
	return result
}

// SetParameter inserts or replaces the custom context parameter of that name.
func (ti *TaskInformation) SetParameter(p Parameter) {
	for i := range ti.CustomContextParameters {
		if ti.CustomContextParameters[i].Name == p.Name {
			ti.CustomContextParameters[i].Value = p.Value
			return
		}
	}
	ti.CustomContextParameters = append(ti.CustomContextParameters, p)
}

// merge copies every reported (non-empty) field of u into t.
func (t *TaskFields) merge(u TaskFields) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&t.CallChainID, u.CallChainID)
	set(&t.Created, u.Created)
	set(&t.Terminated, u.Terminated)
	set(&t.LastConnectedUserID, u.LastConnectedUserID)
	set(&t.LastConnectedUserUPN, u.LastConnectedUserUPN)
	set(&t.LastConnectedUserEmail, u.LastConnectedUserEmail)
	set(&t.MicrosoftCallerID, u.MicrosoftCallerID)
	set(&t.ReferenceID, u.ReferenceID)
	set(&t.CallerID, u.CallerID)
	set(&t.CallerTelNumber, u.CallerTelNumber)
	set(&t.CallerUPN, u.CallerUPN)
	set(&t.MicrosoftDestinationID, u.MicrosoftDestinationID)
	set(&t.DestinationID, u.DestinationID)
	set(&t.DestinationTelNumber, u.DestinationTelNumber)
	set(&t.DestinationUPN, u.DestinationUPN)
	set(&t.AcsID, u.AcsID)
	set(&t.CustomerIdentifier, u.CustomerIdentifier)
	set(&t.InitialMessage, u.InitialMessage)
	set(&t.EmailSubject, u.EmailSubject)
	set(&t.EmailBodyUniqueRichText, u.EmailBodyUniqueRichText)
	set(&t.EmailBodyUniquePlainText, u.EmailBodyUniquePlainText)
	set(&t.EmailServiceMailboxUPN, u.EmailServiceMailboxUPN)
	set(&t.SchedulerEntryID, u.SchedulerEntryID)
	if u.IsAnonymous != nil {
		t.IsAnonymous = u.IsAnonymous
	}
	if u.OutboundAttempt != nil {
		t.OutboundAttempt = u.OutboundAttempt
	}
}
