package funchost

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

const goldenEventBody = `{"eventId":"evt-0042","tenantId":"contoso","taskId":"task-123","type":"TaskAssigned","sequence":42}`

func TestServiceBusMessageGolden(t *testing.T) {
	props := map[string]any{
		"eventType":      "TaskAssigned",
		"schemaVersion":  json.Number("2"),
		"tenantSequence": json.Number("9007199254740993"),
	}
	want := ServiceBusMessage{
		Body:                  []byte(goldenEventBody),
		MessageID:             "evt-0042",
		SessionID:             "contoso/task-123",
		CorrelationID:         "corr-7f3a",
		ContentType:           "application/json",
		Subject:               "TaskAssigned",
		DeliveryCount:         1,
		SequenceNumber:        1234567,
		EnqueuedTime:          time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		ApplicationProperties: props,
	}
	base64Want := want
	base64Want.DeliveryCount = 3

	tests := []struct {
		file string
		want ServiceBusMessage
	}{
		{file: "servicebus_single.json", want: want},
		{file: "servicebus_double.json", want: want},
		{file: "servicebus_base64.json", want: base64Want},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			inv := goldenInvocation(t, tt.file, "ProcessEvents")
			got, err := inv.ServiceBusMessage("message")
			if err != nil {
				t.Fatalf("ServiceBusMessage: %v", err)
			}
			if string(got.Body) != string(tt.want.Body) {
				t.Errorf("Body: got %s, want %s", got.Body, tt.want.Body)
			}
			checks := []struct {
				field     string
				got, want any
			}{
				{"MessageID", got.MessageID, tt.want.MessageID},
				{"SessionID", got.SessionID, tt.want.SessionID},
				{"CorrelationID", got.CorrelationID, tt.want.CorrelationID},
				{"ContentType", got.ContentType, tt.want.ContentType},
				{"Subject", got.Subject, tt.want.Subject},
				{"DeliveryCount", got.DeliveryCount, tt.want.DeliveryCount},
				{"SequenceNumber", got.SequenceNumber, tt.want.SequenceNumber},
				{"ApplicationProperties", got.ApplicationProperties, tt.want.ApplicationProperties},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: got %#v, want %#v", c.field, c.got, c.want)
				}
			}
			if !got.EnqueuedTime.Equal(tt.want.EnqueuedTime) || got.EnqueuedTime.Location() != time.UTC {
				t.Errorf("EnqueuedTime: got %v, want %v", got.EnqueuedTime, tt.want.EnqueuedTime)
			}
			var event map[string]any
			if err := json.Unmarshal(got.Body, &event); err != nil {
				t.Errorf("Body is not JSON: %v", err)
			}
		})
	}
}

func TestMessageBody(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    string
		wantErr bool
	}{
		{name: "single-encoded object", raw: `"{\"a\":1}"`, want: `{"a":1}`},
		{name: "double-encoded object", raw: `"\"{\\\"a\\\":1}\""`, want: `{"a":1}`},
		{name: "base64 of json", raw: `"eyJhIjoxfQ=="`, want: `{"a":1}`},
		{name: "raw object", raw: `{"a": 1}`, want: `{"a": 1}`},
		{name: "raw array", raw: `[1,2]`, want: `[1,2]`},
		{name: "json number stays json", raw: `"1234"`, want: `1234`},
		{name: "base64 of non-json stays text", raw: `"dGVzdA=="`, want: `dGVzdA==`},
		{name: "base64-looking word stays text", raw: `"test"`, want: `test`},
		{name: "plain text", raw: `"hello world"`, want: `hello world`},
		{name: "empty string", raw: `""`, want: ``},
		{name: "invalid json string", raw: `"unterminated`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := messageBody(json.RawMessage(tt.raw))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServiceBusMessageVariants(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		wantErr string
		check   func(t *testing.T, m ServiceBusMessage)
	}{
		{
			name:    "missing binding",
			payload: `{"Data":{"other":"{}"},"Metadata":{}}`,
			wantErr: `service bus binding "message": missing`,
		},
		{
			name:    "null binding",
			payload: `{"Data":{"message":null},"Metadata":{}}`,
			wantErr: "missing",
		},
		{
			name:    "unreadable delivery count",
			payload: `{"Data":{"message":"{}"},"Metadata":{"DeliveryCount":"\"many\""}}`,
			wantErr: "DeliveryCount",
		},
		{
			name:    "unreadable enqueued time",
			payload: `{"Data":{"message":"{}"},"Metadata":{"EnqueuedTimeUtc":"yesterday"}}`,
			wantErr: "EnqueuedTimeUtc",
		},
		{
			name:    "unreadable properties",
			payload: `{"Data":{"message":"{}"},"Metadata":{"ApplicationProperties":[1]}}`,
			wantErr: "ApplicationProperties",
		},
		{
			name: "no session, legacy keys, string-encoded properties",
			payload: `{"Data":{"message":"{}"},"Metadata":{"Label":"\"legacy\"",
				"EnqueuedTime":"2025-03-14T10:26:53+01:00","UserProperties":"{\"k\":\"v\"}"}}`,
			check: func(t *testing.T, m ServiceBusMessage) {
				if m.SessionID != "" || m.MessageID != "" || m.DeliveryCount != 0 {
					t.Errorf("got session %q id %q count %d, want zero values", m.SessionID, m.MessageID, m.DeliveryCount)
				}
				if m.Subject != "legacy" {
					t.Errorf("Subject: got %q, want legacy", m.Subject)
				}
				if want := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC); !m.EnqueuedTime.Equal(want) {
					t.Errorf("EnqueuedTime: got %v, want %v", m.EnqueuedTime, want)
				}
				if want := map[string]any{"k": "v"}; !reflect.DeepEqual(m.ApplicationProperties, want) {
					t.Errorf("ApplicationProperties: got %v, want %v", m.ApplicationProperties, want)
				}
			},
		},
		{
			name:    "newer host passes the body as an object",
			payload: `{"Data":{"message":{"a":[1,2]}},"Metadata":{"ApplicationProperties":{}}}`,
			check: func(t *testing.T, m ServiceBusMessage) {
				if string(m.Body) != `{"a":[1,2]}` {
					t.Errorf("Body: got %s, want {\"a\":[1,2]}", m.Body)
				}
				if m.ApplicationProperties == nil || len(m.ApplicationProperties) != 0 {
					t.Errorf("ApplicationProperties: got %#v, want empty map", m.ApplicationProperties)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := ParseInvocation("ProcessEvents", "", []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			got, err := inv.ServiceBusMessage("message")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			tt.check(t, got)
		})
	}
}
