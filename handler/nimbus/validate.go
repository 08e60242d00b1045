package nimbus

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the directory model. Ids become storage keys, so they are kept short and free of
// control characters; everything else is bounded so one import cannot exhaust memory.
const (
	MaxIDLength          = 128
	MaxNameLength        = 256
	MaxUPNLength         = 256
	MaxDescriptionLength = 1024
	MaxOUs               = 10_000
	MaxServices          = 10_000
	MaxUsers             = 100_000
	MaxAddressBooks      = 10_000
	MaxOwnersPerService  = 1_000
)

var (
	guidPattern  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	e164Pattern  = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)
)

// ValidTenantID reports whether id is a tenant id (an Entra ID tenant GUID).
func ValidTenantID(id string) bool { return guidPattern.MatchString(id) }

// ValidE164 reports whether s is an E.164 telephone number such as +41441234567.
func ValidE164(s string) bool { return e164Pattern.MatchString(s) }

// ValidUPN reports whether s looks like a user principal name or mailbox address.
func ValidUPN(s string) bool { return len(s) <= MaxUPNLength && emailPattern.MatchString(s) }

// CheckText validates a free-text field: valid UTF-8, at most max characters, and, when
// required, not blank. target names the field in the error.
func CheckText(target, value string, max int, required bool) error {
	if !utf8.ValidString(value) {
		return Invalid(target, "%s must be valid UTF-8", target)
	}
	if required && strings.TrimSpace(value) == "" {
		return Invalid(target, "%s is required", target)
	}
	if n := utf8.RuneCountInString(value); n > max {
		return Invalid(target, "%s must be at most %d characters, got %d", target, max, n)
	}
	return nil
}

// CheckID validates an identifier that becomes part of a storage key: required, at most
// MaxIDLength characters, no control characters.
func CheckID(target, id string) error {
	if err := CheckText(target, id, MaxIDLength, true); err != nil {
		return err
	}
	if strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return Invalid(target, "%s must not contain control characters", target)
	}
	return nil
}

// Validate checks the whole directory and returns the first problem, naming the offending
// entry (for example "services[2].owners[0]"). It adds the implied root OU when missing.
func (d *Directory) Validate() error {
	if !ValidTenantID(d.TenantID) {
		return Invalid("tenantId", "tenantId must be a GUID")
	}
	if err := d.validateOUs(); err != nil {
		return err
	}
	ous := make(map[string]bool, len(d.OUs))
	for _, ou := range d.OUs {
		ous[ou.ID] = true
	}
	users, err := d.validateUsers(ous)
	if err != nil {
		return err
	}
	if err := d.validateServices(ous, users); err != nil {
		return err
	}
	if err := d.validateAddressBooks(ous); err != nil {
		return err
	}
	return d.Settings.validate()
}

func (s *TenantSettings) validate() error {
	if err := s.validateRetention(); err != nil {
		return err
	}
	switch s.RevokedAccess {
	case "":
		s.RevokedAccess = RevokedEnforce
	case RevokedEnforce, RevokedLegacy:
	default:
		return Invalid("settings.revokedAccess", "settings.revokedAccess must be %q or %q", RevokedEnforce, RevokedLegacy)
	}
	if s.TranscriptRetentionDays < 0 || s.TranscriptRetentionDays > MaxTranscriptRetentionDays {
		return Invalid("settings.transcriptRetentionDays", "settings.transcriptRetentionDays must be between 1 and %d (0 or absent means %d)", MaxTranscriptRetentionDays, DefaultTranscriptRetentionDays)
	}
	if s.SigningSecret != nil && strings.TrimSpace(*s.SigningSecret) != "" {
		if _, err := SigningKey(strings.TrimSpace(*s.SigningSecret)); err != nil {
			return Invalid("settings.signingSecret", "settings.signingSecret must be base64 of 24 to 64 random bytes, optionally prefixed with whsec_.")
		}
	}
	return nil
}

