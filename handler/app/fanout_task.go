package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// applyTaskEvent applies a task event to the task projection, in sequence order (SPEC 5).
// The event was validated at ingest; the queue carries only what ingest accepted.
func applyTaskEvent(ctx context.Context, p *Pipeline, env *nimbus.Envelope, svc *nimbus.Service) (*applied, error) {
	e := env.Task
	if e == nil || e.Sequence == nil {
		p.stats.Dropped(env.Tenant, DropMalformed, "eventId", env.ID)
		return nil, nil
	}
	st, err := p.tasks.get(ctx, env.Tenant, e.TaskID)
	if errors.Is(err, errTaskPurged) {
		p.stats.Dropped(env.Tenant, DropTaskPurged, "eventId", env.ID, "service", svc.ID)
		return nil, nil
	}
	if err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return nil, err
	}
	task := &st.task // a zero task when none is stored: Apply starts it
	a := &applied{
		order: e.TaskID,
		matches: func(sub *nimbus.Subscription) bool {
			return sub.Matches(string(e.Event), task.Modality, task.Direction)
		},
		payload: func(legacy bool) any { return nimbus.NewTaskEventData(task, e, svc, legacy) },
		commit: func(ctx context.Context) error {
			if err := p.tasks.put(ctx, st); err != nil {
				return fmt.Errorf("store task %s: %w", e.TaskID, err)
			}
			if e.Event == nimbus.EventTerminated && task.Modality == nimbus.ModalityExternalTask && p.Terminated != nil {
				return p.Terminated(ctx, env.Tenant, e.TaskID)
			}
			return nil
		},
	}
	switch task.Apply(e, svc.ID, p.now().UTC()) {
	case nimbus.Stale:
		p.stats.Stale(env.Tenant, "eventId", env.ID, "service", svc.ID)
		return nil, nil
	case nimbus.Applied:
		a.deliver = true
	case nimbus.AppliedSilent: // a repeated WorkflowStarted: applied, not delivered
	}
	return a, nil
}
