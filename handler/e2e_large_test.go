package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// worstCase returns n characters that grow the most when stored as JSON: characters that
// encoders escape (<, >, &, U+2028, control characters) and multi-byte UTF-8.
func worstCase(n int) string {
	const mix = "<>&\u2028\x01😀Ä"
	var b strings.Builder
	runes := []rune(mix)
	for i := range n {
		b.WriteRune(runes[i%len(runes)])
	}
	return b.String()
}

// A task may hold 50 parameters of 5,120 characters each plus customer fields at their
// limits: megabytes of JSON in the worst case, more than one storage row holds. All of it is
// stored and read back intact, on the embedded store and on Azure Table Storage; no "data
// must be at most N bytes" for values the field limits allow.
func TestEndToEndLargeTask(t *testing.T) {
	stores := map[string]func(t *testing.T) map[string]string{
		"Embedded": func(t *testing.T) map[string]string { return map[string]string{} },
		"Azure": func(t *testing.T) map[string]string {
			return map[string]string{"NIMBUS_STORAGE": azurite(t), "NIMBUS_DEV_AUTH": "true"}
		},
	}
	for name, env := range stores {
		t.Run(name, func(t *testing.T) {
			f := startTaskFlow(t, env(t))
			cc := f.demo.Services.ContactCenter
			task := fmt.Sprintf("large-%d", time.Now().UnixNano())
			want := map[string]string{}
			var events []map[string]any
			events = append(events, f.ev(task, 1, "WorkflowStarted", cc, "Audio", "Inbound"))
			for i := range nimbus.MaxTaskParameters {
				e := f.ev(task, i+2, "ParameterUpdated", cc, "Audio", "Inbound")
				name := fmt.Sprintf("p%02d-%s", i, strings.Repeat("n", nimbus.MaxParameterName-4))
				value := worstCase(nimbus.MaxParameterValue)
				e["parameter"] = map[string]string{"name": name, "value": value}
				want[name] = value
				events = append(events, e)
			}
			for start := 0; start < len(events); start += 10 { // ingest bodies stay under 1 MiB
				f.ingest(events[start:min(start+10, len(events))]...)
			}

			// Customer fields at their limits, replaced by a flow; the command that reports
			// them must still fit a queue message, so these use two-byte characters.
			fields := make([]map[string]string, nimbus.MaxCustomerFields)
			for i := range fields {
				fields[i] = map[string]string{"name": fmt.Sprintf("f%02d", i), "value": strings.Repeat("Ä", nimbus.MaxParameterValue)}
			}
			update := map[string]any{"customer": map[string]any{"customFields": fields, "company": worstCase(nimbus.MaxCustomerField)}}
			deadline := time.Now().Add(60 * time.Second)
			for {
				r := f.call("PUT", "/v1/tasks/"+task, f.owner, update)
				if r.status == 200 && countParams(t, r.body) == nimbus.MaxTaskParameters {
					break
				}
				if r.status != 200 && r.status != 404 {
					t.Fatalf("update task with its fields at their limits: %d %.300s", r.status, r.body)
				}
				if time.Now().After(deadline) {
					t.Fatalf("the task's %d parameters were never all stored: %d %.300s", nimbus.MaxTaskParameters, r.status, r.body)
				}
				time.Sleep(100 * time.Millisecond)
			}

			// Read everything back through storage: a small update answers the whole task.
			r := f.call("PUT", "/v1/tasks/"+task, f.owner, map[string]any{"customer": map[string]any{"firstName": "Ada"}})
			if r.status != 200 {
				t.Fatalf("small update of the large task: %d %.300s", r.status, r.body)
			}
			var got nimbus.TaskInformation
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if len(got.CustomContextParameters) != len(want) {
				t.Fatalf("read back %d parameters, want %d", len(got.CustomContextParameters), len(want))
			}
			for _, p := range got.CustomContextParameters {
				if want[p.Name] != p.Value {
					t.Errorf("parameter %s: read back %d characters that differ from the %d stored", p.Name, len([]rune(p.Value)), len([]rune(want[p.Name])))
				}
			}
			if len(got.Customer.CustomFields) != len(fields) || got.Customer.CustomFields[19].Value != fields[19]["value"] || got.Customer.Company != update["customer"].(map[string]any)["company"] || got.Customer.FirstName != "Ada" {
				t.Errorf("customer fields not read back intact")
			}
		})
	}
}

func countParams(t *testing.T, body []byte) int {
	var ti nimbus.TaskInformation
	if err := json.Unmarshal(body, &ti); err != nil {
		t.Fatalf("decode task information: %v", err)
	}
	return len(ti.CustomContextParameters)
}
