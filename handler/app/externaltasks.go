package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// ExternalTasks creates and withdraws external tasks (SPEC 7).
//
// Open external tasks of a tenant are counted in the externaltasks table: partition tenant,
// a row per open task ("t|<id>") and a "count" row, changed together in one batch with an
// ETag condition, so the per-tenant limit holds under concurrent adds.
type ExternalTasks struct {
	*Tasks
	open    nimbus.Table
	maxOpen int
}

// NewExternalTasks returns the external-task actions; maxOpen ≤ 0 selects the default limit.
func NewExternalTasks(tasks *Tasks, open nimbus.Table, maxOpen int) *ExternalTasks {
	if maxOpen <= 0 {
		maxOpen = nimbus.DefaultMaxOpenExternalTasks
	}
	return &ExternalTasks{Tasks: tasks, open: open, maxOpen: maxOpen}
}

const openTaskPrefix = "t|"

// Add creates an external task on a ContactCenter service with the ExternalTask modality and
// sends ExternalTaskAdded to core.
func (et *ExternalTasks) Add(ctx context.Context, caller nimbus.Caller, w nimbus.ExternalTaskWrite) (nimbus.ExternalTaskResult, error) {
	if err := w.Validate(); err != nil {
		return nimbus.ExternalTaskResult{}, err
	}
	x, acc, err := et.dir.AccessFor(ctx, caller, nimbus.GroupConversations)
	if err != nil {
		return nimbus.ExternalTaskResult{}, err
	}
	svc, err := conversationService(x, acc, w.ServiceUPN, "serviceUpn")
	if err != nil {
		return nimbus.ExternalTaskResult{}, err
	}
	if svc.License != nimbus.LicenseContactCenter || !svc.HasModality(nimbus.ModalityExternalTask) {
		return nimbus.ExternalTaskResult{}, nimbus.Invalid("serviceUpn", "Service %q cannot take external tasks: that needs a ContactCenter service with the ExternalTask modality enabled.", svc.UPN)
	}
	if err := checkPreferredUsers(x, acc, svc, w.PreferredUsers); err != nil {
		return nimbus.ExternalTaskResult{}, err
	}
	id := uuid.NewString()
	if err := et.reserve(ctx, x.TenantID(), id); err != nil {
		return nimbus.ExternalTaskResult{}, err
	}
	now := et.now().UTC()
	anonymous := w.CustomerIdentifier == ""
	task := nimbus.Task{
		TenantID: x.TenantID(), TaskID: id, ServiceID: svc.ID, Direction: nimbus.DirectionInbound,
		Modality: nimbus.ModalityExternalTask, State: nimbus.TaskInProgress, LastSequence: -1, UpdatedAt: now,
		Fields:      nimbus.TaskFields{CustomerIdentifier: w.CustomerIdentifier, Created: now.Format(time.RFC3339Nano), IsAnonymous: &anonymous},
		Information: nimbus.TaskInformation{Customer: w.Customer, CustomContextParameters: w.CustomContextParameters, PreferredUsers: w.PreferredUsers},
	}
	if err := et.store(ctx, storedTask{task: task}); err != nil {
		_ = et.release(ctx, x.TenantID(), id)
		return nimbus.ExternalTaskResult{}, fmt.Errorf("store external task: %w", err)
	}
	spec := nimbus.ExternalTaskSpec{CustomerIdentifier: w.CustomerIdentifier, Customer: w.Customer, CustomContextParameters: w.CustomContextParameters, DistributionPriority: w.DistributionPriority, PreferredUsers: w.PreferredUsers}
	cmd := nimbus.Command{CommandID: uuid.NewString(), TenantID: x.TenantID(), Type: nimbus.CommandExternalTaskAdded, TaskID: id, ServiceID: svc.ID, ServiceUPN: svc.UPN, ExternalTask: &spec}
	if err := et.commands.Send(ctx, cmd); err != nil {
		return nimbus.ExternalTaskResult{}, err
	}
	return nimbus.NewExternalTaskResult(id, svc, &w, now), nil
}

// RemoveResult answers RemoveExternalTask.
type RemoveResult struct {
	ID    string           `json:"id"`
	State nimbus.TaskState `json:"state"`
}

