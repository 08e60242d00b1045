package httpapi

import (
	"net/url"
	"strings"
	"testing"
)

func TestOpeningHoursQuery(t *testing.T) {
	e := newEnv(t)
	u, s := e.demo.Users, e.demo.Services
	owner, limited := e.token(t, u.ServiceOwner), e.token(t, u.TeamOwnerLimited)
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return "/v1/service-check/opening-hours?" + v.Encode()
	}
	tests := []struct {
		name   string
		token  string
		path   string
		status int
		want   string // the body, or the error target
	}{
		{"office hours", owner, q("serviceUpn", s.ContactCenter, "time", "2027-03-02T09:00:00+01:00"), 200, `{"status":"Open"}`},
		{"UTC instant", owner, q("serviceUpn", s.ContactCenter, "time", "2027-03-02T06:59:59Z"), 200, `{"status":"Closed"}`},
		{"fractional seconds", owner, q("serviceUpn", s.ContactCenter, "time", "2027-03-02T07:00:00.5Z"), 200, `{"status":"Open"}`},
		{"offset sent unencoded", owner, "/v1/service-check/opening-hours?serviceUpn=" + s.ContactCenter + "&time=2027-03-01T10:30:00+01:00", 200, `{"status":"Special2"}`},
		{"limited owner", limited, q("serviceUpn", s.ContactCenter, "time", "2027-12-25T10:00:00+01:00"), 200, `{"status":"Holiday"}`},
		{"default time", owner, q("serviceUpn", s.EnterpriseRouting), 200, `{"status":"`},
		{"no serviceUpn", owner, q("time", "2027-03-02T09:00:00+01:00"), 400, "serviceUpn"},
		{"empty serviceUpn", owner, q("serviceUpn", "", "time", "2027-03-02T09:00:00+01:00"), 400, "serviceUpn"},
		{"serviceUpn too long", owner, q("serviceUpn", strings.Repeat("a", 300)+"@contoso.com"), 400, "serviceUpn"},
		{"time without offset", owner, q("serviceUpn", s.ContactCenter, "time", "2027-03-02T09:00:00"), 400, "time"},
		{"date only", owner, q("serviceUpn", s.ContactCenter, "time", "2027-03-02"), 400, "time"},
		{"not a time", owner, q("serviceUpn", s.ContactCenter, "time", "noon"), 400, "time"},
		{"month 13", owner, q("serviceUpn", s.ContactCenter, "time", "2027-13-02T09:00:00Z"), 400, "time"},
		{"missing service", owner, q("serviceUpn", "nobody@contoso.com"), 404, ""},
		{"invisible service", owner, q("serviceUpn", s.InvalidWorkflow), 404, ""},
		{"limited owner, not of this service", limited, q("serviceUpn", s.EnterpriseRouting), 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "GET", tt.path, tt.token, "", nil)
			if r.status != tt.status {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tt.status)
			}
			if tt.status == 200 {
				if !strings.HasPrefix(string(r.body), tt.want) {
					t.Errorf("got %s, want %s", r.body, tt.want)
				}
				return
			}
			if got := r.errorBody(t).Target; got != tt.want {
				t.Errorf("target: got %q, want %q (%s)", got, tt.want, r.body)
			}
		})
	}
}
