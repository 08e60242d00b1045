package app

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestDeliveryCodecRoundTrip(t *testing.T) {
	payload := json.RawMessage(`{"taskId":"t-1","serviceId":"svc-1","text":"a \"quoted\" ,\"payload\": inside"}`)
	del := Delivery{TenantID: "ten", SubscriptionID: "sub", WebhookID: "msg_1", EventID: "e-1", Attempt: 2, Payload: payload,
		deliveryProgress: deliveryProgress{TaskID: "t-1", ServiceID: "svc-1", FirstAttempt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Step: 1}}
	m, err := del.message("id", "session", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(m.Body, append(append([]byte(`,"payload":`), payload...), '}')) {
		t.Fatalf("payload is not written last, as it is: %s", m.Body)
	}
	got, err := decodeDelivery(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Payload, payload) || got.TenantID != "ten" || got.Attempt != 2 || got.TaskID != "t-1" || !got.FirstAttempt.Equal(del.FirstAttempt) || got.Step != 1 {
		t.Fatalf("decoded %+v", got)
	}
	var std Delivery
	if err := json.Unmarshal(m.Body, &std); err != nil || !bytes.Equal(std.Payload, payload) {
		t.Fatalf("json.Unmarshal of the same body: %+v, %v", std, err)
	}
}

// Bodies written without the payload's length (older versions) or whose stated length does
// not match are decoded the ordinary way: a payload followed by other fields is never taken
// for the payload.
func TestDeliveryCodecOtherLayouts(t *testing.T) {
	cases := map[string]string{
		"payload not last":   `{"tenantId":"ten","subscriptionId":"sub","webhookId":"w","eventId":"e","attempt":1,"payload":{"a":1},"taskId":"t-1"}`,
		"no length":          `{"tenantId":"ten","subscriptionId":"sub","webhookId":"w","eventId":"e","attempt":1,"taskId":"t-1","payload":{"a":1}}`,
		"length not matched": `{"tenantId":"ten","subscriptionId":"sub","webhookId":"w","eventId":"e","attempt":1,"taskId":"t-1","payloadBytes":3,"payload":{"a":1}}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := decodeDelivery([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Payload) != `{"a":1}` || got.TaskID != "t-1" || got.WebhookID != "w" {
				t.Fatalf("decoded %+v (payload %s)", got, got.Payload)
			}
		})
	}
	if _, err := decodeDelivery([]byte(`{"tenantId":"ten","payloadBytes":5,"payload":{"a":1},"x":}`)); err == nil {
		t.Fatal("a malformed body was accepted")
	}
}

// BenchmarkDeliveryDecode is the decode of one delivery of a usual notification's size.
func BenchmarkDeliveryDecode(b *testing.B) {
	payload := json.RawMessage(`{"taskId":"t-1","serviceId":"svc-1","data":"` + string(bytes.Repeat([]byte("x"), 1300)) + `"}`)
	body, err := Delivery{TenantID: "ten", SubscriptionID: "sub", WebhookID: "msg_1", EventID: "e-1", Attempt: 1, Payload: payload}.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := decodeDelivery(body); err != nil {
			b.Fatal(err)
		}
	}
}
