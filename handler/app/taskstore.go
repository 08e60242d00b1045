package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// taskStore reads and writes task projections in the tasks table; the fan-out and the task
// actions share it. Writes are conditional on the ETag read, so concurrent changes of one
// task surface as KindConflict rather than overwriting each other.
type taskStore struct {
	table nimbus.Table
}

// storedTask is a task read with its ETag; an empty ETag means "not stored yet".
type storedTask struct {
	task nimbus.Task
	etag string
}

// taskPartition spreads a tenant's tasks over 256 partitions so no single partition is hot.
func taskPartition(tenant, task string) string {
	sum := sha256.Sum256([]byte(task))
	return tenant + "|" + hex.EncodeToString(sum[:1])
}

// get returns the stored task, or KindNotFound.
func (s taskStore) get(ctx context.Context, tenant, taskID string) (storedTask, error) {
	e, err := s.table.Get(ctx, taskPartition(tenant, taskID), taskID)
	if err != nil {
		if errors.Is(err, nimbus.ErrNotFound) {
			return storedTask{}, err
		}
		return storedTask{}, fmt.Errorf("read task: %w", err)
	}
	st := storedTask{etag: e.ETag}
	if err := json.Unmarshal(e.Data, &st.task); err != nil {
		return storedTask{}, fmt.Errorf("decode task %s: %w", taskID, err)
	}
	return st, nil
}

// put inserts a new task (empty ETag) or replaces the one read, if it is unchanged.
func (s taskStore) put(ctx context.Context, st storedTask) error {
	data, err := json.Marshal(st.task)
	if err != nil {
		return fmt.Errorf("encode task: %w", err)
	}
	e := nimbus.Entity{PartitionKey: taskPartition(st.task.TenantID, st.task.TaskID), RowKey: st.task.TaskID, Data: data, ETag: st.etag}
	if st.etag == "" {
		_, err = s.table.Insert(ctx, e)
	} else {
		_, err = s.table.Update(ctx, e)
	}
	return err
}
