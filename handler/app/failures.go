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
	return inFailureWindow(q.IDs, q.Since, q.Until, r.ID, r.FailedAt) &&
		(q.SubscriptionID == "" || r.SubscriptionID == q.SubscriptionID)
}

// inFailureWindow is the selection that dead letters and queue failures share: by id when
// ids are given, and by the time of failure within [since, until) when those are set.
func inFailureWindow(ids []string, since, until time.Time, id string, failedAt time.Time) bool {
	switch {
	case len(ids) > 0 && !slices.Contains(ids, id):
		return false
	case !since.IsZero() && failedAt.Before(since):
		return false
	case !until.IsZero() && !failedAt.Before(until):
		return false
	}
	return true
}

// listFailures returns the tenant's failure records of type R that match, oldest first (row
// keys start with the time of failure).
func listFailures[R any](ctx context.Context, table nimbus.Table, tenant string, match func(R) bool) ([]R, error) {
	out := []R{}
	err := eachRecord(ctx, table, tenant, "", func(_ nimbus.Entity, r R) error {
		if match(r) {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// replayFailures sends each record again with send, then removes it from the table; it
// returns how many were replayed. The message a record is sent as must name the record, so a
// replay repeated after a crash between the two steps queues it once.
func replayFailures[R any](ctx context.Context, table nimbus.Table, recs []R, key func(R) (tenant, id string), send func(R) error) (int, error) {
	replayed := 0
	for _, r := range recs {
		if err := send(r); err != nil {
			return replayed, err
		}
		tenant, id := key(r)
		if err := table.Delete(ctx, tenant, id, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
			return replayed, fmt.Errorf("remove replayed failure %s: %w", id, err)
		}
		replayed++
	}
	return replayed, nil
}

// List returns the tenant's dead letters that match the filter, oldest first.
func (f *Failures) List(ctx context.Context, caller nimbus.Caller, q FailureFilter) ([]DeliveryFailure, error) {
	if err := f.dir.authorizeAdmin(ctx, caller, q.TenantID); err != nil {
		return nil, err
	}
	return f.list(ctx, q)
}

func (f *Failures) list(ctx context.Context, q FailureFilter) ([]DeliveryFailure, error) {
	out, err := listFailures(ctx, f.table, q.TenantID, q.match)
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
	key := func(r DeliveryFailure) (string, string) { return r.TenantID, r.ID }
	return replayFailures(ctx, f.table, recs, key, func(r DeliveryFailure) error {
		body, err := json.Marshal(Delivery{TenantID: r.TenantID, SubscriptionID: r.SubscriptionID, WebhookID: r.WebhookID, EventID: r.EventID, Attempt: 1, Payload: r.Payload})
		if err != nil {
			return fmt.Errorf("encode delivery: %w", err)
		}
		msg := nimbus.Message{ID: nimbus.ScopedID(r.TenantID, "replay-"+r.ID), SessionID: replaySession(r), Body: body}
		if err := f.deliveries.Send(ctx, msg); err != nil {
			return fmt.Errorf("queue replay: %w", err)
		}
		return nil
	})
}
