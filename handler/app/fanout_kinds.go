package app

import (
	"context"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// eventKind is what the fan-out knows about one kind of event on the events queue. Every
// kind travels the same path (ProcessEvent resolves tenant and service, the kind applies the
// event to its state, matching subscriptions get one delivery each, the state is written);
// only these three things differ.
type eventKind struct {
	// subscription is the kind of subscription that receives these events.
	subscription nimbus.SubscriptionKind
	// apply decodes the kind's field of the envelope and applies it to the kind's state
	// without storing it yet. It returns nil (and no error) when the event changes nothing,
	// e.g. a stale or repeated one; an error fails the message so the queue retries it.
	apply func(ctx context.Context, p *Pipeline, env *nimbus.Envelope, svc *nimbus.Service) (*applied, error)
}

// applied is an event applied to its kind's state, on its way to subscriptions.
type applied struct {
	// deliver is false when the state changed but the event is not notified (a second
	// WorkflowStarted after a transfer).
	deliver bool
	// matches reports whether a subscription of the kind's service wants the event.
	matches func(sub *nimbus.Subscription) bool
	// payload builds the notification; legacy selects the older connector's names (SPEC
	// 11). It is called at most once per value of legacy, however many subscriptions match.
	payload func(legacy bool) any
	// order names what the kind keeps in order (the task, for task events): deliveries of one
	// subscription with the same order share a queue session, so they are handed out one at
	// a time, in fan-out order (SPEC 4.4 "Order").
	order string
	// commit stores the new state once the deliveries are queued.
	commit func(ctx context.Context) error
}

// eventKinds is the dispatch table of the fan-out, the one place a new kind of event is
// added: a constant and an Envelope field in nimbus (envelope.go), a subscription kind, and
// an entry here with its apply step. Scheduler-entry and virtual-assistant events join this
// way; nothing else in the pipeline changes.
var eventKinds = map[nimbus.EventKind]eventKind{
	nimbus.EventKindTask:           {subscription: nimbus.KindTask, apply: applyTaskEvent},
	nimbus.EventKindSchedulerEntry: {subscription: nimbus.KindSchedulerEntry, apply: applySchedulerEntryEvent},
	nimbus.EventKindTranscript:     {subscription: nimbus.KindVirtualAssistant, apply: applyTranscriptEvent},
}
