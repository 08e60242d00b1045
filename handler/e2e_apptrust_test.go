package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// tenantB is a second customer tenant beside the demo tenant (tenant A).
const tenantB = "7d1c6b2a-5e4f-4a39-8b07-c6e5d4f3a2b1"

func tenantBDirectory() nimbus.Directory {
	return nimbus.Directory{
		TenantID: tenantB,
		OUs:      []nimbus.OU{{ID: tenantB, Name: "Fabrikam"}},
		Services: []nimbus.Service{{ID: "s-b", UPN: "hotline@fabrikam.com", Name: "Fabrikam hotline", OU: tenantB,
			License: nimbus.LicenseContactCenter, WorkflowValid: true, Modalities: []nimbus.Modality{nimbus.ModalityAudio}}},
		Users: []nimbus.User{{UPN: "boss@fabrikam.com", OU: tenantB, Roles: []nimbus.Role{nimbus.RoleTenantAdmin}}},
	}
}

// startTwoTenants runs the binary with the demo tenant (A) and tenant B.
func startTwoTenants(t *testing.T, env map[string]string) (*proc, app.DemoInfo) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "b.json")
	data, _ := json.Marshal(tenantBDirectory())
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	env["NIMBUS_DATA_DIR"] = t.TempDir()
	p := start(t, env, "--directory", file)
	return p, p.demo()
}

// appToken mints a dev app token of appID in tenant carrying roles.
func (p *proc) appToken(tenant, appID string, roles ...string) string {
	p.t.Helper()
	r := p.call("POST", "/dev/token", "", map[string]any{"tenantId": tenant, "appId": appID, "roles": roles})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != 200 {
		p.t.Fatalf("app token: %d %s", r.status, r.body)
	}
	return tok.AccessToken
}

// adminCall is one admin or internal route aimed at a tenant.
type adminCall struct {
	name   string
	method string
	path   func(tenant string) string
	body   func(p *proc, tenant string) any
	ok     int // status when the caller may act on the tenant
}

func adminCalls() []adminCall {
	var calls []adminCall
	for _, prefix := range []string{"/admin/v1", "/manage/v1"} {
		calls = append(calls,
			adminCall{name: "export " + prefix, method: "GET", ok: 200,
				path: func(tn string) string { return prefix + "/tenants/" + tn + "/directory" }},
			adminCall{name: "import " + prefix, method: "PUT", ok: 200,
				path: func(tn string) string { return prefix + "/tenants/" + tn + "/directory" },
				body: func(_ *proc, tn string) any {
					if tn == tenantB {
						return tenantBDirectory()
					}
					d, _ := app.Demo()
					return d
				}},
			adminCall{name: "subscriptions " + prefix, method: "GET", ok: 200,
				path: func(tn string) string { return prefix + "/subscriptions?tenantId=" + tn }},
			adminCall{name: "delivery failures " + prefix, method: "GET", ok: 200,
				path: func(tn string) string { return prefix + "/delivery-failures?tenantId=" + tn }},
			adminCall{name: "replay " + prefix, method: "POST", ok: 200,
				path: func(string) string { return prefix + "/delivery-failures/replay" },
				body: func(_ *proc, tn string) any { return map[string]any{"tenantId": tn, "ids": []string{"none"}} }},
		)
	}
	return append(calls, adminCall{name: "ingest", method: "POST", ok: 202,
		path: func(string) string { return "/internal/v1/task-events" },
		body: func(_ *proc, tn string) any {
			svc := "contactcenter@contoso.com"
			if tn == tenantB {
				svc = "hotline@fabrikam.com"
			}
			return map[string]any{"eventId": "trust-1", "tenantId": tn, "taskId": "trust-task", "sequence": 1, "event": "WorkflowStarted",
				"occurredAt": "2026-11-26T10:00:00Z", "serviceUpn": svc, "direction": "Inbound", "modality": "Audio"}
		}})
}

