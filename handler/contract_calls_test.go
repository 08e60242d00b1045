package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// exampleMap decodes a contract example afresh, so each mutation starts from the original.
func exampleMap(t *testing.T, name string) map[string]any {
	t.Helper()
	v := map[string]any{}
	if err := json.Unmarshal(readExample(t, name), &v); err != nil {
		t.Fatalf("example %s: %v", name, err)
	}
	return v
}

// compileContractDef compiles one definition of a contract schema, such as
// transcript.schema.json#/$defs/sessionId, to check values the schema documents outside the
// body (path parameters).
func compileContractDef(t *testing.T, file, pointer string) *jsonschema.Schema {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(contractDir, file))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(abs + "#" + pointer)
	if err != nil {
		t.Fatalf("compile %s#%s: %v", file, pointer, err)
	}
	return s
}

// rejectedByBoth checks that the schema rejects body and that the handler answers it 400.
func rejectedByBoth(t *testing.T, f *flow, schema *jsonschema.Schema, method, path string, body map[string]any) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(readInstance(t, raw)); err == nil {
		t.Errorf("the schema accepts %.200s", raw)
	}
	if r := f.call(method, path, f.core, json.RawMessage(raw)); r.status != 400 {
		t.Errorf("the handler answers %d, want 400: %s", r.status, r.body)
	}
}

// TestContractAttemptsAndOutboundCommand drives scheduler entries through the binary: the
// OutboundCallRequested command core receives matches the schema and the example (same
// fields and values but the ids and times), the attempt examples are accepted (202) and
// applied, and attempt reports the schema rejects are rejected by the handler (400).
func TestContractAttemptsAndOutboundCommand(t *testing.T) {
	schemas := compileContract(t)
	f := startSchedulerFlow(t, schedulerEnv())
	cc := f.demo.Services.ContactCenter
	f.schedTrigger(f.owner, "/sched", []string{cc}, allSchedulerEvents)
	past := time.Now().Add(-time.Minute)

	// An entry made of the example command's call.
	ex := exampleMap(t, "command-outbound-call-requested.json")
	call := ex["outboundCall"].(map[string]any)
	e := f.schedule(f.owner, f.entryBody(past, map[string]any{
		"destination": call["destination"], "ReferenceId": call["referenceId"], "distributionPriority": call["distributionPriority"],
		"attemptTimeoutInSeconds": call["attemptTimeoutInSeconds"], "maxQueueTimeInSeconds": call["maxQueueTimeInSeconds"],
		"ronaTimeoutInSeconds": call["ronaTimeoutInSeconds"], "customCallContextParameters": call["customCallContextParameters"],
		"customer": call["customer"],
	}))
	f.waitCommands(e.ID, 1)
	var sent map[string]any
	for _, rec := range f.sink.at("/core") {
		var cmd map[string]any
		if json.Unmarshal(rec.body, &cmd) != nil || cmd["type"] != "OutboundCallRequested" {
			continue
		}
		if oc, ok := cmd["outboundCall"].(map[string]any); ok && oc["schedulerEntryId"] == e.ID {
			for _, s := range []string{"command.schema.json", "command-message.schema.json"} {
				if err := schemas[s].Validate(readInstance(t, rec.body)); err != nil {
					t.Errorf("OutboundCallRequested does not match %s: %v\n%s", s, err, rec.body)
				}
			}
			sent = cmd
		}
	}
	if sent == nil {
		t.Fatalf("no OutboundCallRequested for entry %s reached core", e.ID)
	}
	for _, path := range keyPaths("", ex) {
		if !hasKeyPath(sent, path) {
			t.Errorf("example command-outbound-call-requested.json has %s, which the handler's command does not carry", path)
		}
	}
	got := sent["outboundCall"].(map[string]any)
	delete(got, "schedulerEntryId")
	delete(call, "schedulerEntryId")
	if !reflect.DeepEqual(got, call) || sent["serviceUpn"] != ex["serviceUpn"] || sent["serviceId"] != ex["serviceId"] {
		t.Errorf("the handler's command differs from the example beyond ids and times:\n got %v\nwant %v", sent, ex)
	}

	// Reports the schema rejects are rejected by the handler, and change nothing.
	attempts := "/internal/v1/scheduler-entries/" + e.ID + "/attempts"
	mutations := map[string]func(b map[string]any){
		"no tenantId":              func(b map[string]any) { delete(b, "tenantId") },
		"tenantId not a GUID":      func(b map[string]any) { b["tenantId"] = "contoso" },
		"no attempt":               func(b map[string]any) { delete(b, "attempt") },
		"attempt 0":                func(b map[string]any) { b["attempt"] = 0 },
		"attempt 11":               func(b map[string]any) { b["attempt"] = 11 },
		"attempt a string":         func(b map[string]any) { b["attempt"] = "1" },
		"attempt a fraction":       func(b map[string]any) { b["attempt"] = 1.5 },
		"no outcome":               func(b map[string]any) { delete(b, "outcome") },
		"unknown outcome":          func(b map[string]any) { b["outcome"] = "Reached" },
		"reason too long":          func(b map[string]any) { b["reason"] = strings.Repeat("r", 65) },
		"taskId too long":          func(b map[string]any) { b["taskId"] = strings.Repeat("t", 129) },
		"taskId a number":          func(b map[string]any) { b["taskId"] = 42 },
		"no occurredAt":            func(b map[string]any) { delete(b, "occurredAt") },
		"occurredAt not RFC 3339":  func(b map[string]any) { b["occurredAt"] = "2026-11-26 10:02:41" },
		"occurredAt without zone":  func(b map[string]any) { b["occurredAt"] = "2026-11-26T10:02:41" },
		"body an array of reports": nil,
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			b := exampleMap(t, "scheduler-attempt.json")
			if mutate == nil {
				raw, _ := json.Marshal([]any{b})
				if schemas["scheduler-attempt.schema.json"].Validate(readInstance(t, raw)) == nil {
					t.Errorf("the schema accepts an array")
				}
				if r := f.call("POST", attempts, f.core, json.RawMessage(raw)); r.status != 400 {
					t.Errorf("the handler answers %d to an array, want 400: %s", r.status, r.body)
				}
				return
			}
			mutate(b)
			rejectedByBoth(t, f, schemas["scheduler-attempt.schema.json"], "POST", attempts, b)
		})
	}

	// The examples, as they are, are applied to entries whose first attempt is current.
	r := f.call("POST", attempts, f.core, json.RawMessage(readExample(t, "scheduler-attempt.json")))
	if r.status != 202 || strings.TrimSpace(string(r.body)) != `{"status":"accepted"}` {
		t.Fatalf("POST scheduler-attempt.json: %d %s, want 202", r.status, r.body)
	}
	f.waitEvents("/sched", e.ID, "Scheduled/1", "DueDateReached/1", "Handled/1/DestinationReached")
	for _, rec := range f.sink.at("/sched") {
		if field(rec, "schedulerEntryId") == e.ID && field(rec, "event") == "Handled" && field(rec, "unifiedConversationId") != "call-0201" {
			t.Errorf("Handled carries unifiedConversationId %q, want the reported taskId call-0201", field(rec, "unifiedConversationId"))
		}
	}

	other := f.schedule(f.owner, f.entryBody(past, nil))
	f.waitCommands(other.ID, 1)
	r = f.call("POST", "/internal/v1/scheduler-entries/"+other.ID+"/attempts", f.core, json.RawMessage(readExample(t, "scheduler-attempt-not-reached.json")))
	if r.status != 202 {
		t.Fatalf("POST scheduler-attempt-not-reached.json: %d %s, want 202", r.status, r.body)
	}
	f.waitEvents("/sched", other.ID, "Scheduled/1", "DueDateReached/1", "LimitReached/1/Busy")

	// A report for an entry the tenant does not have: 404, whatever the schema says of the body.
	if r := f.call("POST", "/internal/v1/scheduler-entries/no-such-entry/attempts", f.core, json.RawMessage(readExample(t, "scheduler-attempt.json"))); r.status != 404 {
		t.Errorf("report for an unknown entry: %d %s, want 404", r.status, r.body)
	}
}

