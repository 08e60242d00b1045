package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// contractDir holds the published Nimbus core contract (JSON Schema and examples).
const contractDir = "../connector/core-contract"

// contractExamples maps every example file to the schemas it must satisfy. A single event is
// both a task event and a valid request body; a command or a claim reference is a valid
// message on the commands queue.
var contractExamples = map[string][]string{
	"task-event.json":                      {"task-event.schema.json", "task-events-request.schema.json"},
	"task-events-batch.json":               {"task-events-request.schema.json"},
	"task-events-response.json":            {"task-events-response.schema.json"},
	"command-task-updated.json":            {"command.schema.json", "command-message.schema.json"},
	"command-external-task-added.json":     {"command.schema.json", "command-message.schema.json"},
	"command-external-task-removed.json":   {"command.schema.json", "command-message.schema.json"},
	"command-outbound-call-requested.json": {"command.schema.json", "command-message.schema.json"},
	"claim-reference.json":                 {"claim-reference.schema.json", "command-message.schema.json"},
	"scheduler-attempt.json":               {"scheduler-attempt.schema.json"},
	"scheduler-attempt-not-reached.json":   {"scheduler-attempt.schema.json"},
	"transcript.json":                      {"transcript.schema.json"},
	"transcript-response.json":             {"transcript-response.schema.json"},
}

func compileContract(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join(contractDir, "*.schema.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files in %s: %v", contractDir, err)
	}
	out := map[string]*jsonschema.Schema{}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(abs)
		if err != nil {
			t.Fatalf("compile %s: %v", f, err)
		}
		out[filepath.Base(f)] = s
	}
	return out
}

