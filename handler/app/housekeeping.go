package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Housekeeping is the periodic clean-up: it purges the projections of terminated tasks once
// their tenant's retention has passed, and later their tombstones (see taskexpiry.go). It is
// run hourly, by an in-process ticker standalone and by the Housekeeping timer function under
// the Functions host. Runs may overlap or be repeated: every step is idempotent.
type Housekeeping struct {
	tasks taskStore
	log   *slog.Logger
	now   func() time.Time
}

// NewHousekeeping returns the job over the tasks table.
func NewHousekeeping(dir *Directory, tasks nimbus.Table, log *slog.Logger) *Housekeeping {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Housekeeping{log: log, now: time.Now}
	h.tasks = newTaskStore(tasks, dir)
	h.tasks.now = func() time.Time { return h.now() }
	return h
}

// HousekeepingReport says what one run did.
type HousekeepingReport struct {
	TasksPurged       int
	TombstonesRemoved int
	DaysDone          int
}

// Run does one round of housekeeping. Its cost follows what is due: it reads the list of days
// with pending expiries and then only the rows of the days that have passed.
func (h *Housekeeping) Run(ctx context.Context) (HousekeepingReport, error) {
	var rep HousekeepingReport
	today := h.now().UTC().Format(dayLayout)
	var days []string
	err := eachEntity(ctx, h.tasks.table, expiryDayList, "", func(e nimbus.Entity) error {
		if e.RowKey < today {
			days = append(days, e.RowKey)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("housekeeping: list expiry days: %w", err)
	}
	sort.Strings(days)
	for _, day := range days {
		if err := h.expireDay(ctx, day, &rep); err != nil {
			return rep, fmt.Errorf("housekeeping: expire %s: %w", day, err)
		}
	}
	h.log.Info("housekeeping done", "tasksPurged", rep.TasksPurged, "tombstonesRemoved", rep.TombstonesRemoved, "days", rep.DaysDone)
	return rep, nil
}

// expireDay carries out every expiry row of a passed day, then forgets the day once it has
// no rows left.
func (h *Housekeeping) expireDay(ctx context.Context, day string, rep *HousekeepingReport) error {
	pk := expiryPartition(day)
	err := eachEntity(ctx, h.tasks.table, pk, "", func(e nimbus.Entity) error {
		keep, err := h.expire(ctx, e, rep)
		if err != nil || keep {
			return err
		}
		if err := h.tasks.table.Delete(ctx, pk, e.RowKey, e.ETag); err != nil && !errors.Is(err, nimbus.ErrNotFound) && !errors.Is(err, nimbus.ErrConflict) {
			return fmt.Errorf("delete expiry row: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	left, err := h.tasks.table.List(ctx, pk, "", "", 1)
	if err != nil {
		return fmt.Errorf("check expiry day: %w", err)
	}
	if len(left.Entities) > 0 {
		return nil // a row changed while it was carried out: the next run takes it
	}
	if err := h.tasks.table.Delete(ctx, expiryDayList, day, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return fmt.Errorf("forget expiry day: %w", err)
	}
	rep.DaysDone++
	return nil
}

// expire carries out one expiry row. keep is true when the row must stay for a later run (the
// task changed while it was purged).
func (h *Housekeeping) expire(ctx context.Context, e nimbus.Entity, rep *HousekeepingReport) (keep bool, err error) {
	var x expiry
	if err := json.Unmarshal(e.Data, &x); err != nil || x.TenantID == "" || x.TaskID == "" {
		h.log.Warn("expiry row not understood; removing it", "row", e.RowKey)
		return false, nil
	}
	switch x.Kind {
	case expireTask:
		purged, err := h.tasks.purge(ctx, x.TenantID, x.TaskID)
		if errors.Is(err, nimbus.ErrConflict) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if purged {
			rep.TasksPurged++
			h.log.Debug("task purged after its retention", "tenant", x.TenantID, "taskId", x.TaskID)
		}
	case expireTombstone:
		if err := h.tasks.dropTombstone(ctx, x.TenantID, x.TaskID); err != nil {
			return false, err
		}
		rep.TombstonesRemoved++
	default:
		h.log.Warn("expiry row of an unknown kind; removing it", "row", e.RowKey, "kind", x.Kind)
	}
	return false, nil
}

// Job runs one round as a timer job (Run logs what it did); a failure is returned for the
// runner to report, and the next occurrence retries.
func (h *Housekeeping) Job(ctx context.Context) error {
	_, err := h.Run(ctx)
	return err
}
