package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Tasks serves the actions on live tasks: Update task (SPEC 5.3).
type Tasks struct {
	dir      *Directory
	tasks    taskStore
	commands *Commands
	now      func() time.Time
}

// NewTasks returns the task actions.
func NewTasks(dir *Directory, tasks nimbus.Table, commands *Commands) *Tasks {
	return &Tasks{dir: dir, tasks: newTaskStore(tasks, dir), commands: commands, now: time.Now}
}

func (t *Tasks) load(ctx context.Context, tenant, taskID string) (storedTask, error) {
	if nimbus.CheckID("taskId", taskID) != nil {
		return storedTask{}, nimbus.NotFound("Task %q was not found.", taskID)
	}
	st, err := t.tasks.get(ctx, tenant, taskID)
	if errors.Is(err, nimbus.ErrNotFound) {
		return storedTask{}, nimbus.NotFound("Task %q was not found.", taskID)
	}
	return st, err
}

func (t *Tasks) store(ctx context.Context, st storedTask) error { return t.tasks.put(ctx, st) }

// taskService checks that the caller may act on the task's service: a task of a service the
// caller cannot see answers 404 like a missing task.
func taskService(x *nimbus.Index, acc *nimbus.Access, task *nimbus.Task) (*nimbus.Service, error) {
	svc, ok := x.Service(task.ServiceID)
	if !ok {
		return nil, nimbus.NotFound("Task %q was not found.", task.TaskID)
	}
	if err := acc.CheckService(nimbus.GroupConversations, svc); err != nil {
		if errors.Is(err, nimbus.ErrNotFound) {
			return nil, nimbus.NotFound("Task %q was not found.", task.TaskID)
		}
		return nil, err
	}
	return svc, nil
}

// checkPreferredUsers requires a ContactCenter service and users the caller may read.
func checkPreferredUsers(x *nimbus.Index, acc *nimbus.Access, svc *nimbus.Service, users []nimbus.PreferredUser) error {
	if len(users) == 0 {
		return nil
	}
	if svc.License != nimbus.LicenseContactCenter {
		return nimbus.Invalid("preferredUsers", "Preferred users need a ContactCenter service; %q is licensed %s.", svc.UPN, svc.License)
	}
	for i, p := range users {
		u, ok := x.User(p.UPN)
		if !ok || !acc.CanRead(u.OU) {
			return nimbus.Invalid(fmt.Sprintf("preferredUsers[%d].upn", i), "preferredUsers[%d].upn %q is not a user you may route to; see GetUsersForPreferredRouting.", i, p.UPN)
		}
	}
	return nil
}

// Update merges u into a task in progress and returns its resulting task information. It
// sends TaskUpdated with exactly the changes to core, and raises no task event itself (a flow
// triggered on ParameterUpdated that calls Update task must not loop). Concurrent updates of
// one task are serialised by ETag, so none is lost.
func (t *Tasks) Update(ctx context.Context, caller nimbus.Caller, taskID string, u nimbus.TaskUpdate) (nimbus.TaskInformation, error) {
	if err := u.Validate(); err != nil {
		return nimbus.TaskInformation{}, err
	}
	x, acc, err := t.dir.AccessFor(ctx, caller, nimbus.GroupConversations)
	if err != nil {
		return nimbus.TaskInformation{}, err
	}
	for attempt := range maxWriteAttempts {
		if err := pause(ctx, attempt); err != nil {
			return nimbus.TaskInformation{}, err
		}
		st, err := t.load(ctx, x.TenantID(), taskID)
		if err != nil {
			return nimbus.TaskInformation{}, err
		}
		svc, err := taskService(x, acc, &st.task)
		if err != nil {
			return nimbus.TaskInformation{}, err
		}
		if st.task.State != nimbus.TaskInProgress {
			return nimbus.TaskInformation{}, nimbus.Conflict("Task %q is no longer in progress (%s); only tasks in progress can be updated.", taskID, st.task.State)
		}
		if u.PreferredUsers != nil {
			if err := checkPreferredUsers(x, acc, svc, *u.PreferredUsers); err != nil {
				return nimbus.TaskInformation{}, err
			}
		}
		changes, err := st.task.Information.Apply(&u)
		if err != nil {
			return nimbus.TaskInformation{}, err
		}
		st.task.UpdatedAt = t.now().UTC()
		err = t.store(ctx, st)
		if errors.Is(err, nimbus.ErrConflict) {
			continue // an event or another update changed the task meanwhile: apply again
		}
		if err != nil {
			return nimbus.TaskInformation{}, fmt.Errorf("store task: %w", err)
		}
		cmd := nimbus.Command{CommandID: uuid.NewString(), TenantID: x.TenantID(), Type: nimbus.CommandTaskUpdated, TaskID: taskID, ServiceID: svc.ID, ServiceUPN: svc.UPN, Changes: &changes}
		if err := t.commands.Send(ctx, cmd); err != nil {
			return nimbus.TaskInformation{}, err
		}
		return st.task.Information.WithEmptyLists(), nil
	}
	return nimbus.TaskInformation{}, &nimbus.Error{Kind: nimbus.KindUnavailable, Message: fmt.Sprintf("Task %q is being changed by many writers at once; try again.", taskID), RetryAfter: time.Second}
}
