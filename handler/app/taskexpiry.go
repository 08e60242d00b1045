package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Retention of terminated tasks (SPEC 5.2). When a task is terminated, the task store writes
// an expiry row under the UTC day its retention ends, in the tasks table's partition
// "expiry|<day>", and registers that day in partition "expiry|days". Housekeeping reads the
// registered days before today and purges what their rows name, so the cost of a run follows
// the tasks due, never the tasks kept.
//
// A purged task leaves a tombstone in place of its projection, so an event that arrives for
// it afterwards is dropped and counted instead of starting the task afresh. The tombstone is
// removed after another retention period by the same mechanism.
//
// Days are only ever written for tomorrow or later (retention is at least a day) and only
// purged once they have passed, so housekeeping never races a writer of the day it empties.
const (
	expiryPrefix  = "expiry|"
	expiryDayList = expiryPrefix + "days"
	dayLayout     = "2006-01-02"
)

// What an expiry row asks housekeeping to remove.
const (
	expireTask      = "task"
	expireTombstone = "tombstone"
)

// expiry is one expiry row.
type expiry struct {
	Kind     string `json:"kind"`
	TenantID string `json:"tenantId"`
	TaskID   string `json:"taskId"`
}

func expiryPartition(day string) string { return expiryPrefix + day }

// expiryRowKey keeps row keys short whatever the task id: kind, then a hash of tenant and task.
func expiryRowKey(kind, tenant, taskID string) string {
	sum := sha256.Sum256([]byte(tenant + "\x00" + taskID))
	return kind + "|" + hex.EncodeToString(sum[:16])
}

// tombstone replaces a purged task's projection.
type tombstone struct {
	PurgedAt time.Time `json:"purgedAt"`
}

// tombstonePrefix starts every stored tombstone (encodeStored writes fields in order); a
// task projection starts with its tenantId.
var tombstonePrefix = []byte(`{"purgedAt":`)

func isTombstone(data []byte) bool { return bytes.HasPrefix(data, tombstonePrefix) }

// errTaskPurged is returned for a task whose projection was purged after its retention. It
// is also KindNotFound, so callers that only know "missing" answer 404.
var errTaskPurged = errors.New("task was purged after its retention")

func purgedError(taskID string) error {
	return fmt.Errorf("%w: %w", errTaskPurged, nimbus.NotFound("Task %q was not found.", taskID))
}

// retention returns the tenant's task retention; the default when the tenant's directory
// cannot be read (a task of an unknown tenant is never stored in the first place).
func (s taskStore) retention(ctx context.Context, tenant string) (time.Duration, error) {
	if s.dir == nil {
		return nimbus.TenantSettings{}.TaskRetention(), nil
	}
	x, err := s.dir.Index(ctx, tenant)
	if errors.Is(err, nimbus.ErrNotFound) {
		return nimbus.TenantSettings{}.TaskRetention(), nil
	}
	if err != nil {
		return 0, err
	}
	return x.Settings().TaskRetention(), nil
}

// scheduleExpiry registers that kind should be removed for the task once after has passed.
// It is idempotent: writing it again for the same day changes nothing.
func (s taskStore) scheduleExpiry(ctx context.Context, kind, tenant, taskID string, after time.Duration) error {
	due := s.clock().UTC().Add(after)
	// The row goes under the day the retention ends and is purged once that day has passed:
	// at most a day late, never early.
	day := due.Format(dayLayout)
	if !s.days.known(day) {
		if _, err := s.table.Upsert(ctx, nimbus.Entity{PartitionKey: expiryDayList, RowKey: day, Data: []byte("{}")}); err != nil {
			return fmt.Errorf("register expiry day: %w", err)
		}
		s.days.add(day)
	}
	data, err := encodeStored(expiry{Kind: kind, TenantID: tenant, TaskID: taskID})
	if err != nil {
		return fmt.Errorf("encode expiry: %w", err)
	}
	if _, err := s.table.Upsert(ctx, nimbus.Entity{PartitionKey: expiryPartition(day), RowKey: expiryRowKey(kind, tenant, taskID), Data: data}); err != nil {
		return fmt.Errorf("schedule expiry: %w", err)
	}
	return nil
}

func (s taskStore) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// purge replaces a terminated task's projection by a tombstone, removing its parts, and
// schedules the tombstone's own removal. It does nothing for a task that is missing, already
// purged, or not terminated (its expiry row was written just before a crash that kept the
// termination from being stored; the redelivered event writes it again).
func (s taskStore) purge(ctx context.Context, tenant, taskID string) (bool, error) {
	st, err := s.get(ctx, tenant, taskID)
	if errors.Is(err, nimbus.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if st.task.State != nimbus.TaskTerminated {
		return false, nil
	}
	keep, err := s.retention(ctx, tenant)
	if err != nil {
		return false, err
	}
	if err := s.scheduleExpiry(ctx, expireTombstone, tenant, taskID, keep); err != nil {
		return false, err
	}
	data, err := encodeStored(tombstone{PurgedAt: s.clock().UTC()})
	if err != nil {
		return false, fmt.Errorf("encode tombstone: %w", err)
	}
	if err := s.rows().put(ctx, taskPartition(tenant, taskID), taskID, data, st.etag, st.spill); err != nil {
		return false, fmt.Errorf("purge task: %w", err)
	}
	return true, nil
}

// dropTombstone removes a purged task's tombstone, and any parts left behind.
func (s taskStore) dropTombstone(ctx context.Context, tenant, taskID string) error {
	pk := taskPartition(tenant, taskID)
	data, etag, _, err := s.rows().get(ctx, pk, taskID)
	if errors.Is(err, nimbus.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !isTombstone(data) {
		return nil
	}
	err = s.rows().removeAll(ctx, pk, taskID, etag)
	if errors.Is(err, nimbus.ErrNotFound) || errors.Is(err, nimbus.ErrConflict) {
		return nil
	}
	return err
}

// dayRegistry remembers the expiry days this process has registered, so the day row is
// written once per day and process rather than once per terminated task. A day is
// registered before any row is written under it and forgotten by housekeeping only once it
// has passed, when no writer uses it any more, so remembering it is safe. Nil remembers
// nothing.
type dayRegistry struct {
	mu   sync.Mutex
	seen *lru[string, struct{}]
}

// maxRememberedDays covers every retention in use at once by far; forgetting a day only
// costs one more write.
const maxRememberedDays = 64

func (r *dayRegistry) known(day string) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		return false
	}
	_, ok := r.seen.get(day)
	return ok
}

func (r *dayRegistry) add(day string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = newLRU[string, struct{}](maxRememberedDays)
	}
	r.seen.put(day, struct{}{})
}
