package nimbus

import (
	"math"
	"regexp"
	"strings"
	"time"
)

// Limits of a transcript (SPEC 8, 9). The body as a whole is bounded by MaxTranscriptBody;
// the field limits keep any one value reasonable within it.
const (
	MaxTranscriptBody     = 16 << 20
	MaxTranscriptSegments = 200_000
	MaxSegmentText        = 32_768  // characters
	MaxSummaryField       = 262_144 // characters, per summary field
	MaxLanguageTag        = 35
	MaxDurationSeconds    = 7 * 24 * 3600
	// DefaultTranscriptRetentionDays applies when a tenant sets no transcriptRetentionDays.
	DefaultTranscriptRetentionDays = 30
	MaxTranscriptRetentionDays     = 3650
)

// EventVoiceTranscriptionReady is the one event of the virtual-assistant trigger.
const EventVoiceTranscriptionReady = "VoiceTranscriptionReady"

// Speaker says who spoke a segment.
type Speaker string

const (
	SpeakerCustomer Speaker = "Customer"
	SpeakerUser     Speaker = "User"
)

// TranscriptDataType is what GetVirtualAssistantData reads.
type TranscriptDataType string

const (
	DataTranscript TranscriptDataType = "Transcript"
	DataSummary    TranscriptDataType = "Summary"
)

// TranscriptDataTypes is the data-type dropdown.
var TranscriptDataTypes = []NameValue{{Name: "Transcript", Value: string(DataTranscript)}, {Name: "Summary", Value: string(DataSummary)}}

// TranscriptSegment is one stretch of speech.
type TranscriptSegment struct {
	Speaker    Speaker `json:"speaker"`
	UserUPN    string  `json:"userUPN,omitempty"`
	OffsetMs   int64   `json:"offsetMs"`
	DurationMs int64   `json:"durationMs"`
	Text       string  `json:"text"`
}

// TranscriptSummary is what the virtual assistant made of the call.
type TranscriptSummary struct {
	Title      string `json:"title"`
	Issue      string `json:"issue"`
	Resolution string `json:"resolution"`
	Recap      string `json:"recap"`
	Narrative  string `json:"narrative"`
}

// Transcript is what core stores for one service session (SPEC 9), and the stored blob.
type Transcript struct {
	ServiceSessionID string             `json:"serviceSessionId"`
	TenantID         string             `json:"tenantId"`
	TaskID           string             `json:"taskId"`
	ServiceUPN       string             `json:"serviceUpn"`
	UserSessionID    string             `json:"userSessionId,omitempty"`
	UserUPN          string             `json:"userUpn,omitempty"`
	Language         string             `json:"language,omitempty"`
	DurationSeconds  float64            `json:"durationSeconds"`
	Summary          *TranscriptSummary `json:"summary,omitempty"`
	// Segments are written last and streamed one by one (transcript_json.go).
	Segments []TranscriptSegment `json:"-"`
}

// TranscriptBlobName is where a session's transcript is stored in ContainerTranscripts;
// tenant is the tenant id as the directory spells it.
func TranscriptBlobName(tenant, serviceSessionID string) string {
	return tenant + "/" + serviceSessionID + ".json"
}

// CheckSessionID validates a service or user session id: an id (CheckID) that is also one
// safe blob name segment.
func CheckSessionID(target, id string) error {
	if err := CheckID(target, id); err != nil {
		return err
	}
	if strings.ContainsAny(id, `/\#?`) || id == "." || id == ".." || strings.HasPrefix(id, ".tmp-") {
		return Invalid(target, "%s must not contain / \\ # or ? and must not be . or ..", target)
	}
	return nil
}

var languagePattern = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

