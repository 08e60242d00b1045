package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// flow is a running handler with a sink and the demo's tokens.
type flow struct {
	*proc
	sink  *sink
	demo  app.DemoInfo
	owner string // service owner token
	admin string // tenant admin token
	core  string // Nimbus core app token
}

func startFlow(t *testing.T, env map[string]string) *flow {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if env["NIMBUS_DATA_DIR"] == "" {
		env["NIMBUS_DATA_DIR"] = t.TempDir()
	}
	if env["NIMBUS_RETRY_SCHEDULE"] == "" {
		env["NIMBUS_RETRY_SCHEDULE"] = "200ms,400ms,800ms"
	}
	p := start(t, env)
	f := &flow{proc: p, sink: newSink(t), demo: p.demo()}
	f.owner = p.token(f.demo.TenantID, f.demo.Users.ServiceOwner)
	f.admin = p.token(f.demo.TenantID, f.demo.Users.TenantAdmin)
	r := p.call("POST", "/dev/token", "", map[string]any{"tenantId": f.demo.OperatorTenantID, "appId": "nimbus-core", "roles": []string{nimbus.AppRoleCore}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != 200 {
		t.Fatalf("core token: %d %s", r.status, r.body)
	}
	f.core = tok.AccessToken
	return f
}

// trigger registers a task trigger pointing at the sink path and returns its id.
func (f *flow) trigger(token, path string, services []string, events []string, mods, dirs []string) string {
	f.t.Helper()
	cfg := map[string]any{"url": f.sink.url(path), "services": services, "taskEvents": events}
	if mods != nil {
		cfg["modalities"] = mods
	}
	if dirs != nil {
		cfg["directions"] = dirs
	}
	r := f.call("POST", "/v1/triggers/tasks", token, map[string]any{"config": cfg})
	var body struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != 201 || body.ID == "" {
		f.t.Fatalf("register trigger: %d %s", r.status, r.body)
	}
	if want := "/v1/triggers/tasks/" + body.ID; !strings.HasSuffix(r.header.Get("Location"), want) || !strings.HasPrefix(r.header.Get("Location"), "http") {
		f.t.Errorf("Location %q, want an absolute URL ending in %s", r.header.Get("Location"), want)
	}
	return body.ID
}

var eventCounter atomic.Int64

// ev builds one ingest event.
func (f *flow) ev(task string, seq int, event, service, modality, direction string) map[string]any {
	return map[string]any{
		"eventId": fmt.Sprintf("e2e-%d", eventCounter.Add(1)), "tenantId": f.demo.TenantID, "taskId": task,
		"sequence": seq, "event": event, "occurredAt": time.Now().UTC().Format(time.RFC3339Nano),
		"serviceUpn": service, "direction": direction, "modality": modality,
		"fields": map[string]any{"callerTelNumber": "+41790001122"},
	}
}

func (f *flow) ingest(events ...map[string]any) {
	f.t.Helper()
	r := f.call("POST", "/internal/v1/task-events", f.core, events)
	if r.status != 202 {
		f.t.Fatalf("ingest: %d %s", r.status, r.body)
	}
}

func TestPipelineFilters(t *testing.T) {
	f := startFlow(t, nil)
	cc, sales := f.demo.Services.ContactCenter, f.demo.Services.EnterpriseRouting
	f.trigger(f.owner, "/all", []string{cc}, []string{"InQueue", "Terminated"}, nil, nil)
	f.trigger(f.owner, "/chat", []string{cc}, []string{"InQueue"}, []string{"InstantMessaging"}, nil)
	f.trigger(f.owner, "/sales", []string{sales}, []string{"InQueue"}, nil, nil)
	f.trigger(f.owner, "/outbound", []string{cc, sales}, []string{"WorkflowStarted"}, nil, []string{"Outbound"})

	f.ingest(
		f.ev("t1", 1, "InQueue", cc, "Audio", "Inbound"),
		f.ev("t2", 1, "InQueue", cc, "InstantMessaging", "Inbound"),
		f.ev("t3", 1, "InQueue", sales, "Audio", "Inbound"),
		f.ev("t4", 1, "WorkflowStarted", sales, "Audio", "Outbound"),
		f.ev("t5", 1, "WorkflowStarted", cc, "Audio", "Inbound"),
		f.ev("t6", 1, "SystemAccepted", cc, "Audio", "Inbound"),
	)
	want := map[string][]string{"/all": {"t1", "t2"}, "/chat": {"t2"}, "/sales": {"t3"}, "/outbound": {"t4"}}
	for path, tasks := range want {
		got := f.sink.wait(path, len(tasks), 10*time.Second)
		var ids []string
		for _, r := range got {
			ids = append(ids, field(r, "taskId"))
		}
		if fmt.Sprint(slices.Sorted(slices.Values(ids))) != fmt.Sprint(tasks) {
			t.Errorf("%s received tasks %v, want %v", path, ids, tasks)
		}
	}
	for path := range want {
		f.sink.quiet(path, 300*time.Millisecond)
	}
	r := f.sink.at("/all")[0]
	for _, h := range []string{"webhook-id", "webhook-timestamp", "Content-Type"} {
		if r.header.Get(h) == "" {
			t.Errorf("notification without %s header", h)
		}
	}
	if field(r, "serviceUPN") != cc || field(r, "LastConnectedUserUPN") != "" || field(r, "callerTelNumber") != "+41790001122" || field(r, "eventDisplayName") != "In Queue" {
		t.Errorf("payload: %s", r.body)
	}
}

func TestPipelineOrderAndIdempotency(t *testing.T) {
	f := startFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/order", []string{cc}, []string{"ParameterUpdated"}, nil, nil)
	var batch []map[string]any
	for i := 1; i <= 30; i++ {
		e := f.ev("ordered", i, "ParameterUpdated", cc, "Audio", "Inbound")
		e["parameter"] = map[string]string{"name": "step", "value": fmt.Sprint(i)}
		batch = append(batch, e)
	}
	f.ingest(batch...)
	f.ingest(batch[5], batch[6]) // the same events again: duplicates are not delivered twice
	got := f.sink.wait("/order", 30, 15*time.Second)
	for i, r := range got {
		if field(r, "sequence") != fmt.Sprint(i+1) || field(r, "updatedParameterValue") != fmt.Sprint(i+1) {
			t.Fatalf("notification %d has sequence %s", i, field(r, "sequence"))
		}
	}
	f.sink.quiet("/order", 400*time.Millisecond)
}

func TestPipelineRetriesKeepWebhookID(t *testing.T) {
	f := startFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.sink.script("/flaky", answer{status: 500})
	f.sink.script("/throttled", answer{status: 429, retryAfter: "2"})
	f.trigger(f.owner, "/flaky", []string{cc}, []string{"InQueue"}, nil, nil)
	f.trigger(f.admin, "/throttled", []string{cc}, []string{"InQueue"}, nil, nil)
	f.ingest(f.ev("r1", 1, "InQueue", cc, "Audio", "Inbound"))

	got := f.sink.wait("/flaky", 2, 10*time.Second)
	if got[0].header.Get("webhook-id") == "" || got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
		t.Errorf("retry webhook-id %q, first %q", got[1].header.Get("webhook-id"), got[0].header.Get("webhook-id"))
	}
	th := f.sink.wait("/throttled", 2, 10*time.Second)
	if gap := th[1].at.Sub(th[0].at); gap < 2*time.Second {
		t.Errorf("429 with Retry-After: 2 retried after %v", gap)
	}
	f.sink.quiet("/flaky", 300*time.Millisecond)
}

func TestPipelineDeadSubscriptions(t *testing.T) {
	f := startFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.sink.script("/gone", answer{status: 410})
	f.sink.script("/missing", answer{status: 404}, answer{status: 404}, answer{status: 404})
	gone := f.trigger(f.owner, "/gone", []string{cc}, []string{"InQueue", "Terminated"}, nil, nil)
	missing := f.trigger(f.admin, "/missing", []string{cc}, []string{"InQueue", "Terminated"}, nil, nil)
	f.ingest(f.ev("d1", 1, "InQueue", cc, "Audio", "Inbound"))
	f.sink.wait("/gone", 1, 10*time.Second)
	f.sink.wait("/missing", 3, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	f.ingest(f.ev("d1", 2, "Terminated", cc, "Audio", "Inbound"))
	f.sink.quiet("/gone", 700*time.Millisecond)
	f.sink.quiet("/missing", 10*time.Millisecond)

	r := f.call("GET", "/admin/v1/subscriptions?status=dead", f.admin, nil)
	if r.status != 200 || !strings.Contains(string(r.body), gone) || !strings.Contains(string(r.body), missing) {
		t.Errorf("dead subscriptions: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "/gone") {
		t.Errorf("admin view shows the callback path: %s", r.body)
	}
}

func TestPipelineDeadLetterAndReplay(t *testing.T) {
	f := startFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.sink.script("/bad", answer{status: 400})
	sub := f.trigger(f.owner, "/bad", []string{cc}, []string{"InQueue"}, nil, nil)
	f.ingest(f.ev("dl", 1, "InQueue", cc, "Audio", "Inbound"))
	f.sink.wait("/bad", 1, 10*time.Second)

	var failures []app.DeliveryFailure
	deadline := time.Now().Add(5 * time.Second)
	for len(failures) == 0 && time.Now().Before(deadline) {
		r := f.call("GET", "/admin/v1/delivery-failures?subscriptionId="+sub, f.admin, nil)
		_ = json.Unmarshal(r.body, &failures)
		time.Sleep(50 * time.Millisecond)
	}
	if len(failures) != 1 || failures[0].LastStatus != 400 {
		t.Fatalf("dead letters: %+v", failures)
	}
	r := f.call("POST", "/admin/v1/delivery-failures/replay", f.admin, map[string]any{"ids": []string{failures[0].ID}})
	if r.status != 200 || !strings.Contains(string(r.body), `"replayed":1`) {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	got := f.sink.wait("/bad", 2, 10*time.Second)
	if got[1].header.Get("webhook-id") != got[0].header.Get("webhook-id") {
		t.Errorf("replay changed the webhook-id")
	}
	if r := f.call("GET", "/admin/v1/delivery-failures", f.admin, nil); string(r.body) != "[]" {
		t.Errorf("dead letters after replay: %s", r.body)
	}
}

func TestPipelineSlowCallbackDoesNotDelayOthers(t *testing.T) {
	f := startFlow(t, map[string]string{"NIMBUS_DELIVERY_TIMEOUT": "5s"})
	cc := f.demo.Services.ContactCenter
	for range 20 {
		f.sink.script("/slow", answer{hang: true})
	}
	f.trigger(f.owner, "/slow", []string{cc}, []string{"InQueue"}, nil, nil)
	f.trigger(f.admin, "/fast", []string{cc}, []string{"InQueue"}, nil, nil)
	var batch []map[string]any
	for i := range 20 {
		batch = append(batch, f.ev(fmt.Sprintf("s%d", i), 1, "InQueue", cc, "Audio", "Inbound"))
	}
	began := time.Now()
	f.ingest(batch...)
	f.sink.wait("/fast", 20, 10*time.Second)
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("healthy subscription got its 20 notifications after %v while another one hangs", took)
	}
}

func TestPipelineReRegistrationAndDelete(t *testing.T) {
	f := startFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	a := f.trigger(f.owner, "/flow", []string{cc}, []string{"InQueue"}, nil, nil)
	b := f.trigger(f.owner, "/flow", []string{cc}, []string{"InQueue", "Terminated"}, nil, nil)
	if a != b {
		t.Fatalf("re-registration gave %s then %s", a, b)
	}
	f.ingest(f.ev("x1", 1, "InQueue", cc, "Audio", "Inbound"))
	f.sink.wait("/flow", 1, 10*time.Second)
	for range 2 {
		if r := f.call("DELETE", "/v1/triggers/tasks/"+a, f.owner, nil); r.status != 204 {
			t.Errorf("delete: %d %s", r.status, r.body)
		}
	}
	f.ingest(f.ev("x1", 2, "Terminated", cc, "Audio", "Inbound"))
	f.sink.quiet("/flow", 600*time.Millisecond)
}

func TestPipelineOwnerLosesAccess(t *testing.T) {
	for _, policy := range []string{"enforce", "legacy"} {
		t.Run(policy, func(t *testing.T) {
			f := startFlow(t, nil)
			cc := f.demo.Services.ContactCenter
			sub := f.trigger(f.owner, "/owner", []string{cc}, []string{"InQueue"}, nil, nil)
			r := f.call("GET", "/admin/v1/tenants/"+f.demo.TenantID+"/directory", f.admin, nil)
			var d nimbus.Directory
			if err := json.Unmarshal(r.body, &d); err != nil {
				t.Fatal(err)
			}
			d.Settings.RevokedAccess = nimbus.RevokedAccessPolicy(policy)
			for i := range d.Services {
				if d.Services[i].UPN == cc {
					d.Services[i].Owners = nil
				}
			}
			if r := f.call("PUT", "/admin/v1/tenants/"+f.demo.TenantID+"/directory", f.admin, d); r.status != 200 {
				t.Fatalf("import: %d %s", r.status, r.body)
			}
			f.ingest(f.ev("o1", 1, "InQueue", cc, "Audio", "Inbound"))
			if policy == "enforce" {
				f.sink.quiet("/owner", 800*time.Millisecond)
				r := f.call("GET", "/admin/v1/subscriptions?status=suspended", f.admin, nil)
				if !strings.Contains(string(r.body), sub) {
					t.Errorf("suspended: %s", r.body)
				}
			} else {
				f.sink.wait("/owner", 1, 10*time.Second)
			}
			r = f.call("GET", "/admin/v1/subscriptions?status=orphaned", f.admin, nil)
			if !strings.Contains(string(r.body), sub) {
				t.Errorf("orphaned: %s", r.body)
			}
		})
	}
}

func TestPipelineProductionCallbackPolicy(t *testing.T) {
	f := startFlow(t, map[string]string{"NIMBUS_CALLBACK_ALLOW_INSECURE": "false"})
	cc := f.demo.Services.ContactCenter
	for _, url := range []string{f.sink.url("/x"), "https://127.0.0.1/x", "https://10.1.2.3/x", "https://169.254.169.254/latest", "https://[::1]/x", "https://evil.example.com/x"} {
		r := f.call("POST", "/v1/triggers/tasks", f.owner, map[string]any{"config": map[string]any{"url": url, "services": []string{cc}, "taskEvents": []string{"InQueue"}}})
		if r.status != 400 || !strings.Contains(string(r.body), `"target":"config.url"`) {
			t.Errorf("%s: %d %s", url, r.status, r.body)
		}
	}
}
