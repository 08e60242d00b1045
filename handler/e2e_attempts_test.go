package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// The delivery log of a subscription: every attempt newest first, paged, readable by the
// tenant admin, an admin app and the owner; another user or another tenant sees 404.
func TestDeliveryLogAccessAndPaging(t *testing.T) {
	f, _ := startObserved(t)
	operator := f.appToken(f.demo.OperatorTenantID, "ops", nimbus.AppRoleAdmin)
	if r := f.call("PUT", "/admin/v1/tenants/"+tenantB+"/directory", operator, tenantBDirectory()); r.status != 200 {
		t.Fatalf("import tenant B: %d %s", r.status, r.body)
	}
	cc := f.demo.Services.ContactCenter
	f.sink.script("/flaky", answer{status: 503})
	sub := f.trigger(f.owner, "/flaky", []string{cc}, []string{"InQueue"}, nil, nil)
	ev := f.ev("log", 1, "InQueue", cc, "Audio", "Inbound")
	f.ingest(ev)
	f.sink.wait("/flaky", 2, 10*time.Second)

	path := "/admin/v1/subscriptions/" + sub + "/attempts"
	var page app.AttemptPage
	deadline := time.Now().Add(10 * time.Second)
	for len(page.Items) < 2 && time.Now().Before(deadline) {
		r := f.call("GET", path, f.admin, nil)
		if r.status != 200 {
			t.Fatalf("attempts: %d %s", r.status, r.body)
		}
		page = app.AttemptPage{}
		_ = json.Unmarshal(r.body, &page)
		time.Sleep(50 * time.Millisecond)
	}
	if len(page.Items) != 2 || page.Next != "" {
		t.Fatalf("attempts: %+v", page)
	}
	last, first := page.Items[0], page.Items[1]
	if last.Attempt != 2 || last.Status != 200 || last.Outcome != app.LogDelivered || last.ErrorClass != "" ||
		first.Attempt != 1 || first.Status != 503 || first.Outcome != app.LogRetry || first.ErrorClass != "http5xx" {
		t.Errorf("attempts, newest first: %+v", page.Items)
	}
	for _, a := range page.Items {
		if a.EventID != ev["eventId"] || a.EventKind != "task" || a.Event != "InQueue" || a.AttemptID == "" || a.Time.IsZero() || a.LatencyMs <= 0 {
			t.Errorf("attempt fields: %+v", a)
		}
	}
	if !last.Time.After(first.Time) {
		t.Errorf("newest first: %v then %v", last.Time, first.Time)
	}

	// Paging: one at a time.
	r := f.call("GET", path+"?limit=1", f.owner, nil)
	var p1, p2 app.AttemptPage
	if err := json.Unmarshal(r.body, &p1); err != nil || r.status != 200 || len(p1.Items) != 1 || p1.Next == "" || p1.Items[0].AttemptID != last.AttemptID {
		t.Fatalf("page 1: %d %s", r.status, r.body)
	}
	r = f.call("GET", path+"?limit=1&next="+p1.Next, f.owner, nil)
	if err := json.Unmarshal(r.body, &p2); err != nil || r.status != 200 || len(p2.Items) != 1 || p2.Items[0].AttemptID != first.AttemptID {
		t.Fatalf("page 2: %d %s", r.status, r.body)
	}

	bossB := f.token(tenantB, "boss@fabrikam.com")
	appB := f.appToken(tenantB, "fabrikam-ops", nimbus.AppRoleAdmin)
	cases := []struct {
		name, token, query string
		status             int
		target             string
	}{
		{"tenant admin", f.admin, "", 200, ""},
		{"operator app", operator, "?tenantId=" + f.demo.TenantID, 200, ""},
		{"owner", f.owner, "", 200, ""},
		{"owner naming the tenant", f.owner, "?tenantId=" + f.demo.TenantID, 200, ""},
		{"another user of the tenant", f.token(f.demo.TenantID, f.demo.Users.Supervisor), "", 404, ""},
		{"another tenant's admin", bossB, "", 404, ""},
		{"another tenant's admin naming it", bossB, "?tenantId=" + f.demo.TenantID, 404, ""},
		{"another tenant's app", appB, "?tenantId=" + f.demo.TenantID, 404, ""},
		{"app without the tenant", operator, "", 400, "tenantId"},
		{"limit too large", f.admin, "?limit=201", 400, "limit"},
		{"limit not a number", f.admin, "?limit=x", 400, "limit"},
		{"bad cursor", f.admin, "?next=%21%21", 400, "next"},
	}
	for _, c := range cases {
		r := f.call("GET", path+c.query, c.token, nil)
		if r.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, r.status, r.body, c.status)
			continue
		}
		if c.target != "" && !strings.Contains(string(r.body), `"target":"`+c.target+`"`) {
			t.Errorf("%s: %s does not name %s", c.name, r.body, c.target)
		}
	}
	if r := f.call("GET", "/admin/v1/subscriptions/unknown/attempts", f.admin, nil); r.status != 404 {
		t.Errorf("unknown subscription: %d %s", r.status, r.body)
	}
	if r := f.call("GET", "/manage/v1/subscriptions/"+sub+"/attempts", f.owner, nil); r.status != 200 {
		t.Errorf("under /manage/v1: %d %s", r.status, r.body)
	}
}

