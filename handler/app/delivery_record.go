package app

import (
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// SetAttemptLog makes the deliverer record every attempt in l (nil: the delivery log is off).
// Call it before the first delivery.
func (d *Deliverer) SetAttemptLog(l *AttemptLog) { d.attempts = l }

// SetAttemptLog makes the fan-out record the deliveries it withholds in l (nil: the delivery
// log is off). Call it before the first event.
func (p *Pipeline) SetAttemptLog(l *AttemptLog) { p.attempts = l }

// withheld counts, logs and records a delivery the fan-out withholds because the
// subscription's owner lost access.
func (p *Pipeline) withheld(sub *nimbus.Subscription, e *nimbus.IngestEvent, serviceID, reason string) {
	p.stats.Delivery(sub.TenantID, OutcomeWithheld)
	p.stats.withheld(sub, e.EventID, serviceID, reason)
	p.attempts.Record(sub.TenantID, sub.ID, AttemptRecord{
		Time: p.now().UTC(), AttemptID: newAttemptID(), EventID: e.EventID, EventKind: eventKind(sub.Kind),
		Event: string(e.Event), Attempt: 1, Outcome: LogWithheld,
	}, nil)
}

// record counts an outcome of the delivery and writes it to the delivery log. status,
// latency and errorClass describe the attempt; they are zero when none was made.
func (d *Deliverer) record(del *Delivery, kind nimbus.SubscriptionKind, statsOutcome, logOutcome string, a nimbus.Attempt, latency time.Duration) {
	d.stats.Delivery(del.TenantID, statsOutcome)
	rec := AttemptRecord{
		Time: d.now().UTC(), AttemptID: newAttemptID(), EventID: del.EventID, EventKind: eventKind(kind),
		Attempt: del.Attempt, Status: a.Status, LatencyMs: float64(latency.Microseconds()) / 1000, Outcome: logOutcome,
	}
	if a != (nimbus.Attempt{}) {
		rec.ErrorClass = ErrorClass(a)
	}
	d.attempts.Record(del.TenantID, del.SubscriptionID, rec, del.Payload)
}

// dropped counts a delivery that is not attempted because its subscription or tenant is
// gone, and logs it: at info when the subscription was removed or is dead (its flow was
// turned off, or the callback said so earlier), at warn when the tenant is gone.
func (d *Deliverer) dropped(del *Delivery, reason string, warn bool) {
	d.stats.Delivery(del.TenantID, OutcomeDropped)
	attrs := []any{"tenant", del.TenantID, "eventId", del.EventID, "subscriptionId", del.SubscriptionID, "service", del.ServiceID, "reason", reason}
	if warn {
		d.stats.log.Warn("delivery dropped", attrs...)
		return
	}
	d.stats.log.Info("delivery dropped", attrs...)
}

// withheld counts and logs a delivery withheld because the subscription's owner lost access
// (SPEC 2.5), and the subscription's suspension when it was not suspended yet.
func (s *Stats) withheld(sub *nimbus.Subscription, eventID, serviceID, reason string) {
	attrs := []any{"tenant", sub.TenantID, "eventId", eventID, "subscriptionId", sub.ID, "service", serviceID, "reason", reason}
	if sub.Status != nimbus.StatusSuspended {
		s.log.Warn("subscription suspended: its owner lost access", attrs...)
	}
	s.log.Warn("delivery withheld: the subscription's owner lost access", attrs...)
}

// eventKind names the kind of event a subscription of kind receives, for the delivery log:
// "task" or "schedulerEntry".
func eventKind(kind nimbus.SubscriptionKind) string {
	if kind == nimbus.KindSchedulerEntry {
		return "schedulerEntry"
	}
	return "task"
}
