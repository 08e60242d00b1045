package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Poster sends one notification attempt to a callback URL (handler/webhook).
type Poster interface {
	// Post makes one attempt; it never returns an error, the Attempt says what happened.
	Post(ctx context.Context, url, webhookID string, body []byte, secret string) nimbus.Attempt
	// Acquire reserves a slot for the URL's host without blocking; ok is false when that
	// host already has its maximum of requests in flight.
	Acquire(url string) (release func(), ok bool)
}

// Deliverer attempts deliveries and decides what each outcome means (SPEC 4.4).
type Deliverer struct {
	dir        *Directory
	subs       *Subscriptions
	deliveries nimbus.Queue
	failures   *Failures
	poster     Poster
	schedule   []time.Duration
	stats      *Stats
	now        func() time.Time
}

// NewDeliverer returns the delivery use case; an empty schedule selects the default one.
func NewDeliverer(dir *Directory, subs *Subscriptions, deliveries nimbus.Queue, failures *Failures, poster Poster, schedule []time.Duration, stats *Stats) *Deliverer {
	if len(schedule) == 0 {
		schedule = nimbus.DefaultRetrySchedule
	}
	return &Deliverer{dir: dir, subs: subs, deliveries: deliveries, failures: failures, poster: poster, schedule: schedule, stats: stats, now: time.Now}
}

// hostBusyDelay postpones a delivery whose callback host is at its concurrency cap, instead
// of holding a worker while it waits.
const hostBusyDelay = time.Second

// maxNotFound is how many 404 answers in a row make a subscription dead.
const maxNotFound = 3

// Deliver handles one message of the deliveries queue. Retries are new scheduled messages,
// so the handler returns quickly whatever the callback does; it returns an error only when
// storage or the queue fails, and then the queue hands the message out again.
func (d *Deliverer) Deliver(ctx context.Context, m nimbus.Message) error {
	var del Delivery
	if err := json.Unmarshal(m.Body, &del); err != nil {
		d.stats.Dropped("malformed delivery", "messageId", m.ID)
		return nil
	}
	sub, err := d.subs.Cached(ctx, del.TenantID, del.SubscriptionID)
	if errors.Is(err, nimbus.ErrNotFound) {
		d.stats.Count("deliveries dropped: subscription removed")
		return nil
	}
	if err != nil {
		return err
	}
	if sub.Status == nimbus.StatusDead {
		d.stats.Count("deliveries dropped: subscription dead")
		return nil
	}
	release, ok := d.poster.Acquire(sub.CallbackURL)
	if !ok {
		d.stats.Count("deliveries postponed: callback host busy")
		return d.requeue(ctx, del, fmt.Sprintf("%s~%d", deliveryMessageID(del.WebhookID, del.Attempt), d.now().UnixNano()), d.now().Add(hostBusyDelay))
	}
	secret := ""
	if x, err := d.dir.Index(ctx, del.TenantID); err == nil {
		secret = x.Settings().Signing.Active(d.now())
	} else if nimbus.KindOf(err) != nimbus.KindNotFound {
		release()
		return err
	}
	attempt := d.poster.Post(ctx, sub.CallbackURL, del.WebhookID, del.Payload, secret)
	release()
	return d.settle(ctx, sub, del, attempt)
}

// settle applies the outcome table to one attempt.
func (d *Deliverer) settle(ctx context.Context, sub nimbus.Subscription, del Delivery, a nimbus.Attempt) error {
	outcome := a.Classify()
	if a.Err == nimbus.AttemptRefused {
		outcome = nimbus.OutcomePermanent
	}
	switch outcome {
	case nimbus.OutcomeDelivered:
		d.stats.Count("delivered")
		if sub.NotFoundStreak > 0 {
			return d.subs.SetStatus(ctx, sub.TenantID, sub.ID, sub.Status, sub.StatusReason, 0)
		}
		return nil
	case nimbus.OutcomeGone:
		d.stats.Count("subscriptions dead: 410")
		return d.subs.SetStatus(ctx, sub.TenantID, sub.ID, nimbus.StatusDead, "the callback answered 410 Gone", 0)
	case nimbus.OutcomeNotFound:
		streak := sub.NotFoundStreak + 1
		if streak >= maxNotFound {
			d.stats.Count("subscriptions dead: 404")
			return d.subs.SetStatus(ctx, sub.TenantID, sub.ID, nimbus.StatusDead, fmt.Sprintf("the callback answered 404 Not Found %d times in a row", streak), streak)
		}
		if err := d.subs.SetStatus(ctx, sub.TenantID, sub.ID, sub.Status, sub.StatusReason, streak); err != nil {
			return err
		}
		return d.retry(ctx, del, a)
	case nimbus.OutcomeRetry:
		return d.retry(ctx, del, a)
	}
	d.stats.Count("dead letters: permanent failure")
	return d.failures.Record(ctx, del, a)
}

// retry schedules the next attempt, or records a dead letter when the schedule is used up.
func (d *Deliverer) retry(ctx context.Context, del Delivery, a nimbus.Attempt) error {
	delay, ok := nimbus.NextRetry(d.schedule, del.Attempt, a)
	if !ok {
		d.stats.Count("dead letters: retries exhausted")
		return d.failures.Record(ctx, del, a)
	}
	d.stats.Count("retries scheduled")
	next := del
	next.Attempt++
	return d.requeue(ctx, next, deliveryMessageID(del.WebhookID, next.Attempt), d.now().Add(delay))
}

func (d *Deliverer) requeue(ctx context.Context, del Delivery, id string, at time.Time) error {
	body, err := json.Marshal(del)
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	if err := d.deliveries.Send(ctx, nimbus.Message{ID: id, Body: body, NotBefore: at}); err != nil {
		return fmt.Errorf("schedule delivery: %w", err)
	}
	return nil
}