// App tokens never cross tenants (SPEC 2.1): every app-token origin (and, for comparison, the
// tenant admins) × every admin and internal route × the token's own tenant and another one,
// through the real binary.
func TestEndToEndAppTokensStayInTheirTenant(t *testing.T) {
	const unknownTenant = "5b4a3928-1706-4f5e-9d8c-7b6a59483726"
	scenarios := []struct {
		name string
		env  map[string]string
	}{
		{"any operator app", map[string]string{}},
		{"listed operator apps", map[string]string{"NIMBUS_APP_IDS": "ops-app"}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			p, demo := startTwoTenants(t, sc.env)
			a, op := demo.TenantID, demo.OperatorTenantID
			if op != app.DevOperatorTenantID {
				t.Fatalf("operatorTenantId %q, want %q", op, app.DevOperatorTenantID)
			}
			listed := sc.env["NIMBUS_APP_IDS"] != ""
			both := []string{nimbus.AppRoleAdmin, nimbus.AppRoleCore}
			// reach is what a token may do: "all" tenants as operator, "own" tenant as its
			// admin, "none", or "401" when the token is refused outright.
			origins := []struct {
				name   string
				tenant string
				token  string
				reach  string
				core   bool
			}{
				{"operator app", op, p.appToken(op, "ops-app", both...), "all", true},
				{"other app of the operator tenant", op, p.appToken(op, "other-app", both...), map[bool]string{false: "all", true: "own"}[listed], !listed},
				{"tenant A's app", a, p.appToken(a, "a-app", both...), "own", false},
				{"tenant A's app with the operator's app id", a, p.appToken(a, "ops-app", both...), "own", false},
				{"tenant B's app", tenantB, p.appToken(tenantB, "b-app", both...), "own", false},
				{"tenant A's app without roles", a, p.appToken(a, "a-app"), "none", false},
				{"operator app with only Nimbus.Core", op, p.appToken(op, "ops-app", nimbus.AppRoleCore), "none", true},
				{"unknown tenant's app", unknownTenant, p.appToken(unknownTenant, "x-app", both...), "401", false},
				{"tenant A's tenant admin", a, p.token(a, demo.Users.TenantAdmin), "own", false},
				{"tenant B's tenant admin", tenantB, p.token(tenantB, "boss@fabrikam.com"), "own", false},
				{"tenant A's OU admin", a, p.token(a, demo.Users.OUAdmin), "none", false},
			}
			for _, o := range origins {
				for _, target := range []string{a, tenantB} {
					for _, c := range adminCalls() {
						var body any
						if c.body != nil {
							body = c.body(p, target)
						}
						r := p.call(c.method, c.path(target), o.token, body)
						want := 0
						switch {
						case o.reach == "401":
							want = 401
						case c.name == "ingest" && o.core:
							want = c.ok
						case c.name == "ingest" || o.reach == "none":
							want = 403
						case o.reach == "all" || o.reach == "own" && target == o.tenant:
							want = c.ok
						default:
							want = 404 // another tenant's data answers as missing
						}
						if r.status != want {
							t.Errorf("%s → %s on %s: got %d %s, want %d", o.name, c.name, target, r.status, r.body, want)
						}
						if want >= 400 && (strings.Contains(string(r.body), "fabrikam") || strings.Contains(string(r.body), "contoso")) {
							t.Errorf("%s → %s on %s: refusal leaks directory data: %s", o.name, c.name, target, r.body)
						}
					}
				}
			}
		})
	}
}

// The headline case: tenant A's admin app reads neither tenant B's directory nor its
// subscriptions, and cannot post events for it.
func TestEndToEndTenantAppCannotReachAnotherTenant(t *testing.T) {
	p, demo := startTwoTenants(t, map[string]string{})
	tok := p.appToken(demo.TenantID, "customer-automation", nimbus.AppRoleAdmin, nimbus.AppRoleCore)
	r := p.call("GET", "/admin/v1/tenants/"+tenantB+"/directory", tok, nil)
	if r.status != 404 || strings.Contains(string(r.body), "fabrikam") {
		t.Errorf("tenant A's app reading B's directory: %d %s", r.status, r.body)
	}
	r = p.call("PUT", "/admin/v1/tenants/"+tenantB+"/directory", tok, nimbus.Directory{TenantID: tenantB})
	if r.status != 404 {
		t.Errorf("tenant A's app replacing B's directory: %d %s", r.status, r.body)
	}
	boss := p.token(tenantB, "boss@fabrikam.com")
	if r := p.call("GET", "/v1/diagnostics/testconnection", boss, nil); r.status != 200 {
		t.Errorf("tenant B's admin after the attempt: %d %s", r.status, r.body)
	}
	// Operator tokens (the README's "post events as Nimbus core") keep working.
	core := p.appToken(demo.OperatorTenantID, "nimbus-core", nimbus.AppRoleCore)
	ev := map[string]any{"eventId": "op-1", "tenantId": demo.TenantID, "taskId": "t-1", "sequence": 1, "event": "WorkflowStarted",
		"occurredAt": "2026-11-26T10:00:00Z", "serviceUpn": "contactcenter@contoso.com", "direction": "Inbound", "modality": "Audio"}
	if r := p.call("POST", "/internal/v1/task-events", core, ev); r.status != 202 {
		t.Errorf("operator core posting events: %d %s", r.status, r.body)
	}
	ev["tenantId"] = tenantB
	if r := p.call("POST", "/internal/v1/task-events", tok, ev); r.status != 403 {
		t.Errorf("tenant A's app posting B's events: %d %s", r.status, r.body)
	}
}
