package main

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func openingHoursPath(service, at string) string {
	v := url.Values{"serviceUpn": {service}}
	if at != "" {
		v.Set("time", at)
	}
	return "/v1/service-check/opening-hours?" + v.Encode()
}

// The opening-hours check through the binary: the role matrix, service visibility, bad
// input, and calendars evaluated in their time zones across daylight-saving changes.
func TestEndToEndOpeningHours(t *testing.T) {
	p := start(t, map[string]string{"NIMBUS_DATA_DIR": t.TempDir()})
	checkOpeningHours(t, p)
}

func checkOpeningHours(t *testing.T, p *proc) {
	t.Helper()
	d := p.demo()
	u, s := d.Users, d.Services
	tok := map[string]string{"": ""}
	for _, upn := range []string{u.TenantAdmin, u.OUAdmin, u.ServiceOwner, u.TeamOwnerLimited, u.PartnerAdmin, u.Supervisor, u.User, "stranger@contoso.com"} {
		tok[upn] = p.token(d.TenantID, upn)
	}
	steps := []struct {
		name, who, path string
		status          int
		want            string // the body, or the error target
	}{
		{"tenant admin, Christmas Eve line", u.TenantAdmin, openingHoursPath(s.ContactCenter, "2027-12-24T10:00:00+01:00"), 200, `{"status":"Special"}`},
		{"tenant admin, Christmas Day", u.TenantAdmin, openingHoursPath(s.ContactCenter, "2027-12-25T10:00:00+01:00"), 200, `{"status":"Holiday"}`},
		{"owner, night shift after midnight", u.ServiceOwner, openingHoursPath(s.ContactCenter, "2027-03-07T00:30:00Z"), 200, `{"status":"Open"}`},
		{"owner, summer time in Zurich", u.ServiceOwner, openingHoursPath(s.ContactCenter, "2027-04-06T06:30:00Z"), 200, `{"status":"Open"}`},
		{"owner, winter time in Zurich", u.ServiceOwner, openingHoursPath(s.ContactCenter, "2027-03-23T06:30:00Z"), 200, `{"status":"Closed"}`},
		{"owner, summer time in New York", u.ServiceOwner, openingHoursPath(s.EnterpriseRouting, "2027-03-15T13:30:00Z"), 200, `{"status":"Open"}`},
		{"owner, winter time in New York", u.ServiceOwner, openingHoursPath(s.EnterpriseRouting, "2027-03-08T13:30:00Z"), 200, `{"status":"Closed"}`},
		{"limited owner, special day", u.TeamOwnerLimited, openingHoursPath(s.ContactCenter, "2027-03-01T10:30:00+01:00"), 200, `{"status":"Special2"}`},
		{"limited owner, another service", u.TeamOwnerLimited, openingHoursPath(s.EnterpriseRouting, ""), 403, ""},
		{"OU admin", u.OUAdmin, openingHoursPath(s.ContactCenter, ""), 403, ""},
		{"partner admin", u.PartnerAdmin, openingHoursPath(s.ContactCenter, ""), 403, ""},
		{"supervisor", u.Supervisor, openingHoursPath(s.ContactCenter, ""), 403, ""},
		{"user", u.User, openingHoursPath(s.ContactCenter, ""), 403, ""},
		{"no Nimbus role", "stranger@contoso.com", openingHoursPath(s.ContactCenter, ""), 403, ""},
		{"no token", "", openingHoursPath(s.ContactCenter, ""), 401, ""},
		{"service without calendar", u.TenantAdmin, openingHoursPath(s.InvalidWorkflow, ""), 200, `{"status":"None"}`},
		{"owner, service in a sibling OU", u.ServiceOwner, openingHoursPath(s.InvalidWorkflow, ""), 404, ""},
		{"missing service", u.ServiceOwner, openingHoursPath("nobody@contoso.com", ""), 404, ""},
		{"unlicensed service", u.TenantAdmin, openingHoursPath(s.AdvancedRouting, ""), 400, ""},
		{"no serviceUpn", u.ServiceOwner, "/v1/service-check/opening-hours?time=2027-03-01T10:30:00Z", 400, "serviceUpn"},
		{"bad time", u.ServiceOwner, openingHoursPath(s.ContactCenter, "tomorrow"), 400, "time"},
		{"time without offset", u.ServiceOwner, openingHoursPath(s.ContactCenter, "2027-03-01T10:30:00"), 400, "time"},
		{"dropdown, owner", u.ServiceOwner, "/v1/service-check/service-contacts", 200, `["` + s.ContactCenter + `","` + s.EnterpriseRouting + `"]`},
		{"dropdown, limited owner", u.TeamOwnerLimited, "/v1/service-check/service-contacts", 200, `["` + s.ContactCenter + `"]`},
		{"dropdown, tenant admin", u.TenantAdmin, "/v1/service-check/service-contacts", 200, `["` + s.ContactCenter + `","` + s.EnterpriseRouting + `","` + s.InvalidWorkflow + `"]`},
		{"dropdown, OU admin", u.OUAdmin, "/v1/service-check/service-contacts", 403, ""},
	}
	for _, st := range steps {
		r := p.call("GET", st.path, tok[st.who], nil)
		if r.status != st.status {
			t.Errorf("%s: got %d %s, want %d", st.name, r.status, r.body, st.status)
			continue
		}
		if st.status == 200 {
			if got := strings.TrimSpace(string(r.body)); got != st.want {
				t.Errorf("%s: got %s, want %s", st.name, got, st.want)
			}
			continue
		}
		var e struct {
			Error struct{ Code, Message, Target string }
		}
		if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Target != st.want {
			t.Errorf("%s: got %s, want the target %q", st.name, r.body, st.want)
		}
	}

	// An invisible service answers exactly like a missing one, apart from the name it was
	// asked by.
	hidden := p.call("GET", openingHoursPath(s.InvalidWorkflow, ""), tok[u.ServiceOwner], nil)
	missing := p.call("GET", openingHoursPath("nobody@contoso.com", ""), tok[u.ServiceOwner], nil)
	var eh, em struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(hidden.body, &eh)
	_ = json.Unmarshal(missing.body, &em)
	if eh.Error.Code != em.Error.Code || strings.ReplaceAll(eh.Error.Message, s.InvalidWorkflow, "X") != strings.ReplaceAll(em.Error.Message, "nobody@contoso.com", "X") {
		t.Errorf("invisible service: %s; missing service: %s", hidden.body, missing.body)
	}
}

