package nimbus

import (
	"errors"
	"fmt"
	"testing"
)

const (
	tenantA = "11111111-1111-1111-1111-111111111111"
	tenantB = "22222222-2222-2222-2222-222222222222"
)

// kinds of principal, each placed in OU "a" (the tenant admin acts from the root anyway).
var principals = []string{"TenantAdmin", "OUAdmin", "ServiceOwner", "TeamOwnerLimited", "PartnerAdmin", "Supervisor", "User"}

// matrix is SPEC 2.2 written out literally: principal → group → may execute.
var matrix = map[string]map[Group]bool{
	"TenantAdmin":      {GroupConversations: true, GroupAddressBooks: true, GroupOutboundManage: true, GroupOutboundSchedule: true, GroupStaticLists: true, GroupTestConnection: true, GroupOpeningHours: true},
	"OUAdmin":          {GroupAddressBooks: true, GroupStaticLists: true, GroupTestConnection: true},
	"ServiceOwner":     {GroupConversations: true, GroupOutboundManage: true, GroupOutboundSchedule: true, GroupStaticLists: true, GroupTestConnection: true, GroupOpeningHours: true},
	"TeamOwnerLimited": {GroupOutboundSchedule: true, GroupStaticLists: true, GroupTestConnection: true, GroupOpeningHours: true},
	"PartnerAdmin":     {GroupTestConnection: true},
	"Supervisor":       {},
	"User":             {},
}

// relations of an entity's OU to OU "a": the OU itself, the root above, "a1" below, sibling "b".
var relationOU = map[string]string{"same": "a", "ancestor": tenantA, "descendant": "a1", "sibling": "b"}

// readable and writable are SPEC 2.3 for a principal placed in "a".
var readable = map[string]bool{"same": true, "ancestor": true, "descendant": true, "sibling": false}
var writable = map[string]bool{"same": true, "ancestor": false, "descendant": true, "sibling": false}

func policyDirectory(tenant string) Directory {
	d := Directory{
		TenantID: tenant,
		OUs:      []OU{{ID: tenant, Name: "Root"}, {ID: "a", Name: "A", Parent: tenant}, {ID: "a1", Name: "A1", Parent: "a"}, {ID: "b", Name: "B", Parent: tenant}},
	}
	roles := map[string][]Role{"TenantAdmin": {RoleTenantAdmin}, "OUAdmin": {RoleOUAdmin}, "ServiceOwner": {RoleUser}, "TeamOwnerLimited": {RoleUser}, "PartnerAdmin": {RolePartnerAdmin}, "Supervisor": {RoleSupervisor}, "User": {RoleUser}}
	for _, p := range principals {
		d.Users = append(d.Users, User{UPN: p + "@contoso.com", OU: "a", Roles: roles[p]})
	}
	for rel, ou := range relationOU {
		if rel == "ancestor" {
			ou = tenant
		}
		for _, lic := range Licenses {
			d.Services = append(d.Services, Service{
				ID: rel + "-" + string(lic), UPN: rel + "-" + string(lic) + "@contoso.com", Name: rel, OU: ou, License: lic, WorkflowValid: true,
				Owners: []string{"ServiceOwner@contoso.com"}, LimitedOwners: []string{"teamownerlimited@CONTOSO.com"},
			})
		}
		d.AddressBooks = append(d.AddressBooks, AddressBook{ID: "book-" + rel, Name: rel, OU: ou})
	}
	return d
}

func TestCheckServiceMatrix(t *testing.T) {
	x, err := NewIndex(policyDirectory(tenantA))
	if err != nil {
		t.Fatal(err)
	}
	serviceGroups := []Group{GroupConversations, GroupOutboundManage, GroupOutboundSchedule, GroupOpeningHours}
	for _, p := range principals {
		a, err := x.Access(p + "@Contoso.com")
		if err != nil {
			t.Fatalf("access %s: %v", p, err)
		}
		for _, g := range Groups {
			if got, want := a.Allows(g, nil), matrix[p][g]; got != want {
				t.Errorf("%s may use %s at all: got %v, want %v", p, g, got, want)
			}
		}
		for _, g := range serviceGroups {
			for rel := range relationOU {
				for _, lic := range Licenses {
					name := fmt.Sprintf("%s/%s/%s/%s", p, g, rel, lic)
					svc, _ := x.Service(rel + "-" + string(lic))
					visible := readable[rel] || p == "TenantAdmin"
					var want Kind
					switch {
					case !matrix[p][g]:
						want = KindForbidden
					case !visible:
						want = KindNotFound
					case !lic.Routable():
						want = KindInvalid
					}
					err := a.CheckService(g, svc)
					if got := kindOrEmpty(err); got != want {
						t.Errorf("%s: got %q (%v), want %q", name, got, err, want)
					}
				}
			}
		}
	}
}

