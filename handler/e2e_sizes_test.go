package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// largeTaskInformation is task information at every limit that makes it large: 50 custom
// context parameters and 20 customer custom fields of 5,120 characters each (≈360 KB, more
// than a 256 KiB queue message).
func largeTaskInformation(tag string) (params, custom []map[string]string) {
	for i := range nimbus.MaxTaskParameters {
		params = append(params, map[string]string{"name": fmt.Sprintf("p%02d", i), "value": strings.Repeat(tag[:1], nimbus.MaxParameterValue)})
	}
	for i := range nimbus.MaxCustomerFields {
		custom = append(custom, map[string]string{"name": fmt.Sprintf("c%02d", i), "value": strings.Repeat("c", nimbus.MaxParameterValue)})
	}
	return params, custom
}

// rawCommand is a command as core receives it, with its size.
func (f *flow) rawCommands(t *testing.T, n int) []received {
	t.Helper()
	return f.sink.wait("/core", n, 15*time.Second)
}

// Update task with the largest task information answers 200; its TaskUpdated command
// reaches core whole (claim check on the commands queue, resolved before it is POSTed), and
// the task's next event is delivered with that task information (claim check on the
// deliveries queue).
func TestLargeTaskUpdateReachesCoreAndFlows(t *testing.T) {
	f := startTaskFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/big", []string{cc}, []string{"InQueue", "ConnectedToUser"}, nil, nil)
	f.ingest(f.ev("call-big", 1, "InQueue", cc, "Audio", "Inbound"))
	f.sink.wait("/big", 1, 10*time.Second)

	params, custom := largeTaskInformation("u")
	r := f.call("PUT", "/v1/tasks/call-big", f.owner, map[string]any{"customer": map[string]any{"firstName": "Ada", "customFields": custom}, "customContextParameters": params})
	if r.status != 200 {
		t.Fatalf("update task: %d %.300s", r.status, r.body)
	}
	cmd := f.rawCommands(t, 1)[0]
	var c command
	if err := json.Unmarshal(cmd.body, &c); err != nil || c.Type != "TaskUpdated" || c.TaskID != "call-big" || c.Changes == nil {
		t.Fatalf("command (%d bytes): %v %.300s", len(cmd.body), err, cmd.body)
	}
	if len(cmd.body) <= nimbus.MaxMessageBody || len(c.Changes.CustomContextParameters) != nimbus.MaxTaskParameters || c.Changes.CustomContextParameters[49].Value != params[49]["value"] {
		t.Errorf("command reached core with %d bytes and %d parameters, want all %d parameters (more than %d bytes)", len(cmd.body), len(c.Changes.CustomContextParameters), nimbus.MaxTaskParameters, nimbus.MaxMessageBody)
	}

	f.ingest(f.ev("call-big", 2, "ConnectedToUser", cc, "Audio", "Inbound"))
	got := f.sink.wait("/big", 2, 15*time.Second)
	var n struct {
		Event           string `json:"event"`
		TaskInformation struct {
			Customer struct {
				CustomFields []nimbus.Parameter `json:"customFields"`
			} `json:"customer"`
			CustomContextParameters []nimbus.Parameter `json:"customContextParameters"`
		} `json:"taskInformation"`
	}
	if err := json.Unmarshal(got[1].body, &n); err != nil || n.Event != "ConnectedToUser" {
		t.Fatalf("next notification (%d bytes): %v %.300s", len(got[1].body), err, got[1].body)
	}
	if len(n.TaskInformation.CustomContextParameters) != nimbus.MaxTaskParameters || len(n.TaskInformation.Customer.CustomFields) != nimbus.MaxCustomerFields {
		t.Errorf("next notification carries %d parameters and %d custom fields, want %d and %d", len(n.TaskInformation.CustomContextParameters), len(n.TaskInformation.Customer.CustomFields), nimbus.MaxTaskParameters, nimbus.MaxCustomerFields)
	}

	// Nothing was dead-lettered; the admin and core routes of the claim check answer.
	if r := f.call("GET", "/admin/v1/queue-failures?queue=events", f.admin, nil); r.status != 200 || string(r.body) != "[]" {
		t.Errorf("queue failures: %d %s", r.status, r.body)
	}
	if r := f.call("GET", "/admin/v1/queue-failures?queue=deliveries", f.admin, nil); r.status != 400 || !strings.Contains(string(r.body), "queue") {
		t.Errorf("queue failures of an unknown queue: %d %s", r.status, r.body)
	}
	if r := f.call("POST", "/admin/v1/queue-failures/replay", f.admin, map[string]any{}); r.status != 400 {
		t.Errorf("replay without a selector: %d %s", r.status, r.body)
	}
	if r := f.call("GET", "/internal/v1/claims/no-such-claim?tenantId="+f.demo.TenantID, f.core, nil); r.status != 404 {
		t.Errorf("unknown claim: %d %s", r.status, r.body)
	}
	if r := f.call("GET", "/internal/v1/claims/no-such-claim?tenantId="+f.demo.TenantID, f.owner, nil); r.status != 403 {
		t.Errorf("claim read by a user: %d %s", r.status, r.body)
	}
}

// AddExternalTask with the largest task information answers 200; ExternalTaskAdded reaches
// core whole and the task's events are delivered.
func TestLargeExternalTaskReachesCoreAndFlows(t *testing.T) {
	f := startTaskFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/ext", []string{cc}, []string{"InQueue"}, []string{"ExternalTask"}, nil)
	params, custom := largeTaskInformation("x")
	r := f.call("POST", "/v1/ExternalTasks", f.owner, map[string]any{
		"serviceUpn": cc, "customerIdentifier": "cust-big", "customer": map[string]any{"firstName": "Grace", "customFields": custom},
		"distributionPriority": "High", "customContextParameters": params,
	})
	var res nimbus.ExternalTaskResult
	if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 {
		t.Fatalf("add external task: %d %.300s", r.status, r.body)
	}
	cmd := f.rawCommands(t, 1)[0]
	var c command
	if err := json.Unmarshal(cmd.body, &c); err != nil || c.Type != "ExternalTaskAdded" || c.TaskID != res.ID {
		t.Fatalf("command (%d bytes): %v %.300s", len(cmd.body), err, cmd.body)
	}
	if ps, _ := c.ExternalTask["customContextParameters"].([]any); len(ps) != nimbus.MaxTaskParameters || len(cmd.body) <= nimbus.MaxMessageBody {
		t.Errorf("command reached core with %d bytes and %d parameters", len(cmd.body), len(ps))
	}
	f.ingest(f.ev(res.ID, 1, "WorkflowStarted", cc, "ExternalTask", "Inbound"), f.ev(res.ID, 2, "InQueue", cc, "ExternalTask", "Inbound"))
	got := f.sink.wait("/ext", 1, 15*time.Second)
	if field(got[0], "event") != "InQueue" || len(got[0].body) <= nimbus.MaxMessageBody {
		t.Errorf("notification of %d bytes: %.300s", len(got[0].body), got[0].body)
	}
}
