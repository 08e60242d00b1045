package nimbus

import (
	"context"
	"time"
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