// The delivery log on Azure Table Storage (Azurite): written through the real SDK, newest
// first, paged.
func TestDeliveryLogOnAzureTables(t *testing.T) {
	f := startFlow(t, map[string]string{"NIMBUS_STORAGE": azurite(t), "NIMBUS_DEV_AUTH": "true"})
	cc := f.demo.Services.ContactCenter
	f.sink.script("/azure-flaky", answer{status: 500})
	sub := f.trigger(f.owner, "/azure-flaky", []string{cc}, []string{"InQueue"}, nil, nil)
	ev := f.ev(fmt.Sprintf("azure-log-%d", time.Now().UnixNano()), 1, "InQueue", cc, "Audio", "Inbound")
	f.ingest(ev)
	f.sink.wait("/azure-flaky", 2, 10*time.Second)
	path := "/admin/v1/subscriptions/" + sub + "/attempts?limit=1"
	var p1 app.AttemptPage
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r := f.call("GET", path, f.owner, nil)
		p1 = app.AttemptPage{}
		if err := json.Unmarshal(r.body, &p1); err != nil || r.status != 200 {
			t.Fatalf("attempts: %d %s", r.status, r.body)
		}
		if len(p1.Items) == 1 && p1.Items[0].Attempt == 2 && p1.Next != "" {
			break
		}
	}
	if len(p1.Items) != 1 || p1.Items[0].Attempt != 2 || p1.Items[0].Outcome != app.LogDelivered || p1.Next == "" {
		t.Fatalf("newest attempt: %+v", p1)
	}
	r := f.call("GET", path+"&next="+p1.Next, f.owner, nil)
	var p2 app.AttemptPage
	if err := json.Unmarshal(r.body, &p2); err != nil || r.status != 200 || len(p2.Items) != 1 ||
		p2.Items[0].Attempt != 1 || p2.Items[0].Status != 500 || p2.Items[0].ErrorClass != "http5xx" || p2.Items[0].EventID != ev["eventId"] {
		t.Fatalf("older attempt: %d %s", r.status, r.body)
	}
}

// Shutdown flushes the delivery log's buffer: attempts made just before a SIGTERM are there
// after a restart.
func TestDeliveryLogFlushedOnShutdown(t *testing.T) {
	env := map[string]string{"NIMBUS_DATA_DIR": t.TempDir()}
	f := startFlow(t, env)
	cc := f.demo.Services.ContactCenter
	sub := f.trigger(f.owner, "/flush", []string{cc}, []string{"InQueue"}, nil, nil)
	var events []map[string]any
	for i := range 20 {
		events = append(events, f.ev(fmt.Sprintf("flush-%d", i), 1, "InQueue", cc, "Audio", "Inbound"))
	}
	f.ingest(events...)
	f.sink.wait("/flush", 20, 10*time.Second)
	f.stop() // at once: the writer flushes every 500 ms, so the buffer still holds records

	g := startFlow(t, env)
	r := g.call("GET", "/admin/v1/subscriptions/"+sub+"/attempts?limit=200", g.owner, nil)
	var page app.AttemptPage
	if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 {
		t.Fatalf("attempts after restart: %d %s", r.status, r.body)
	}
	if len(page.Items) != 20 {
		t.Errorf("%d attempts after restart, want 20", len(page.Items))
	}
}
