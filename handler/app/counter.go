package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// A count row keeps the number of rows of a partition that it counts (contacts of a book,
// open external tasks of a tenant). Every insert or delete of a counted row is one batch with
// an ETag-guarded write of the count row, so a cap holds under concurrent writers.
const countRow = "count"

type rowCount struct {
	Count int `json:"count"`
}

// readCount returns the count and the count row's ETag ("" when the row does not exist yet).
func readCount(ctx context.Context, t nimbus.Table, pk string) (int, string, error) {
	e, err := t.Get(ctx, pk, countRow)
	if errors.Is(err, nimbus.ErrNotFound) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read count: %w", err)
	}
	var c rowCount
	if err := json.Unmarshal(e.Data, &c); err != nil {
		return 0, "", fmt.Errorf("decode count: %w", err)
	}
	return c.Count, e.ETag, nil
}

// countOp writes the count row, creating it when etag is empty and otherwise only if it is
// still at etag.
func countOp(n int, etag string) nimbus.BatchOp {
	data, _ := json.Marshal(rowCount{Count: n})
	if etag == "" {
		return nimbus.BatchOp{Kind: nimbus.BatchInsert, RowKey: countRow, Data: data}
	}
	return nimbus.BatchOp{Kind: nimbus.BatchUpdate, RowKey: countRow, Data: data, IfMatch: etag}
}

// pause spreads the retries of an ETag race: none before the first attempt, then a random
// wait that grows with the attempt (up to 50 ms), so concurrent writers of one row stop
// colliding in the same instant. It fails with KindUnavailable when ctx ends first.
func pause(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	limit := min(time.Duration(attempt)*2*time.Millisecond, 50*time.Millisecond)
	select {
	case <-time.After(rand.N(limit) + time.Millisecond):
		return nil
	case <-ctx.Done():
		return nimbus.Unavailable("wait to retry", ctx.Err())
	}
}