func TestCheckAddressBookMatrix(t *testing.T) {
	x, err := NewIndex(policyDirectory(tenantA))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range principals {
		a, _ := x.Access(p + "@contoso.com")
		for rel := range relationOU {
			book, _ := x.AddressBook("book-" + rel)
			for _, write := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/write=%v", p, rel, write)
				admin := p == "TenantAdmin"
				var want Kind
				switch {
				case !matrix[p][GroupAddressBooks]:
					want = KindForbidden
				case !(readable[rel] || admin):
					want = KindNotFound
				case write && !(writable[rel] || admin):
					want = KindForbidden
				}
				if got := kindOrEmpty(a.CheckAddressBook(book, write)); got != want {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
				if got, want := a.CanRead(book.OU), readable[rel] || admin; got != want {
					t.Errorf("%s CanRead: got %v, want %v", name, got, want)
				}
				if got, want := a.CanWrite(book.OU), writable[rel] || admin; got != want {
					t.Errorf("%s CanWrite: got %v, want %v", name, got, want)
				}
			}
		}
	}
}

// Nothing crosses tenants: another tenant's users, services and books do not resolve, and a
// same-named OU in another tenant is a different OU.
func TestOtherTenantIsInvisible(t *testing.T) {
	xa, _ := NewIndex(policyDirectory(tenantA))
	d := policyDirectory(tenantB)
	d.Users = append(d.Users, User{UPN: "only-b@fabrikam.com", OU: tenantB, Roles: []Role{RoleTenantAdmin}})
	d.Services = append(d.Services, Service{ID: "only-b", UPN: "only-b@fabrikam.com", OU: tenantB, License: LicenseContactCenter})
	d.AddressBooks = append(d.AddressBooks, AddressBook{ID: "only-b", Name: "B", OU: tenantB})
	if _, err := NewIndex(d); err != nil {
		t.Fatal(err)
	}
	if _, err := xa.Access("only-b@fabrikam.com"); !errors.Is(err, ErrForbidden) {
		t.Errorf("user of tenant B in tenant A: got %v, want Forbidden", err)
	}
	if _, ok := xa.ServiceByUPN("only-b@fabrikam.com"); ok {
		t.Error("service of tenant B found in tenant A")
	}
	if _, ok := xa.AddressBook("only-b"); ok {
		t.Error("address book of tenant B found in tenant A")
	}
	a, _ := xa.Access("OUAdmin@contoso.com")
	if a.CanRead(tenantB) || a.CanWrite(tenantB) {
		t.Error("tenant B's root OU is readable from tenant A")
	}
}

func TestRelation(t *testing.T) {
	x, _ := NewIndex(policyDirectory(tenantA))
	tests := []struct {
		user, entity string
		want         Relation
	}{
		{"a", "a", RelationSame},
		{"a", tenantA, RelationAncestor},
		{"a1", tenantA, RelationAncestor},
		{"a", "a1", RelationDescendant},
		{tenantA, "a1", RelationDescendant},
		{"a", "b", RelationUnrelated},
		{"a1", "b", RelationUnrelated},
		{"a", "missing", RelationUnrelated},
		{"missing", "a", RelationUnrelated},
	}
	for _, tt := range tests {
		if got := x.Relation(tt.user, tt.entity); got != tt.want {
			t.Errorf("Relation(%q, %q) = %v, want %v", tt.user, tt.entity, got, tt.want)
		}
	}
}

func TestRolesIncludeOwnership(t *testing.T) {
	x, _ := NewIndex(policyDirectory(tenantA))
	a, _ := x.Access("serviceowner@contoso.com")
	got := fmt.Sprint(a.Roles())
	if want := "[User ServiceOwner]"; got != want {
		t.Errorf("roles: got %s, want %s", got, want)
	}
}

func TestLicensed(t *testing.T) {
	d := policyDirectory(tenantA)
	x, _ := NewIndex(d)
	if !x.Licensed() {
		t.Error("tenant with ContactCenter services: Licensed() = false")
	}
	var only []Service
	for _, s := range d.Services {
		if !s.License.Routable() {
			only = append(only, s)
		}
	}
	d.Services = only
	x, _ = NewIndex(d)
	if x.Licensed() {
		t.Error("tenant with only None/AdvancedRouting services: Licensed() = true")
	}
}

func kindOrEmpty(err error) Kind {
	if err == nil {
		return ""
	}
	return KindOf(err)
}
