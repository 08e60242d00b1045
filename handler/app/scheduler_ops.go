package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// outboundService resolves a service the caller names for a scheduler operation of group g:
// visible and usable for the caller (403 naming the field otherwise, the same answer as for
// a service that does not exist), ContactCenter with outbound calls enabled, and, for
// outbound calls with workflow, that flag too (400).
func outboundService(x *nimbus.Index, acc *nimbus.Access, g nimbus.Group, upn, target string, ct nimbus.ConversationType) (*nimbus.Service, error) {
	unavailable := &nimbus.Error{Kind: nimbus.KindForbidden, Target: target, Message: fmt.Sprintf("Service %q does not exist or is not available to you.", upn)}
	svc, ok := x.ServiceByUPN(upn)
	if !ok {
		return nil, unavailable
	}
	var e *nimbus.Error
	if errors.As(acc.CheckService(g, svc), &e) {
		if e.Kind == nimbus.KindInvalid {
			return nil, nimbus.Invalid(target, "%s", e.Message)
		}
		return nil, unavailable
	}
	if svc.License != nimbus.LicenseContactCenter || !svc.OutboundEnabled {
		return nil, nimbus.Invalid(target, "Service %q cannot make scheduled outbound calls: that needs a ContactCenter service with outbound calls enabled.", svc.UPN)
	}
	if ct == nimbus.ConversationOutboundCallWithWorkflow && !svc.OutboundWithWorkflowEnabled {
		return nil, nimbus.Invalid(target, "Service %q does not take outbound calls with workflow; enable them on the service first.", svc.UPN)
	}
	return svc, nil
}

// Services is GetSchedulerEntryServices: the services the caller may schedule outbound
// calls for.
func (s *Scheduler) Services(ctx context.Context, caller nimbus.Caller) ([]string, error) {
	x, acc, err := s.dir.AccessFor(ctx, caller, nimbus.GroupOutboundSchedule)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for i := range x.Services() {
		svc := &x.Services()[i]
		if svc.License == nimbus.LicenseContactCenter && svc.OutboundEnabled && acc.CheckService(nimbus.GroupOutboundSchedule, svc) == nil {
			out = append(out, svc.UPN)
		}
	}
	return out, nil
}

// Create is CreateSchedulerEntry (ct OutboundCall) and CreateOutboundCallWithWorkflow-
// SchedulerEntry: a new Scheduled entry, which fires at once when its due time has passed.
func (s *Scheduler) Create(ctx context.Context, caller nimbus.Caller, w nimbus.SchedulerEntryWrite, ct nimbus.ConversationType) (nimbus.SchedulerEntryEventData, error) {
	x, acc, err := s.dir.AccessFor(ctx, caller, nimbus.GroupOutboundSchedule)
	if err != nil {
		return nimbus.SchedulerEntryEventData{}, err
	}
	spec, err := w.Validate(ct)
	if err != nil {
		return nimbus.SchedulerEntryEventData{}, err
	}
	svc, err := outboundService(x, acc, nimbus.GroupOutboundSchedule, spec.ServiceUPN, "serviceUpn", ct)
	if err != nil {
		return nimbus.SchedulerEntryEventData{}, err
	}
	if err := s.ensureWatermark(ctx); err != nil {
		return nimbus.SchedulerEntryEventData{}, err
	}
	now := s.now().UTC()
	st := &storedEntry{Entry: nimbus.SchedulerEntry{ID: uuid.NewString(), TenantID: x.TenantID(), ServiceID: svc.ID, ServiceUPN: svc.UPN}}
	st.Entry.Apply(spec)
	st.raised(st.Entry.Schedule(now))
	loc, _ := json.Marshal(locator{ServiceID: svc.ID})
	if _, err := s.entries.Insert(ctx, nimbus.Entity{PartitionKey: x.TenantID(), RowKey: st.Entry.ID, Data: loc}); err != nil {
		return nimbus.SchedulerEntryEventData{}, fmt.Errorf("store scheduler entry locator: %w", err)
	}
	etag, err := s.commit(ctx, st, "", now)
	if err != nil {
		return nimbus.SchedulerEntryEventData{}, fmt.Errorf("store scheduler entry: %w", err)
	}
	s.afterCommit(ctx, st, etag, "")
	s.log.InfoContext(ctx, "scheduler entry created", "tenant", x.TenantID(), "schedulerEntryId", st.Entry.ID, "conversationType", ct)
	if !st.Entry.DueAt.After(now) {
		// Due already: fire now rather than at the next wake-up.
		if fired, err := s.advance(ctx, x.TenantID(), svc.ID, st.Entry.ID); err == nil {
			st = fired
		}
	}
	return st.Entry.Data(), nil
}

// ensureWatermark makes sure the due index has a watermark before its first row, so a
// sweep that runs long after never starts past rows written before it.
func (s *Scheduler) ensureWatermark(ctx context.Context) error {
	if s.marked.Load() {
		return nil
	}
	data, _ := json.Marshal(watermark{Bucket: bucketOf(s.now().Add(-watermarkLag))})
	_, err := s.due.Insert(ctx, nimbus.Entity{PartitionKey: metaBucket, RowKey: watermarkRow, Data: data})
	if err != nil && !errors.Is(err, nimbus.ErrConflict) {
		return fmt.Errorf("start scheduler due index: %w", err)
	}
	s.marked.Store(true)
	return nil
}

