package httpapi

import (
	"github.com/nimbusflow/connector/handler/app"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Whatever the body, a connector endpoint answers 2xx or 4xx, never 5xx or a panic. The
// seeds run with every go test; `go test -fuzz FuzzEndpoints ./handler/httpapi` explores more.
func FuzzEndpoints(f *testing.F) {
	for _, seed := range []string{
		`{"externalId":"a"}`, `{"externalId":"a","addresses":[{"city":1}]}`, `[]`, `["a","b"]`, `null`,
		`{"externalId":"` + strings.Repeat("é", 200) + `"}`, `{"customFields":[{"name":null}]}`, "\xff\xfe", `{"a":`,
		`{"tenantId":"3c9d4b7e-2a61-4f0e-9b8d-5e7a1c2f4d60","ous":[{"id":"x","parent":"x"}]}`, `{"externalId":"a\u0000b"}`,
	} {
		for route := range 5 {
			f.Add(uint8(route), []byte(seed))
		}
	}
	e := newEnv(f)
	admin := e.token(f, e.demo.Users.TenantAdmin)
	book := "/v2/AddressBooks/" + e.demo.AddressBooks[0].ID + "/contacts"
	routes := []struct{ method, path string }{
		{"POST", book}, {"PUT", book}, {"POST", book + "/delete"},
		{"PUT", "/admin/v1/tenants/" + e.demo.TenantID + "/directory"}, {"POST", "/dev/token"},
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("%s %s with %q: status %d %s", rt.method, rt.path, body, rec.Code, rec.Body)
		}
		if rt.path == routes[3].path && rec.Code == http.StatusOK {
			// A fuzzed directory that happens to be valid replaced the demo; put it back.
			d, _ := app.Demo()
			if _, err := e.srv.cfg.Directory.Seed(t.Context(), d, true); err != nil {
				t.Fatal(err)
			}
		}
	})
}
