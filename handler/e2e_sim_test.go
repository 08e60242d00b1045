package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/sim"
)

// The simulator brings the demo tenant to life against the real binary: inbound traffic of
// every valid service reaches a task trigger, and the commands the handler sends to core are
// answered: TaskUpdated resolves a "Wait for Parameter", ExternalTaskAdded starts an external
// task, OutboundCallRequested reaches the destination and ends with a transcript.
func TestEndToEndSimulator(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, map[string]string{
		"NIMBUS_DEV_AUTH":                 "true",
		"NIMBUS_DATA_DIR":                 t.TempDir(),
		"NIMBUS_CORE_COMMANDS_URL":        "http://" + ln.Addr().String() + "/commands",
		"NIMBUS_SCHEDULER_SWEEP_INTERVAL": "1s",
	})
	d := p.demo()
	admin := p.token(d.TenantID, d.Users.TenantAdmin)
	valid := []string{d.Services.ContactCenter, d.Services.EnterpriseRouting} // AdvancedRouting is not licensed for flows
	sk := newSink(t)
	all := []string{"WorkflowStarted", "SystemAccepted", "ParameterUpdated", "InQueue", "ConnectedToUser", "DestinationReached", "QueueLeft", "Terminated"}
	for _, reg := range []struct {
		kind string
		cfg  map[string]any
	}{
		{"tasks", map[string]any{"url": sk.url("/tasks"), "services": valid, "taskEvents": all}},
		{"scheduler-entries", map[string]any{"url": sk.url("/entries"), "services": []string{d.Services.ContactCenter}, "schedulerEntryEvents": []string{"Handled"}}},
		{"virtual-assistant", map[string]any{"url": sk.url("/va"), "services": []string{d.Services.ContactCenter}}},
	} {
		if r := p.call("POST", "/v1/triggers/"+reg.kind, admin, map[string]any{"config": reg.cfg}); r.status != 201 {
			t.Fatalf("register %s trigger: %d %s", reg.kind, r.status, r.body)
		}
	}

	opts, err := sim.ParseFlags([]string{"--handler", p.base, "--seed", "7", "--rate", "120", "--speed", "300", "--summary", "0",
		"--wait-for-parameter", "0.5", "--no-answer", "0", "--busy", "0", "--failed", "0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	opts.Odds.WaitTimeout = time.Hour // a waiting task goes on only when Update task sets its parameter
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		stopped <- sim.RunWith(ctx, opts, sim.Secrets{}, ln, io.Discard, slog.New(slog.DiscardHandler))
	}()
	defer func() {
		cancel()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("simulator: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the simulator did not stop within 30 s")
		}
	}()

	// Traffic of every valid service, and every inbound event kind.
	seen := map[string]bool{}
	waitFor := func(what string, ok func(received) bool) received {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for i := 0; time.Now().Before(deadline); {
			got := sk.at("/tasks")
			for ; i < len(got); i++ {
				if ok(got[i]) {
					return got[i]
				}
			}
			select {
			case <-sk.notify:
			case <-time.After(time.Second):
			}
		}
		t.Fatalf("no notification %s within 60 s", what)
		return received{}
	}
	waitFor("of every service and event", func(r received) bool {
		seen[field(r, "serviceUPN")] = true
		seen[field(r, "event")] = true
		seen[field(r, "modality")] = true
		for _, k := range append(valid, "SystemAccepted", "ParameterUpdated", "InQueue", "ConnectedToUser", "QueueLeft", "Terminated", "Audio", "InstantMessaging", "Email") {
			if !seen[k] {
				return false
			}
		}
		return true
	})

	// A waiting workflow goes on with the parameter Update task sets (TaskUpdated).
	waiting := waitFor("of a workflow waiting for a parameter", func(r received) bool {
		return field(r, "updatedParameterName") == "waitingFor"
	})
	task := field(waiting, "taskId")
	if r := p.call("PUT", "/v1/tasks/"+task, admin, map[string]any{"customContextParameters": []map[string]string{{"name": "crmId", "value": "C-42"}}}); r.status != 200 {
		t.Fatalf("update task: %d %s", r.status, r.body)
	}
	waitFor("of the parameter set by Update task", func(r received) bool {
		return field(r, "taskId") == task && field(r, "updatedParameterName") == "crmId" && field(r, "updatedParameterValue") == "C-42"
	})

	// An external task added through the API lives through core.
	r := p.call("POST", "/v1/ExternalTasks", admin, map[string]any{"serviceUpn": d.Services.ContactCenter, "customerIdentifier": "ticket-7"})
	var ext struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &ext); err != nil || r.status != 200 {
		t.Fatalf("add external task: %d %s", r.status, r.body)
	}
	for _, ev := range []string{"WorkflowStarted", "ConnectedToUser"} {
		waitFor("of the external task's "+ev, func(r received) bool {
			return field(r, "taskId") == ext.ID && field(r, "event") == ev && field(r, "modality") == "ExternalTask"
		})
	}

	// An outbound call is placed, reached, handled and transcribed.
	due := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
	r = p.call("POST", "/v1/scheduler-entries", admin, map[string]any{"serviceUpn": d.Services.ContactCenter, "destination": "+41790001122", "dueDateTimeUtc": due})
	var entry struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &entry); err != nil || r.status != 200 {
		t.Fatalf("create scheduler entry: %d %s", r.status, r.body)
	}
	reached := waitFor("of the outbound call reaching its destination", func(r received) bool {
		return field(r, "event") == "DestinationReached" && field(r, "direction") == "Outbound"
	})
	handled := sk.wait("/entries", 1, 60*time.Second)[0]
	if field(handled, "event") != "Handled" || field(handled, "completionReason") != "DestinationReached" {
		t.Errorf("scheduler entry notification: %s", handled.body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		found := false
		for _, v := range sk.at("/va") {
			found = found || field(v, "taskId") == field(reached, "taskId")
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no transcript notification for the outbound task %s within 60 s", field(reached, "taskId"))
		}
		select {
		case <-sk.notify:
		case <-time.After(time.Second):
		}
	}
}
