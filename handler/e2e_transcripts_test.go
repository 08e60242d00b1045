package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// transcript builds a transcript body of core (SPEC 9) for the demo's ContactCenter service.
func (f *flow) transcript(task string, segments int, text string) map[string]any {
	segs := make([]map[string]any, segments)
	for i := range segs {
		speaker := "Customer"
		if i%2 == 1 {
			speaker = "User"
		}
		segs[i] = map[string]any{"speaker": speaker, "offsetMs": i * 1000, "durationMs": 900, "text": fmt.Sprintf("%d %s", i, text)}
		if speaker == "User" {
			segs[i]["userUPN"] = f.demo.Users.ServiceOwner
		}
	}
	return map[string]any{
		"tenantId": f.demo.TenantID, "taskId": task, "serviceUpn": f.demo.Services.ContactCenter,
		"userSessionId": "user-" + task, "userUpn": f.demo.Users.ServiceOwner, "language": "en-US",
		"durationSeconds": 42, "segments": segs,
		"summary": map[string]any{"title": "Invoice question", "issue": "Double charge " + text, "resolution": "Refunded", "recap": "Customer was refunded.", "narrative": "The customer called about an invoice."},
	}
}

// registerVA registers a virtual-assistant trigger pointing at the sink path.
func (f *flow) registerVA(token, path string, services ...string) reply {
	f.t.Helper()
	return f.call("POST", "/v1/triggers/virtual-assistant", token, map[string]any{"config": map[string]any{"url": f.sink.url(path), "services": services}})
}

type transcriptView struct {
	ServiceSessionID string                     `json:"serviceSessionId"`
	TaskID           string                     `json:"taskId"`
	Language         string                     `json:"language"`
	Segments         []nimbus.TranscriptSegment `json:"segments"`
}