// managed resolves an entry id for an operation of the outbound-manage group: the entry
// must exist in the caller's tenant and its service be visible (404 otherwise) and managed
// by the caller (403).
func (s *Scheduler) managed(ctx context.Context, caller nimbus.Caller, id string) (*nimbus.Index, *nimbus.Service, string, error) {
	x, acc, err := s.dir.AccessFor(ctx, caller, nimbus.GroupOutboundManage)
	if err != nil {
		return nil, nil, "", err
	}
	serviceID, err := s.locate(ctx, x.TenantID(), id)
	if err != nil {
		return nil, nil, "", err
	}
	svc, ok := x.Service(serviceID)
	if !ok || !acc.CanRead(svc.OU) {
		return nil, nil, "", entryNotFound(id)
	}
	if err := acc.CheckService(nimbus.GroupOutboundManage, svc); err != nil && nimbus.KindOf(err) == nimbus.KindForbidden {
		return nil, nil, "", err
	}
	return x, svc, serviceID, nil
}

// Update is UpdateSchedulerEntry and UpdateOutboundCallWithWorkflowSchedulerEntry: only
// while Scheduled (409 after); a changed due date re-schedules. The ordinary update keeps an
// entry's conversation type; the with-workflow update applies only to such entries.
func (s *Scheduler) Update(ctx context.Context, caller nimbus.Caller, id string, w nimbus.SchedulerEntryWrite, ct nimbus.ConversationType) (nimbus.SchedulerEntryEventData, error) {
	x, svc, serviceID, err := s.managed(ctx, caller, id)
	if err != nil {
		return nimbus.SchedulerEntryEventData{}, err
	}
	st, err := s.change(ctx, x.TenantID(), serviceID, id, func(st *storedEntry, now time.Time) (bool, error) {
		kind := st.Entry.ConversationType
		if ct == nimbus.ConversationOutboundCallWithWorkflow && kind != ct {
			return false, nimbus.Invalid("SchedulerEntryID", "Scheduler entry %q is an ordinary outbound call; change it with UpdateSchedulerEntry.", id)
		}
		spec, err := w.Validate(kind)
		if err != nil {
			return false, err
		}
		if nimbus.FoldUPN(spec.ServiceUPN) != nimbus.FoldUPN(svc.UPN) {
			return false, nimbus.Invalid("serviceUpn", "serviceUpn must stay %q: a scheduler entry cannot move to another service; remove it and create a new one.", svc.UPN)
		}
		ev, err := st.Entry.Change(spec, now)
		if err != nil {
			return false, err
		}
		st.raised(ev)
		return true, nil
	})
	if err != nil {
		return nimbus.SchedulerEntryEventData{}, err
	}
	return st.Entry.Data(), nil
}

// Delete is DeleteSchedulerEntry: only while Scheduled (409 after); raises Removed.
func (s *Scheduler) Delete(ctx context.Context, caller nimbus.Caller, id string) (nimbus.SchedulerEntryEventData, error) {
	x, _, serviceID, err := s.managed(ctx, caller, id)
	if err != nil {
		return nimbus.SchedulerEntryEventData{}, err
	}
	st, err := s.change(ctx, x.TenantID(), serviceID, id, func(st *storedEntry, now time.Time) (bool, error) {
		ev, err := st.Entry.Remove(now)
		if err != nil {
			return false, err
		}
		st.raised(ev)
		return true, nil
	})
	if err != nil {
		return nimbus.SchedulerEntryEventData{}, err
	}
	return st.Entry.Data(), nil
}

// List is GetSchedulerEntries: the service's entries that are not final yet (Scheduled or
// in progress), oldest due first; 403 for a service the caller may not use.
func (s *Scheduler) List(ctx context.Context, caller nimbus.Caller, serviceUPN string) ([]nimbus.SchedulerEntryEventData, error) {
	x, acc, err := s.dir.AccessFor(ctx, caller, nimbus.GroupOutboundManage)
	if err != nil {
		return nil, err
	}
	forbidden := &nimbus.Error{Kind: nimbus.KindForbidden, Target: "serviceUpn", Message: "Forbidden for the given Service UPN."}
	svc, ok := x.ServiceByUPN(serviceUPN)
	if serviceUPN == "" || !ok || acc.CheckService(nimbus.GroupOutboundManage, svc) != nil {
		return nil, forbidden
	}
	var entries []nimbus.SchedulerEntry
	err = eachRecord(ctx, s.entries, entryPartition(x.TenantID(), svc.ID), "", func(_ nimbus.Entity, st storedEntry) error {
		if !st.Entry.State.Final() {
			entries = append(entries, st.Entry)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list scheduler entries: %w", err)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].DueAt.Before(entries[j].DueAt) })
	out := make([]nimbus.SchedulerEntryEventData, len(entries))
	for i := range entries {
		out[i] = entries[i].Data()
	}
	return out, nil
}

// Report applies core's outcome of an attempt (POST /internal/v1/scheduler-entries/{id}/
// attempts). A report for another attempt than the current one, or a repeated one, changes
// nothing and succeeds.
func (s *Scheduler) Report(ctx context.Context, id string, r nimbus.AttemptReport) error {
	at, err := r.Validate()
	if err != nil {
		return err
	}
	x, err := s.dir.Index(ctx, r.TenantID)
	if err != nil {
		return err
	}
	serviceID, err := s.locate(ctx, r.TenantID, id)
	if err != nil {
		return err
	}
	retry := nimbus.DefaultOutboundRetryDelay
	if svc, ok := x.Service(serviceID); ok {
		retry = svc.RetryDelay()
	}
	_, err = s.change(ctx, r.TenantID, serviceID, id, func(st *storedEntry, now time.Time) (bool, error) {
		ev := st.Entry.Report(r.Outcome, r.Attempt, r.Reason, r.TaskID, retry, maxTime(now, at))
		st.raised(ev)
		return ev != nil, nil
	})
	return err
}
