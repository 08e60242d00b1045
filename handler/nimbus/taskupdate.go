package nimbus

import (
	"encoding/json"
	"fmt"
)

// Limits of what flows may write on a task.
const (
	MaxCustomerField      = 256 // each customer text field, characters
	MaxCustomerTelNumbers = 10
	MaxCustomerFields     = 20
	MaxPreferredUsers     = 10
	// MaxTaskParameters bounds the custom context parameters of one task, so that its
	// notifications stay within one queue message.
	MaxTaskParameters = 50
)

// CustomerPatch is a customer in an Update task request: only the fields present change.
type CustomerPatch struct {
	FirstName        *string      `json:"firstName"`
	LastName         *string      `json:"lastName"`
	DisplayName      *string      `json:"displayName"`
	Company          *string      `json:"company"`
	JobTitle         *string      `json:"jobTitle"`
	Department       *string      `json:"department"`
	StreetAddress    *string      `json:"streetAddress"`
	PostCode         *string      `json:"postCode"`
	City             *string      `json:"city"`
	State            *string      `json:"state"`
	Country          *string      `json:"country"`
	PrimaryTelNumber *string      `json:"primaryTelNumber"`
	TelNumbers       *[]Parameter `json:"telNumbers"`
	UPN              *string      `json:"UPN"`
	IMAddress        *string      `json:"imAddress"`
	Email            *string      `json:"email"`
	CustomFields     *[]Parameter `json:"customFields"`
}

// TaskUpdate is the body of UpdateTask (TaskInformation, with presence kept).
type TaskUpdate struct {
	Customer                *CustomerPatch   `json:"customer"`
	CustomContextParameters []Parameter      `json:"customContextParameters"`
	PreferredUsers          *[]PreferredUser `json:"preferredUsers"`
}

// textFields pairs each customer text field's JSON name with its patch and target.
func (p *CustomerPatch) textFields(c *Customer) []struct {
	name  string
	patch *string
	dst   *string
} {
	return []struct {
		name  string
		patch *string
		dst   *string
	}{
		{"firstName", p.FirstName, &c.FirstName}, {"lastName", p.LastName, &c.LastName},
		{"displayName", p.DisplayName, &c.DisplayName}, {"company", p.Company, &c.Company},
		{"jobTitle", p.JobTitle, &c.JobTitle}, {"department", p.Department, &c.Department},
		{"streetAddress", p.StreetAddress, &c.StreetAddress}, {"postCode", p.PostCode, &c.PostCode},
		{"city", p.City, &c.City}, {"state", p.State, &c.State}, {"country", p.Country, &c.Country},
		{"primaryTelNumber", p.PrimaryTelNumber, &c.PrimaryTelNumber}, {"UPN", p.UPN, &c.UPN},
		{"imAddress", p.IMAddress, &c.IMAddress}, {"email", p.Email, &c.Email},
	}
}

// Validate checks the update's limits, naming the field. Whether preferred users exist and
// are visible is checked by the use case.
func (u *TaskUpdate) Validate() error {
	if c := u.Customer; c != nil {
		for _, f := range c.textFields(&Customer{}) {
			if f.patch != nil {
				if err := CheckText("customer."+f.name, *f.patch, MaxCustomerField, false); err != nil {
					return err
				}
			}
		}
		if err := checkPairs("customer.telNumbers", c.TelNumbers, MaxCustomerTelNumbers, MaxParameterValue); err != nil {
			return err
		}
		if err := checkPairs("customer.customFields", c.CustomFields, MaxCustomerFields, MaxParameterValue); err != nil {
			return err
		}
	}
	if len(u.CustomContextParameters) > MaxTaskParameters {
		return Invalid("customContextParameters", "customContextParameters must have at most %d entries", MaxTaskParameters)
	}
	for i := range u.CustomContextParameters {
		if err := u.CustomContextParameters[i].Validate(fmt.Sprintf("customContextParameters[%d]", i)); err != nil {
			return err
		}
	}
	if u.PreferredUsers != nil {
		users := *u.PreferredUsers
		if len(users) > MaxPreferredUsers {
			return Invalid("preferredUsers", "preferredUsers must have at most %d entries", MaxPreferredUsers)
		}
		for i := range users {
			p := &users[i]
			at := fmt.Sprintf("preferredUsers[%d]", i)
			if !ValidUPN(p.UPN) {
				return Invalid(at+".upn", "%s.upn must be a user principal name", at)
			}
			if p.Priority < MinPreferredUserPriority || p.Priority > MaxPreferredUserPriority {
				return Invalid(at+".priority", "%s.priority must be between %d (high) and %d (low), got %d; leave it out for %d.", at, MinPreferredUserPriority, MaxPreferredUserPriority, p.Priority, MinPreferredUserPriority)
			}
		}
	}
	return nil
}

