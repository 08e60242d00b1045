package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Under the Functions host, the host invokes /FireSchedulerEntries with the scheduler
// queue's messages (in each encoding it uses) and /SchedulerSweep on its timer; they act as
// the in-process consumer and ticker do. The app is assembled without in-process consumers
// here, so only the invocations can move an entry.
func TestFunctionsHostSchedulerInvocations(t *testing.T) {
	env := map[string]string{"NIMBUS_DATA_DIR": t.TempDir(), "FUNCTIONS_CUSTOMHANDLER_PORT": "7999", "NIMBUS_DEV_AUTH": "true"}
	cfg, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	a, err := assemble(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	srv := httptest.NewServer(functionsHandler(a, log))
	defer srv.Close()
	call := func(method, path, token string, body any) (int, []byte) {
		t.Helper()
		var raw []byte
		if s, ok := body.(string); ok {
			raw = []byte(s)
		} else if body != nil {
			raw, _ = json.Marshal(body)
		}
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(res.Body)
		return res.StatusCode, out.Bytes()
	}
	demo := a.demo
	_, tok := call("POST", "/dev/token", "", map[string]string{"tenantId": demo.TenantID, "upn": demo.Users.ServiceOwner})
	var token struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(tok, &token)
	owner := token.AccessToken
	state := func(id string) string {
		t.Helper()
		_, body := call("GET", "/v1/scheduler-entries?serviceUpn="+demo.Services.ContactCenter, owner, nil)
		var list []entry
		_ = json.Unmarshal(body, &list)
		for _, e := range list {
			if e.ID == id {
				return e.Event
			}
		}
		return "gone"
	}
	due := time.Now().Add(2 * time.Second).Truncate(time.Second)
	var ids []string
	for range 2 {
		status, body := call("POST", "/v1/scheduler-entries", owner, map[string]any{"serviceUpn": demo.Services.ContactCenter, "destination": "+41790001122", "dueDateTimeUtc": due.UTC().Format(time.RFC3339)})
		var e entry
		if err := json.Unmarshal(body, &e); err != nil || status != 200 {
			t.Fatalf("create: %d %s", status, body)
		}
		ids = append(ids, e.ID)
	}
	for time.Now().Before(due.Add(50 * time.Millisecond)) {
		time.Sleep(20 * time.Millisecond)
	}
	if state(ids[0]) != "Scheduled" || state(ids[1]) != "Scheduled" {
		t.Fatalf("entries moved without an invocation: %s, %s", state(ids[0]), state(ids[1]))
	}

	// The scheduler queue's message for the first entry, in each of the host's encodings;
	// the repeats change nothing.
	msg, _ := json.Marshal(map[string]string{"tenantId": demo.TenantID, "serviceId": "svc-contactcenter", "entryId": ids[0]})
	before := a.queues.Len(nimbus.QueueEvents)
	for i, golden := range []string{"servicebus_single.json", "servicebus_double.json", "servicebus_base64.json"} {
		if status, body := call("POST", "/FireSchedulerEntries", "", invocation(t, golden, "fire-"+ids[0], "", msg)); status != 200 {
			t.Fatalf("%s: %d %s", golden, status, body)
		}
		if got := state(ids[0]); got != "DueDateReached" {
			t.Fatalf("%s: entry is %s", golden, got)
		}
		if n := a.queues.Len(nimbus.QueueEvents) - before; n != 1 {
			t.Errorf("after invocation %d: %d events queued, want 1", i+1, n)
		}
	}
	if state(ids[1]) != "Scheduled" {
		t.Errorf("the other entry moved: %s", state(ids[1]))
	}

	// The timer: the sweep finds the second entry overdue and fires it.
	timer, err := os.ReadFile("funchost/testdata/timer.json")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := call("POST", "/SchedulerSweep", "", string(timer)); status != 200 {
		t.Fatalf("SchedulerSweep: %d %s", status, body)
	}
	if got := state(ids[1]); got != "DueDateReached" {
		t.Errorf("after the sweep the entry is %s", got)
	}
	if n := a.queues.Len(nimbus.QueueCommands); n != 2 {
		t.Errorf("commands queued: %d, want one per entry", n)
	}
}
