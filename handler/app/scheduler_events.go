package app

import (
	"context"
	"slices"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// applySchedulerEntryEvent is the fan-out's apply step of scheduler-entry events. The
// entry's state was already changed, with an ETag condition, by the transition that raised
// the event, and the event carries the entry as it was then; so applying it stores nothing,
// and a redelivered event queues the same deliveries again (deduplicated by their ids).
func applySchedulerEntryEvent(_ context.Context, p *Pipeline, env *nimbus.Envelope, _ *nimbus.Service) (*applied, error) {
	ev := env.SchedulerEntry
	if ev == nil || !nimbus.KnownSchedulerEvent(ev.Event) {
		p.stats.Dropped(env.Tenant, DropMalformed, "eventId", env.ID)
		return nil, nil
	}
	return &applied{
		deliver: true,
		matches: func(sub *nimbus.Subscription) bool { return slices.Contains(sub.Events, string(ev.Event)) },
		payload: func(bool) any { return ev.Payload(env.ID) },
		commit:  func(context.Context) error { return nil },
	}, nil
}