// Validate checks a transcript core stored for the session named in the path, naming the
// first bad field.
func (t *Transcript) Validate() error {
	if err := CheckSessionID("serviceSessionId", t.ServiceSessionID); err != nil {
		return err
	}
	if !ValidTenantID(t.TenantID) {
		return Invalid("tenantId", "tenantId is required and must be a GUID")
	}
	if err := CheckID("taskId", t.TaskID); err != nil {
		return err
	}
	if !ValidUPN(t.ServiceUPN) {
		return Invalid("serviceUpn", "serviceUpn is required and must be the service's UPN")
	}
	if t.UserSessionID != "" {
		if err := CheckSessionID("userSessionId", t.UserSessionID); err != nil {
			return err
		}
	}
	if t.UserUPN != "" && !ValidUPN(t.UserUPN) {
		return Invalid("userUpn", "userUpn must be a UPN")
	}
	if t.Language != "" && (len(t.Language) > MaxLanguageTag || !languagePattern.MatchString(t.Language)) {
		return Invalid("language", "language must be a language tag such as en-US")
	}
	if math.IsNaN(t.DurationSeconds) || t.DurationSeconds < 0 || t.DurationSeconds > MaxDurationSeconds {
		return Invalid("durationSeconds", "durationSeconds must be between 0 and %d", MaxDurationSeconds)
	}
	if len(t.Segments) > MaxTranscriptSegments {
		return Invalid("segments", "segments must have at most %d entries", MaxTranscriptSegments)
	}
	for i := range t.Segments {
		if err := t.Segments[i].validate(indexed("segments", i)); err != nil {
			return err
		}
	}
	if s := t.Summary; s != nil {
		for _, f := range []struct{ name, value string }{{"title", s.Title}, {"issue", s.Issue}, {"resolution", s.Resolution}, {"recap", s.Recap}, {"narrative", s.Narrative}} {
			if err := CheckText("summary."+f.name, f.value, MaxSummaryField, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *TranscriptSegment) validate(at string) error {
	if s.Speaker != SpeakerCustomer && s.Speaker != SpeakerUser {
		return Invalid(at+".speaker", "%s.speaker must be %q or %q", at, SpeakerCustomer, SpeakerUser)
	}
	if s.UserUPN != "" && !ValidUPN(s.UserUPN) {
		return Invalid(at+".userUPN", "%s.userUPN must be a UPN", at)
	}
	if s.OffsetMs < 0 {
		return Invalid(at+".offsetMs", "%s.offsetMs must not be negative", at)
	}
	if s.DurationMs < 0 {
		return Invalid(at+".durationMs", "%s.durationMs must not be negative", at)
	}
	return CheckText(at+".text", s.Text, MaxSegmentText, false)
}

// DataTypes lists what GetVirtualAssistantData can read for this transcript.
func (t *Transcript) DataTypes() []string {
	out := []string{string(DataTranscript)}
	if t.Summary != nil {
		out = append(out, string(DataSummary))
	}
	return out
}

// TranscriptEvent is the envelope body of a stored transcript (EventKindTranscript): what
// the notification needs, never the segments, so it stays small.
type TranscriptEvent struct {
	ServiceSessionID string    `json:"serviceSessionId"`
	TaskID           string    `json:"taskId"`
	UserSessionID    string    `json:"userSessionId,omitempty"`
	UserUPN          string    `json:"userUpn,omitempty"`
	Language         string    `json:"language,omitempty"`
	DurationSeconds  float64   `json:"durationSeconds"`
	DataTypes        []string  `json:"dataTypes"`
	ContentHash      string    `json:"contentHash"`
	StoredAt         time.Time `json:"storedAt"`
}

// VoiceTranscriptionReady is the notification of the virtual-assistant trigger (SPEC 8).
type VoiceTranscriptionReady struct {
	EventID          string    `json:"eventId"`
	Event            string    `json:"event"`
	TenantID         string    `json:"tenantId"`
	TaskID           string    `json:"taskId"`
	ServiceSessionID string    `json:"serviceSessionId"`
	UserSessionID    string    `json:"userSessionId"`
	ServiceUPN       string    `json:"serviceUPN"`
	UserUPN          string    `json:"userUPN"`
	Language         string    `json:"language"`
	DurationSeconds  float64   `json:"durationSeconds"`
	DataTypes        []string  `json:"dataTypes"`
	OccurredAt       time.Time `json:"occurredAt"`
}

// NewVoiceTranscriptionReady builds the notification of a transcript event of svc.
func NewVoiceTranscriptionReady(env *Envelope, svc *Service) VoiceTranscriptionReady {
	e := env.Transcript
	return VoiceTranscriptionReady{
		EventID: env.ID, Event: EventVoiceTranscriptionReady, TenantID: env.Tenant, TaskID: e.TaskID,
		ServiceSessionID: e.ServiceSessionID, UserSessionID: e.UserSessionID, ServiceUPN: svc.UPN,
		UserUPN: e.UserUPN, Language: e.Language, DurationSeconds: e.DurationSeconds,
		DataTypes: e.DataTypes, OccurredAt: e.StoredAt,
	}
}

// TranscriptRetention is how long the tenant keeps transcripts.
func (s *TenantSettings) TranscriptRetention() time.Duration {
	days := s.TranscriptRetentionDays
	if days <= 0 {
		days = DefaultTranscriptRetentionDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// VirtualAssistantTriggerConfig is the body of RegisterVirtualAssistantTrigger.
type VirtualAssistantTriggerConfig struct {
	Config struct {
		URL      string   `json:"url"`
		Services []string `json:"services"`
	} `json:"config"`
}

// Validate checks the configuration's shape; services are checked by the use case.
func (c *VirtualAssistantTriggerConfig) Validate() error {
	cfg := &c.Config
	if err := checkTriggerTarget(cfg.URL, cfg.Services); err != nil {
		return err
	}
	return nil
}