// The range of a preferred user's priority: 1 is the highest, and what an absent priority
// means.
const (
	MinPreferredUserPriority = 1
	MaxPreferredUserPriority = 99
)

// UnmarshalJSON reads a preferred user of a request. An absent (or null) priority is the
// highest, as in Nimbus; a priority that is given, 0 included, must be in range, which
// Validate checks.
func (p *PreferredUser) UnmarshalJSON(b []byte) error {
	var raw struct {
		UPN      string `json:"upn"`
		Priority *int   `json:"priority"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = PreferredUser{UPN: raw.UPN, Priority: MinPreferredUserPriority}
	if raw.Priority != nil {
		p.Priority = *raw.Priority
	}
	return nil
}

func checkPairs(target string, list *[]Parameter, maxItems, maxValue int) error {
	if list == nil {
		return nil
	}
	if len(*list) > maxItems {
		return Invalid(target, "%s must have at most %d entries", target, maxItems)
	}
	for i, p := range *list {
		at := fmt.Sprintf("%s[%d]", target, i)
		if err := CheckText(at+".name", p.Name, MaxParameterName, true); err != nil {
			return err
		}
		if err := CheckText(at+".value", p.Value, maxValue, false); err != nil {
			return err
		}
	}
	return nil
}

// Apply merges u into the task information and returns exactly what changed, for the
// TaskUpdated command. It fails with KindInvalid when the task would exceed
// MaxTaskParameters.
func (ti *TaskInformation) Apply(u *TaskUpdate) (TaskChanges, error) {
	var ch TaskChanges
	if c := u.Customer; c != nil {
		for _, f := range c.textFields(&ti.Customer) {
			if f.patch != nil {
				*f.dst = *f.patch
				if ch.Customer == nil {
					ch.Customer = map[string]any{}
				}
				ch.Customer[f.name] = *f.patch
			}
		}
		for _, l := range []struct {
			name  string
			patch *[]Parameter
			dst   *[]Parameter
		}{{"telNumbers", c.TelNumbers, &ti.Customer.TelNumbers}, {"customFields", c.CustomFields, &ti.Customer.CustomFields}} {
			if l.patch != nil {
				*l.dst = append([]Parameter(nil), (*l.patch)...)
				if ch.Customer == nil {
					ch.Customer = map[string]any{}
				}
				ch.Customer[l.name] = *l.dst
			}
		}
	}
	before := len(ti.CustomContextParameters)
	for _, p := range u.CustomContextParameters {
		ti.SetParameter(p)
		ch.CustomContextParameters = append(ch.CustomContextParameters, p)
	}
	// Only new names count against the limit: core may have set more parameters through
	// events, and changing one of those must still work.
	if after := len(ti.CustomContextParameters); after > before && after > MaxTaskParameters {
		return TaskChanges{}, Invalid("customContextParameters", "a task holds at most %d custom context parameters", MaxTaskParameters)
	}
	if u.PreferredUsers != nil {
		ti.PreferredUsers = append([]PreferredUser{}, (*u.PreferredUsers)...)
		ch.PreferredUsers, ch.PreferredUsersReplaced = ti.PreferredUsers, true
	}
	return ch, nil
}
