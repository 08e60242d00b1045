package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// schedulerEnv makes the scheduler's delays short: the sweep every 300 ms and attempts
// without outcome timing out one second after they start (30 s timeout, -29 s grace).
func schedulerEnv() map[string]string {
	return map[string]string{"NIMBUS_SCHEDULER_SWEEP_INTERVAL": "300ms", "NIMBUS_SCHEDULER_TIMEOUT_GRACE": "-29s"}
}

// startSchedulerFlow starts the handler with the core sink at /core and gives the demo's
// Contact Center service a one-second retry delay and outbound calls with workflow.
func startSchedulerFlow(t *testing.T, env map[string]string) *flow {
	t.Helper()
	f := startTaskFlow(t, env)
	d := f.directory(t)
	for i := range d.Services {
		if d.Services[i].UPN == f.demo.Services.ContactCenter {
			d.Services[i].OutboundRetryDelaySeconds = 1
			d.Services[i].OutboundWithWorkflowEnabled = true
		}
	}
	f.putDirectory(t, d)
	return f
}

var allSchedulerEvents = []string{"Scheduled", "DueDateReached", "Handled", "LimitReached", "Removed", "Failed"}

// schedTrigger registers a scheduler-entry trigger to the sink path.
func (f *flow) schedTrigger(token, path string, services, events []string) string {
	f.t.Helper()
	r := f.call("POST", "/v1/triggers/scheduler-entries", token, map[string]any{"config": map[string]any{"url": f.sink.url(path), "services": services, "schedulerEntryEvents": events}})
	var body struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != 201 || !strings.HasSuffix(r.header.Get("Location"), "/v1/triggers/scheduler-entries/"+body.ID) {
		f.t.Fatalf("register scheduler trigger: %d %s %q", r.status, r.body, r.header.Get("Location"))
	}
	return body.ID
}

// entry is a scheduler entry as the API answers it.
type entry struct {
	ID               string `json:"schedulerEntryId"`
	Event            string `json:"event"`
	CompletionReason string `json:"completionReason"`
	ConversationType string `json:"conversationType"`
	DueDateTimeUTC   string `json:"dueDateTimeUtc"`
	MaxAttempts      int    `json:"maxAttempts"`
	AttemptTimeout   int    `json:"attemptTimeoutInSeconds"`
	MaxQueueTime     int    `json:"maxQueueTimeInSeconds"`
	Rona             int    `json:"ronaTimeoutInSeconds"`
	Priority         string `json:"distributionPriority"`
	Direction        string `json:"direction"`
	Modality         string `json:"modality"`
}

func (f *flow) schedule(token string, body map[string]any) entry {
	f.t.Helper()
	r := f.call("POST", "/v1/scheduler-entries", token, body)
	var e entry
	if err := json.Unmarshal(r.body, &e); err != nil || r.status != 200 || e.ID == "" {
		f.t.Fatalf("create scheduler entry: %d %s", r.status, r.body)
	}
	return e
}

