package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// otherTenant is a second tenant next to the demo one, with a ContactCenter service and its
// admin, written as a directory file for --directory.
const otherTenant = "7f3e2d1c-0b9a-4876-9543-210fedcba987"

func otherTenantFile(t *testing.T) string {
	t.Helper()
	dir := nimbus.Directory{
		TenantID: otherTenant,
		OUs:      []nimbus.OU{{ID: otherTenant, Name: "Fabrikam"}},
		Services: []nimbus.Service{{
			ID: "s1", UPN: "hotline@fabrikam.com", Name: "Hotline", OU: otherTenant, License: nimbus.LicenseContactCenter,
			WorkflowValid: true, Modalities: []nimbus.Modality{nimbus.ModalityAudio, nimbus.ModalityExternalTask},
		}},
		Users: []nimbus.User{{UPN: "boss@fabrikam.com", OU: otherTenant, Roles: []nimbus.Role{nimbus.RoleTenantAdmin}}},
	}
	file := filepath.Join(t.TempDir(), "fabrikam.json")
	data, _ := json.Marshal([]nimbus.Directory{dir})
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// coreToken is a Nimbus core application token of a tenant.
func (p *proc) coreToken(tenant string) string {
	p.t.Helper()
	r := p.call("POST", "/dev/token", "", map[string]any{"tenantId": tenant, "appId": "nimbus-core", "roles": []string{nimbus.AppRoleCore}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != 200 {
		p.t.Fatalf("core token: %d %s", r.status, r.body)
	}
	return tok.AccessToken
}

// Two tenants that choose the same event id and task id report two different events: each is
// processed and delivered to its own tenant's flow, never deduplicated against the other.
func TestTenantsShareNoEventIdentity(t *testing.T) {
	p := start(t, map[string]string{"NIMBUS_DATA_DIR": t.TempDir(), "NIMBUS_RETRY_SCHEDULE": "200ms,400ms,800ms"}, "--directory", otherTenantFile(t))
	f := &flow{proc: p, sink: newSink(t), demo: p.demo()}
	f.owner = p.token(f.demo.TenantID, f.demo.Users.ServiceOwner)
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/a", []string{cc}, []string{"InQueue"}, nil, nil)
	f.owner = p.token(otherTenant, "boss@fabrikam.com")
	f.trigger(f.owner, "/b", []string{"hotline@fabrikam.com"}, []string{"InQueue"}, nil, nil)

	post := func(tenant, service string) {
		ev := map[string]any{
			"eventId": "e-1001", "tenantId": tenant, "taskId": "call-1", "sequence": 1, "event": "InQueue",
			"occurredAt": "2026-11-26T10:00:00Z", "serviceUpn": service, "direction": "Inbound", "modality": "Audio",
		}
		// Core is the operator's app whichever tenant it reports for.
		r := p.call("POST", "/internal/v1/task-events", p.coreToken(f.demo.OperatorTenantID), ev)
		if r.status != 202 || string(r.body) != `{"accepted":1,"ignored":0}` {
			t.Fatalf("ingest for %s: %d %s", tenant, r.status, r.body)
		}
	}
	post(f.demo.TenantID, cc)
	post(otherTenant, "hotline@fabrikam.com")

	a := f.sink.wait("/a", 1, 10*time.Second)
	b := f.sink.wait("/b", 1, 10*time.Second)
	if field(a[0], "tenantId") != f.demo.TenantID || field(b[0], "tenantId") != otherTenant {
		t.Errorf("notifications went to the wrong tenant: /a %s, /b %s", a[0].body, b[0].body)
	}
	if a[0].header.Get("webhook-id") == b[0].header.Get("webhook-id") {
		t.Errorf("both tenants' deliveries carry webhook-id %s", a[0].header.Get("webhook-id"))
	}
	f.sink.quiet("/a", 300*time.Millisecond)
	if n := len(f.sink.at("/a")); n != 1 {
		t.Errorf("tenant A's flow got %d notifications, want 1", n)
	}
}
