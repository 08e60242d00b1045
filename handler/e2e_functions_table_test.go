package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Under the Functions host, every row of the consumer and timer tables answers its
// invocation: the FlushCommands timer runs, and a message the host reads from the events
// dead-letter sub-queue becomes a queue failure that an admin lists and replays.
func TestFunctionsHostServesTableRows(t *testing.T) {
	port := freePort(t)
	f := startFlow(t, map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": fmt.Sprint(port), "NIMBUS_DEV_AUTH": "true"})
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/dl", []string{cc}, []string{"InQueue"}, nil, nil)

	timer, err := os.ReadFile("funchost/testdata/timer.json")
	if err != nil {
		t.Fatal(err)
	}
	var inv map[string]any
	_ = json.Unmarshal(timer, &inv)
	if r := f.call("POST", "/FlushCommands", "", inv); r.status != 200 {
		t.Fatalf("FlushCommands: %d %s", r.status, r.body)
	}

	ev := f.ev("dead-1", 1, "InQueue", cc, "Audio", "Inbound")
	body, _ := json.Marshal(nimbus.Envelope{Kind: nimbus.EventKindTask, Tenant: f.demo.TenantID, Service: cc, ID: ev["eventId"].(string), Task: ingestEvent(t, ev)})
	session := nimbus.ScopedID(f.demo.TenantID, "dead-1")
	if r := f.call("POST", "/EventsDeadLetters", "", invocation(t, "servicebus_single.json", nimbus.ScopedID(f.demo.TenantID, ev["eventId"].(string)), session, body)); r.status != 200 {
		t.Fatalf("EventsDeadLetters: %d %s", r.status, r.body)
	}
	r := f.call("GET", "/manage/v1/queue-failures?queue=events", f.admin, nil)
	var list []struct {
		ID, Queue, SessionID string
	}
	if err := json.Unmarshal(r.body, &list); err != nil || r.status != 200 || len(list) != 1 || list[0].SessionID != session {
		t.Fatalf("queue failures: %d %s", r.status, r.body)
	}
	if r := f.call("POST", "/manage/v1/queue-failures/replay", f.admin, map[string]any{"ids": []string{list[0].ID}}); r.status != 200 || !strings.Contains(string(r.body), `"replayed":1`) {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	// The replayed event is processed by the in-process consumer (no Service Bus here).
	if got := f.sink.wait("/dl", 1, 10*time.Second); field(got[0], "taskId") != "dead-1" {
		t.Errorf("replayed event delivered as %s", got[0].body)
	}
	if r := f.call("GET", "/manage/v1/queue-failures", f.admin, nil); string(r.body) != "[]" {
		t.Errorf("queue failures after replay: %s", r.body)
	}
}
