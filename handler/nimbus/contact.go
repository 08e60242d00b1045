package nimbus

import "fmt"

// Limits of a contact (SPEC 3, matching the certified connector's documented limits).
const (
	MaxContactExternalID    = 128
	MaxContactFirstName     = 64
	MaxContactLastName      = 64
	MaxContactDisplayName   = 256
	MaxContactInitials      = 16
	MaxContactCompany       = 64
	MaxContactDepartment    = 64
	MaxContactJobTitle      = 128
	MaxContactUPN           = 128
	MaxContactAddressItems  = 10 // per list of IM addresses, e-mail addresses, phones, and addresses
	MaxContactAddressLength = 128
	MaxContactPhoneLength   = 32
	MaxContactStreet        = 1024
	MaxContactCity          = 128
	MaxContactCountry       = 128
	MaxContactState         = 128
	MaxContactPostalCode    = 40
	MaxContactCustomFields  = 20
	MaxCustomFieldName      = 64
	MaxCustomFieldValue     = 1024
	// DefaultMaxContactsPerBook is the default cap of contacts in one address book.
	DefaultMaxContactsPerBook = 65_000
)

// Contact is one entry of an address book, keyed by the external system's id. Field names
// are those of the certified connector.
type Contact struct {
	ExternalID        string           `json:"externalId"`
	FirstName         string           `json:"firstName,omitempty"`
	LastName          string           `json:"lastName,omitempty"`
	DisplayName       string           `json:"displayName,omitempty"`
	Initials          string           `json:"initials,omitempty"`
	Company           string           `json:"company,omitempty"`
	Department        string           `json:"department,omitempty"`
	JobTitle          string           `json:"jobTitle,omitempty"`
	UserPrincipalName string           `json:"userPrincipalName,omitempty"`
	IMAddresses       []string         `json:"imAddresses,omitempty"`
	EmailAddresses    []string         `json:"emailAddresses,omitempty"`
	BusinessPhones    []string         `json:"businessPhones,omitempty"`
	MobilePhones      []string         `json:"mobilePhones,omitempty"`
	HomePhones        []string         `json:"homePhones,omitempty"`
	Addresses         []ContactAddress `json:"addresses,omitempty"`
	CustomFields      []CustomField    `json:"customFields,omitempty"`
}

// ContactAddress is a postal address of a contact.
type ContactAddress struct {
	Street     string `json:"street,omitempty"`
	City       string `json:"city,omitempty"`
	Country    string `json:"country,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
}

// CustomField is a named free-form value of a contact.
type CustomField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Validate checks every limit and names the first offending field, e.g. "addresses[2].city".
func (c *Contact) Validate() error {
	if err := CheckText("externalId", c.ExternalID, MaxContactExternalID, true); err != nil {
		return err
	}
	if err := CheckID("externalId", c.ExternalID); err != nil {
		return err
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"firstName", c.FirstName, MaxContactFirstName},
		{"lastName", c.LastName, MaxContactLastName},
		{"displayName", c.DisplayName, MaxContactDisplayName},
		{"initials", c.Initials, MaxContactInitials},
		{"company", c.Company, MaxContactCompany},
		{"department", c.Department, MaxContactDepartment},
		{"jobTitle", c.JobTitle, MaxContactJobTitle},
		{"userPrincipalName", c.UserPrincipalName, MaxContactUPN},
	} {
		if err := CheckText(f.name, f.value, f.max, false); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		name   string
		values []string
		max    int
	}{
		{"imAddresses", c.IMAddresses, MaxContactAddressLength},
		{"emailAddresses", c.EmailAddresses, MaxContactAddressLength},
		{"businessPhones", c.BusinessPhones, MaxContactPhoneLength},
		{"mobilePhones", c.MobilePhones, MaxContactPhoneLength},
		{"homePhones", c.HomePhones, MaxContactPhoneLength},
	} {
		if err := checkList(l.name, len(l.values), MaxContactAddressItems); err != nil {
			return err
		}
		for i, v := range l.values {
			if err := CheckText(fmt.Sprintf("%s[%d]", l.name, i), v, l.max, false); err != nil {
				return err
			}
		}
	}
	if err := checkList("addresses", len(c.Addresses), MaxContactAddressItems); err != nil {
		return err
	}
	for i, a := range c.Addresses {
		for _, f := range []struct {
			name, value string
			max         int
		}{
			{"street", a.Street, MaxContactStreet},
			{"city", a.City, MaxContactCity},
			{"country", a.Country, MaxContactCountry},
			{"state", a.State, MaxContactState},
			{"postalCode", a.PostalCode, MaxContactPostalCode},
		} {
			if err := CheckText(fmt.Sprintf("addresses[%d].%s", i, f.name), f.value, f.max, false); err != nil {
				return err
			}
		}
	}
	if err := checkList("customFields", len(c.CustomFields), MaxContactCustomFields); err != nil {
		return err
	}
	for i, f := range c.CustomFields {
		if err := CheckText(fmt.Sprintf("customFields[%d].name", i), f.Name, MaxCustomFieldName, true); err != nil {
			return err
		}
		if err := CheckText(fmt.Sprintf("customFields[%d].value", i), f.Value, MaxCustomFieldValue, false); err != nil {
			return err
		}
	}
	return nil
}

func checkList(target string, n, max int) error {
	if n > max {
		return Invalid(target, "%s must have at most %d entries, got %d", target, max, n)
	}
	return nil
}
