package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Pipeline applies queued events to the task projection and fans them out: one delivery
// message per matching subscription.
type Pipeline struct {
	dir        *Directory
	subs       *Subscriptions
	tasks      taskStore
	deliveries nimbus.Queue
	stats      *Stats
	attempts   *AttemptLog // nil: the delivery log is off
	now        func() time.Time
	// Terminated, when set, is told about every external task core reports terminated, so
	// its open-task slot is freed.
	Terminated func(ctx context.Context, tenant, taskID string) error
}

// NewPipeline returns the fan-out use case.
func NewPipeline(dir *Directory, subs *Subscriptions, tasks nimbus.Table, deliveries nimbus.Queue, stats *Stats) *Pipeline {
	return &Pipeline{dir: dir, subs: subs, tasks: newTaskStore(tasks, dir), deliveries: deliveries, stats: stats, now: time.Now}
}

// Delivery is the body of a message on the deliveries queue: one notification for one
// subscription, and how many attempts it has had.
type Delivery struct {
	TenantID       string `json:"tenantId"`
	SubscriptionID string `json:"subscriptionId"`
	// WebhookID is the webhook-id header: the same for every retry of this delivery.
	WebhookID string          `json:"webhookId"`
	EventID   string          `json:"eventId"`
	Attempt   int             `json:"attempt"` // 1 for the first attempt
	Payload   json.RawMessage `json:"payload"`
	deliveryProgress
}

// ProcessEvent handles one message of the events queue. It is idempotent: the deliveries it
// queues carry ids derived from the event and the subscription, so a redelivered event
// queues no duplicates, and the projection is written last, so a crash before it repeats the
// whole step rather than losing the fan-out.
func (p *Pipeline) ProcessEvent(ctx context.Context, m nimbus.Message) error {
	var e nimbus.IngestEvent
	if err := json.Unmarshal(m.Body, &e); err != nil {
		p.stats.Dropped("", DropMalformed, "messageId", m.ID)
		return nil // cannot succeed on redelivery either
	}
	if err := e.Validate(""); err != nil {
		p.stats.Dropped("", DropInvalid, "messageId", m.ID, "err", err)
		return nil
	}
	x, err := p.dir.Index(ctx, e.TenantID)
	if nimbus.KindOf(err) == nimbus.KindNotFound {
		p.stats.Dropped("", DropUnknownTenant, "tenant", e.TenantID, "eventId", e.EventID)
		return nil
	}
	if err != nil {
		return err
	}
	svc, ok := x.ServiceByUPN(e.ServiceUPN)
	if !ok {
		p.stats.Dropped(x.TenantID(), DropUnknownService, "eventId", e.EventID, "serviceUpn", e.ServiceUPN)
		return nil
	}
	if !svc.WorkflowValid {
		p.stats.Dropped(x.TenantID(), DropWorkflowInvalid, "eventId", e.EventID, "service", svc.ID)
		return nil
	}

	st, err := p.tasks.get(ctx, e.TenantID, e.TaskID)
	if errors.Is(err, errTaskPurged) {
		p.stats.Dropped(x.TenantID(), DropTaskPurged, "eventId", e.EventID, "service", svc.ID)
		return nil
	}
	if err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return err
	}
	task := &st.task // a zero task when none is stored: Apply starts it
	switch task.Apply(&e, svc.ID, p.now().UTC()) {
	case nimbus.Stale:
		p.stats.Stale(x.TenantID(), "eventId", e.EventID, "service", svc.ID)
		return nil
	case nimbus.Applied:
		if err := p.fanOut(ctx, x, svc, task, &e, m.EnqueuedAt); err != nil {
			return err
		}
	case nimbus.AppliedSilent: // a repeated WorkflowStarted: applied, not delivered
	}
	if err := p.tasks.put(ctx, st); err != nil {
		return fmt.Errorf("store task %s: %w", e.TaskID, err)
	}
	if e.Event == nimbus.EventTerminated && task.Modality == nimbus.ModalityExternalTask && p.Terminated != nil {
		return p.Terminated(ctx, e.TenantID, e.TaskID)
	}
	return nil
}

// fanOut queues one delivery per active subscription of the service that matches the event,
// applying the tenant's revoked-access policy (SPEC 2.5).
func (p *Pipeline) fanOut(ctx context.Context, x *nimbus.Index, svc *nimbus.Service, task *nimbus.Task, e *nimbus.IngestEvent, accepted time.Time) error {
	subs, err := p.subs.ForService(ctx, x.TenantID(), svc.ID)
	if err != nil {
		return err
	}
	var msgs []nimbus.Message
	for i := range subs {
		sub := &subs[i]
		if sub.Kind != nimbus.KindTask || sub.Status == nimbus.StatusDead || !sub.Matches(string(e.Event), task.Modality, task.Direction) {
			continue
		}
		if chk, err := p.subs.RecheckOwner(ctx, x, sub, svc.ID); err != nil {
			return err
		} else if !chk.Deliver {
			p.withheld(sub, e, svc.ID, chk.Reason)
			continue
		}
		payload, err := json.Marshal(nimbus.NewTaskEventData(task, e, svc, sub.Legacy))
		if err != nil {
			return fmt.Errorf("encode notification: %w", err)
		}
		webhookID := webhookIDOf(e.EventID, sub.ID)
		body, err := json.Marshal(Delivery{TenantID: sub.TenantID, SubscriptionID: sub.ID, WebhookID: webhookID, EventID: e.EventID, Attempt: 1, Payload: payload, deliveryProgress: deliveryProgress{TaskID: e.TaskID, ServiceID: svc.ID, Accepted: accepted.UTC()}})
		if err != nil {
			return fmt.Errorf("encode delivery: %w", err)
		}
		msgs = append(msgs, nimbus.Message{ID: deliveryMessageID(webhookID, 1), SessionID: deliverySession(sub.TenantID, sub.ID, e.TaskID), Body: body})
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := p.deliveries.Send(ctx, msgs...); err != nil {
		return fmt.Errorf("queue deliveries: %w", err)
	}
	return nil
}

// webhookIDOf derives the webhook-id of the delivery of an event to a subscription: stable
// across retries and redeliveries, and short whatever the event id's length.
func webhookIDOf(eventID, subscriptionID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + subscriptionID))
	return "msg_" + hex.EncodeToString(sum[:16])
}

// deliveryMessageID is the queue message id of one attempt of a delivery, so a redelivered
// fan-out or retry step queues each attempt once (duplicate detection).
func deliveryMessageID(webhookID string, attempt int) string {
	return fmt.Sprintf("%s#%d", webhookID, attempt)
}
