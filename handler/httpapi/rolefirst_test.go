package httpapi

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// roleFree are the routes that need no role, and why.
var roleFree = map[string]string{
	"GET /{$}": "the status probe of the Functions host",
	// Power Automate removes a flow's trigger when the flow is turned off or deleted, also
	// after its owner lost the role; the use case lets only the owner or a tenant admin do it.
	"DELETE /v1/triggers/tasks/{triggerId}":             "deleting one's own trigger",
	"DELETE /v1/triggers/scheduler-entries/{triggerId}": "deleting one's own trigger",
	"DELETE /v1/triggers/virtual-assistant/{triggerId}": "deleting one's own trigger",
	// The console's page, script and style hold no data: a browser loads them before anyone
	// has signed in, and every admin call the page makes is checked as any other.
	"GET /console":           "the admin console's static page (redirect to /console/)",
	"GET /console/{path...}": "the admin console's static assets and sign-in settings",
	// The owner of a subscription reads its delivery log whatever their role (also after
	// losing it: that is when they wonder why their flow stopped); app tokens still need the
	// admin role first.
	"GET /admin/v1/subscriptions/{id}/attempts":  "reading one's own delivery log",
	"GET /manage/v1/subscriptions/{id}/attempts": "reading one's own delivery log",
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// Every operation tells a caller without its role 403 before it looks at the arguments: a
// malformed body, bad path values and bad query parameters still answer 403, never 400, 404
// or 415 (role errors come before argument errors).
func TestRoleErrorsComeBeforeArgumentErrors(t *testing.T) {
	e := newEnv(t)
	app := func(tenant string, roles ...string) string {
		tok, err := e.dev.MintApp(t.Context(), tenant, "some-app", roles, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	callers := map[string]string{
		"supervisor":                     e.token(t, e.demo.Users.Supervisor),
		"user without a Nimbus role":     e.token(t, "stranger@contoso.com"),
		"app without roles":              app(e.demo.TenantID),
		"customer app with Nimbus.Core":  app(e.demo.TenantID, nimbus.AppRoleCore),
		"operator app with Nimbus.Core":  app(e.demo.OperatorTenantID, nimbus.AppRoleCore),
		"operator app with Nimbus.Admin": app(e.demo.OperatorTenantID, nimbus.AppRoleAdmin),
	}
	// Which callers hold the role of a route family, and so are not "without the role".
	holds := map[string][]string{
		"/internal/": {"operator app with Nimbus.Core"},
		"/admin/":    {"operator app with Nimbus.Admin"},
		"/manage/":   {"operator app with Nimbus.Admin"},
	}
	query := "?" + url.Values{"tenantId": {"not-a-guid"}, "status": {"bogus"}, "since": {"yesterday"},
		"externalIds": {strings.Repeat("x", 300)}, "serviceUpn": {"not a upn"}, "time": {"noon"}}.Encode()
	walked := 0
	for _, route := range e.srv.Routes() {
		if _, ok := roleFree[route]; ok || strings.Contains(route, " /dev/") {
			continue
		}
		method, pattern, _ := strings.Cut(route, " ")
		path := pathParam.ReplaceAllString(strings.TrimSuffix(pattern, "{$}"), "bad%2Fvalue%00")
		walked++
		for who, token := range callers {
			skip := false
			for prefix, holders := range holds {
				for _, h := range holders {
					skip = skip || strings.Contains(pattern, prefix) && who == h
				}
			}
			if skip {
				continue
			}
			for _, body := range []struct{ contentType, data string }{
				{"application/json", `{"broken":`}, {"text/plain", "not json"}, {"application/json", `null`},
			} {
				r := e.do(t, method, path+query, token, body.contentType, []byte(body.data))
				if r.status != 403 {
					t.Errorf("%s by %s with %q: got %d %s, want 403", route, who, body.data, r.status, r.body)
					continue
				}
				if msg := r.errorBody(t).Message; !strings.HasSuffix(msg, ".") || strings.ToUpper(msg[:1]) != msg[:1] {
					t.Errorf("%s by %s: message %q is not a sentence", route, who, msg)
				}
			}
		}
	}
	if walked < 20 {
		t.Errorf("walked %d routes; the route list looks incomplete", walked)
	}
}

func TestSentence(t *testing.T) {
	tests := []struct{ msg, target, want string }{
		{"the service is down", "", "The service is down."},
		{"tenantId must be a GUID", "tenantId", "tenantId must be a GUID."},
		{"cursor must be one returned by a previous List", "cursor", "cursor must be one returned by a previous List."},
		{"a task holds at most 50 parameters", "customContextParameters", "A task holds at most 50 parameters."},
		{"preferredUsers[0].priority must be between 1 and 99", "preferredUsers[0].priority", "preferredUsers[0].priority must be between 1 and 99."},
		{"Already a sentence.", "", "Already a sentence."},
		{"Is it?", "", "Is it?"},
	}
	for _, tt := range tests {
		if got := sentence(tt.msg, tt.target); got != tt.want {
			t.Errorf("sentence(%q, %q) = %q, want %q", tt.msg, tt.target, got, tt.want)
		}
	}
}
