package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	// TranscriptMeta is the transcripts table: per service session, the content hash last
	// notified (transcripts_fanout.go). Transcript events need it.
	TranscriptMeta nimbus.Table
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

// ProcessEvent handles one message of the events queue: it decodes the envelope once,
// resolves its tenant and service with the rule ingest used, and hands it to its kind's
// apply step (fanout_kinds.go). It is idempotent: the deliveries it queues carry ids derived
// from the event and the subscription, so a redelivered event queues no duplicates, and the
// kind's state is written last, so a crash before it repeats the whole step rather than
// losing the fan-out.
func (p *Pipeline) ProcessEvent(ctx context.Context, m nimbus.Message) error {
	var env nimbus.Envelope
	if err := json.Unmarshal(m.Body, &env); err != nil {
		p.stats.Dropped("", DropMalformed, "messageId", m.ID)
		return nil // cannot succeed on redelivery either
	}
	kind, ok := eventKinds[env.Kind]
	if !ok {
		p.stats.Dropped("", DropInvalid, "messageId", m.ID, "kind", env.Kind)
		return nil
	}
	x, svc, reason, err := resolveService(ctx, p.dir, env.Tenant, env.Service)
	if err != nil {
		return err
	}
	if reason != "" {
		tenant := env.Tenant
		if x != nil {
			tenant = x.TenantID()
		}
		p.stats.Dropped(tenant, reason, "eventId", env.ID, "serviceUpn", env.Service)
		return nil
	}
	a, err := kind.apply(ctx, p, &env, svc)
	if err != nil || a == nil {
		return err
	}
	if a.deliver {
		if err := p.fanOut(ctx, x, svc, kind.subscription, &env, a, m.EnqueuedAt); err != nil {
			return err
		}
	}
	return a.commit(ctx)
}

// fanOut queues one delivery per active subscription of the kind and service that matches
// the event, applying the tenant's revoked-access policy (SPEC 2.5). Each payload variant is
// encoded once and shared by the deliveries that use it.
func (p *Pipeline) fanOut(ctx context.Context, x *nimbus.Index, svc *nimbus.Service, kind nimbus.SubscriptionKind, env *nimbus.Envelope, a *applied, accepted time.Time) error {
	subs, err := p.subs.ForService(ctx, x.TenantID(), svc.ID)
	if err != nil {
		return err
	}
	var msgs []nimbus.Message
	var payloads [2][]byte // by sub.Legacy
	for i := range subs {
		sub := &subs[i]
		if sub.Kind != kind || sub.Status == nimbus.StatusDead || !a.matches(sub) {
			continue
		}
		if chk, err := p.subs.RecheckOwner(ctx, x, sub, svc.ID); err != nil {
			return err
		} else if !chk.Deliver {
			p.withheld(sub, env.ID, env.EventName(), svc.ID, chk.Reason)
			continue
		}
		variant := 0
		if sub.Legacy {
			variant = 1
		}
		if payloads[variant] == nil {
			payload, err := json.Marshal(a.payload(sub.Legacy))
			if err != nil {
				return fmt.Errorf("encode notification: %w", err)
			}
			payloads[variant] = payload
		}
		webhookID := webhookIDOf(env.Tenant, env.ID, sub.ID)
		body, err := Delivery{TenantID: sub.TenantID, SubscriptionID: sub.ID, WebhookID: webhookID, EventID: env.ID, Attempt: 1, Payload: payloads[variant], deliveryProgress: deliveryProgress{TaskID: a.order, ServiceID: svc.ID, Accepted: accepted.UTC()}}.MarshalJSON()
		if err != nil {
			return fmt.Errorf("encode delivery: %w", err)
		}
		msgs = append(msgs, nimbus.Message{ID: deliveryMessageID(webhookID, 1), SessionID: deliverySession(sub.TenantID, sub.ID, a.order), Body: body})
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := p.deliveries.Send(ctx, msgs...); err != nil {
		return fmt.Errorf("queue deliveries: %w", err)
	}
	return nil
}

// webhookIDOf derives the webhook-id of the delivery of a tenant's event to a subscription:
// stable across retries and redeliveries, different for two tenants' events of the same id,
// and short whatever the event id's length.
func webhookIDOf(tenant, eventID, subscriptionID string) string {
	sum := sha256.Sum256([]byte(tenant + "\x00" + eventID + "\x00" + subscriptionID))
	return "msg_" + hex.EncodeToString(sum[:16])
}

// deliveryMessageID is the queue message id of one attempt of a delivery, so a redelivered
// fan-out or retry step queues each attempt once (duplicate detection).
func deliveryMessageID(webhookID string, attempt int) string {
	return fmt.Sprintf("%s#%d", webhookID, attempt)
}