func TestVirtualAssistantFlow(t *testing.T) {
	f := startFlow(t, nil)
	cc, sales := f.demo.Services.ContactCenter, f.demo.Services.EnterpriseRouting

	// Registration: only services with the virtual assistant.
	r := f.registerVA(f.owner, "/va", cc, sales)
	if r.status != 400 || !strings.Contains(string(r.body), `"target":"config.services[1]"`) {
		t.Fatalf("register with a service without the virtual assistant: %d %s, want 400 naming config.services[1]", r.status, r.body)
	}
	r = f.registerVA(f.owner, "/va", cc)
	var created struct{ ID string }
	if err := json.Unmarshal(r.body, &created); err != nil || r.status != 201 || !strings.HasSuffix(r.header.Get("Location"), "/v1/triggers/virtual-assistant/"+created.ID) {
		t.Fatalf("register: %d %s (Location %q)", r.status, r.body, r.header.Get("Location"))
	}

	// Dropdowns.
	r = f.call("GET", "/v1/virtual-assistant/service-contacts", f.owner, nil)
	if r.status != 200 || string(r.body) != `["`+cc+`"]` {
		t.Errorf("services dropdown: %d %s, want only %s", r.status, r.body, cc)
	}
	r = f.call("GET", "/v1/virtual-assistant/data-types", f.owner, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"value":"Transcript"`) || !strings.Contains(string(r.body), `"value":"Summary"`) {
		t.Errorf("data types dropdown: %d %s", r.status, r.body)
	}

	// Core stores a transcript; the same content again; then a correction.
	first := f.transcript("va-task-1", 6, "first")
	for range 2 {
		if r := f.call("PUT", "/internal/v1/transcripts/session-1", f.core, first); r.status != 202 {
			t.Fatalf("store transcript: %d %s", r.status, r.body)
		}
	}
	got := f.sink.wait("/va", 1, 20*time.Second)
	n := got[0]
	for name, want := range map[string]string{"event": "VoiceTranscriptionReady", "tenantId": f.demo.TenantID, "taskId": "va-task-1",
		"serviceSessionId": "session-1", "userSessionId": "user-va-task-1", "serviceUPN": cc, "userUPN": f.demo.Users.ServiceOwner,
		"language": "en-US", "durationSeconds": "42", "dataTypes": `["Transcript","Summary"]`} {
		if g := field(n, name); g != want {
			t.Errorf("notification %s: got %q, want %q", name, g, want)
		}
	}
	if field(n, "eventId") == "" || field(n, "occurredAt") == "" || n.header.Get("webhook-id") == "" {
		t.Errorf("notification lacks eventId, occurredAt or webhook-id: %s", n.body)
	}
	second := f.transcript("va-task-1", 6, "second")
	if r := f.call("PUT", "/internal/v1/transcripts/session-1", f.core, second); r.status != 202 {
		t.Fatalf("store corrected transcript: %d %s", r.status, r.body)
	}
	// Events of one task arrive in order, so once the correction is in, a notification of
	// the repeated first content would have arrived before it.
	got = f.sink.wait("/va", 2, 20*time.Second)
	if len(got) != 2 || field(got[1], "eventId") == field(got[0], "eventId") {
		t.Fatalf("after same content twice and a correction: %d notifications, want 2 distinct", len(got))
	}

	// The flow reads both data types.
	r = f.call("GET", "/v1/virtual-assistant/session-1/transcriptionData/Transcript?userSessionId=user-va-task-1", f.owner, nil)
	var view transcriptView
	if err := json.Unmarshal(r.body, &view); err != nil || r.status != 200 {
		t.Fatalf("get transcript: %d %s", r.status, r.body)
	}
	if view.ServiceSessionID != "session-1" || view.TaskID != "va-task-1" || view.Language != "en-US" || len(view.Segments) != 6 ||
		view.Segments[1].Speaker != "User" || view.Segments[1].UserUPN != f.demo.Users.ServiceOwner || view.Segments[5].Text != "5 second" || view.Segments[5].OffsetMs != 5000 {
		t.Errorf("transcript: got %+v", view)
	}
	r = f.call("GET", "/v1/virtual-assistant/session-1/transcriptionData/Summary", f.admin, nil)
	var sum nimbus.TranscriptSummary
	if err := json.Unmarshal(r.body, &sum); err != nil || r.status != 200 || sum.Issue != "Double charge second" || sum.Title != "Invoice question" {
		t.Errorf("get summary: %d %s", r.status, r.body)
	}

	// Absent, invisible, other user session, bad arguments.
	for _, c := range []struct {
		path, token string
		status      int
	}{
		{"/v1/virtual-assistant/nothing/transcriptionData/Transcript", f.owner, 404},
		{"/v1/virtual-assistant/session-1/transcriptionData/Transcript?userSessionId=someone-else", f.owner, 404},
		{"/v1/virtual-assistant/session-1/transcriptionData/Recording", f.owner, 400},
		{"/v1/virtual-assistant/session-1/transcriptionData/Transcript", f.token(f.demo.TenantID, f.demo.Users.OUAdmin), 403},
	} {
		if r := f.call("GET", c.path, c.token, nil); r.status != c.status {
			t.Errorf("GET %s: %d %s, want %d", c.path, r.status, r.body, c.status)
		}
	}
	d := f.directory(t)
	for i := range d.Services {
		if d.Services[i].UPN == sales {
			// A user of the same OU who owns only the sales service: the ContactCenter
			// service is visible to them, but not theirs.
			d.Services[i].Owners = append(d.Services[i].Owners, "sales-owner@contoso.com")
			d.Users = append(d.Users, nimbus.User{UPN: "sales-owner@contoso.com", OU: d.Services[i].OU, Roles: []nimbus.Role{nimbus.RoleUser}})
		}
	}
	f.putDirectory(t, d)
	other := f.token(f.demo.TenantID, "sales-owner@contoso.com")
	if r := f.call("GET", "/v1/virtual-assistant/session-1/transcriptionData/Summary", other, nil); r.status != 404 {
		t.Errorf("owner of another service reads the summary: %d %s, want 404", r.status, r.body)
	}

	if r := f.call("DELETE", "/v1/triggers/virtual-assistant/"+created.ID, f.owner, nil); r.status != 204 {
		t.Errorf("delete trigger: %d %s", r.status, r.body)
	}
}

func TestTranscriptBadInput(t *testing.T) {
	f := startFlow(t, nil)
	good := f.transcript("bad-task", 2, "x")
	cases := []struct {
		name, session string
		body          any
		token         string
		status        int
		target        string
	}{
		{"NoTenant", "s", without(good, "tenantId"), f.core, 400, "tenantId"},
		{"NoTask", "s", without(good, "taskId"), f.core, 400, "taskId"},
		{"SegmentType", "s", with(good, "segments", []any{map[string]any{"speaker": "User", "offsetMs": "soon"}}), f.core, 400, "segments[0].offsetMs"},
		{"Speaker", "s", with(good, "segments", []any{map[string]any{"speaker": "Robot"}}), f.core, 400, "segments[0].speaker"},
		{"Language", "s", with(good, "language", "not a tag"), f.core, 400, "language"},
		{"Session", "a%2Fb", good, f.core, 400, "serviceSessionId"},
		{"NotJSON", "s", "just text", f.core, 400, ""},
		{"UserToken", "s", good, f.owner, 403, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.call("PUT", "/internal/v1/transcripts/"+c.session, c.token, c.body)
			if r.status != c.status || c.target != "" && !strings.Contains(string(r.body), `"target":"`+c.target+`"`) {
				t.Errorf("got %d %s, want %d naming %q", r.status, r.body, c.status, c.target)
			}
		})
	}
}

func without(m map[string]any, key string) map[string]any {
	out := with(m, key, nil)
	delete(out, key)
	return out
}

func with(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m))
	for k, x := range m {
		out[k] = x
	}
	out[key] = v
	return out
}