// TestContractTranscriptAcceptedByHandler stores the transcript example for the demo's
// virtual-assistant service (202, the answer matches its schema, the transcript reads back),
// and checks that transcripts and session ids the schema rejects are rejected by the handler.
func TestContractTranscriptAcceptedByHandler(t *testing.T) {
	schemas := compileContract(t)
	f := startFlow(t, nil)
	body := readExample(t, "transcript.json")
	if !strings.Contains(string(body), f.demo.TenantID) || !strings.Contains(string(body), `"serviceUpn": "`+f.demo.Services.ContactCenter+`"`) {
		t.Fatalf("transcript.json must use the demo tenant %s and service %s", f.demo.TenantID, f.demo.Services.ContactCenter)
	}
	r := f.call("PUT", "/internal/v1/transcripts/service-session-0301", f.core, json.RawMessage(body))
	if r.status != 202 {
		t.Fatalf("PUT transcript.json: %d %s, want 202", r.status, r.body)
	}
	if err := schemas["transcript-response.schema.json"].Validate(readInstance(t, r.body)); err != nil {
		t.Errorf("answer does not match transcript-response.schema.json: %v\n%s", err, r.body)
	}
	if !strings.Contains(string(r.body), `"serviceSessionId":"service-session-0301"`) {
		t.Errorf("answer names another session: %s", r.body)
	}
	r = f.call("GET", "/v1/virtual-assistant/service-session-0301/transcriptionData/Transcript?userSessionId=user-session-0301", f.owner, nil)
	var view transcriptView
	if err := json.Unmarshal(r.body, &view); err != nil || r.status != 200 || len(view.Segments) != 4 || view.TaskID != "call-0301" || view.Segments[3].Text != "Thank you." {
		t.Errorf("the stored example reads back as %d %s", r.status, r.body)
	}
	if r := f.call("GET", "/v1/virtual-assistant/service-session-0301/transcriptionData/Summary", f.owner, nil); r.status != 200 || !strings.Contains(string(r.body), `"title":"Invoice charged twice"`) {
		t.Errorf("the example's summary reads back as %d %s", r.status, r.body)
	}

	segment := func(b map[string]any, i int) map[string]any { return b["segments"].([]any)[i].(map[string]any) }
	summary := func(b map[string]any) map[string]any { return b["summary"].(map[string]any) }
	mutations := map[string]func(b map[string]any){
		"no tenantId":              func(b map[string]any) { delete(b, "tenantId") },
		"tenantId not a GUID":      func(b map[string]any) { b["tenantId"] = "contoso" },
		"no taskId":                func(b map[string]any) { delete(b, "taskId") },
		"blank taskId":             func(b map[string]any) { b["taskId"] = "   " },
		"taskId too long":          func(b map[string]any) { b["taskId"] = strings.Repeat("t", 129) },
		"no serviceUpn":            func(b map[string]any) { delete(b, "serviceUpn") },
		"serviceUpn not a UPN":     func(b map[string]any) { b["serviceUpn"] = "contactcenter" },
		"userSessionId with slash": func(b map[string]any) { b["userSessionId"] = "user/0301" },
		"userSessionId .tmp-":      func(b map[string]any) { b["userSessionId"] = ".tmp-0301" },
		"userUpn not a UPN":        func(b map[string]any) { b["userUpn"] = "owner" },
		"language not a tag":       func(b map[string]any) { b["language"] = "english!" },
		"language too long":        func(b map[string]any) { b["language"] = "en-abcdefgh-abcdefgh-abcdefgh-abcdefgh" },
		"negative duration":        func(b map[string]any) { b["durationSeconds"] = -1 },
		"duration over 7 days":     func(b map[string]any) { b["durationSeconds"] = 604801 },
		"duration a string":        func(b map[string]any) { b["durationSeconds"] = "184" },
		"segments not an array":    func(b map[string]any) { b["segments"] = "hello" },
		"segment without speaker":  func(b map[string]any) { delete(segment(b, 0), "speaker") },
		"unknown speaker":          func(b map[string]any) { segment(b, 1)["speaker"] = "Bot" },
		"segment userUPN not UPN":  func(b map[string]any) { segment(b, 1)["userUPN"] = "owner" },
		"negative offsetMs":        func(b map[string]any) { segment(b, 2)["offsetMs"] = -1 },
		"fractional offsetMs":      func(b map[string]any) { segment(b, 2)["offsetMs"] = 1.5 },
		"negative durationMs":      func(b map[string]any) { segment(b, 3)["durationMs"] = -5 },
		"segment text too long":    func(b map[string]any) { segment(b, 0)["text"] = strings.Repeat("é", 32769) },
		"summary not an object":    func(b map[string]any) { b["summary"] = "refunded" },
		"summary title too long":   func(b map[string]any) { summary(b)["title"] = strings.Repeat("s", 262145) },
		"summary recap a number":   func(b map[string]any) { summary(b)["recap"] = 3 },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			b := exampleMap(t, "transcript.json")
			mutate(b)
			rejectedByBoth(t, f, schemas["transcript.schema.json"], "PUT", "/internal/v1/transcripts/service-session-bad", b)
		})
	}

	// The path's session id follows the schema's sessionId rules.
	sessionID := compileContractDef(t, "transcript.schema.json", "/$defs/sessionId")
	for _, c := range []struct{ raw, escaped string }{
		{".tmp-0301", ".tmp-0301"}, {"a#b", "a%23b"}, {"a?b", "a%3Fb"}, {`a\b`, "a%5Cb"}, {strings.Repeat("s", 129), strings.Repeat("s", 129)},
	} {
		if sessionID.Validate(c.raw) == nil {
			t.Errorf("the schema's sessionId accepts %q", c.raw)
		}
		if r := f.call("PUT", "/internal/v1/transcripts/"+c.escaped, f.core, json.RawMessage(body)); r.status != 400 {
			t.Errorf("the handler answers %d to session id %q, want 400: %s", r.status, c.raw, r.body)
		}
	}
	if err := sessionID.Validate("service-session-0301"); err != nil {
		t.Errorf("the schema's sessionId rejects the example's session: %v", err)
	}
}