func (d *Directory) validateOUs() error {
	if len(d.OUs) > MaxOUs {
		return Invalid("ous", "ous must have at most %d entries", MaxOUs)
	}
	hasRoot := false
	for _, ou := range d.OUs {
		if ou.Parent == "" || ou.ID == d.TenantID {
			hasRoot = true
		}
	}
	if !hasRoot {
		d.OUs = append([]OU{{ID: d.TenantID, Name: "Root"}}, d.OUs...)
	}
	parent := make(map[string]string, len(d.OUs))
	for i, ou := range d.OUs {
		at := fmt.Sprintf("ous[%d]", i)
		if err := CheckID(at+".id", ou.ID); err != nil {
			return err
		}
		if err := CheckText(at+".name", ou.Name, MaxNameLength, false); err != nil {
			return err
		}
		if _, dup := parent[ou.ID]; dup {
			return Invalid(at+".id", "%s.id %q is not unique", at, ou.ID)
		}
		if ou.Parent == "" && ou.ID != d.TenantID {
			return Invalid(at+".parent", "%s has no parent, but only the root OU (id = tenantId) may be without one", at)
		}
		if ou.ID == d.TenantID && ou.Parent != "" {
			return Invalid(at+".parent", "%s is the root OU (id = tenantId) and must not have a parent", at)
		}
		parent[ou.ID] = ou.Parent
	}
	for i, ou := range d.OUs {
		if ou.Parent == "" {
			continue
		}
		if _, ok := parent[ou.Parent]; !ok {
			return Invalid(fmt.Sprintf("ous[%d].parent", i), "ous[%d].parent %q is not an OU of the directory", i, ou.Parent)
		}
		// Walk up: a tree reaches the root within len(parent) steps; more steps mean a cycle.
		at, steps := ou.ID, 0
		for at != "" {
			if steps++; steps > len(parent) {
				return Invalid(fmt.Sprintf("ous[%d].parent", i), "ous[%d] (%q) is part of a cycle of parents", i, ou.ID)
			}
			at = parent[at]
		}
	}
	return nil
}

func (d *Directory) validateUsers(ous map[string]bool) (map[string]bool, error) {
	if len(d.Users) > MaxUsers {
		return nil, Invalid("users", "users must have at most %d entries", MaxUsers)
	}
	users := make(map[string]bool, len(d.Users))
	for i, u := range d.Users {
		at := fmt.Sprintf("users[%d]", i)
		if !ValidUPN(u.UPN) {
			return nil, Invalid(at+".upn", "%s.upn must be a user principal name such as anna@contoso.com", at)
		}
		key := FoldUPN(u.UPN)
		if users[key] {
			return nil, Invalid(at+".upn", "%s.upn %q is not unique", at, u.UPN)
		}
		users[key] = true
		if !ous[u.OU] {
			return nil, Invalid(at+".ou", "%s.ou %q is not an OU of the directory", at, u.OU)
		}
		if u.Email != "" && !ValidUPN(u.Email) {
			return nil, Invalid(at+".email", "%s.email must be an e-mail address", at)
		}
		if err := CheckText(at+".objectId", u.ObjectID, MaxIDLength, false); err != nil {
			return nil, err
		}
		for j, r := range u.Roles {
			if !knownRole(r) {
				return nil, Invalid(fmt.Sprintf("%s.roles[%d]", at, j), "%s.roles[%d] %q is not a role; use one of %v", at, j, r, Roles)
			}
		}
	}
	return users, nil
}

func knownRole(r Role) bool { return slices.Contains(Roles, r) }

func knownLicense(l License) bool { return slices.Contains(Licenses, l) }

// KnownModality reports whether m is one of the four modalities.
func KnownModality(m Modality) bool { return listed(Modalities, string(m)) }

// listed reports whether value is the Value of an entry of a dropdown list.
func listed(list []NameValue, value string) bool {
	for _, x := range list {
		if x.Value == value {
			return true
		}
	}
	return false
}

