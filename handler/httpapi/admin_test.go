package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// A body that is not a directory, or one that would leave no tenant admin, is refused and
// changes nothing: the tenant admin who sent it can still act (SPEC 10).
func TestDirectoryImportRefusesNonDirectories(t *testing.T) {
	e := newEnv(t)
	admin := e.token(t, e.demo.Users.TenantAdmin)
	path := "/admin/v1/tenants/" + e.demo.TenantID + "/directory"
	noAdmin, _ := app.Demo()
	for i := range noAdmin.Users {
		noAdmin.Users[i].Roles = []nimbus.Role{nimbus.RoleUser}
	}
	noAdminBody, _ := json.Marshal(noAdmin)
	tests := []struct {
		name   string
		body   string
		target string
		says   string
	}{
		{"null", `null`, "", "not null"},
		{"empty object", `{}`, "", "not a tenant directory"},
		{"only the tenant id", `{"tenantId":"` + e.demo.TenantID + `"}`, "", "not a tenant directory"},
		{"only settings", `{"settings":{"revokedAccess":"legacy"}}`, "", "not a tenant directory"},
		{"array", `[]`, "", "JSON object"},
		{"string", `"directory"`, "", "JSON object"},
		{"number", `5`, "", "JSON object"},
		{"users of the wrong type", `{"users":"admin@contoso.com"}`, "users", "array"},
		{"ous of the wrong type", `{"ous":{"id":"x"}}`, "ous", "array"},
		{"no tenant admin left", string(noAdminBody), "users", "TenantAdmin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "PUT", path, admin, "application/json", []byte(tt.body))
			if r.status != 400 {
				t.Fatalf("status: got %d, want 400 (%s)", r.status, r.body)
			}
			got := r.errorBody(t)
			if got.Code != "InvalidArgument" || got.Target != tt.target || !strings.Contains(got.Message, tt.says) {
				t.Errorf("error: got %+v, want target %q and a message with %q", got, tt.target, tt.says)
			}
			if r := e.do(t, "GET", "/v2/AddressBooks", admin, "", nil); r.status != 200 || !strings.Contains(string(r.body), "sales-partners") {
				t.Errorf("after the refused import: %d %s", r.status, r.body)
			}
		})
	}
}
