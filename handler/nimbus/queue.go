package nimbus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Queue names (ARCHITECTURE.md, data flow).
const (
	QueueEvents     = "events"          // task and lifecycle events, session = tenant/task
	QueueDeliveries = "deliveries"      // one message per (event, subscription)
	QueueCommands   = "nimbus-commands" // commands to Nimbus core
	QueueScheduler  = "scheduler"       // scheduler entries, scheduled for their due time
)

// Message is one queue message.
type Message struct {
	// ID identifies the message; a second Send of an ID the queue has seen within its
	// duplicate-detection window is ignored (Service Bus duplicate detection).
	ID string
	// SessionID groups messages that must be handled one at a time, in Send order (Service
	// Bus sessions). Empty: no ordering.
	SessionID string
	Body      []byte
	// NotBefore schedules the message; zero means at once.
	NotBefore time.Time

	// Set by the queue when it hands the message to a handler.
	DeliveryCount int // 1 on the first delivery
	EnqueuedAt    time.Time
}

// Queue accepts messages. Implementations are safe for concurrent use.
type Queue interface {
	// Send stores msgs durably, all of them or none, before it returns nil. Errors are
	// KindUnavailable when the queue cannot be reached, KindInvalid for a malformed message.
	Send(ctx context.Context, msgs ...Message) error
}

// Queues opens the named queues (the Queue* constants).
type Queues interface {
	Queue(name string) Queue
}

// Handler processes one message. Returning nil completes the message. Returning an error
// abandons it: the queue hands it out again later with DeliveryCount+1, and dead-letters it
// after its maximum delivery count. A handler must be idempotent: delivery is at least once.
type Handler func(ctx context.Context, m Message) error

// Limits of a Message, the same for every Queue implementation. They are Service Bus's:
// MessageId and SessionId hold at most 128 characters (counted here in bytes, which is
// stricter), and a Standard-tier message holds 256 KiB.
const (
	MaxMessageID   = 128
	MaxMessageBody = 256 << 10
)

// MaxInlineBody is the largest body the app puts on a queue as it is; a larger one is stored
// first and the message carries a claim reference (SPEC 4.4 "Size"). The margin below
// MaxMessageBody leaves room for the message's own properties on Service Bus.
const MaxInlineBody = 240 << 10

// MaxClaimBody bounds a body stored as a claim: far above anything the pipeline builds (the
// largest task information is about 1 MiB even in multi-byte text), and within what one
// storage batch transaction carries.
const MaxClaimBody = 2 << 20

// ClaimRef is the body of a message whose real body was stored first (claim check):
// {"claimCheck":{"tenantId":"…","id":"…","bytes":368640}}. The claim lives in the claims
// table under the tenant; consumers resolve it before handling the message.
type ClaimRef struct {
	Claim struct {
		TenantID string `json:"tenantId"`
		ID       string `json:"id"`
		Bytes    int    `json:"bytes"`
	} `json:"claimCheck"`
}

// DeadLetterQueue names the dead-letter sub-queue of a queue, as Service Bus does: messages
// dead-lettered on name are found there, and a consumer of that path sees each once.
func DeadLetterQueue(name string) string { return name + DeadLetterSuffix }

// DeadLetterSuffix ends the name of every dead-letter sub-queue.
const DeadLetterSuffix = "/$deadletterqueue"

// CheckMessages validates the messages of one Send. Every Queue implementation calls it
// before touching its backend, so all of them refuse the same inputs with the same errors.
func CheckMessages(msgs []Message) error {
	for i, m := range msgs {
		at := fmt.Sprintf("msgs[%d]", i)
		switch {
		case m.ID == "":
			return Invalid(at+".id", "%s.id is required", at)
		case len(m.ID) > MaxMessageID || !utf8.ValidString(m.ID):
			return Invalid(at+".id", "%s.id must be valid UTF-8 of at most %d bytes", at, MaxMessageID)
		case len(m.SessionID) > MaxMessageID || !utf8.ValidString(m.SessionID):
			return Invalid(at+".sessionId", "%s.sessionId must be valid UTF-8 of at most %d bytes", at, MaxMessageID)
		case len(m.Body) > MaxMessageBody:
			return Invalid(at+".body", "%s.body must be at most %d bytes, got %d", at, MaxMessageBody, len(m.Body))
		}
	}
	return nil
}

// ScopedID is the queue message id or session id of id, an id chosen by a tenant or its
// client (event id, task id, command id, ...): "<tenant>/<id>", so two tenants that use the
// same id never meet in duplicate detection or in a session. When that would exceed
// MaxMessageID bytes, or id starts with "#", id is replaced by its SHA-256 ("<tenant>/#<hex>"),
// and with a tenant too long even for that, the pair is ("#<hex>"). The result is
// deterministic, so a retried send keeps its id.
func ScopedID(tenant, id string) string {
	if s := tenant + "/" + id; len(s) <= MaxMessageID && !strings.HasPrefix(id, "#") {
		return s
	}
	sum := sha256.Sum256([]byte(id))
	if s := tenant + "/#" + hex.EncodeToString(sum[:]); len(s) <= MaxMessageID {
		return s
	}
	sum = sha256.Sum256([]byte(tenant + "\x00" + id))
	return "#" + hex.EncodeToString(sum[:])
}
