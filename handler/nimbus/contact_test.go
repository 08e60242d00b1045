package nimbus

import (
	"errors"
	"strings"
	"testing"
)

func TestContactValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	list := func(n int, v string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	tests := []struct {
		name   string
		edit   func(c *Contact)
		target string
	}{
		{"minimal", func(c *Contact) {}, ""},
		{"all limits exactly", func(c *Contact) {
			c.ExternalID = long(128)
			c.FirstName, c.LastName, c.DisplayName, c.Initials = long(64), long(64), long(256), long(16)
			c.Company, c.Department, c.JobTitle, c.UserPrincipalName = long(64), long(64), long(128), long(128)
			c.IMAddresses, c.EmailAddresses = list(10, long(128)), list(10, long(128))
			c.BusinessPhones, c.MobilePhones, c.HomePhones = list(10, long(32)), list(10, long(32)), list(10, long(32))
			for range 10 {
				c.Addresses = append(c.Addresses, ContactAddress{Street: long(1024), City: long(128), Country: long(128), State: long(128), PostalCode: long(40)})
			}
			for range 20 {
				c.CustomFields = append(c.CustomFields, CustomField{Name: long(64), Value: long(1024)})
			}
		}, ""},
		{"limits count characters, not bytes", func(c *Contact) { c.FirstName = strings.Repeat("ü", 64) }, ""},
		{"externalId missing", func(c *Contact) { c.ExternalID = "" }, "externalId"},
		{"externalId too long", func(c *Contact) { c.ExternalID = long(129) }, "externalId"},
		{"externalId control char", func(c *Contact) { c.ExternalID = "a\nb" }, "externalId"},
		{"firstName", func(c *Contact) { c.FirstName = long(65) }, "firstName"},
		{"lastName", func(c *Contact) { c.LastName = long(65) }, "lastName"},
		{"displayName", func(c *Contact) { c.DisplayName = long(257) }, "displayName"},
		{"initials", func(c *Contact) { c.Initials = long(17) }, "initials"},
		{"company", func(c *Contact) { c.Company = long(65) }, "company"},
		{"department", func(c *Contact) { c.Department = long(65) }, "department"},
		{"jobTitle", func(c *Contact) { c.JobTitle = long(129) }, "jobTitle"},
		{"userPrincipalName", func(c *Contact) { c.UserPrincipalName = long(129) }, "userPrincipalName"},
		{"imAddresses count", func(c *Contact) { c.IMAddresses = list(11, "a") }, "imAddresses"},
		{"imAddresses length", func(c *Contact) { c.IMAddresses = []string{"a", long(129)} }, "imAddresses[1]"},
		{"emailAddresses count", func(c *Contact) { c.EmailAddresses = list(11, "a") }, "emailAddresses"},
		{"businessPhones length", func(c *Contact) { c.BusinessPhones = []string{long(33)} }, "businessPhones[0]"},
		{"mobilePhones count", func(c *Contact) { c.MobilePhones = list(11, "1") }, "mobilePhones"},
		{"homePhones length", func(c *Contact) { c.HomePhones = []string{long(33)} }, "homePhones[0]"},
		{"addresses count", func(c *Contact) { c.Addresses = make([]ContactAddress, 11) }, "addresses"},
		{"street", func(c *Contact) { c.Addresses = []ContactAddress{{Street: long(1025)}} }, "addresses[0].street"},
		{"city", func(c *Contact) { c.Addresses = []ContactAddress{{}, {City: long(129)}} }, "addresses[1].city"},
		{"country", func(c *Contact) { c.Addresses = []ContactAddress{{Country: long(129)}} }, "addresses[0].country"},
		{"state", func(c *Contact) { c.Addresses = []ContactAddress{{State: long(129)}} }, "addresses[0].state"},
		{"postalCode", func(c *Contact) { c.Addresses = []ContactAddress{{PostalCode: long(41)}} }, "addresses[0].postalCode"},
		{"customFields count", func(c *Contact) { c.CustomFields = make([]CustomField, 21) }, "customFields"},
		{"customField name missing", func(c *Contact) { c.CustomFields = []CustomField{{Value: "v"}} }, "customFields[0].name"},
		{"customField name too long", func(c *Contact) { c.CustomFields = []CustomField{{Name: long(65)}} }, "customFields[0].name"},
		{"customField value too long", func(c *Contact) { c.CustomFields = []CustomField{{Name: "n", Value: long(1025)}} }, "customFields[0].value"},
		{"invalid UTF-8", func(c *Contact) { c.Company = "\xff" }, "company"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Contact{ExternalID: "crm-1"}
			tt.edit(&c)
			err := c.Validate()
			if tt.target == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindInvalid || e.Target != tt.target {
				t.Fatalf("got %#v, want InvalidArgument with target %q", err, tt.target)
			}
		})
	}
}
