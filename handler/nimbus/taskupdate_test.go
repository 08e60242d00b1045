package nimbus

import (
	"fmt"
	"testing"
)

func TestTaskInformationApply(t *testing.T) {
	first, company := "Ada", "Engines"
	ti := TaskInformation{Customer: Customer{LastName: "Lovelace"}, CustomContextParameters: []Parameter{{"a", "1"}}}
	users := []PreferredUser{{UPN: "x@contoso.com"}}
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
