package app

import (
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
	body, err := json.Marshal(del)
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
