package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// deliveryProgress is the part of a Delivery that says where it goes and how far it got:
// what the deliverer needs to keep order, re-check access and keep the retry span.
type deliveryProgress struct {
	// TaskID picks the queue session: the deliveries of one task to one subscription are
	// handed out one at a time, in order.
	TaskID string `json:"taskId,omitempty"`
	// ServiceID is the service of the event: the subscription's owner must still have access
	// to it at every attempt (SPEC 2.5).
	ServiceID string `json:"serviceId,omitempty"`
	// FirstAttempt is when the first attempt was made: the delivery lives for the retry
	// schedule's span from then. Zero before the first attempt.
	FirstAttempt time.Time `json:"firstAttempt,omitzero"`
	// Step counts the retry schedule's delays used so far; a Retry-After uses none.
	Step int `json:"step,omitempty"`
	// PutOff counts how often the delivery was put off for lack of a free slot; it only
	// keeps the message ids of those put-offs apart.
	PutOff int `json:"putOff,omitempty"`
	// Accepted is when ingest queued the event, for the ingest-to-2xx latency. Zero for
	// deliveries queued without it (replays, older versions).
	Accepted time.Time `json:"accepted,omitzero"`
}

// deliverySession is the queue session of the deliveries of one task (or other subject) to
// one subscription: the queue hands them out one at a time, in the order they were sent. It
// is a digest, so it fits the session id's 128 bytes whatever the ids' lengths.
func deliverySession(tenant, subscriptionID, subject string) string {
	sum := sha256.Sum256([]byte(tenant + "\x00" + subscriptionID + "\x00" + subject))
	return "d_" + hex.EncodeToString(sum[:16])
}

// replaySession is the session of a replayed dead letter: that of its task when the payload
// names one, so that it queues behind the task's other deliveries, else its own.
func replaySession(r DeliveryFailure) string {
	var p payloadRef
	if err := json.Unmarshal(r.Payload, &p); err == nil && p.TaskID != "" {
		return deliverySession(r.TenantID, r.SubscriptionID, p.TaskID)
	}
	return deliverySession(r.TenantID, r.SubscriptionID, "webhook:"+r.WebhookID)
}

// payloadRef is what a notification payload says about its task and service: read only for
// deliveries queued without them (replays of dead letters, messages queued by an older
// version).
type payloadRef struct {
	TaskID    string `json:"taskId"`
	ServiceID string `json:"serviceId"`
}

// session returns the queue session of the delivery: the message's own when it has one.
func (del *Delivery) session(m nimbus.Message) string {
	if m.SessionID != "" {
		return m.SessionID
	}
	if del.TaskID == "" {
		return deliverySession(del.TenantID, del.SubscriptionID, "webhook:"+del.WebhookID)
	}
	return deliverySession(del.TenantID, del.SubscriptionID, del.TaskID)
}

// serviceID returns the service of the delivery's event, from the payload when the message
// does not carry it; "" when neither says.
func (del *Delivery) serviceID() string {
	if del.ServiceID == "" {
		var p payloadRef
		if json.Unmarshal(del.Payload, &p) == nil {
			del.ServiceID = p.ServiceID
		}
	}
	return del.ServiceID
}

// message encodes the delivery as the queue message id, in session, due at at (zero: now).
func (del *Delivery) message(id, session string, at time.Time) (nimbus.Message, error) {
	body, err := del.MarshalJSON() // json.Marshal would scan the payload again to compact it
	if err != nil {
		return nimbus.Message{}, fmt.Errorf("encode delivery: %w", err)
	}
	return nimbus.Message{ID: id, SessionID: session, Body: body, NotBefore: at}, nil
}

// putOffMessageID is the message id of the n-th put-off of an attempt: distinct from the
// attempt's own id, and the same if the same put-off is sent twice (after a crash).
func putOffMessageID(webhookID string, attempt, n int) string {
	return fmt.Sprintf("%s~%d", deliveryMessageID(webhookID, attempt), n)
}

// deliveryHead is a Delivery without its payload, in the order MarshalJSON writes it.
type deliveryHead struct {
	TenantID       string `json:"tenantId"`
	SubscriptionID string `json:"subscriptionId"`
	WebhookID      string `json:"webhookId"`
	EventID        string `json:"eventId"`
	Attempt        int    `json:"attempt"`
	deliveryProgress
	// PayloadBytes is the length of the payload that follows the head, so the decoder finds
	// it again without scanning it; 0 in bodies written by older versions.
	PayloadBytes int `json:"payloadBytes,omitempty"`
}

// payloadKey separates a delivery's head from its payload. It cannot occur inside the head:
// the head's values are numbers and strings, whose quotes are escaped.
var payloadKey = []byte(`,"payload":`)

// MarshalJSON writes the head, then the payload as it is, last. The payload is JSON the
// fan-out encoded once for all of an event's deliveries; copying it instead of re-encoding
// it, and finding it again in UnmarshalJSON by its length, keeps a notification's bytes from
// being scanned at every step.
func (d Delivery) MarshalJSON() ([]byte, error) {
	payload := d.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	head, err := json.Marshal(deliveryHead{d.TenantID, d.SubscriptionID, d.WebhookID, d.EventID, d.Attempt, d.deliveryProgress, len(payload)})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(payloadKey)+len(payload)+1)
	out = append(out, head[:len(head)-1]...)
	out = append(out, payloadKey...)
	out = append(out, payload...)
	return append(out, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON wrote by its layout: the head is decoded, and the
// payload, whose length the head states, is taken as it is. It was valid JSON when it was
// written (the fan-out encoded it, or it was already part of a delivery), and the queue
// returns bodies byte for byte. A body of another layout (an older version's, without the
// length) is decoded the ordinary way, validating the payload.
func (d *Delivery) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if i := bytes.Index(data, payloadKey); i > 0 && bytes.HasSuffix(data, []byte("}")) {
		head := append(data[:i:i], '}')
		var h deliveryHead
		if err := json.Unmarshal(head, &h); err == nil {
			payload := data[i+len(payloadKey) : len(data)-1]
			if (h.PayloadBytes > 0 && len(payload) == h.PayloadBytes) || (h.PayloadBytes == 0 && json.Valid(payload)) {
				*d = Delivery{TenantID: h.TenantID, SubscriptionID: h.SubscriptionID, WebhookID: h.WebhookID, EventID: h.EventID, Attempt: h.Attempt, Payload: bytes.Clone(bytes.TrimSpace(payload)), deliveryProgress: h.deliveryProgress}
				return nil
			}
		}
	}
	type plain Delivery // without these methods
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*d = Delivery(p)
	return nil
}

// decodeDelivery decodes a message of the deliveries queue. It calls UnmarshalJSON itself:
// json.Unmarshal would first validate the whole body, payload included.
func decodeDelivery(body []byte) (Delivery, error) {
	var del Delivery
	err := del.UnmarshalJSON(body)
	return del, err
}