func (d *Directory) validateServices(ous, users map[string]bool) error {
	if len(d.Services) > MaxServices {
		return Invalid("services", "services must have at most %d entries", MaxServices)
	}
	ids := make(map[string]bool, len(d.Services))
	upns := make(map[string]bool, len(d.Services))
	for i := range d.Services {
		s := &d.Services[i]
		at := fmt.Sprintf("services[%d]", i)
		if err := CheckID(at+".id", s.ID); err != nil {
			return err
		}
		if ids[s.ID] {
			return Invalid(at+".id", "%s.id %q is not unique", at, s.ID)
		}
		ids[s.ID] = true
		if !ValidUPN(s.UPN) {
			return Invalid(at+".upn", "%s.upn must be a service address such as sales@contoso.com", at)
		}
		if upns[FoldUPN(s.UPN)] {
			return Invalid(at+".upn", "%s.upn %q is not unique", at, s.UPN)
		}
		upns[FoldUPN(s.UPN)] = true
		for _, f := range []struct {
			name, value string
			max         int
		}{{"name", s.Name, MaxNameLength}, {"displayName", s.DisplayName, MaxNameLength}, {"description", s.Description, MaxDescriptionLength}} {
			if err := CheckText(at+"."+f.name, f.value, f.max, false); err != nil {
				return err
			}
		}
		if s.TelNumber != "" && !ValidE164(s.TelNumber) {
			return Invalid(at+".telNumber", "%s.telNumber must be an E.164 number such as +41441234567", at)
		}
		if !ous[s.OU] {
			return Invalid(at+".ou", "%s.ou %q is not an OU of the directory", at, s.OU)
		}
		if s.License == "" {
			s.License = LicenseNone
		}
		if !knownLicense(s.License) {
			return Invalid(at+".license", "%s.license %q is not a license; use one of %v", at, s.License, Licenses)
		}
		for j, m := range s.Modalities {
			if !KnownModality(m) {
				return Invalid(fmt.Sprintf("%s.modalities[%d]", at, j), "%s.modalities[%d] %q is not a modality", at, j, m)
			}
		}
		if d := s.OutboundRetryDelaySeconds; d != 0 && (d < MinOutboundRetryDelay || d > MaxOutboundRetryDelay) {
			return Invalid(at+".outboundRetryDelaySeconds", "%s.outboundRetryDelaySeconds must be between %d and %d seconds, got %d", at, MinOutboundRetryDelay, MaxOutboundRetryDelay, d)
		}
		for _, list := range []struct {
			name string
			upns []string
		}{{"owners", s.Owners}, {"limitedOwners", s.LimitedOwners}} {
			if len(list.upns) > MaxOwnersPerService {
				return Invalid(at+"."+list.name, "%s.%s must have at most %d entries", at, list.name, MaxOwnersPerService)
			}
			for j, upn := range list.upns {
				if !users[FoldUPN(upn)] {
					return Invalid(fmt.Sprintf("%s.%s[%d]", at, list.name, j), "%s.%s[%d] %q is not a user of the directory", at, list.name, j, upn)
				}
			}
		}
		if s.Calendar != nil {
			if err := s.Calendar.Validate(at + ".calendar"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *Directory) validateAddressBooks(ous map[string]bool) error {
	if len(d.AddressBooks) > MaxAddressBooks {
		return Invalid("addressBooks", "addressBooks must have at most %d entries", MaxAddressBooks)
	}
	ids := make(map[string]bool, len(d.AddressBooks))
	for i, b := range d.AddressBooks {
		at := fmt.Sprintf("addressBooks[%d]", i)
		if err := CheckID(at+".id", b.ID); err != nil {
			return err
		}
		if ids[b.ID] {
			return Invalid(at+".id", "%s.id %q is not unique", at, b.ID)
		}
		ids[b.ID] = true
		if err := CheckText(at+".name", b.Name, MaxNameLength, true); err != nil {
			return err
		}
		if !ous[b.OU] {
			return Invalid(at+".ou", "%s.ou %q is not an OU of the directory", at, b.OU)
		}
	}
	return nil
}
