package app

import (
	"context"
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

// SlowAcquirer is a Poster that keeps part of each host's slots away from subscriptions
// being slowed down (webhook.Client); a Poster without it gives every attempt the same
// Acquire.
type SlowAcquirer interface {
	// AcquireSlow is Acquire for an attempt of a subscription whose attempts keep timing out.
	AcquireSlow(url string) (release func(), ok bool)
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
	slots      *slots
	lines      *lines
	attempts   *AttemptLog // nil: the delivery log is off
}

// NewDeliverer returns the delivery use case with DefaultMaxPerSubscription; an empty
// schedule selects the default one.
func NewDeliverer(dir *Directory, subs *Subscriptions, deliveries nimbus.Queue, failures *Failures, poster Poster, schedule []time.Duration, stats *Stats) *Deliverer {
	if len(schedule) == 0 {
		schedule = nimbus.DefaultRetrySchedule
	}
	d := &Deliverer{dir: dir, subs: subs, deliveries: deliveries, failures: failures, poster: poster, schedule: schedule, stats: stats, now: time.Now, lines: newLines()}
	d.SetMaxPerSubscription(DefaultMaxPerSubscription)
	return d
}

// SetMaxPerSubscription sets how many attempts of one subscription may be in flight at once
// (NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION); n < 1 selects DefaultMaxPerSubscription. Call it
// before the first delivery.
func (d *Deliverer) SetMaxPerSubscription(n int) {
	if n < 1 {
		n = DefaultMaxPerSubscription
	}
	d.slots = newSlots(n, defaultSlotWait, func() time.Time { return d.now() })
}

// hostBusyDelay puts off a delivery whose callback host is at its concurrency cap, instead
// of holding a worker while it waits.
const hostBusyDelay = time.Second

// maxNotFound is how many 404 answers in a row make a subscription dead.
const maxNotFound = 3

// Deliver handles one message of the deliveries queue. Retries and put-offs are new
// scheduled messages, so the handler returns quickly whatever the callback does; it returns
// an error only when storage or the queue fails, and then the queue hands the message out
// again.
//
// Before every attempt, first or retry, the owner's access is re-checked (SPEC 2.5). An
// attempt needs a slot of its subscription (see slots) and of its callback host; without
// one the delivery is put off, keeping its place in its session's line (see lines).
func (d *Deliverer) Deliver(ctx context.Context, m nimbus.Message) error {
	del, err := decodeDelivery(m.Body)
	if err != nil {
		d.dropped(&del, "malformed delivery", true)
		return nil
	}
	session := del.session(m)
	if del.PutOff > 0 {
		d.slots.back(slotKeyOf(del.TenantID, del.SubscriptionID))
	}
	sub, x, ok, err := d.target(ctx, &del)
	if err != nil || !ok {
		if err == nil {
			d.lines.leave(session, del.WebhookID)
		}
		return err
	}
	now := d.now()
	if !d.lines.turn(session, del.WebhookID, now) {
		return d.putOff(ctx, &del, session, d.behind(session, del.WebhookID, now), "behind an earlier one of the task")
	}
	sl, wait := d.slots.acquire(ctx, slotKey(&sub), del.PutOff > 0)
	if sl == nil {
		return d.putOff(ctx, &del, session, wait, "subscription busy")
	}
	release, ok := d.acquireHost(sub.CallbackURL, sl.slow)
	if !ok {
		sl.done(false, false)
		return d.putOff(ctx, &del, session, hostBusyDelay, "callback host busy")
	}
	if del.FirstAttempt.IsZero() {
		d.startSpan(&del, d.now())
	}
	start := time.Now()
	attempt := d.poster.Post(ctx, sub.CallbackURL, del.WebhookID, del.Payload, x.Settings().Signing.Active(d.now()))
	latency := time.Since(start)
	d.stats.ObserveAttempt(latency)
	release()
	sl.done(true, attempt.TimedOut())
	d.lines.leave(session, del.WebhookID)
	return d.settle(ctx, sub, del, session, attempt, latency)
}

// target loads the delivery's subscription and tenant directory and re-checks the owner's
// access. ok is false when the delivery is not to be attempted: its subscription was
// removed or is dead, its tenant is gone, or the owner lost access under the enforce policy.
func (d *Deliverer) target(ctx context.Context, del *Delivery) (nimbus.Subscription, *nimbus.Index, bool, error) {
	sub, err := d.subs.Cached(ctx, del.TenantID, del.SubscriptionID)
	if errors.Is(err, nimbus.ErrNotFound) {
		d.dropped(del, "subscription removed", false)
		return sub, nil, false, nil
	}
	if err != nil {
		return sub, nil, false, err
	}
	if sub.Status == nimbus.StatusDead {
		d.dropped(del, "subscription dead", false)
		return sub, nil, false, nil
	}
	x, err := d.dir.Index(ctx, del.TenantID)
	if nimbus.KindOf(err) == nimbus.KindNotFound {
		d.dropped(del, "unknown tenant", true)
		return sub, nil, false, nil
	}
	if err != nil {
		return sub, nil, false, err
	}
	chk, err := d.subs.RecheckOwner(ctx, x, &sub, del.serviceID())
	if err != nil {
		return sub, nil, false, err
	}
	if !chk.Deliver {
		d.stats.withheld(&sub, del.EventID, del.ServiceID, chk.Reason)
		d.record(del, sub.Kind, OutcomeWithheld, LogWithheld, nimbus.Attempt{}, 0)
		return sub, nil, false, nil
	}
	return sub, x, true, nil
}

// behind is how long a delivery that is not first in its session's line is put off: until
// the latest due time of those ahead of it (at least minPutOff from now). Sent after theirs
// in the same session, its message then comes after them, so it is put off once per put-off
// of those ahead (which go first for a slot when they come back), not again and again while
// they wait.
func (d *Deliverer) behind(session, id string, now time.Time) time.Duration {
	wait := minPutOff
	if due, ok := d.lines.ahead(session, id); ok {
		wait = max(wait, due.Sub(now))
	}
	return wait
}

func slotKey(sub *nimbus.Subscription) string { return slotKeyOf(sub.TenantID, sub.ID) }

func slotKeyOf(tenant, subscriptionID string) string { return tenant + "|" + subscriptionID }

// acquireHost takes a slot of the callback's host, from the slow share when the
// subscription is being slowed down.
func (d *Deliverer) acquireHost(url string, slow bool) (func(), bool) {
	if sa, ok := d.poster.(SlowAcquirer); ok && slow {
		return sa.AcquireSlow(url)
	}
	return d.poster.Acquire(url)
}

// startSpan records the first attempt's time, from which the delivery lives for the retry
// schedule's span. A retry queued without it (by an older version) counts as having followed
// the schedule so far.
func (d *Deliverer) startSpan(del *Delivery, now time.Time) {
	steps := min(max(del.Attempt-1, 0), len(d.schedule))
	del.FirstAttempt = now.Add(-nimbus.RetrySpan(d.schedule[:steps])).UTC()
	del.Step = steps
}

// putOff sends the delivery back to the queue, due after wait, as the same attempt, and
// keeps its place in its session's line.
func (d *Deliverer) putOff(ctx context.Context, del *Delivery, session string, wait time.Duration, reason string) error {
	if del.PutOff == 0 { // the first put-off of an attempt is logged; later ones only counted
		d.record(del, "", OutcomePutOff, LogPutOff, nimbus.Attempt{}, 0)
	} else {
		d.stats.Delivery(del.TenantID, OutcomePutOff)
	}
	d.stats.log.Debug("delivery put off", "tenant", del.TenantID, "eventId", del.EventID, "subscriptionId", del.SubscriptionID, "reason", reason, "wait", wait)
	now := d.now()
	due := now.Add(wait)
	d.lines.join(session, del.WebhookID, now, due)
	d.slots.off(slotKeyOf(del.TenantID, del.SubscriptionID))
	del.PutOff++
	return d.send(ctx, del, putOffMessageID(del.WebhookID, del.Attempt, del.PutOff), session, due)
}

// settle applies the outcome table to one attempt.
func (d *Deliverer) settle(ctx context.Context, sub nimbus.Subscription, del Delivery, session string, a nimbus.Attempt, latency time.Duration) error {
	outcome := a.Classify()
	if a.Err == nimbus.AttemptRefused {
		outcome = nimbus.OutcomePermanent
	}
	switch outcome {
	case nimbus.OutcomeDelivered:
		d.record(&del, sub.Kind, OutcomeDelivered, LogDelivered, a, latency)
		if !del.Accepted.IsZero() {
			d.stats.ObserveDelivered(d.now().Sub(del.Accepted))
		}
		if sub.NotFoundStreak > 0 {
			return d.subs.SetStatus(ctx, sub.TenantID, sub.ID, sub.Status, sub.StatusReason, 0)
		}
		return nil
	case nimbus.OutcomeGone:
		d.record(&del, sub.Kind, OutcomeSubscriptionDead, LogSubscriptionDead, a, latency)
		d.stats.log.Warn("subscription dead: the callback answered 410 Gone", "tenant", sub.TenantID, "eventId", del.EventID, "subscriptionId", sub.ID, "service", del.serviceID(), "status", a.Status)
		return d.subs.SetStatus(ctx, sub.TenantID, sub.ID, nimbus.StatusDead, "The callback answered 410 Gone.", 0)
	case nimbus.OutcomeNotFound:
		streak := sub.NotFoundStreak + 1
		if streak >= maxNotFound {
			d.record(&del, sub.Kind, OutcomeSubscriptionDead, LogSubscriptionDead, a, latency)
			d.stats.log.Warn("subscription dead: the callback answered 404 repeatedly", "tenant", sub.TenantID, "eventId", del.EventID, "subscriptionId", sub.ID, "service", del.serviceID(), "times", streak)
			return d.subs.SetStatus(ctx, sub.TenantID, sub.ID, nimbus.StatusDead, fmt.Sprintf("The callback answered 404 Not Found %d times in a row.", streak), streak)
		}
		if err := d.subs.SetStatus(ctx, sub.TenantID, sub.ID, sub.Status, sub.StatusReason, streak); err != nil {
			return err
		}
		return d.retry(ctx, sub, del, session, a, latency)
	case nimbus.OutcomeRetry:
		return d.retry(ctx, sub, del, session, a, latency)
	}
	d.record(&del, sub.Kind, OutcomeDeadLettered, LogDeadLetter, a, latency)
	d.stats.log.Warn("dead letter: the callback refused the notification", "tenant", sub.TenantID, "eventId", del.EventID, "subscriptionId", sub.ID, "service", del.serviceID(), "status", a.Status, "error", a.Err)
	return d.failures.Record(ctx, del, a)
}

// retry schedules the next attempt (SPEC 4.4: the schedule, or the receiver's Retry-After,
// for the schedule's whole span from the first attempt), or records a dead letter once that
// span has passed.
func (d *Deliverer) retry(ctx context.Context, sub nimbus.Subscription, del Delivery, session string, a nimbus.Attempt, latency time.Duration) error {
	now := d.now()
	at, step, ok := nimbus.NextAttempt(d.schedule, del.FirstAttempt, now, del.Step, a)
	if !ok {
		d.record(&del, sub.Kind, OutcomeDeadLettered, LogDeadLetter, a, latency)
		d.stats.log.Warn("dead letter: retries exhausted", "tenant", del.TenantID, "eventId", del.EventID, "subscriptionId", del.SubscriptionID, "service", del.serviceID(), "attempts", del.Attempt, "status", a.Status, "error", a.Err)
		return d.failures.Record(ctx, del, a)
	}
	d.record(&del, sub.Kind, OutcomeRetried, LogRetry, a, latency)
	d.stats.log.Debug("delivery retry scheduled", "tenant", del.TenantID, "eventId", del.EventID, "subscriptionId", del.SubscriptionID, "service", del.serviceID(), "attempt", del.Attempt+1, "delay", at.Sub(now).Round(time.Millisecond).String(), "at", at, "status", a.Status, "error", a.Err)
	next := del
	next.Attempt++
	next.Step, next.PutOff = step, 0
	return d.send(ctx, &next, deliveryMessageID(del.WebhookID, next.Attempt), session, at)
}

// send queues the delivery as message id of session, due at at.
func (d *Deliverer) send(ctx context.Context, del *Delivery, id, session string, at time.Time) error {
	msg, err := del.message(id, session, at)
	if err != nil {
		return err
	}
	if err := d.deliveries.Send(ctx, msg); err != nil {
		return fmt.Errorf("schedule delivery: %w", err)
	}
	return nil
}
