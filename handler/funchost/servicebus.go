package funchost

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ServiceBusMessage is a Service Bus trigger's message as a custom handler sees it. The host
// settles the message itself (autoComplete): success completes it, a failed invocation
// abandons it, and the broker dead-letters it after the entity's MaxDeliveryCount. There is no
// lock token use, no manual settlement and no lock renewal from here.
type ServiceBusMessage struct {
	Body           []byte
	MessageID      string
	SessionID      string // empty on a non-session entity: the host omits null values
	CorrelationID  string
	ContentType    string
	Subject        string
	DeliveryCount  int
	SequenceNumber int64
	EnqueuedTime   time.Time // UTC, whole seconds: the host drops sub-second precision
	// ApplicationProperties holds the user properties; numbers are json.Number so that
	// 64-bit integers survive.
	ApplicationProperties map[string]any
}

// ServiceBusMessage decodes the message delivered on the trigger binding named binding (the
// "name" in function.json). It fails when the binding is missing or a metadata value that is
// present cannot be read; absent metadata leaves the field zero.
func (inv *Invocation) ServiceBusMessage(binding string) (ServiceBusMessage, error) {
	raw, ok := inv.data(binding)
	if !ok {
		return ServiceBusMessage{}, fmt.Errorf("service bus binding %q: missing from invocation data", binding)
	}
	body, err := messageBody(raw)
	if err != nil {
		return ServiceBusMessage{}, fmt.Errorf("service bus binding %q: %w", binding, err)
	}
	msg := ServiceBusMessage{Body: body}
	msg.MessageID, _ = inv.MetaString("MessageId")
	msg.SessionID, _ = inv.MetaString("SessionId")
	msg.CorrelationID, _ = inv.MetaString("CorrelationId")
	msg.ContentType, _ = inv.MetaString("ContentType")
	msg.Subject, ok = inv.MetaString("Subject")
	if !ok {
		msg.Subject, _ = inv.MetaString("Label") // the v4 extension's name for Subject
	}

	count, err := inv.strictInt("DeliveryCount")
	if err != nil {
		return ServiceBusMessage{}, fmt.Errorf("service bus binding %q: %w", binding, err)
	}
	msg.DeliveryCount = int(count)
	if msg.SequenceNumber, err = inv.strictInt("SequenceNumber"); err != nil {
		return ServiceBusMessage{}, fmt.Errorf("service bus binding %q: %w", binding, err)
	}
	// EnqueuedTimeUtc (no offset) and EnqueuedTime (with offset) are the same instant; the
	// v4 extension only sent the former.
	for _, key := range []string{"EnqueuedTimeUtc", "EnqueuedTime"} {
		if _, present := inv.meta(key); !present {
			continue
		}
		t, ok := inv.MetaTime(key)
		if !ok {
			return ServiceBusMessage{}, fmt.Errorf("service bus binding %q: metadata %s: not a time", binding, key)
		}
		msg.EnqueuedTime = t
		break
	}
	for _, key := range []string{"ApplicationProperties", "UserProperties"} {
		rawProps, present := inv.meta(key)
		if !present {
			continue
		}
		props, err := decodeProperties(rawProps)
		if err != nil {
			return ServiceBusMessage{}, fmt.Errorf("service bus binding %q: metadata %s: %w", binding, key, err)
		}
		msg.ApplicationProperties = props
		break
	}
	return msg, nil
}

// strictInt reads an integer metadata value; absent is zero, present but unreadable is an
// error, because a silently zero DeliveryCount would mislead retry decisions.
func (inv *Invocation) strictInt(key string) (int64, error) {
	if _, present := inv.meta(key); !present {
		return 0, nil
	}
	n, ok := inv.MetaInt(key)
	if !ok {
		return 0, fmt.Errorf("metadata %s: not an integer", key)
	}
	return n, nil
}

// messageBody recovers the message body bytes from the binding value. Hosts disagree on the
// encoding: the host code JSON-serializes a string input before embedding it (so a body can
// arrive double-encoded), captured payloads show JSON bodies single-encoded, "dataType":
// "binary" (or a byte[] input) gives base64, and newer hosts may embed a JSON body as an object.
// Our bodies are JSON, which makes the choice decidable:
//
//   - a non-string JSON value is the body itself;
//   - a string is unwrapped once, and once more if its content is again a JSON string literal;
//   - if the result is JSON, it is the body;
//   - else, if it is standard base64 whose decoding is JSON, the decoding is the body;
//   - else the text is returned as it is and the caller's decoding decides.
//
// The one ambiguity left: a body that is itself a bare JSON string literal loses its quotes
// when single-encoded. We never send such bodies.
func messageBody(raw json.RawMessage) ([]byte, error) {
	if raw[0] != '"' {
		if !json.Valid(raw) {
			return nil, errors.New("message body: invalid json")
		}
		return bytes.Clone(raw), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("message body: %w", err)
	}
	if inner, ok := unquoteJSONString(s); ok {
		s = inner
	}
	if json.Valid([]byte(s)) {
		return []byte(s), nil
	}
	if decoded, err := base64.StdEncoding.DecodeString(s); err == nil && json.Valid(decoded) {
		return decoded, nil
	}
	return []byte(s), nil
}

// decodeProperties decodes application properties, which the host embeds as an object (older
// hosts: a string holding the object).
func decodeProperties(raw json.RawMessage) (map[string]any, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("decode properties: %w", err)
		}
		raw = json.RawMessage(s)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var props map[string]any
	if err := dec.Decode(&props); err != nil {
		return nil, fmt.Errorf("decode properties: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode properties: trailing data")
	}
	if props == nil {
		props = map[string]any{}
	}
	return props, nil
}