// Calendars travel with the directory: an import names a bad entry and stores nothing; a
// good one is exported as imported and evaluated at once.
func TestEndToEndCalendarImport(t *testing.T) {
	f := startFlow(t, nil)
	d := f.directory(t)
	i := -1
	for j, svc := range d.Services {
		if svc.UPN == f.demo.Services.InvalidWorkflow {
			i = j
		}
	}
	bad := d
	bad.Services = append([]nimbus.Service(nil), d.Services...)
	bad.Services[i].Calendar = &nimbus.Calendar{TimeZone: "Asia/Kathmandu", Weekly: nimbus.Weekly{
		Monday: []nimbus.TimeRange{{From: "09:00", To: "12:00"}, {From: "13:00", To: "25:00"}}}}
	r := f.call("PUT", "/admin/v1/tenants/"+f.demo.TenantID+"/directory", f.admin, bad)
	if want := fmt.Sprintf(`"target":"services[%d].calendar.weekly.monday[1].to"`, i); r.status != 400 || !strings.Contains(string(r.body), want) {
		t.Fatalf("bad calendar: got %d %s, want 400 with %s", r.status, r.body, want)
	}
	bad.Services[i].Calendar.TimeZone = "Asia/Katmandoo"
	bad.Services[i].Calendar.Weekly.Monday[1].To = "17:00"
	r = f.call("PUT", "/admin/v1/tenants/"+f.demo.TenantID+"/directory", f.admin, bad)
	if r.status != 400 || !strings.Contains(string(r.body), `.calendar.timeZone"`) {
		t.Fatalf("bad time zone: got %d %s", r.status, r.body)
	}
	check := openingHoursPath(f.demo.Services.InvalidWorkflow, "2027-03-01T03:20:00Z") // 09:05 in Kathmandu (+05:45)
	if r := f.call("GET", check, f.admin, nil); string(r.body) != `{"status":"None"}` {
		t.Fatalf("after refused imports: %d %s", r.status, r.body)
	}

	bad.Services[i].Calendar.TimeZone = "Asia/Kathmandu"
	f.putDirectory(t, bad)
	if r := f.call("GET", check, f.admin, nil); string(r.body) != `{"status":"Open"}` {
		t.Errorf("after import: %d %s", r.status, r.body)
	}
	if r := f.call("GET", openingHoursPath(f.demo.Services.InvalidWorkflow, "2027-03-01T03:10:00Z"), f.admin, nil); string(r.body) != `{"status":"Closed"}` {
		t.Errorf("08:55 in Kathmandu: %d %s", r.status, r.body)
	}
	got, _ := json.Marshal(f.directory(t).Services[i].Calendar)
	want, _ := json.Marshal(bad.Services[i].Calendar)
	if string(got) != string(want) {
		t.Errorf("exported calendar %s, imported %s", got, want)
	}
}

