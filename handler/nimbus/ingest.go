package nimbus

import (
	"fmt"
	"time"
)

// MaxIngestBatch is the most events one ingest call may carry (SPEC 9).
const MaxIngestBatch = 500

// MaxParameterName and MaxParameterValue bound custom context parameters (SPEC 3).
const (
	MaxParameterName  = 64
	MaxParameterValue = 5120
	// MaxFieldLength bounds every free-text system field core reports.
	MaxFieldLength = 4096
	// MaxEmailBody bounds each e-mail body field (characters), so that one notification, with
	// JSON escaping at its worst, fits a 256 KiB Service Bus message.
	MaxEmailBody = 16 << 10
)

// Parameter is a named value of a task (a custom context parameter).
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TaskFields are the system fields of a task that core reports with events. Empty strings
// mean "not reported with this event"; a reported value replaces the stored one.
type TaskFields struct {
	CallChainID              string `json:"callChainId,omitempty"`
	Created                  string `json:"created,omitempty"`
	Terminated               string `json:"terminated,omitempty"`
	LastConnectedUserID      string `json:"lastConnectedUserId,omitempty"`
	LastConnectedUserUPN     string `json:"lastConnectedUserUpn,omitempty"`
	LastConnectedUserEmail   string `json:"lastConnectedUserEmail,omitempty"`
	MicrosoftCallerID        string `json:"microsoftCallerId,omitempty"`
	ReferenceID              string `json:"referenceId,omitempty"`
	CallerID                 string `json:"callerId,omitempty"`
	CallerTelNumber          string `json:"callerTelNumber,omitempty"`
	CallerUPN                string `json:"callerUpn,omitempty"`
	MicrosoftDestinationID   string `json:"microsoftDestinationId,omitempty"`
	DestinationID            string `json:"destinationId,omitempty"`
	DestinationTelNumber     string `json:"destinationTelNumber,omitempty"`
	DestinationUPN           string `json:"destinationUpn,omitempty"`
	AcsID                    string `json:"acsId,omitempty"`
	IsAnonymous              *bool  `json:"isAnonymous,omitempty"`
	CustomerIdentifier       string `json:"customerIdentifier,omitempty"`
	InitialMessage           string `json:"initialMessage,omitempty"`
	EmailSubject             string `json:"emailSubject,omitempty"`
	EmailBodyUniqueRichText  string `json:"emailBodyUniqueRichText,omitempty"`
	EmailBodyUniquePlainText string `json:"emailBodyUniquePlainText,omitempty"`
	EmailServiceMailboxUPN   string `json:"emailServiceMailboxUpn,omitempty"`
	OutboundAttempt          *int   `json:"outboundAttempt,omitempty"`
	SchedulerEntryID         string `json:"schedulerEntryId,omitempty"`
}

// IngestEvent is one task event as Nimbus core reports it (SPEC 9).
type IngestEvent struct {
	EventID    string     `json:"eventId"`
	TenantID   string     `json:"tenantId"`
	TaskID     string     `json:"taskId"`
	Sequence   *int64     `json:"sequence"`
	Event      TaskEvent  `json:"event"`
	OccurredAt string     `json:"occurredAt"`
	ServiceUPN string     `json:"serviceUpn"`
	Direction  Direction  `json:"direction"`
	Modality   Modality   `json:"modality"`
	Fields     TaskFields `json:"fields"`
	Parameter  *Parameter `json:"parameter,omitempty"`
}

