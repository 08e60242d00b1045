package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// QueueFailures keeps the messages a queue gave up on, so admins see and replay them like
// delivery dead letters: messages dead-lettered on events or nimbus-commands (read from the
// queue's dead-letter sub-queue by the EventsDeadLetters and CommandsDeadLetters functions),
// and commands the outbox could not queue at all.
//
// Storage: the queuefailures table, partition tenant, row "<unix nanos, hex>-<random>", so a
// partition lists oldest first.
type QueueFailures struct {
	dir    *Directory
	table  nimbus.Table
	queues nimbus.Queues
	claims *Claims
	log    *slog.Logger
	now    func() time.Time
}

// NewQueueFailures returns the queue dead-letter store; replays are sent through queues.
func NewQueueFailures(dir *Directory, table nimbus.Table, queues nimbus.Queues, claims *Claims, log *slog.Logger) *QueueFailures {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &QueueFailures{dir: dir, table: table, queues: queues, claims: claims, log: log, now: time.Now}
}

// QueueFailure is one message a queue gave up on.
type QueueFailure struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenantId"`
	Queue     string    `json:"queue"`
	MessageID string    `json:"messageId"`
	SessionID string    `json:"sessionId,omitempty"`
	Reason    string    `json:"reason"`
	FailedAt  time.Time `json:"failedAt"`
	// Body is the message as it was queued: an event envelope, a command, or a claim
	// reference to one ({"claimCheck":…}), kept until the message is replayed.
	Body json.RawMessage `json:"body"`
}

// RecordDeadLetters is the consumer of a queue's dead-letter sub-queue: each message is
// stored as a failure of queue (the queue it was dead-lettered on). A message that names no
// tenant cannot be shown to anyone and is logged instead.
func (f *QueueFailures) RecordDeadLetters(queue string) nimbus.Handler {
	return func(ctx context.Context, m nimbus.Message) error {
		return f.record(ctx, QueueFailure{
			Queue: queue, MessageID: m.ID, SessionID: m.SessionID,
			Reason: "the queue dead-lettered the message after repeated failures", Body: m.Body,
		})
	}
}

// RecordUnsendable stores a command the outbox could not queue (err says why); it is not
// retried until an admin replays it.
func (f *QueueFailures) RecordUnsendable(ctx context.Context, cmd nimbus.Command, body []byte, err error) error {
	return f.record(ctx, QueueFailure{
		TenantID: cmd.TenantID, Queue: nimbus.QueueCommands, MessageID: commandKey(cmd),
		Reason: "the command could not be queued: " + err.Error(), Body: body,
	})
}

func (f *QueueFailures) record(ctx context.Context, r QueueFailure) error {
	ref, claimed := ParseRef(r.Body)
	switch {
	case claimed:
		r.TenantID = ref.Claim.TenantID
	case r.TenantID == "":
		r.TenantID, _ = tenantOf(r.Body)
	}
	if r.TenantID == "" || !json.Valid(r.Body) {
		f.log.ErrorContext(ctx, "dead-lettered message names no tenant; dropped", "queue", r.Queue, "messageId", r.MessageID)
		return nil
	}
	if claimed {
		if err := f.claims.Keep(ctx, ref.Claim.TenantID, ref.Claim.ID); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
			return err
		}
	}
	r.FailedAt = f.now().UTC()
	r.ID = newFailureID(r.FailedAt)
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode queue failure: %w", err)
	}
	if _, err := f.table.Insert(ctx, nimbus.Entity{PartitionKey: r.TenantID, RowKey: r.ID, Data: data}); err != nil {
		return fmt.Errorf("store queue failure: %w", err)
	}
	f.log.WarnContext(ctx, "queue message dead-lettered", "tenant", r.TenantID, "queue", r.Queue, "messageId", r.MessageID, "failureId", r.ID)
	return nil
}

// QueueFailureFilter selects queue failures; zero fields select everything.
type QueueFailureFilter struct {
	TenantID     string
	IDs          []string
	Queue        string
	Since, Until time.Time
}

func (q QueueFailureFilter) match(r QueueFailure) bool {
	return inFailureWindow(q.IDs, q.Since, q.Until, r.ID, r.FailedAt) && (q.Queue == "" || r.Queue == q.Queue)
}

// List returns the tenant's queue failures that match the filter, oldest first.
func (f *QueueFailures) List(ctx context.Context, caller nimbus.Caller, q QueueFailureFilter) ([]QueueFailure, error) {
	if err := f.dir.authorizeAdmin(ctx, caller, q.TenantID); err != nil {
		return nil, err
	}
	return f.list(ctx, q)
}

func (f *QueueFailures) list(ctx context.Context, q QueueFailureFilter) ([]QueueFailure, error) {
	out, err := listFailures(ctx, f.table, q.TenantID, q.match)
	if err != nil {
		return nil, fmt.Errorf("list queue failures: %w", err)
	}
	return out, nil
}

// Replay queues the matching failures again on their queue (same session, so a task's
// events stay in order among themselves) and removes them from the list. It returns how many
// were replayed; a message that fails again comes back as a new failure.
func (f *QueueFailures) Replay(ctx context.Context, caller nimbus.Caller, q QueueFailureFilter) (int, error) {
	if err := f.dir.authorizeAdmin(ctx, caller, q.TenantID); err != nil {
		return 0, err
	}
	if len(q.IDs) == 0 && q.Queue == "" && q.Since.IsZero() && q.Until.IsZero() {
		return 0, nimbus.Invalid("", "Say what to replay: ids, queue, or a time range (since, until).")
	}
	recs, err := f.list(ctx, q)
	if err != nil {
		return 0, err
	}
	key := func(r QueueFailure) (string, string) { return r.TenantID, r.ID }
	return replayFailures(ctx, f.table, recs, key, func(r QueueFailure) error {
		msg := nimbus.Message{ID: nimbus.ScopedID(r.TenantID, "replay-"+r.ID), SessionID: r.SessionID, Body: r.Body}
		if err := f.queues.Queue(r.Queue).Send(ctx, msg); err != nil {
			return fmt.Errorf("queue replay of %s: %w", r.ID, err)
		}
		return nil
	})
}
