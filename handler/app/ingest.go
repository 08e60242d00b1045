package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Ingest accepts task events from Nimbus core and queues them durably.
type Ingest struct {
	dir    *Directory
	events nimbus.Queue
	stats  *Stats
}

// NewIngest returns the ingest use case.
func NewIngest(dir *Directory, events nimbus.Queue, stats *Stats) *Ingest {
	return &Ingest{dir: dir, events: events, stats: stats}
}

// IngestResult answers an ingest call.
type IngestResult struct {
	Accepted int `json:"accepted"`
	Ignored  int `json:"ignored"`
}

// SessionOf is the queue session of a task's events: one task's events are processed one at
// a time, in the order they were accepted. It is scoped by tenant like every id derived from
// a client's choice (nimbus.ScopedID).
func SessionOf(tenant, task string) string { return nimbus.ScopedID(tenant, task) }

// Accept validates the batch as a whole (the first bad event fails it, named by its index),
// then queues every event whose service has a valid workflow; the others are ignored (SPEC
// 2.4). It returns only after the events are durably queued.
func (in *Ingest) Accept(ctx context.Context, caller nimbus.Caller, events []nimbus.IngestEvent) (IngestResult, error) {
	if !caller.IsApp || !caller.HasAppRole(nimbus.AppRoleCore) {
		return IngestResult{}, nimbus.Forbidden("Only Nimbus core (an application token with the %s role) may report events.", nimbus.AppRoleCore)
	}
	if len(events) == 0 {
		return IngestResult{}, nimbus.Invalid("", "At least one event is required.")
	}
	if len(events) > nimbus.MaxIngestBatch {
		return IngestResult{}, nimbus.Invalid("", "A batch holds at most %d events, got %d.", nimbus.MaxIngestBatch, len(events))
	}
	var res IngestResult
	msgs := make([]nimbus.Message, 0, len(events))
	tenants := make([]string, 0, len(events)) // of msgs, for the counters
	for i := range events {
		e := &events[i]
		at := fmt.Sprintf("[%d]", i)
		if err := e.Validate(at); err != nil {
			return IngestResult{}, err
		}
		x, svc, reason, err := resolveService(ctx, in.dir, e.TenantID, e.ServiceUPN)
		switch {
		case err != nil:
			return IngestResult{}, err
		case reason == dropUnknownTenant:
			return IngestResult{}, nimbus.Invalid(at+".tenantId", "%s.tenantId %q is not a tenant known to Nimbus", at, e.TenantID)
		case reason == dropUnknownService:
			return IngestResult{}, nimbus.Invalid(at+".serviceUpn", "%s.serviceUpn %q is not a service of tenant %s", at, e.ServiceUPN, e.TenantID)
		case reason != "":
			res.Ignored++
			in.stats.Dropped(x.TenantID(), reason, "eventId", e.EventID, "service", svc.ID)
			continue
		}
		body, err := json.Marshal(nimbus.Envelope{Kind: nimbus.EventKindTask, Tenant: e.TenantID, Service: e.ServiceUPN, ID: e.EventID, Task: e})
		if err != nil {
			return IngestResult{}, fmt.Errorf("encode event: %w", err)
		}
		msgs = append(msgs, nimbus.Message{ID: nimbus.ScopedID(e.TenantID, e.EventID), SessionID: SessionOf(e.TenantID, e.TaskID), Body: body})
		tenants = append(tenants, x.TenantID())
	}
	if len(msgs) > 0 {
		if err := in.events.Send(ctx, msgs...); err != nil {
			return IngestResult{}, fmt.Errorf("queue events: %w", err)
		}
	}
	for _, t := range tenants {
		in.stats.Accepted(t, 1)
	}
	res.Accepted = len(msgs)
	return res, nil
}

// Why an event is not processed; the names are also the stats counters.
const (
	dropUnknownTenant  = DropUnknownTenant
	dropUnknownService = DropUnknownService
	dropWorkflow       = DropWorkflowInvalid
)

// resolveService is the one rule, shared by ingest and the fan-out of every event kind, that
// finds the tenant and service an event belongs to and decides whether it is processed: the
// tenant and the service must exist and the service's workflow must be valid (SPEC 2.4).
// reason is empty when the event proceeds, else one of the drop* names; err is a storage
// failure. Ingest turns an unknown tenant or service into 400; the fan-out drops the event
// when the directory changed after it was accepted.
func resolveService(ctx context.Context, dir *Directory, tenant, upn string) (*nimbus.Index, *nimbus.Service, string, error) {
	x, err := dir.Index(ctx, tenant)
	if nimbus.KindOf(err) == nimbus.KindNotFound {
		return nil, nil, dropUnknownTenant, nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	svc, ok := x.ServiceByUPN(upn)
	if !ok {
		return x, nil, dropUnknownService, nil
	}
	if !svc.WorkflowValid {
		return x, svc, dropWorkflow, nil
	}
	return x, svc, "", nil
}
