package nimbus

import (
	"slices"
	"strings"
	"time"
)

// Role is a Nimbus role of a user. Ownership of a service is not a role: it comes from the
// service's Owners and LimitedOwners lists.
type Role string

const (
	RoleTenantAdmin  Role = "TenantAdmin"
	RoleOUAdmin      Role = "OUAdmin"
	RolePartnerAdmin Role = "PartnerAdmin"
	RoleSupervisor   Role = "Supervisor"
	RoleUser         Role = "User"
)

// Roles lists every role, in the order of SPEC 1.
var Roles = []Role{RoleTenantAdmin, RoleOUAdmin, RolePartnerAdmin, RoleSupervisor, RoleUser}

// License is the license level of a service.
type License string

const (
	LicenseNone              License = "None"
	LicenseAdvancedRouting   License = "AdvancedRouting"
	LicenseEnterpriseRouting License = "EnterpriseRouting"
	LicenseContactCenter     License = "ContactCenter"
)

// Licenses lists every license value.
var Licenses = []License{LicenseNone, LicenseAdvancedRouting, LicenseEnterpriseRouting, LicenseContactCenter}

// Routable reports whether the license admits the connector at all (SPEC 2.4): only
// EnterpriseRouting and ContactCenter services can be named in connector operations.
func (l License) Routable() bool {
	return l == LicenseEnterpriseRouting || l == LicenseContactCenter
}

// Modality is a kind of customer interaction.
type Modality string

const (
	ModalityAudio            Modality = "Audio"
	ModalityInstantMessaging Modality = "InstantMessaging"
	ModalityEmail            Modality = "Email"
	ModalityExternalTask     Modality = "ExternalTask"
)

// Modalities lists every modality with its display name.
var Modalities = []NameValue{
	{Name: "Audio", Value: string(ModalityAudio)},
	{Name: "Instant Messaging", Value: string(ModalityInstantMessaging)},
	{Name: "Email", Value: string(ModalityEmail)},
	{Name: "External Task", Value: string(ModalityExternalTask)},
}

// NameValue is one entry of a connector dropdown list.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// OU is an organization unit. The root OU has the tenant id as its ID and no Parent.
type OU struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

// Service is a contact-center queue or line.
type Service struct {
	ID                      string     `json:"id"`
	UPN                     string     `json:"upn"`
	Name                    string     `json:"name"`
	DisplayName             string     `json:"displayName,omitempty"`
	Description             string     `json:"description,omitempty"`
	TelNumber               string     `json:"telNumber,omitempty"`
	OU                      string     `json:"ou"`
	License                 License    `json:"license"`
	WorkflowValid           bool       `json:"workflowValid"`
	Modalities              []Modality `json:"modalities,omitempty"`
	OutboundEnabled         bool       `json:"outboundEnabled"`
	VirtualAssistantEnabled bool       `json:"virtualAssistantEnabled"`
	Owners                  []string   `json:"owners,omitempty"`
	LimitedOwners           []string   `json:"limitedOwners,omitempty"`
	// Calendar holds the opening hours; nil means none (the opening-hours check answers None).
	Calendar *Calendar `json:"calendar,omitempty"`

	// OutboundWithWorkflowEnabled admits outbound calls with workflow (SPEC 6.1).
	OutboundWithWorkflowEnabled bool `json:"outboundWithWorkflowEnabled,omitempty"`
	// OutboundRetryDelaySeconds is the wait between attempts of a scheduler entry
	// (1..86400; 0 means the default, 300).
	OutboundRetryDelaySeconds int `json:"outboundRetryDelaySeconds,omitempty"`
}

// HasModality reports whether m is enabled on the service.
func (s *Service) HasModality(m Modality) bool { return slices.Contains(s.Modalities, m) }

// User is a person known to Nimbus. UPNs compare case-insensitively.
type User struct {
	UPN      string `json:"upn"`
	ObjectID string `json:"objectId,omitempty"`
	Email    string `json:"email,omitempty"`
	OU       string `json:"ou"`
	Roles    []Role `json:"roles,omitempty"`
}

