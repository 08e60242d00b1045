package nimbus

import "strings"

// AppTrust says which application tokens speak for the operator of this deployment (SPEC
// 2.1). In Entra a customer's admin can assign our API's app roles to any client app of
// their own tenant, so a role claim alone proves nothing about who runs the app: only the
// operator tenants, and within them only the listed client apps (when a list is given), are
// trusted as Nimbus core and as operators of every tenant. The zero value trusts nobody.
type AppTrust struct {
	tenants map[string]bool // lower-case tenant ids
	appIDs  map[string]bool // lower-case client app ids; empty: any app of an operator tenant
}

// NewAppTrust trusts app tokens from the operator tenants and, when appIDs is not empty,
// only those of the listed client apps (compared with azp/appid). Ids are compared
// case-insensitively.
func NewAppTrust(operatorTenants, appIDs []string) AppTrust {
	t := AppTrust{tenants: map[string]bool{}, appIDs: map[string]bool{}}
	for _, id := range operatorTenants {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			t.tenants[id] = true
		}
	}
	for _, id := range appIDs {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			t.appIDs[id] = true
		}
	}
	return t
}

// OperatorTenant reports whether tenantID is one of the operator tenants. Their tokens are
// accepted even though the tenant has no directory.
func (t AppTrust) OperatorTenant(tenantID string) bool {
	return t.tenants[strings.ToLower(tenantID)]
}

// operatorApp reports whether c is an app token of a trusted operator app.
func (t AppTrust) operatorApp(c Caller) bool {
	if !c.IsApp || !t.OperatorTenant(c.TenantID) {
		return false
	}
	return len(t.appIDs) == 0 || t.appIDs[strings.ToLower(c.AppID)]
}

// Resolve decides what an authenticated caller may claim. An app token of a trusted operator
// app is marked Operator and keeps its roles. Any other app token loses AppRoleCore (Nimbus
// core is the operator's alone) and keeps AppRoleAdmin, which then reaches only the token's
// own tenant. User tokens are returned as they are, without app roles.
func (t AppTrust) Resolve(c Caller) Caller {
	c.Operator = false
	if !c.IsApp {
		c.Roles = nil
		return c
	}
	if t.operatorApp(c) {
		c.Operator = true
		return c
	}
	roles := make([]string, 0, len(c.Roles))
	for _, r := range c.Roles {
		if r != AppRoleCore {
			roles = append(roles, r)
		}
	}
	c.Roles = roles
	return c
}

// AdminScope reports whether an admin caller may act on tenantID: an operator app on any
// tenant, any other caller only on its own.
func (c Caller) AdminScope(tenantID string) bool {
	return c.Operator || strings.EqualFold(c.TenantID, tenantID)
}