// The binary carries the time zone database, so calendars work on hosts without one.
func TestBinaryEmbedsTimeZones(t *testing.T) {
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if strings.HasPrefix(s.Name, "time/tzdata.") {
			return
		}
	}
	t.Fatal("the handler does not link time/tzdata")
}

// On a host without zone files the opening-hours check still answers correctly. The binary
// runs in a private mount namespace where every place Go looks for zone files is empty (the
// system directories, and the Go installation it was built with); where such namespaces are
// not allowed the test is skipped (TestBinaryEmbedsTimeZones still runs).
func TestEndToEndOpeningHoursWithoutHostZones(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	hide := `for d in /usr/share/zoneinfo /usr/share/lib/zoneinfo /usr/lib/locale/TZ /etc/zoneinfo "` + filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time") + `"; do ` +
		`if [ -d "$d" ]; then mount -t tmpfs none "$d" || exit 97; [ -z "$(ls -A "$d")" ] || exit 98; fi; done`
	if out, err := exec.Command("unshare", "-r", "-m", "sh", "-c", hide).CombinedOutput(); err != nil {
		t.Skipf("cannot hide the host's zone files here (%v: %s)", err, out)
	}
	wrapper := filepath.Join(t.TempDir(), "handler-without-zones")
	script := "#!/bin/sh\nexec unshare -r -m sh -c '" + hide + `; exec "$0" "$@"' ` + binary + ` "$@"` + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	real := binary
	binary = wrapper
	t.Cleanup(func() { binary = real })
	p := start(t, map[string]string{"NIMBUS_DATA_DIR": t.TempDir()})
	checkOpeningHours(t, p)
}

// Under the Functions host without request forwarding, the ServiceCheck function's
// invocation payload reaches the same operation, query included.
func TestEndToEndOpeningHoursInvocation(t *testing.T) {
	port := freePort(t)
	p := start(t, map[string]string{
		"NIMBUS_DATA_DIR":              t.TempDir(),
		"FUNCTIONS_CUSTOMHANDLER_PORT": fmt.Sprint(port),
		"NIMBUS_DEV_AUTH":              "true",
	})
	d := p.demo()
	owner := p.token(d.TenantID, d.Users.ServiceOwner)
	for _, tc := range []struct {
		name, url string
		query     map[string]string
		status    int
		body      string
	}{
		{"query in the Url", "http://localhost:7071" + openingHoursPath(d.Services.ContactCenter, "2027-12-25T10:00:00+01:00"), nil, 200, `{"status":"Holiday"}`},
		{"query in the Query object", "http://localhost:7071/v1/service-check/opening-hours",
			map[string]string{"serviceUpn": d.Services.ContactCenter, "time": "2027-03-01T10:30:00+01:00"}, 200, `{"status":"Special2"}`},
		{"bad time", "http://localhost:7071" + openingHoursPath(d.Services.ContactCenter, "soon"), nil, 400, `"target":"time"`},
	} {
		inv := map[string]any{
			"Data": map[string]any{"req": map[string]any{
				"Url": tc.url, "Method": "GET", "Query": tc.query,
				"Headers": map[string][]string{"Authorization": {"Bearer " + owner}}, "Params": map[string]string{},
			}},
			"Metadata": map[string]any{"sys": map[string]string{"MethodName": "ServiceCheck"}},
		}
		r := p.call("POST", "/ServiceCheck", "", inv)
		var out struct {
			Outputs struct {
				Res struct {
					StatusCode int    `json:"statusCode"`
					Body       string `json:"body"`
				} `json:"res"`
			}
		}
		if err := json.Unmarshal(r.body, &out); err != nil || r.status != 200 {
			t.Fatalf("%s: invocation answered %d %s", tc.name, r.status, r.body)
		}
		if out.Outputs.Res.StatusCode != tc.status || !strings.Contains(out.Outputs.Res.Body, tc.body) {
			t.Errorf("%s: got %d %s, want %d with %s", tc.name, out.Outputs.Res.StatusCode, out.Outputs.Res.Body, tc.status, tc.body)
		}
	}
}
