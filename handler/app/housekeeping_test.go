package app

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Terminated tasks are purged once their tenant's retention has passed, tasks in progress
// never; a late event for a purged task is dropped and counted instead of starting it again;
// the tombstone goes after another retention period; a run with nothing due reads one list.
func TestHousekeepingPurgesTerminatedTasks(t *testing.T) {
	p := newPipe(t)
	ctx := t.Context()
	clock := func() time.Time { return p.now }
	p.pipeline.tasks.now = clock
	cc := p.demo.Services.ContactCenter
	ev := func(task string, n int64, e nimbus.TaskEvent) nimbus.IngestEvent {
		return event(task, n, e, cc, nimbus.ModalityAudio, nimbus.DirectionInbound)
	}
	p.run(t, ev("done", 1, nimbus.EventWorkflowStarted), ev("done", 2, nimbus.EventTerminated), ev("live", 1, nimbus.EventWorkflowStarted))

	table := &countingTable{Table: p.tables.Table(nimbus.TableTasks)}
	h := NewHousekeeping(p.dir, table, nil)
	start := p.now
	runAt := func(after time.Duration) HousekeepingReport {
		t.Helper()
		h.now = func() time.Time { return start.Add(after) }
		rep, err := h.Run(ctx)
		if err != nil {
			t.Fatalf("run at +%v: %v", after, err)
		}
		return rep
	}

	if rep := runAt(6 * 24 * time.Hour); rep.TasksPurged != 0 {
		t.Fatalf("within the retention: %+v, want nothing purged", rep)
	}
	if rep := runAt(8*24*time.Hour + time.Hour); rep.TasksPurged != 1 {
		t.Fatalf("after the retention: %+v, want one task purged", rep)
	}
	if _, err := p.pipeline.tasks.get(ctx, DemoTenantID, "done"); !errors.Is(err, errTaskPurged) || !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("purged task: got %v, want purged (and not found)", err)
	}
	if _, err := p.pipeline.tasks.get(ctx, DemoTenantID, "live"); err != nil {
		t.Errorf("task in progress after housekeeping: %v", err)
	}

	// A late event is dropped and counted; the task is not started again.
	late := ev("done", 3, nimbus.EventParameterUpdated)
	late.Parameter = &nimbus.Parameter{Name: "n", Value: "v"}
	body, _ := json.Marshal(late)
	if err := p.pipeline.ProcessEvent(ctx, nimbus.Message{ID: late.EventID, Body: body}); err != nil {
		t.Fatalf("late event: %v", err)
	}
	if n := p.stats.Tenant(DemoTenantID).Dropped[DropTaskPurged]; n != 1 {
		t.Errorf("late events counted: %d, want 1", n)
	}
	if _, err := p.pipeline.tasks.get(ctx, DemoTenantID, "done"); !errors.Is(err, errTaskPurged) {
		t.Errorf("after the late event: %v, want still purged", err)
	}

	// Nothing due: one read of the day list.
	before := table.total()
	runAt(8*24*time.Hour + 2*time.Hour)
	if n := table.total() - before; n > 1 {
		t.Errorf("a run with nothing due made %d storage calls, want 1", n)
	}

	if rep := runAt(17 * 24 * time.Hour); rep.TombstonesRemoved != 1 {
		t.Fatalf("after the tombstone's retention: %+v, want one tombstone removed", rep)
	}
	if _, err := p.pipeline.tasks.get(ctx, DemoTenantID, "done"); !errors.Is(err, nimbus.ErrNotFound) || errors.Is(err, errTaskPurged) {
		t.Errorf("after the tombstone went: %v, want plain not found", err)
	}
	page, err := table.List(ctx, expiryDayList, "", "", 10)
	if err != nil || len(page.Entities) != 0 {
		t.Errorf("expiry days left after everything expired: %d (%v)", len(page.Entities), err)
	}
}

// The tenant setting taskRetentionDays decides how long terminated tasks are kept.
func TestHousekeepingFollowsTenantRetention(t *testing.T) {
	p := newPipe(t)
	ctx := t.Context()
	d, _ := Demo()
	d.Settings.TaskRetentionDays = 30
	if _, err := p.dir.Seed(ctx, d, true); err != nil {
		t.Fatal(err)
	}
	cc := p.demo.Services.ContactCenter
	p.run(t, event("long", 1, nimbus.EventWorkflowStarted, cc, nimbus.ModalityAudio, nimbus.DirectionInbound),
		event("long", 2, nimbus.EventTerminated, cc, nimbus.ModalityAudio, nimbus.DirectionInbound))
	h := NewHousekeeping(p.dir, p.tables.Table(nimbus.TableTasks), nil)
	for _, c := range []struct {
		after time.Duration
		want  int
	}{{8 * 24 * time.Hour, 0}, {29 * 24 * time.Hour, 0}, {32 * 24 * time.Hour, 1}} {
		h.now = func() time.Time { return time.Now().Add(c.after) }
		rep, err := h.Run(ctx)
		if err != nil || rep.TasksPurged != c.want {
			t.Errorf("at +%v: %+v, %v; want %d purged", c.after, rep, err, c.want)
		}
	}
}

func TestTaskRetentionSetting(t *testing.T) {
	for _, days := range []int{-1, nimbus.MaxTaskRetentionDays + 1} {
		d, _ := Demo()
		d.Settings.TaskRetentionDays = days
		err := d.Validate()
		var ne *nimbus.Error
		if !errors.As(err, &ne) || ne.Kind != nimbus.KindInvalid || ne.Target != "settings.taskRetentionDays" {
			t.Errorf("taskRetentionDays %d: got %v, want InvalidArgument naming settings.taskRetentionDays", days, err)
		}
	}
	if got := (nimbus.TenantSettings{}).TaskRetention(); got != 7*24*time.Hour {
		t.Errorf("default retention: %v, want 7 days", got)
	}
}
