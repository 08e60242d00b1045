package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// taskStore reads and writes task projections in the tasks table; the fan-out and the task
// actions share it. Writes are conditional on the ETag read, so concurrent changes of one
// task surface as KindConflict rather than overwriting each other. A projection may be larger
// than one row holds (its parameters and customer fields alone may reach megabytes of JSON);
// bigRows spreads such a one over several rows.
type taskStore struct {
	table nimbus.Table
	dir   *Directory       // for the tenant's retention; nil: the default retention
	now   func() time.Time // nil: time.Now
	days  *dayRegistry     // expiry days registered by this process; nil: register every time
}

// newTaskStore returns the task store over the tasks table.
func newTaskStore(table nimbus.Table, dir *Directory) taskStore {
	return taskStore{table: table, dir: dir, days: &dayRegistry{}}
}

// storedTask is a task read with its ETag; an empty ETag means "not stored yet".
type storedTask struct {
	task  nimbus.Task
	etag  string
	spill *spillRef // where the parts of a large stored version are, for put to replace
	// terminated records that the stored version was already terminated, so its expiry is
	// scheduled once, when the termination is first stored.
	terminated bool
}

func (s taskStore) rows() bigRows { return bigRows{table: s.table} }

// taskPartition spreads a tenant's tasks over 256 partitions so no single partition is hot.
func taskPartition(tenant, task string) string {
	sum := sha256.Sum256([]byte(task))
	return tenant + "|" + hex.EncodeToString(sum[:1])
}

// get returns the stored task, or KindNotFound.
func (s taskStore) get(ctx context.Context, tenant, taskID string) (storedTask, error) {
	data, etag, spill, err := s.rows().get(ctx, taskPartition(tenant, taskID), taskID)
	if err != nil {
		if errors.Is(err, nimbus.ErrNotFound) {
			return storedTask{}, err
		}
		return storedTask{}, fmt.Errorf("read task: %w", err)
	}
	if isTombstone(data) {
		return storedTask{}, purgedError(taskID)
	}
	st := storedTask{etag: etag, spill: spill}
	if err := json.Unmarshal(data, &st.task); err != nil {
		return storedTask{}, fmt.Errorf("decode task %s: %w", taskID, err)
	}
	st.terminated = st.task.State == nimbus.TaskTerminated
	return st, nil
}

// put inserts a new task (empty ETag) or replaces the one read, if it is unchanged. When the
// task has just terminated, its expiry is scheduled first, so that no crash can leave a
// terminated task that is never purged.
func (s taskStore) put(ctx context.Context, st storedTask) error {
	if st.task.State == nimbus.TaskTerminated && !st.terminated {
		keep, err := s.retention(ctx, st.task.TenantID)
		if err != nil {
			return err
		}
		if err := s.scheduleExpiry(ctx, expireTask, st.task.TenantID, st.task.TaskID, keep); err != nil {
			return err
		}
	}
	data, err := encodeStored(st.task)
	if err != nil {
		return fmt.Errorf("encode task: %w", err)
	}
	return s.rows().put(ctx, taskPartition(st.task.TenantID, st.task.TaskID), st.task.TaskID, data, st.etag, st.spill)
}
