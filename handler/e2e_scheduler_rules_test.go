package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Every field limit answers 400 naming the field.
func TestSchedulerFieldLimits(t *testing.T) {
	f := startSchedulerFlow(t, schedulerEnv())
	later := time.Now().Add(time.Hour)
	long := strings.Repeat("x", 300)
	cases := []struct {
		name   string
		change map[string]any
		target string
	}{
		{"maxAttempts 0", map[string]any{"maxAttempts": 0}, "maxAttempts"},
		{"maxAttempts 11", map[string]any{"maxAttempts": 11}, "maxAttempts"},
		{"attempt timeout 29", map[string]any{"attemptTimeoutInSeconds": 29}, "attemptTimeoutInSeconds"},
		{"attempt timeout 86401", map[string]any{"attemptTimeoutInSeconds": 86401}, "attemptTimeoutInSeconds"},
		{"queue time 4", map[string]any{"maxQueueTimeInSeconds": 4}, "maxQueueTimeInSeconds"},
		{"queue time 3601", map[string]any{"maxQueueTimeInSeconds": 3601}, "maxQueueTimeInSeconds"},
		{"rona 4", map[string]any{"ronaTimeoutInSeconds": 4}, "ronaTimeoutInSeconds"},
		{"rona 31", map[string]any{"ronaTimeoutInSeconds": 31}, "ronaTimeoutInSeconds"},
		{"priority", map[string]any{"distributionPriority": "Urgent"}, "distributionPriority"},
		{"no destination", map[string]any{"destination": ""}, "destination"},
		{"bad destination", map[string]any{"destination": "0790001122"}, "destination"},
		{"no due date", map[string]any{"dueDateTimeUtc": ""}, "dueDateTimeUtc"},
		{"bad due date", map[string]any{"dueDateTimeUtc": "tomorrow at ten"}, "dueDateTimeUtc"},
		{"no service", map[string]any{"serviceUpn": ""}, "serviceUpn"},
		{"reference too long", map[string]any{"ReferenceId": long}, "ReferenceId"},
		{"customer field too long", map[string]any{"customer": map[string]any{"firstName": long}}, "customer.firstName"},
		{"parameter without name", map[string]any{"customCallContextParameters": []map[string]string{{"value": "v"}}}, "customCallContextParameters[0].name"},
		{"wrong type", map[string]any{"maxAttempts": "three"}, "maxAttempts"},
		{"not a contact center service", map[string]any{"serviceUpn": f.demo.Services.EnterpriseRouting}, "serviceUpn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.call("POST", "/v1/scheduler-entries", f.owner, f.entryBody(later, c.change))
			var body struct {
				Error struct{ Target, Message string } `json:"error"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil || r.status != 400 || body.Error.Target != c.target {
				t.Errorf("got %d %s, want 400 naming %s", r.status, r.body, c.target)
			}
		})
	}
	// Nothing of the refused writes was stored.
	r := f.call("GET", "/v1/scheduler-entries?serviceUpn="+f.demo.Services.ContactCenter, f.owner, nil)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("entries after refused writes: %d %s", r.status, r.body)
	}
}

// The role matrix of SPEC 2.2 for the outbound operations, including a team owner limited,
// who may schedule calls and fill that form's dropdowns and do nothing else.
func TestSchedulerRoles(t *testing.T) {
	f := startSchedulerFlow(t, schedulerEnv())
	cc := f.demo.Services.ContactCenter
	u := f.demo.Users
	later := time.Now().Add(time.Hour)
	existing := f.schedule(f.owner, f.entryBody(later, nil))
	trigger := map[string]any{"config": map[string]any{"url": f.sink.url("/roles"), "services": []string{cc}, "schedulerEntryEvents": []string{"Scheduled"}}}
	ops := []struct {
		name         string
		method, path string
		body         any
		ok           int
	}{
		{"create", "POST", "/v1/scheduler-entries", f.entryBody(later, nil), 200},
		{"create with workflow", "POST", "/v1/outbound-call-with-workflow/scheduler-entries", f.entryBody(later, nil), 200},
		{"services", "GET", "/v1/scheduler-entries/service-contacts", nil, 200},
		{"priorities", "GET", "/v1/scheduler-entries/distribution-priorities", nil, 200},
		{"events", "GET", "/v1/scheduler-entries/events", nil, 200},
		{"list", "GET", "/v1/scheduler-entries?serviceUpn=" + cc, nil, 200},
		{"update", "PUT", "/v1/scheduler-entries/" + existing.ID, f.entryBody(later, nil), 200},
		{"trigger", "POST", "/v1/triggers/scheduler-entries", trigger, 201},
	}
	allowed := map[string][]string{
		u.TenantAdmin:      {"create", "create with workflow", "services", "priorities", "events", "list", "update", "trigger"},
		u.ServiceOwner:     {"create", "create with workflow", "services", "priorities", "events", "list", "update", "trigger"},
		u.TeamOwnerLimited: {"create", "create with workflow", "services", "priorities", "events"},
		u.OUAdmin:          {"events"},
		u.PartnerAdmin:     {},
		u.Supervisor:       {},
		u.User:             {},
	}
	for who, may := range allowed {
		tok := f.token(f.demo.TenantID, who)
		for _, op := range ops {
			r := f.call(op.method, op.path, tok, op.body)
			want := 403
			if slices.Contains(may, op.name) {
				want = op.ok
			}
			if r.status != want {
				t.Errorf("%s %s: %d %s, want %d", who, op.name, r.status, r.body, want)
			}
		}
	}
	limited := f.token(f.demo.TenantID, u.TeamOwnerLimited)
	if r := f.call("DELETE", "/v1/scheduler-entries/"+existing.ID, limited, nil); r.status != 403 {
		t.Errorf("limited owner delete: %d %s", r.status, r.body)
	}
	if r := f.call("GET", "/v1/scheduler-entries/service-contacts", limited, nil); r.status != 200 || strings.TrimSpace(string(r.body)) != fmt.Sprintf("[%q]", cc) {
		t.Errorf("limited owner's services: %d %s", r.status, r.body)
	}
	// Another tenant's token never sees the entry.
	other := f.token("11111111-2222-3333-4444-555555555555", u.TenantAdmin)
	if r := f.call("DELETE", "/v1/scheduler-entries/"+existing.ID, other, nil); r.status == 200 {
		t.Errorf("another tenant removed the entry: %d %s", r.status, r.body)
	}
}

// Outbound call with workflow: conversationType on entries and events, the service flag.
func TestOutboundCallWithWorkflow(t *testing.T) {
	f := startSchedulerFlow(t, schedulerEnv())
	cc := f.demo.Services.ContactCenter
	f.schedTrigger(f.owner, "/sched", []string{cc}, allSchedulerEvents)
	r := f.call("POST", "/v1/outbound-call-with-workflow/scheduler-entries", f.owner, f.entryBody(time.Now().Add(-time.Minute), map[string]any{"maxAttempts": 2}))
	var e entry
	if err := json.Unmarshal(r.body, &e); err != nil || r.status != 200 || e.ConversationType != "OutboundCallWithWorkflow" {
		t.Fatalf("create with workflow: %d %s", r.status, r.body)
	}
	f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1")
	for _, p := range f.sink.at("/sched") {
		if field(p, "schedulerEntryId") == e.ID && field(p, "conversationType") != "OutboundCallWithWorkflow" {
			t.Errorf("event without the conversation type: %s", p.body)
		}
	}
	if c := f.waitCommands(e.ID, 1)[0]; c.OutboundCall.ConversationType != nimbus.ConversationOutboundCallWithWorkflow {
		t.Errorf("command conversation type %q", c.OutboundCall.ConversationType)
	}
	// An ordinary entry cannot be changed through the with-workflow update.
	plain := f.schedule(f.owner, f.entryBody(time.Now().Add(time.Hour), nil))
	if r := f.call("PUT", "/v1/outbound-call-with-workflow/scheduler-entries/"+plain.ID, f.owner, f.entryBody(time.Now().Add(2*time.Hour), nil)); r.status != 400 {
		t.Errorf("with-workflow update of an ordinary entry: %d %s", r.status, r.body)
	}

	d := f.directory(t)
	for i := range d.Services {
		if d.Services[i].UPN == cc {
			d.Services[i].OutboundWithWorkflowEnabled = false
		}
	}
	f.putDirectory(t, d)
	r = f.call("POST", "/v1/outbound-call-with-workflow/scheduler-entries", f.owner, f.entryBody(time.Now().Add(time.Hour), nil))
	if !strings.Contains(string(r.body), `"target":"serviceUpn"`) || r.status != 400 {
		t.Errorf("service without the flag: %d %s", r.status, r.body)
	}
}

// The trigger: validation naming the field, re-registration keeps the id and updates the
// filters, a service the caller does not manage is refused, delete is idempotent.
func TestSchedulerTrigger(t *testing.T) {
	f := startSchedulerFlow(t, schedulerEnv())
	cc := f.demo.Services.ContactCenter
	cases := []struct {
		name   string
		config map[string]any
		status int
		target string
	}{
		{"unknown event", map[string]any{"url": f.sink.url("/t"), "services": []string{cc}, "schedulerEntryEvents": []string{"InProgress"}}, 400, "config.schedulerEntryEvents[0]"},
		{"no events", map[string]any{"url": f.sink.url("/t"), "services": []string{cc}, "schedulerEntryEvents": []string{}}, 400, "config.schedulerEntryEvents"},
		{"no services", map[string]any{"url": f.sink.url("/t"), "services": []string{}, "schedulerEntryEvents": []string{"Handled"}}, 400, "config.services"},
		{"no url", map[string]any{"services": []string{cc}, "schedulerEntryEvents": []string{"Handled"}}, 400, "config.url"},
		{"service without outbound", map[string]any{"url": f.sink.url("/t"), "services": []string{f.demo.Services.EnterpriseRouting}, "schedulerEntryEvents": []string{"Handled"}}, 400, "config.services[0]"},
		{"unknown service", map[string]any{"url": f.sink.url("/t"), "services": []string{"nobody@contoso.com"}, "schedulerEntryEvents": []string{"Handled"}}, 403, "config.services[0]"},
	}
	for _, c := range cases {
		r := f.call("POST", "/v1/triggers/scheduler-entries", f.owner, map[string]any{"config": c.config})
		if r.status != c.status || !strings.Contains(string(r.body), `"target":"`+c.target+`"`) {
			t.Errorf("%s: %d %s, want %d naming %s", c.name, r.status, r.body, c.status, c.target)
		}
	}
	id := f.schedTrigger(f.owner, "/t", []string{cc}, []string{"Handled"})
	if again := f.schedTrigger(f.owner, "/t", []string{cc}, []string{"Scheduled"}); again != id {
		t.Errorf("re-registration: id %s, want %s", again, id)
	}
	e := f.schedule(f.owner, f.entryBody(time.Now().Add(time.Hour), nil))
	f.waitEvents("/t", e.ID, "Scheduled/1")
	for range 2 {
		if r := f.call("DELETE", "/v1/triggers/scheduler-entries/"+id, f.owner, nil); r.status != 204 {
			t.Errorf("delete trigger: %d %s", r.status, r.body)
		}
	}
	f.schedule(f.owner, f.entryBody(time.Now().Add(time.Hour), nil))
	f.sink.quiet("/t", 500*time.Millisecond)
	// A task trigger's id is not a scheduler trigger: deleting it that way leaves it.
	task := f.trigger(f.owner, "/task", []string{cc}, []string{"InQueue"}, nil, nil)
	if r := f.call("DELETE", "/v1/triggers/scheduler-entries/"+task, f.owner, nil); r.status != 204 {
		t.Errorf("delete of a task trigger id: %d", r.status)
	}
	f.ingest(f.ev("t-1", 1, "InQueue", cc, "Audio", "Inbound"))
	f.sink.wait("/task", 1, 10*time.Second)
}