func readInstance(t *testing.T, data []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse JSON: %v\n%s", err, data)
	}
	return v
}

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(contractDir, "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestContractExamplesMatchSchemas validates every example against its schemas, and checks
// that every example file and every schema is covered.
func TestContractExamplesMatchSchemas(t *testing.T) {
	schemas := compileContract(t)
	used := map[string]bool{"common.schema.json": true}
	for name, want := range contractExamples {
		inst := readInstance(t, readExample(t, name))
		for _, s := range want {
			schema, ok := schemas[s]
			if !ok {
				t.Fatalf("example %s names schema %s, which does not exist", name, s)
			}
			used[s] = true
			if err := schema.Validate(inst); err != nil {
				t.Errorf("example %s does not match %s: %v", name, s, err)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(contractDir, "examples", "*.json"))
	for _, f := range files {
		if _, ok := contractExamples[filepath.Base(f)]; !ok {
			t.Errorf("example %s is not checked against any schema; add it to contractExamples", f)
		}
	}
	for s := range schemas {
		if !used[s] {
			t.Errorf("schema %s has no example", s)
		}
	}
}

// TestContractEventsAcceptedByHandler posts the event examples to the real binary (202, and
// the answer matches its schema), and checks that events the schema rejects are rejected by
// the handler too, so the schema does not promise more than the handler takes.
func TestContractEventsAcceptedByHandler(t *testing.T) {
	schemas := compileContract(t)
	f := startTaskFlow(t, nil)
	for _, c := range []struct {
		example string
		events  int
	}{{"task-event.json", 1}, {"task-events-batch.json", 6}} {
		body := readExample(t, c.example)
		if !bytes.Contains(body, []byte(f.demo.TenantID)) {
			t.Fatalf("example %s must use the demo tenant %s", c.example, f.demo.TenantID)
		}
		r := f.call("POST", "/internal/v1/task-events", f.core, json.RawMessage(body))
		if r.status != 202 {
			t.Fatalf("POST %s: %d %s, want 202", c.example, r.status, r.body)
		}
		if err := schemas["task-events-response.schema.json"].Validate(readInstance(t, r.body)); err != nil {
			t.Errorf("answer to %s does not match task-events-response.schema.json: %v\n%s", c.example, err, r.body)
		}
		var res struct{ Accepted, Ignored int }
		if err := json.Unmarshal(r.body, &res); err != nil || res.Accepted+res.Ignored != c.events {
			t.Errorf("answer to %s: %s, want %d events counted", c.example, r.body, c.events)
		}
	}

	base := map[string]any{}
	if err := json.Unmarshal(readExample(t, "task-event.json"), &base); err != nil {
		t.Fatal(err)
	}
	mutations := map[string]func(e map[string]any){
		"no eventId":                  func(e map[string]any) { delete(e, "eventId") },
		"no sequence":                 func(e map[string]any) { delete(e, "sequence") },
		"negative sequence":           func(e map[string]any) { e["sequence"] = -1 },
		"unknown event":               func(e map[string]any) { e["event"] = "Created" },
		"occurredAt not a timestamp":  func(e map[string]any) { e["occurredAt"] = "yesterday" },
		"tenantId not a GUID":         func(e map[string]any) { e["tenantId"] = "contoso" },
		"unknown modality":            func(e map[string]any) { e["modality"] = "Fax" },
		"DestinationReached inbound":  func(e map[string]any) { e["event"] = "DestinationReached" },
		"InQueue outbound":            func(e map[string]any) { e["event"], e["direction"] = "InQueue", "Outbound" },
		"ParameterUpdated without it": func(e map[string]any) { e["event"] = "ParameterUpdated" },
		"parameter name too long": func(e map[string]any) {
			e["event"], e["parameter"] = "ParameterUpdated", map[string]any{"name": strings.Repeat("n", 65), "value": "v"}
		},
		"fields.created not a timestamp": func(e map[string]any) { e["fields"] = map[string]any{"created": "soon"} },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			e := map[string]any{}
			for k, v := range base {
				e[k] = v
			}
			e["eventId"] = "bad-" + name
			mutate(e)
			body, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemas["task-event.schema.json"].Validate(readInstance(t, body)); err == nil {
				t.Errorf("the schema accepts an event with %s", name)
			}
			if r := f.call("POST", "/internal/v1/task-events", f.core, json.RawMessage(body)); r.status != 400 {
				t.Errorf("the handler answers %d to an event with %s, want 400: %s", r.status, name, r.body)
			}
		})
	}
	t.Run("empty batch", func(t *testing.T) {
		if err := schemas["task-events-request.schema.json"].Validate(readInstance(t, []byte("[]"))); err == nil {
			t.Errorf("the schema accepts an empty batch")
		}
		if r := f.call("POST", "/internal/v1/task-events", f.core, json.RawMessage("[]")); r.status != 400 {
			t.Errorf("the handler answers %d to an empty batch, want 400", r.status)
		}
	})
}

// TestContractCommandsFromHandler drives Update task, AddExternalTask and RemoveExternalTask
// through the binary with the core commands URL pointing at a sink, and validates every
// command that arrives against command.schema.json. Each example's fields must be fields the
// handler really sends for that type.
func TestContractCommandsFromHandler(t *testing.T) {
	schemas := compileContract(t)
	f := startTaskFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.ingest(f.ev("contract-call", 1, "WorkflowStarted", cc, "Audio", "Inbound"))
	// The task exists once its first event is applied; poll until Update task finds it.
	update := map[string]any{
		"customer":                map[string]any{"firstName": "Ada", "company": "Analytical Engines", "telNumbers": []map[string]string{{"name": "mobile", "value": "+41790001122"}}},
		"customContextParameters": []map[string]string{{"name": "crmId", "value": "42"}},
		"preferredUsers":          []map[string]any{{"upn": f.demo.Users.ServiceOwner, "priority": 1}},
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := f.call("PUT", "/v1/tasks/contract-call", f.owner, update)
		if r.status == 200 {
			break
		}
		if r.status != 404 || time.Now().After(deadline) {
			t.Fatalf("update task: %d %s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := f.call("POST", "/v1/ExternalTasks", f.owner, map[string]any{
		"serviceUpn": cc, "customerIdentifier": "ticket-981", "customer": map[string]string{"firstName": "Grace", "email": "grace@example.com"},
		"distributionPriority": "High", "customContextParameters": []map[string]string{{"name": "ticket", "value": "981"}},
		"preferredUsers": []map[string]any{{"upn": f.demo.Users.ServiceOwner, "priority": 5}},
	})
	var added struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &added); err != nil || r.status != 200 {
		t.Fatalf("add external task: %d %s", r.status, r.body)
	}
	if r := f.call("DELETE", "/v1/ExternalTasks/"+added.ID, f.owner, nil); r.status != 200 {
		t.Fatalf("remove external task: %d %s", r.status, r.body)
	}

	got := map[string]map[string]any{}
	for _, rec := range f.sink.wait("/core", 3, 10*time.Second) {
		if err := schemas["command.schema.json"].Validate(readInstance(t, rec.body)); err != nil {
			t.Errorf("command does not match command.schema.json: %v\n%s", err, rec.body)
		}
		var cmd map[string]any
		if err := json.Unmarshal(rec.body, &cmd); err != nil {
			t.Fatal(err)
		}
		got[cmd["type"].(string)] = cmd
	}
	for example, typ := range map[string]string{
		"command-task-updated.json": "TaskUpdated", "command-external-task-added.json": "ExternalTaskAdded", "command-external-task-removed.json": "ExternalTaskRemoved",
	} {
		sent, ok := got[typ]
		if !ok {
			t.Errorf("the handler sent no %s command; got %v", typ, slices.Collect(maps.Keys(got)))
			continue
		}
		var ex map[string]any
		if err := json.Unmarshal(readExample(t, example), &ex); err != nil {
			t.Fatal(err)
		}
		for _, path := range keyPaths("", ex) {
			if !hasKeyPath(sent, path) {
				t.Errorf("example %s has %s, which the handler's %s command does not carry", example, path, typ)
			}
		}
	}
}

// keyPaths lists the object keys of v down to nested objects (not into arrays), as a.b.c.
func keyPaths(prefix string, v map[string]any) []string {
	var out []string
	for k, x := range v {
		p := prefix + k
		out = append(out, p)
		if m, ok := x.(map[string]any); ok {
			out = append(out, keyPaths(p+".", m)...)
		}
	}
	return out
}

func hasKeyPath(v map[string]any, path string) bool {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		x, ok := v[p]
		if !ok {
			return false
		}
		if i < len(parts)-1 {
			if v, ok = x.(map[string]any); !ok {
				return false
			}
		}
	}
	return true
}