// HasRole reports whether the user holds r.
func (u *User) HasRole(r Role) bool { return slices.Contains(u.Roles, r) }

// AddressBook is a named list of contacts placed in an OU.
type AddressBook struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	OU   string `json:"ou"`
}

// Directory is the whole configuration of one tenant, as imported and exported by admins.
// The root OU may be omitted; it is implied with the tenant id as its id.
type Directory struct {
	TenantID     string         `json:"tenantId"`
	OUs          []OU           `json:"ous"`
	Services     []Service      `json:"services"`
	Users        []User         `json:"users"`
	AddressBooks []AddressBook  `json:"addressBooks"`
	Settings     TenantSettings `json:"settings"`
}

// RevokedAccessPolicy says what happens to a trigger whose owner lost access (SPEC 2.5).
type RevokedAccessPolicy string

const (
	// RevokedEnforce stops deliveries and suspends the subscription until access returns.
	RevokedEnforce RevokedAccessPolicy = "enforce"
	// RevokedLegacy keeps delivering, as the older connector did, and lists it as orphaned.
	RevokedLegacy RevokedAccessPolicy = "legacy"
)

// TenantSettings are per-tenant choices of the admins.
type TenantSettings struct {
	// RevokedAccess defaults to RevokedEnforce.
	RevokedAccess RevokedAccessPolicy `json:"revokedAccess,omitempty"`
	// TranscriptRetentionDays is how long transcripts are kept (SPEC 8); 0 means
	// DefaultTranscriptRetentionDays.
	TranscriptRetentionDays int `json:"transcriptRetentionDays,omitempty"`
	// SigningSecret is write-only (SPEC 4.3): on import, a new secret starts a rotation (the
	// current one stays valid as the previous secret until PreviousSigningSecretExpiresAt),
	// "" stops signing, and absent keeps the stored secrets, so an exported directory can be
	// imported again unchanged. It is base64 of 24 to 64 random bytes, optionally with the
	// "whsec_" prefix. No answer ever carries it.
	SigningSecret *string `json:"signingSecret,omitempty"`
	// SigningSecretSet and SigningSecretSetAt are read-only: exports say whether a secret is
	// set and since when.
	SigningSecretSet   bool       `json:"signingSecretSet,omitempty"`
	SigningSecretSetAt *time.Time `json:"signingSecretSetAt,omitempty"`
	// PreviousSigningSecretExpiresAt is when the previous secret of a rotation stops signing.
	// Exports show it during the grace period. On import it sets the end of the grace: of the
	// rotation the import starts (default DefaultSigningGrace), or of the one under way (a
	// time in the past ends it); at most MaxSigningGrace ahead.
	PreviousSigningSecretExpiresAt *time.Time `json:"previousSigningSecretExpiresAt,omitempty"`
	// Signing holds the secrets themselves. It is never part of the API; the directory
	// store keeps it.
	Signing SigningSecrets `json:"-"`
	// TaskRetentionDays is how many days a terminated task's projection is kept (1 to
	// MaxTaskRetentionDays); 0 means DefaultTaskRetentionDays.
	TaskRetentionDays int `json:"taskRetentionDays,omitempty"`
}

// FoldUPN is the canonical form of a UPN for comparisons and map keys.
func FoldUPN(upn string) string { return strings.ToLower(strings.TrimSpace(upn)) }

// Caller is the authenticated identity behind a request, as established from its token.
type Caller struct {
	TenantID string
	UPN      string // empty for app tokens
	ObjectID string
	AppID    string
	Roles    []string // app roles such as AppRoleCore, as AppTrust.Resolve admits them
	IsApp    bool
	// Operator is true for an app token of a trusted operator app (AppTrust): it may act as
	// Nimbus core and administer every tenant. Set only by AppTrust.Resolve.
	Operator bool
}

// App roles carried by application tokens.
const (
	AppRoleCore  = "Nimbus.Core"  // Nimbus core: the internal ingest API
	AppRoleAdmin = "Nimbus.Admin" // admin API: every tenant for operator apps, else the token's own
)

// HasAppRole reports whether an app token carries role r.
func (c Caller) HasAppRole(r string) bool { return slices.Contains(c.Roles, r) }
