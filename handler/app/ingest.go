package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// a time, in the order they were accepted. Session ids hold at most nimbus.MaxMessageID
// bytes; a task id too long for that is replaced by its hash.
func SessionOf(tenant, task string) string {
	if s := tenant + "/" + task; len(s) <= nimbus.MaxMessageID {
		return s
	}
	sum := sha256.Sum256([]byte(task))
	return tenant + "/#" + hex.EncodeToString(sum[:])
}

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
		x, err := in.dir.Index(ctx, e.TenantID)
		if nimbus.KindOf(err) == nimbus.KindNotFound {
			return IngestResult{}, nimbus.Invalid(at+".tenantId", "%s.tenantId %q is not a tenant known to Nimbus", at, e.TenantID)
		}
		if err != nil {
			return IngestResult{}, err
		}
		svc, ok := x.ServiceByUPN(e.ServiceUPN)
		if !ok {
			return IngestResult{}, nimbus.Invalid(at+".serviceUpn", "%s.serviceUpn %q is not a service of tenant %s", at, e.ServiceUPN, e.TenantID)
		}
		if !svc.WorkflowValid {
			res.Ignored++
			in.stats.Dropped(x.TenantID(), DropWorkflowInvalid, "eventId", e.EventID, "service", svc.ID)
			continue
		}
		body, err := json.Marshal(e)
		if err != nil {
			return IngestResult{}, fmt.Errorf("encode event: %w", err)
		}
		msgs = append(msgs, nimbus.Message{ID: e.EventID, SessionID: SessionOf(e.TenantID, e.TaskID), Body: body})
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
