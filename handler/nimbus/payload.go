package nimbus

// TaskEventData is the notification a task trigger receives, with the certified connector's
// field names (including their odd casing) plus eventId, eventDisplayName, sequence and
// occurredAt (SPEC 4.3).
type TaskEventData struct {
	TaskID                   string          `json:"taskId"`
	CallChainID              string          `json:"callChainId"`
	TenantID                 string          `json:"tenantId"`
	Event                    string          `json:"event"`
	Direction                Direction       `json:"direction"`
	Modality                 Modality        `json:"modality"`
	Created                  string          `json:"created"`
	Terminated               string          `json:"terminated"`
	LastConnectedUserID      string          `json:"lastConnectedUserId"`
	LastConnectedUserUPN     string          `json:"LastConnectedUserUPN"`
	LastConnectedUserEmail   string          `json:"LastConnectedUserEmail"`
	MicrosoftCallerID        string          `json:"microsoftCallerId"`
	ReferenceID              string          `json:"referenceId"`
	CallerID                 string          `json:"callerId"`
	CallerTelNumber          string          `json:"callerTelNumber"`
	CallerUPN                string          `json:"callerUPN"`
	MicrosoftDestinationID   string          `json:"microsoftDestinationId"`
	DestinationID            string          `json:"destinationId"`
	DestinationTelNumber     string          `json:"destinationTelNumber"`
	DestinationUPN           string          `json:"destinationUPN"`
	AcsID                    string          `json:"acsId"`
	IsAnonymous              bool            `json:"isAnonymous"`
	CustomerIdentifier       string          `json:"customerIdentifier"`
	InitialMessage           string          `json:"initialMessage"`
	ServiceID                string          `json:"serviceId"`
	ServiceName              string          `json:"serviceName"`
	ServiceDescription       string          `json:"serviceDescription"`
	ServiceDisplayName       string          `json:"serviceDisplayName"`
	ServiceUPN               string          `json:"serviceUPN"`
	ServiceTelNumber         string          `json:"serviceTelNumber"`
	EmailSubject             string          `json:"emailSubject"`
	EmailBodyUniqueRichText  string          `json:"emailBodyUniqueRichText"`
	EmailBodyUniquePlainText string          `json:"emailBodyUniquePlainText"`
	EmailServiceMailboxUPN   string          `json:"emailServiceMailboxUPN"`
	OutboundAttempt          int             `json:"outboundAttempt"`
	UpdatedParameterName     string          `json:"updatedParameterName"`
	UpdatedParameterValue    string          `json:"updatedParameterValue"`
	TaskInformation          TaskInformation `json:"taskInformation"`
	EventID                  string          `json:"eventId"`
	EventDisplayName         string          `json:"eventDisplayName"`
	Sequence                 int64           `json:"sequence"`
	OccurredAt               string          `json:"occurredAt"`
}

// NewTaskEventData builds the notification for event e of task t (already applied) of
// service s. legacy selects the legacy event names of SPEC 11.
func NewTaskEventData(t *Task, e *IngestEvent, s *Service, legacy bool) TaskEventData {
	info, _ := TaskEventInfo(e.Event)
	name := string(e.Event)
	if legacy {
		name = info.Legacy
	}
	f := t.Fields
	d := TaskEventData{
		TaskID: t.TaskID, CallChainID: f.CallChainID, TenantID: t.TenantID, Event: name,
		Direction: t.Direction, Modality: t.Modality, Created: f.Created, Terminated: f.Terminated,
		LastConnectedUserID: f.LastConnectedUserID, LastConnectedUserUPN: f.LastConnectedUserUPN,
		LastConnectedUserEmail: f.LastConnectedUserEmail, MicrosoftCallerID: f.MicrosoftCallerID,
		ReferenceID: f.ReferenceID, CallerID: f.CallerID, CallerTelNumber: f.CallerTelNumber, CallerUPN: f.CallerUPN,
		MicrosoftDestinationID: f.MicrosoftDestinationID, DestinationID: f.DestinationID,
		DestinationTelNumber: f.DestinationTelNumber, DestinationUPN: f.DestinationUPN, AcsID: f.AcsID,
		CustomerIdentifier: f.CustomerIdentifier, InitialMessage: f.InitialMessage,
		ServiceID: s.ID, ServiceName: s.Name, ServiceDescription: s.Description, ServiceDisplayName: s.DisplayName,
		ServiceUPN: s.UPN, ServiceTelNumber: s.TelNumber,
		EmailSubject: f.EmailSubject, EmailBodyUniqueRichText: f.EmailBodyUniqueRichText,
		EmailBodyUniquePlainText: f.EmailBodyUniquePlainText, EmailServiceMailboxUPN: f.EmailServiceMailboxUPN,
		TaskInformation: t.Information.WithEmptyLists(), EventID: e.EventID, EventDisplayName: info.Name,
		Sequence: *e.Sequence, OccurredAt: e.OccurredAt,
	}
	if f.IsAnonymous != nil {
		d.IsAnonymous = *f.IsAnonymous
	}
	if f.OutboundAttempt != nil {
		d.OutboundAttempt = *f.OutboundAttempt
	}
	if e.Parameter != nil {
		d.UpdatedParameterName, d.UpdatedParameterValue = e.Parameter.Name, e.Parameter.Value
	}
	return d
}
