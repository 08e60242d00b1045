package nimbus

import (
	"fmt"
	"testing"
)

// The opening-hours check is per service: an owner or limited owner of one service may not
// check another one in their reach, only a tenant admin may check every service.
func TestOpeningHoursNeedsOwnershipOfThatService(t *testing.T) {
	d := policyDirectory(tenantA)
	d.Users = append(d.Users, User{UPN: "other@contoso.com", OU: "a", Roles: []Role{RoleUser}})
	d.Services = append(d.Services, Service{ID: "other", UPN: "other@contoso.com", Name: "other", OU: "a",
		License: LicenseContactCenter, Owners: []string{"other@contoso.com"}, LimitedOwners: []string{"other@contoso.com"}})
	x, err := NewIndex(d)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := x.Service("other")
	own, _ := x.Service("same-" + string(LicenseContactCenter))
	tests := []struct {
		who  string
		svc  *Service
		want Kind
	}{
		{"TenantAdmin", other, ""},
		{"ServiceOwner", own, ""},
		{"ServiceOwner", other, KindForbidden},
		{"TeamOwnerLimited", own, ""},
		{"TeamOwnerLimited", other, KindForbidden},
		{"OUAdmin", own, KindForbidden},
		{"PartnerAdmin", own, KindForbidden},
		{"other", other, ""},
		{"other", own, KindForbidden},
	}
	for _, tt := range tests {
		a, err := x.Access(tt.who + "@contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%s checks %s", tt.who, tt.svc.ID)
		if got := kindOrEmpty(a.CheckService(GroupOpeningHours, tt.svc)); got != tt.want {
			t.Errorf("%s: got %q, want %q", name, got, tt.want)
		}
	}
}