func (f *flow) entryBody(due time.Time, extra map[string]any) map[string]any {
	b := map[string]any{"serviceUpn": f.demo.Services.ContactCenter, "destination": "+41790001122", "dueDateTimeUtc": due.UTC().Format(time.RFC3339), "ReferenceId": "crm-1"}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func (f *flow) report(id string, attempt int, outcome, reason string) {
	f.t.Helper()
	r := f.call("POST", "/internal/v1/scheduler-entries/"+id+"/attempts", f.core, map[string]any{"tenantId": f.demo.TenantID, "attempt": attempt, "outcome": outcome, "reason": reason, "taskId": "task-" + id, "occurredAt": time.Now().UTC().Format(time.RFC3339Nano)})
	if r.status != 202 {
		f.t.Fatalf("report attempt %d of %s: %d %s", attempt, id, r.status, r.body)
	}
}

// entryEvents returns the notifications about entry id at path, as "Event/attempt[/reason]".
func (f *flow) entryEvents(path, id string) []string {
	var out []string
	for _, r := range f.sink.at(path) {
		if field(r, "schedulerEntryId") == id {
			s := field(r, "event") + "/" + field(r, "attempt")
			if c := field(r, "completionReason"); c != "" {
				s += "/" + c
			}
			out = append(out, s)
		}
	}
	return out
}

// waitEvents polls until the entry's notifications are want (in order), or fails.
func (f *flow) waitEvents(path, id string, want ...string) {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := f.entryEvents(path, id)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) || len(got) > len(want) {
			f.t.Fatalf("entry %s: notifications %v, want %v", id, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// outboundCommands returns the OutboundCallRequested commands core received for entry id.
func (f *flow) outboundCommands(id string) []nimbus.Command {
	var out []nimbus.Command
	for _, r := range f.sink.at("/core") {
		var c nimbus.Command
		if json.Unmarshal(r.body, &c) == nil && c.Type == nimbus.CommandOutboundCallRequested && c.OutboundCall != nil && c.OutboundCall.SchedulerEntryID == id {
			out = append(out, c)
		}
	}
	return out
}

func (f *flow) waitCommands(id string, n int) []nimbus.Command {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := f.outboundCommands(id)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("entry %s: %d OutboundCallRequested commands, want %d", id, len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The whole lifecycle through the binary: reached; not reached then reached; limit
// reached; failed; attempt timeout; with the commands core receives and the notifications
// the trigger delivers.
func TestSchedulerLifecycle(t *testing.T) {
	f := startSchedulerFlow(t, schedulerEnv())
	cc := f.demo.Services.ContactCenter
	f.schedTrigger(f.owner, "/sched", []string{cc}, allSchedulerEvents)
	past := time.Now().Add(-time.Minute)

	t.Run("reached", func(t *testing.T) {
		e := f.schedule(f.owner, f.entryBody(past, nil))
		if e.MaxAttempts != 1 || e.AttemptTimeout != 3600 || e.MaxQueueTime != 300 || e.Rona != 20 || e.Priority != "Normal" || e.ConversationType != "OutboundCall" || e.Direction != "Outbound" || e.Modality != "Audio" {
			t.Errorf("defaults: %+v", e)
		}
		f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1")
		cmds := f.waitCommands(e.ID, 1)
		if want := nimbus.OutboundCommandID(f.demo.TenantID, e.ID, 1); cmds[0].CommandID != want || cmds[0].OutboundCall.Attempt != 1 || cmds[0].OutboundCall.Destination != "+41790001122" {
			t.Errorf("command %+v, want id %s", cmds[0], want)
		}
		f.report(e.ID, 1, "DestinationReached", "")
		f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1", "Handled/1/DestinationReached")
		f.report(e.ID, 1, "DestinationReached", "") // repeated
		f.report(e.ID, 2, "NotReached", "Busy")     // not the current attempt
		f.sink.quiet("/sched", 300*time.Millisecond)
		f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1", "Handled/1/DestinationReached")
		last := f.sink.at("/sched")
		p := last[len(last)-1]
		for _, name := range []string{"eventId", "occurredAt", "ReferenceId", "unifiedConversationId", "customCallContextParameters", "customer", "serviceUpn"} {
			if _, ok := p.payload[name]; !ok {
				t.Errorf("notification lacks %s: %s", name, p.body)
			}
		}
	})

	t.Run("not reached then reached", func(t *testing.T) {
		e := f.schedule(f.owner, f.entryBody(past, map[string]any{"maxAttempts": 2}))
		f.waitCommands(e.ID, 1)
		f.report(e.ID, 1, "NotReached", "Busy")
		f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1", "Scheduled/2", "DueDateReached/2")
		cmds := f.waitCommands(e.ID, 2)
		if cmds[0].CommandID == cmds[1].CommandID || cmds[1].OutboundCall.Attempt != 2 {
			t.Errorf("commands of two attempts: %s, %s (attempt %d)", cmds[0].CommandID, cmds[1].CommandID, cmds[1].OutboundCall.Attempt)
		}
		f.report(e.ID, 1, "NotReached", "Busy") // stale
		f.report(e.ID, 2, "DestinationReached", "")
		f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1", "Scheduled/2", "DueDateReached/2", "Handled/2/DestinationReached")
	})

	t.Run("limit reached", func(t *testing.T) {
		e := f.schedule(f.owner, f.entryBody(past, nil))
		f.waitCommands(e.ID, 1)
		f.report(e.ID, 1, "NotReached", "NoAnswer")
		f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1", "LimitReached/1/NoAnswer")
	})

	t.Run("failed", func(t *testing.T) {
		e := f.schedule(f.owner, f.entryBody(past, map[string]any{"maxAttempts": 3}))
		f.waitCommands(e.ID, 1)
		f.report(e.ID, 1, "Failed", "")
		f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1", "Failed/1/SystemError")
	})

	t.Run("attempt timeout", func(t *testing.T) {
		e := f.schedule(f.owner, f.entryBody(past, map[string]any{"attemptTimeoutInSeconds": 30}))
		f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1", "LimitReached/1/AttemptTimeout")
	})

	t.Run("due later fires on time", func(t *testing.T) {
		due := time.Now().Add(2 * time.Second).Truncate(time.Second)
		e := f.schedule(f.owner, f.entryBody(due, nil))
		if e.Event != "Scheduled" {
			t.Fatalf("entry %+v", e)
		}
		f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1")
		for _, r := range f.sink.at("/sched") {
			if field(r, "schedulerEntryId") == e.ID && field(r, "event") == "DueDateReached" {
				at, _ := time.Parse(time.RFC3339Nano, field(r, "occurredAt"))
				if at.Before(due) {
					t.Errorf("fired at %v, before its due time %v", at, due)
				}
			}
		}
	})
}

// Update and Remove while Scheduled, 409 once in progress; listing; 404 for unknown ids.
func TestSchedulerUpdateAndRemove(t *testing.T) {
	f := startSchedulerFlow(t, schedulerEnv())
	cc := f.demo.Services.ContactCenter
	f.schedTrigger(f.owner, "/sched", []string{cc}, allSchedulerEvents)
	later := time.Now().Add(time.Hour).Truncate(time.Second)

	e := f.schedule(f.owner, f.entryBody(later, nil))
	upd := f.entryBody(later.Add(time.Hour), map[string]any{"maxAttempts": 3, "distributionPriority": "High"})
	r := f.call("PUT", "/v1/scheduler-entries/"+e.ID, f.owner, upd)
	var got entry
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || got.MaxAttempts != 3 || got.Priority != "High" || got.DueDateTimeUTC != later.Add(time.Hour).UTC().Format(time.RFC3339) {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	f.waitEvents("/sched", e.ID, "Scheduled/1", "Scheduled/1")

	other := f.schedule(f.owner, f.entryBody(later, nil))
	r = f.call("GET", "/v1/scheduler-entries?serviceUpn="+cc, f.owner, nil)
	var list []entry
	if err := json.Unmarshal(r.body, &list); err != nil || r.status != 200 || len(list) != 2 || list[0].ID != other.ID || list[1].ID != e.ID {
		t.Fatalf("list (oldest due first): %d %s", r.status, r.body)
	}

	if r := f.call("DELETE", "/v1/scheduler-entries/"+e.ID, f.owner, nil); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	f.waitEvents("/sched", e.ID, "Scheduled/1", "Scheduled/1", "Removed/1/Removed")
	if r := f.call("DELETE", "/v1/scheduler-entries/"+e.ID, f.owner, nil); r.status != 409 {
		t.Errorf("delete a removed entry: %d %s", r.status, r.body)
	}
	if r := f.call("PUT", "/v1/scheduler-entries/"+e.ID, f.owner, upd); r.status != 409 {
		t.Errorf("update a removed entry: %d %s", r.status, r.body)
	}

	// Moving the due date into the past fires it; then it is in progress: 409.
	r = f.call("PUT", "/v1/scheduler-entries/"+other.ID, f.owner, f.entryBody(time.Now().Add(-time.Minute), nil))
	if r.status != 200 {
		t.Fatalf("update due date: %d %s", r.status, r.body)
	}
	f.waitEvents("/sched", other.ID, "Scheduled/1", "Scheduled/1", "DueDateReached/1")
	if r := f.call("PUT", "/v1/scheduler-entries/"+other.ID, f.owner, upd); r.status != 409 {
		t.Errorf("update in progress: %d %s", r.status, r.body)
	}
	if r := f.call("DELETE", "/v1/scheduler-entries/"+other.ID, f.owner, nil); r.status != 409 {
		t.Errorf("delete in progress: %d %s", r.status, r.body)
	}
	for _, method := range []string{"PUT", "DELETE"} {
		if r := f.call(method, "/v1/scheduler-entries/no-such-entry", f.owner, upd); r.status != 404 {
			t.Errorf("%s unknown entry: %d %s", method, r.status, r.body)
		}
	}
	if r := f.call("POST", "/internal/v1/scheduler-entries/no-such-entry/attempts", f.core, map[string]any{"tenantId": f.demo.TenantID, "attempt": 1, "outcome": "NotReached", "occurredAt": time.Now().UTC().Format(time.RFC3339)}); r.status != 404 {
		t.Errorf("report for an unknown entry: %d %s", r.status, r.body)
	}
	// In progress entries are listed; final ones are not.
	r = f.call("GET", "/v1/scheduler-entries?serviceUpn="+cc, f.owner, nil)
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 1 || list[0].ID != other.ID || list[0].Event != "DueDateReached" {
		t.Errorf("list after changes: %d %s", r.status, r.body)
	}
}

// The lifecycle on Azure Table Storage (Azurite): the ETag conditions, the due index and the
// entry partitions behave as on the embedded store.
func TestSchedulerOnAzureTables(t *testing.T) {
	cs := azurite(t)
	env := schedulerEnv()
	env["NIMBUS_STORAGE"] = cs
	env["NIMBUS_DEV_AUTH"] = "true"
	f := startSchedulerFlow(t, env)
	cc := f.demo.Services.ContactCenter
	f.schedTrigger(f.owner, "/az", []string{cc}, allSchedulerEvents)
	e := f.schedule(f.owner, f.entryBody(time.Now().Add(-time.Minute), map[string]any{"maxAttempts": 2}))
	f.waitCommands(e.ID, 1)
	f.report(e.ID, 1, "NotReached", "Busy")
	f.waitEvents("/az", e.ID, "Scheduled/1", "DueDateReached/1", "Scheduled/2", "DueDateReached/2")
	f.report(e.ID, 2, "DestinationReached", "")
	f.waitEvents("/az", e.ID, "Scheduled/1", "DueDateReached/1", "Scheduled/2", "DueDateReached/2", "Handled/2/DestinationReached")
	later := f.schedule(f.owner, f.entryBody(time.Now().Add(time.Hour), nil))
	if r := f.call("DELETE", "/v1/scheduler-entries/"+later.ID, f.owner, nil); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	f.waitEvents("/az", later.ID, "Scheduled/1", "Removed/1/Removed")
}
