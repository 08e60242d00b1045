package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// fakeHandler records what the simulator reports to the handler.
type fakeHandler struct {
	mu       sync.Mutex
	attempts []nimbus.AttemptReport
	paths    []string
}

func (f *fakeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	if strings.HasSuffix(r.URL.Path, "/attempts") {
		var a nimbus.AttemptReport
		_ = json.Unmarshal(b, &a)
		f.attempts = append(f.attempts, a)
	}
	w.WriteHeader(http.StatusAccepted)
}

func testSim(t *testing.T, attempts AttemptOdds) (*Sim, *fakeHandler) {
	t.Helper()
	fh := &fakeHandler{}
	srv := httptest.NewServer(fh)
	t.Cleanup(srv.Close)
	dir := nimbus.Directory{TenantID: "3c9d4b7e-2a61-4f0e-9b8d-5e7a1c2f4d60",
		Services: []nimbus.Service{{ID: "svc-cc", UPN: "cc@contoso.com", WorkflowValid: true, VirtualAssistantEnabled: false,
			Modalities: []nimbus.Modality{nimbus.ModalityAudio, nimbus.ModalityExternalTask}}},
		Users: []nimbus.User{{UPN: "anna@contoso.com"}}}
	s, err := New(Config{Client: &Client{Base: srv.URL}, TenantID: dir.TenantID, Seed: 1, RunID: "t", Speed: 1e6, Odds: DefaultOdds(), Attempts: attempts}, dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, fh
}

func post(s *Sim, body string) int {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/commands", bytes.NewBufferString(body)))
	return rec.Code
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCommandsEndpoint(t *testing.T) {
	s, fh := testSim(t, AttemptOdds{Failed: 1})
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"not JSON", `{`, 400},
		{"no commandId", `{"type":"TaskUpdated"}`, 400},
		{"external task", `{"commandId":"c1","tenantId":"t","type":"ExternalTaskAdded","taskId":"x1","serviceUpn":"cc@contoso.com","issuedAt":"2026-11-26T10:00:00Z"}`, 202},
		{"the same command again", `{"commandId":"c1","tenantId":"t","type":"ExternalTaskAdded","taskId":"x1","serviceUpn":"cc@contoso.com","issuedAt":"2026-11-26T10:00:00Z"}`, 202},
		{"outbound call", `{"commandId":"c2","tenantId":"t","type":"OutboundCallRequested","serviceUpn":"cc@contoso.com","outboundCall":{"schedulerEntryId":"e1","attempt":3,"attemptTimeoutInSeconds":30}}`, 202},
		{"unknown type", `{"commandId":"c3","tenantId":"t","type":"SomethingNew"}`, 202},
	} {
		if got := post(s, c.body); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	waitUntil(t, "the outbound attempt report", func() bool { fh.mu.Lock(); defer fh.mu.Unlock(); return len(fh.attempts) == 1 })
	waitUntil(t, "the external task's end", func() bool { return s.Stats().TasksStarted.Load() == 1 && s.Stats().TasksRunning.Load() == 0 })
	if a := fh.attempts[0]; a.Attempt != 3 || a.Outcome != nimbus.OutcomeFailed || a.Reason != "SystemError" || a.TaskID != "" {
		t.Errorf("attempt report: %+v", a)
	}
	if got := s.Stats().CommandRepeats.Load(); got != 1 {
		t.Errorf("repeated commands: %d, want 1", got)
	}
	var evs []string
	for len(s.send.in) > 0 {
		e := <-s.send.in
		evs = append(evs, string(e.ev.Event))
		if e.ev.Modality != nimbus.ModalityExternalTask || e.ev.TaskID != "x1" {
			t.Errorf("external task event: %+v", e.ev)
		}
	}
	if got := strings.Join(evs, ","); got != "WorkflowStarted,SystemAccepted,InQueue,ConnectedToUser,Terminated" {
		t.Errorf("external task events: %s", got)
	}
}

// A TaskUpdated for a waiting workflow makes it report the new parameters and go on.
func TestTaskUpdatedResolvesWaitForParameter(t *testing.T) {
	s, _ := testSim(t, AttemptOdds{})
	p := Plan{TaskID: "w1", Modality: nimbus.ModalityAudio, Direction: nimbus.DirectionInbound, Steps: []Step{
		{Event: nimbus.EventWorkflowStarted, ServiceUPN: "cc@contoso.com", Deliverable: true},
		{After: 1e6 * time.Hour, WaitForParameter: true},
		{Event: nimbus.EventInQueue, ServiceUPN: "cc@contoso.com", Deliverable: true},
	}}
	s.start(p, nil)
	waitUntil(t, "the task to wait", func() bool { return len(s.send.in) == 1 })
	if got := post(s, `{"commandId":"u1","tenantId":"t","type":"TaskUpdated","taskId":"w1","changes":{"customContextParameters":[{"name":"crmId","value":"42"}]}}`); got != 202 {
		t.Fatalf("TaskUpdated: %d", got)
	}
	waitUntil(t, "the task's end", func() bool { return s.Stats().TasksRunning.Load() == 0 })
	var got []string
	for len(s.send.in) > 0 {
		e := <-s.send.in
		name := string(e.ev.Event)
		if e.ev.Parameter != nil {
			name += "[" + e.ev.Parameter.Name + "=" + e.ev.Parameter.Value + "]"
		}
		got = append(got, name)
	}
	if g := strings.Join(got, ","); g != "WorkflowStarted,ParameterUpdated[crmId=42],InQueue,Terminated" {
		t.Errorf("events: %s", g)
	}
}