// Remove withdraws an external task and sends ExternalTaskRemoved. Removing a task that is
// already removed or terminated succeeds and sends nothing.
func (et *ExternalTasks) Remove(ctx context.Context, caller nimbus.Caller, id string) (RemoveResult, error) {
	x, acc, err := et.dir.AccessFor(ctx, caller, nimbus.GroupConversations)
	if err != nil {
		return RemoveResult{}, err
	}
	for attempt := range maxWriteAttempts {
		if err := pause(ctx, attempt); err != nil {
			return RemoveResult{}, err
		}
		st, err := et.load(ctx, x.TenantID(), id)
		if err == nil && st.task.Modality != nimbus.ModalityExternalTask {
			err = nimbus.NotFound("External task %q was not found.", id)
		}
		if err != nil {
			return RemoveResult{}, err
		}
		svc, err := taskService(x, acc, &st.task)
		if err != nil {
			return RemoveResult{}, err
		}
		if st.task.State != nimbus.TaskInProgress {
			return RemoveResult{ID: id, State: st.task.State}, nil
		}
		st.task.State, st.task.UpdatedAt = nimbus.TaskRemoved, et.now().UTC()
		err = et.store(ctx, st)
		if errors.Is(err, nimbus.ErrConflict) {
			continue
		}
		if err != nil {
			return RemoveResult{}, fmt.Errorf("store external task: %w", err)
		}
		if err := et.release(ctx, x.TenantID(), id); err != nil {
			return RemoveResult{}, err
		}
		cmd := nimbus.Command{CommandID: uuid.NewString(), TenantID: x.TenantID(), Type: nimbus.CommandExternalTaskRemoved, TaskID: id, ServiceID: svc.ID, ServiceUPN: svc.UPN}
		if err := et.commands.Send(ctx, cmd); err != nil {
			return RemoveResult{}, err
		}
		return RemoveResult{ID: id, State: nimbus.TaskRemoved}, nil
	}
	return RemoveResult{}, &nimbus.Error{Kind: nimbus.KindUnavailable, Message: "The task is being changed by many writers at once; try again.", RetryAfter: time.Second}
}

// reserve takes one of the tenant's open-task slots for id, or answers 429 at the limit.
func (et *ExternalTasks) reserve(ctx context.Context, tenant, id string) error {
	for attempt := range maxWriteAttempts {
		if err := pause(ctx, attempt); err != nil {
			return err
		}
		n, etag, err := readCount(ctx, et.open, tenant)
		if err != nil {
			return err
		}
		if n >= et.maxOpen {
			return &nimbus.Error{Kind: nimbus.KindThrottled, RetryAfter: time.Minute,
				Message: fmt.Sprintf("Your tenant has reached its limit of %d open external tasks. Remove finished ones, or wait until they are terminated.", et.maxOpen)}
		}
		err = et.open.Batch(ctx, tenant, []nimbus.BatchOp{{Kind: nimbus.BatchInsert, RowKey: openTaskPrefix + id, Data: []byte("{}")}, countOp(n+1, etag)})
		if err == nil || !errors.Is(err, nimbus.ErrConflict) {
			return err
		}
	}
	return &nimbus.Error{Kind: nimbus.KindUnavailable, Message: "Many external tasks are being added at once; try again.", RetryAfter: time.Second}
}

// release frees id's slot; a slot already free is fine (removal and termination both call it).
func (et *ExternalTasks) release(ctx context.Context, tenant, id string) error {
	for attempt := range maxWriteAttempts {
		if err := pause(ctx, attempt); err != nil {
			return err
		}
		if _, err := et.open.Get(ctx, tenant, openTaskPrefix+id); errors.Is(err, nimbus.ErrNotFound) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read open external task: %w", err)
		}
		n, etag, err := readCount(ctx, et.open, tenant)
		if err != nil {
			return err
		}
		err = et.open.Batch(ctx, tenant, []nimbus.BatchOp{{Kind: nimbus.BatchDelete, RowKey: openTaskPrefix + id}, countOp(max(n-1, 0), etag)})
		if err == nil || !errors.Is(err, nimbus.ErrConflict) && !errors.Is(err, nimbus.ErrNotFound) {
			return err
		}
	}
	return &nimbus.Error{Kind: nimbus.KindUnavailable, Message: "Many external tasks are being changed at once; try again.", RetryAfter: time.Second}
}

// Released is called by the fan-out when core reports an external task terminated.
func (et *ExternalTasks) Released(ctx context.Context, tenant, id string) error {
	return et.release(ctx, tenant, id)
}
