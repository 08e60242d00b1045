package nimbus

import (
	"slices"
	"testing"
)

func TestAppTrustResolve(t *testing.T) {
	const operator = "33333333-3333-3333-3333-333333333333"
	both := []string{AppRoleAdmin, AppRoleCore}
	app := func(tenant, id string) Caller {
		return Caller{TenantID: tenant, AppID: id, IsApp: true, Roles: slices.Clone(both)}
	}
	tests := []struct {
		name     string
		trust    AppTrust
		caller   Caller
		operator bool
		roles    []string
	}{
		{"operator tenant, any app", NewAppTrust([]string{operator}, nil), app(operator, "x"), true, both},
		{"operator tenant in upper case", NewAppTrust([]string{"33333333-3333-3333-3333-33333333333A"}, nil), app("33333333-3333-3333-3333-33333333333a", "x"), true, both},
		{"operator tenant, listed app", NewAppTrust([]string{operator}, []string{"Core-App"}), app(operator, "core-app"), true, both},
		{"operator tenant, unlisted app", NewAppTrust([]string{operator}, []string{"core-app"}), app(operator, "x"), false, []string{AppRoleAdmin}},
		{"customer tenant", NewAppTrust([]string{operator}, nil), app(tenantA, "x"), false, []string{AppRoleAdmin}},
		{"customer tenant with a listed app id", NewAppTrust([]string{operator}, []string{"core-app"}), app(tenantA, "core-app"), false, []string{AppRoleAdmin}},
		{"no operator tenants", AppTrust{}, app(operator, "x"), false, []string{AppRoleAdmin}},
		{"user token of the operator tenant", NewAppTrust([]string{operator}, nil), Caller{TenantID: operator, UPN: "a@b.c", Roles: both}, false, nil},
		{"forged operator flag", NewAppTrust([]string{operator}, nil), Caller{TenantID: tenantA, AppID: "x", IsApp: true, Operator: true, Roles: both}, false, []string{AppRoleAdmin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.trust.Resolve(tt.caller)
			if got.Operator != tt.operator || !slices.Equal(got.Roles, tt.roles) {
				t.Errorf("got operator %v roles %v, want %v %v", got.Operator, got.Roles, tt.operator, tt.roles)
			}
		})
	}
}

func TestAdminScope(t *testing.T) {
	own := Caller{TenantID: tenantA, IsApp: true}
	if !own.AdminScope(tenantA) || own.AdminScope(tenantB) {
		t.Error("a tenant's app must reach its own tenant and no other")
	}
	op := Caller{TenantID: "33333333-3333-3333-3333-333333333333", IsApp: true, Operator: true}
	if !op.AdminScope(tenantA) || !op.AdminScope(tenantB) {
		t.Error("an operator app must reach every tenant")
	}
}
