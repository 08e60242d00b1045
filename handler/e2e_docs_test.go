package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// guideOperatorTenant plays the operator tenant of infra/README.md in these tests.
const guideOperatorTenant = "11111111-1111-1111-1111-111111111111"

// docAppToken mints a dev app token with the given roles.
func (p *proc) docAppToken(tenant, appID string, roles ...string) string {
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

// The steps 7 and 8 of infra/README.md work as written: an operator app token imports
// infra/examples/directory.json, and Nimbus core's first event for that tenant is accepted.
func TestOperatorGuideImportAndFirstEvent(t *testing.T) {
	p := start(t, map[string]string{"NIMBUS_DATA_DIR": t.TempDir(), "NIMBUS_APP_TENANTS": guideOperatorTenant})
	body := docRead(t, "infra/examples/directory.json")
	var dir struct {
		TenantID string `json:"tenantId"`
		Services []struct {
			UPN string `json:"upn"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(body), &dir); err != nil || len(dir.Services) == 0 {
		t.Fatalf("infra/examples/directory.json: %v", err)
	}
	operator := p.docAppToken(guideOperatorTenant, "nimbus-operator", "Nimbus.Admin")
	if r := p.call("PUT", "/manage/v1/tenants/"+dir.TenantID+"/directory", operator, json.RawMessage(body)); r.status != 200 {
		t.Fatalf("import the example directory: %d %s", r.status, r.body)
	}

	guide := docRead(t, "infra/README.md")
	m := regexp.MustCompile(`(?s)-d '(\{"eventId".*?\})'`).FindStringSubmatch(guide)
	if m == nil {
		t.Fatal("infra/README.md has no example event (-d '{\"eventId\"…}')")
	}
	event := strings.ReplaceAll(m[1], "<customer tenant id>", dir.TenantID)
	if !strings.Contains(event, dir.Services[0].UPN) {
		t.Errorf("the guide's example event names a service that is not in infra/examples/directory.json")
	}
	core := p.docAppToken(guideOperatorTenant, "nimbus-core", "Nimbus.Core")
	r := p.call("POST", "/internal/v1/task-events", core, json.RawMessage(event))
	if r.status != 202 || !strings.Contains(string(r.body), `"accepted":1`) {
		t.Errorf("the guide's first event: %d %s, want 202 with one accepted", r.status, r.body)
	}
}