// Validate checks one event on its own (tenant and service existence are checked against the
// directory by the caller). at prefixes targets, e.g. "[3]" for the fourth event of a batch.
func (e *IngestEvent) Validate(at string) error {
	f := func(name string) string { return at + "." + name }
	if at == "" {
		f = func(name string) string { return name }
	}
	if err := CheckID(f("eventId"), e.EventID); err != nil {
		return err
	}
	if !ValidTenantID(e.TenantID) {
		return Invalid(f("tenantId"), "%s must be a tenant id (GUID)", f("tenantId"))
	}
	if err := CheckID(f("taskId"), e.TaskID); err != nil {
		return err
	}
	if e.Sequence == nil {
		return Invalid(f("sequence"), "%s is required", f("sequence"))
	}
	if *e.Sequence < 0 {
		return Invalid(f("sequence"), "%s must not be negative", f("sequence"))
	}
	info, ok := TaskEventInfo(e.Event)
	if !ok {
		return Invalid(f("event"), "%s %q is not a task event", f("event"), e.Event)
	}
	if _, err := time.Parse(time.RFC3339Nano, e.OccurredAt); err != nil {
		return Invalid(f("occurredAt"), "%s must be an RFC 3339 timestamp such as 2026-11-26T10:00:00Z", f("occurredAt"))
	}
	if !ValidUPN(e.ServiceUPN) {
		return Invalid(f("serviceUpn"), "%s must be a service UPN", f("serviceUpn"))
	}
	if !KnownDirection(e.Direction) {
		return Invalid(f("direction"), "%s %q is not a direction (Inbound, Outbound)", f("direction"), e.Direction)
	}
	if !KnownModality(e.Modality) {
		return Invalid(f("modality"), "%s %q is not a modality", f("modality"), e.Modality)
	}
	if !info.RaisedFor(e.Direction) {
		return Invalid(f("event"), "%s %s is not raised for %s tasks", f("event"), e.Event, e.Direction)
	}
	if e.Event == EventParameterUpdated {
		if e.Parameter == nil {
			return Invalid(f("parameter"), "%s is required for ParameterUpdated", f("parameter"))
		}
		if err := e.Parameter.Validate(f("parameter")); err != nil {
			return err
		}
	}
	return e.Fields.validate(f("fields"))
}

// Validate checks a parameter's limits; at names it, e.g. "customContextParameters[2]".
func (p *Parameter) Validate(at string) error {
	if err := CheckText(at+".name", p.Name, MaxParameterName, true); err != nil {
		return err
	}
	return CheckText(at+".value", p.Value, MaxParameterValue, false)
}

func (t *TaskFields) validate(at string) error {
	for _, ts := range []struct{ name, value string }{{"created", t.Created}, {"terminated", t.Terminated}} {
		if ts.value == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, ts.value); err != nil {
			return Invalid(at+"."+ts.name, "%s.%s must be an RFC 3339 timestamp", at, ts.name)
		}
	}
	for _, v := range []struct {
		name, value string
		max         int
	}{
		{"callChainId", t.CallChainID, MaxFieldLength}, {"lastConnectedUserId", t.LastConnectedUserID, MaxFieldLength},
		{"lastConnectedUserUpn", t.LastConnectedUserUPN, MaxFieldLength}, {"lastConnectedUserEmail", t.LastConnectedUserEmail, MaxFieldLength},
		{"microsoftCallerId", t.MicrosoftCallerID, MaxFieldLength}, {"referenceId", t.ReferenceID, MaxFieldLength},
		{"callerId", t.CallerID, MaxFieldLength}, {"callerTelNumber", t.CallerTelNumber, MaxFieldLength},
		{"callerUpn", t.CallerUPN, MaxFieldLength}, {"microsoftDestinationId", t.MicrosoftDestinationID, MaxFieldLength},
		{"destinationId", t.DestinationID, MaxFieldLength}, {"destinationTelNumber", t.DestinationTelNumber, MaxFieldLength},
		{"destinationUpn", t.DestinationUPN, MaxFieldLength}, {"acsId", t.AcsID, MaxFieldLength},
		{"customerIdentifier", t.CustomerIdentifier, MaxFieldLength}, {"initialMessage", t.InitialMessage, MaxParameterValue},
		{"emailSubject", t.EmailSubject, MaxFieldLength}, {"emailBodyUniqueRichText", t.EmailBodyUniqueRichText, MaxEmailBody},
		{"emailBodyUniquePlainText", t.EmailBodyUniquePlainText, MaxEmailBody}, {"emailServiceMailboxUpn", t.EmailServiceMailboxUPN, MaxFieldLength},
		{"schedulerEntryId", t.SchedulerEntryID, MaxIDLength},
	} {
		if err := CheckText(fmt.Sprintf("%s.%s", at, v.name), v.value, v.max, false); err != nil {
			return err
		}
	}
	if t.OutboundAttempt != nil && *t.OutboundAttempt < 0 {
		return Invalid(at+".outboundAttempt", "%s.outboundAttempt must not be negative", at)
	}
	return nil
}
