package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Failures keeps dead letters: deliveries that failed permanently or ran out of retries,
// with their payload, so admins can list and replay them.
//
// Storage: the deliveryfailures table, partition tenant, row "<unix nanos, hex>-<random>" so
// a partition lists oldest first.
type Failures struct {
	dir        *Directory
	table      nimbus.Table
	deliveries nimbus.Queue
	now        func() time.Time
}

// NewFailures returns the dead-letter store.
func NewFailures(dir *Directory, table nimbus.Table, deliveries nimbus.Queue) *Failures {
	return &Failures{dir: dir, table: table, deliveries: deliveries, now: time.Now}
}

// DeliveryFailure is one dead letter.
type DeliveryFailure struct {
	ID             string          `json:"id"`
	TenantID       string          `json:"tenantId"`
	SubscriptionID string          `json:"subscriptionId"`
	WebhookID      string          `json:"webhookId"`
	EventID        string          `json:"eventId"`
	Attempts       int             `json:"attempts"`
	LastStatus     int             `json:"lastStatus"`
	LastError      string          `json:"lastError,omitempty"`
	FailedAt       time.Time       `json:"failedAt"`
	Payload        json.RawMessage `json:"payload"`
}

func newFailureID(at time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x-%s", at.UnixNano(), hex.EncodeToString(b[:]))
}

// Record stores the delivery as a dead letter after attempt a.
func (f *Failures) Record(ctx context.Context, del Delivery, a nimbus.Attempt) error {
	now := f.now().UTC()
	rec := DeliveryFailure{
		ID: newFailureID(now), TenantID: del.TenantID, SubscriptionID: del.SubscriptionID, WebhookID: del.WebhookID,
		EventID: del.EventID, Attempts: del.Attempt, LastStatus: a.Status, LastError: a.Err, FailedAt: now, Payload: del.Payload,
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	if _, err := f.table.Insert(ctx, nimbus.Entity{PartitionKey: rec.TenantID, RowKey: rec.ID, Data: data}); err != nil {
		return fmt.Errorf("store dead letter: %w", err)
	}
	return nil
}

// FailureFilter selects dead letters; zero fields select everything.
type FailureFilter struct {
	TenantID       string
	IDs            []string
	SubscriptionID string
	Since, Until   time.Time
}

func (q FailureFilter) match(r DeliveryFailure) bool {
	switch {
	case len(q.IDs) > 0 && !slices.Contains(q.IDs, r.ID):
		return false
	case q.SubscriptionID != "" && r.SubscriptionID != q.SubscriptionID:
		return false
	case !q.Since.IsZero() && r.FailedAt.Before(q.Since):
		return false
	case !q.Until.IsZero() && !r.FailedAt.Before(q.Until):
		return false
	}
	return true
}

// List returns the tenant's dead letters that match the filter, oldest first.
func (f *Failures) List(ctx context.Context, caller nimbus.Caller, q FailureFilter) ([]DeliveryFailure, error) {
	if err := f.dir.authorizeAdmin(ctx, caller, q.TenantID); err != nil {
		return nil, err
	}
	return f.list(ctx, q)
}

func (f *Failures) list(ctx context.Context, q FailureFilter) ([]DeliveryFailure, error) {
	out := []DeliveryFailure{}
	err := eachRecord(ctx, f.table, q.TenantID, "", func(_ nimbus.Entity, r DeliveryFailure) error {
		if q.match(r) {
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

// Replay queues the matching dead letters again as fresh deliveries (same webhook-id, so a
// receiver can tell a replay from a new event) and removes them from the dead letters. It
// returns how many were replayed.
func (f *Failures) Replay(ctx context.Context, caller nimbus.Caller, q FailureFilter) (int, error) {
	if err := f.dir.authorizeAdmin(ctx, caller, q.TenantID); err != nil {
		return 0, err
	}
	if len(q.IDs) == 0 && q.SubscriptionID == "" && q.Since.IsZero() && q.Until.IsZero() {
		return 0, nimbus.Invalid("", "Say what to replay: ids, subscriptionId, or a time range (since, until).")
	}
	recs, err := f.list(ctx, q)
	if err != nil {
		return 0, err
	}
	replayed := 0
	for _, r := range recs {
		body, err := json.Marshal(Delivery{TenantID: r.TenantID, SubscriptionID: r.SubscriptionID, WebhookID: r.WebhookID, EventID: r.EventID, Attempt: 1, Payload: r.Payload})
		if err != nil {
			return replayed, fmt.Errorf("encode delivery: %w", err)
		}
		// The message id names the dead letter, so replaying it twice queues it once.
		msg := nimbus.Message{ID: nimbus.ScopedID(r.TenantID, "replay-"+r.ID), Body: body}
		if err := f.deliveries.Send(ctx, msg); err != nil {
			return replayed, fmt.Errorf("queue replay: %w", err)
		}
		if err := f.table.Delete(ctx, r.TenantID, r.ID, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
			return replayed, fmt.Errorf("remove replayed dead letter: %w", err)
		}
		replayed++
	}
	return replayed, nil
}
