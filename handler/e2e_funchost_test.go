package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/funchost"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// invocation builds a Service Bus invocation from one of funchost's golden payloads, with
// the message body replaced and encoded the way that payload encodes it.
func invocation(t *testing.T, golden string, id, session string, body []byte) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("funchost/testdata/" + golden)
	if err != nil {
		t.Fatal(err)
	}
	var inv map[string]map[string]any
	if err := json.Unmarshal(raw, &inv); err != nil {
		t.Fatal(err)
	}
	var data string
	switch {
	case strings.Contains(golden, "double"):
		quoted, _ := json.Marshal(string(body))
		data = string(quoted)
	case strings.Contains(golden, "base64"):
		data = base64.StdEncoding.EncodeToString(body)
	default:
		data = string(body)
	}
	inv["Data"]["message"] = data
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	inv["Metadata"]["MessageId"] = q(id)
	inv["Metadata"]["DeliveryCount"] = "1"
	if session == "" {
		delete(inv["Metadata"], "SessionId")
	} else {
		inv["Metadata"]["SessionId"] = q(session)
	}
	return map[string]any{"Data": inv["Data"], "Metadata": inv["Metadata"]}
}

// Under the Functions host, the host invokes /ProcessEvents and /DeliverWebhooks with Service
// Bus messages in each of the encodings the host uses; the result is the same as in-process.
func TestFunctionsHostQueueInvocations(t *testing.T) {
	port := freePort(t)
	f := startFlow(t, map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": fmt.Sprint(port), "NIMBUS_DEV_AUTH": "true"})
	cc := f.demo.Services.ContactCenter
	sub := f.trigger(f.owner, "/fh", []string{cc}, []string{"InQueue"}, nil, nil)

	for i, golden := range []string{"servicebus_single.json", "servicebus_double.json", "servicebus_base64.json"} {
		ev := f.ev(fmt.Sprintf("fh-%d", i), 1, "InQueue", cc, "Audio", "Inbound")
		body, _ := json.Marshal(nimbus.Envelope{Kind: nimbus.EventKindTask, Tenant: f.demo.TenantID, Service: cc, ID: ev["eventId"].(string), Task: ingestEvent(t, ev)})
		r := f.call("POST", "/ProcessEvents", "", invocation(t, golden, ev["eventId"].(string), f.demo.TenantID+"/"+ev["taskId"].(string), body))
		if r.status != 200 {
			t.Fatalf("%s: invocation answered %d %s", golden, r.status, r.body)
		}
		got := f.sink.wait("/fh", i+1, 10*time.Second)
		if field(got[i], "taskId") != ev["taskId"] || field(got[i], "eventId") != ev["eventId"] {
			t.Errorf("%s: notification %s", golden, got[i].body)
		}
	}

	// A delivery message invoked directly: posted to the subscription's callback.
	payload := `{"taskId":"direct","event":"InQueue"}`
	del := fmt.Sprintf(`{"tenantId":%q,"subscriptionId":%q,"webhookId":"msg_direct","eventId":"direct","attempt":1,"payload":%s}`, f.demo.TenantID, sub, payload)
	r := f.call("POST", "/DeliverWebhooks", "", invocation(t, "servicebus_single.json", "msg_direct#1", "", []byte(del)))
	if r.status != 200 {
		t.Fatalf("DeliverWebhooks: %d %s", r.status, r.body)
	}
	got := f.sink.wait("/fh", 4, 10*time.Second)
	if got[3].header.Get("webhook-id") != "msg_direct" || string(got[3].body) != payload {
		t.Errorf("delivered %q with webhook-id %q", got[3].body, got[3].header.Get("webhook-id"))
	}
}

// A failing handler fails the invocation (non-2xx), so the host abandons the message and
// Service Bus redelivers it; it first waits, so an outage cannot use up the delivery count
// at once.
func TestQueueFunctionFailureIsNon2xx(t *testing.T) {
	host := funchost.NewHost(nil)
	calls := 0
	host.Handle("ProcessEvents", funchost.QueueFunction(func(_ context.Context, m nimbus.Message) error {
		calls++
		if m.ID != "m-1" || m.SessionID != "s-1" || string(m.Body) != `{"a":1}` {
			t.Errorf("message: %+v", m)
		}
		return nimbus.Unavailable("read task", errors.New("storage down"))
	}))
	srv := httptest.NewServer(host)
	defer srv.Close()
	body, _ := json.Marshal(invocation(t, "servicebus_double.json", "m-1", "s-1", []byte(`{"a":1}`)))
	began := time.Now()
	res, err := http.Post(srv.URL+"/ProcessEvents", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 == 2 || calls != 1 {
		t.Errorf("failed handler: status %d after %d calls, want non-2xx", res.StatusCode, calls)
	}
	if took := time.Since(began); took < funchost.AbandonBackoff(1) {
		t.Errorf("failed invocation returned after %v, want at least %v", took, funchost.AbandonBackoff(1))
	}
	if funchost.AbandonBackoff(50) != 30*time.Second || funchost.AbandonBackoff(2) != 400*time.Millisecond {
		t.Errorf("backoff: %v, %v", funchost.AbandonBackoff(2), funchost.AbandonBackoff(50))
	}
}

// ingestEvent converts an event built by flow.ev into its typed form.
func ingestEvent(t *testing.T, ev map[string]any) *nimbus.IngestEvent {
	t.Helper()
	raw, _ := json.Marshal(ev)
	var e nimbus.IngestEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}
