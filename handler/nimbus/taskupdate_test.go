package nimbus

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestTaskInformationApply(t *testing.T) {
	first, company := "Ada", "Engines"
	ti := TaskInformation{Customer: Customer{LastName: "Lovelace"}, CustomContextParameters: []Parameter{{"a", "1"}}}
	var users []PreferredUser
	if err := json.Unmarshal([]byte(`[{"upn":"x@contoso.com"}]`), &users); err != nil {
		t.Fatal(err)
	}
	u := TaskUpdate{
		Customer:                &CustomerPatch{FirstName: &first, Company: &company},
		CustomContextParameters: []Parameter{{"a", "2"}, {"b", "3"}},
		PreferredUsers:          &users,
	}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	ch, err := ti.Apply(&u)
	if err != nil {
		t.Fatal(err)
	}
	if ti.Customer.LastName != "Lovelace" || ti.Customer.FirstName != "Ada" || ti.Customer.Company != "Engines" {
		t.Errorf("customer merge: %+v", ti.Customer)
	}
	if got := fmt.Sprint(ti.CustomContextParameters); got != "[{a 2} {b 3}]" {
		t.Errorf("parameters upserted by name: %s", got)
	}
	if got := fmt.Sprint(ch.Customer); got != "map[company:Engines firstName:Ada]" {
		t.Errorf("changes name only what was set: %s", got)
	}
	if len(ti.PreferredUsers) != 1 || ti.PreferredUsers[0].Priority != 1 || !ch.PreferredUsersReplaced {
		t.Errorf("preferred users replaced, missing priority = 1: %+v", ti.PreferredUsers)
	}
	// Without preferredUsers in the request they stay.
	if _, err := ti.Apply(&TaskUpdate{}); err != nil || len(ti.PreferredUsers) != 1 {
		t.Errorf("preferred users kept: %+v, %v", ti.PreferredUsers, err)
	}
}

func TestParameterLimitCountsOnlyNewNames(t *testing.T) {
	var ti TaskInformation
	for i := range MaxTaskParameters + 5 { // core may exceed the limit through events
		ti.SetParameter(Parameter{Name: fmt.Sprint(i), Value: "v"})
	}
	if _, err := ti.Apply(&TaskUpdate{CustomContextParameters: []Parameter{{"3", "changed"}}}); err != nil {
		t.Errorf("changing an existing parameter: %v", err)
	}
	if _, err := ti.Apply(&TaskUpdate{CustomContextParameters: []Parameter{{"new", "v"}}}); KindOf(err) != KindInvalid {
		t.Errorf("adding past the limit: %v", err)
	}
}

// Only an absent priority means 1; an explicit 0 is out of range (1..99).
func TestPreferredUserPriority(t *testing.T) {
	tests := []struct {
		body string
		want int
		ok   bool
	}{
		{`{"preferredUsers":[{"upn":"x@contoso.com"}]}`, 1, true},
		{`{"preferredUsers":[{"upn":"x@contoso.com","priority":null}]}`, 1, true},
		{`{"preferredUsers":[{"upn":"x@contoso.com","priority":1}]}`, 1, true},
		{`{"preferredUsers":[{"upn":"x@contoso.com","priority":99}]}`, 99, true},
		{`{"preferredUsers":[{"upn":"x@contoso.com","priority":0}]}`, 0, false},
		{`{"preferredUsers":[{"upn":"x@contoso.com","priority":-1}]}`, 0, false},
		{`{"preferredUsers":[{"upn":"x@contoso.com","priority":100}]}`, 0, false},
	}
	for _, tt := range tests {
		var u TaskUpdate
		if err := json.Unmarshal([]byte(tt.body), &u); err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		err := u.Validate()
		if !tt.ok {
			if e, ok := err.(*Error); !ok || e.Target != "preferredUsers[0].priority" {
				t.Errorf("%s: got %v, want InvalidArgument at preferredUsers[0].priority", tt.body, err)
			}
			continue
		}
		if err != nil || (*u.PreferredUsers)[0].Priority != tt.want {
			t.Errorf("%s: got %+v, %v; want priority %d", tt.body, u.PreferredUsers, err, tt.want)
		}
	}
}
