package embedded

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Batch applies the operations in order inside one bbolt transaction: the first failing
// operation aborts it, which rolls back every earlier one. An empty batch is a no-op.
func (t *table) Batch(ctx context.Context, partitionKey string, ops []nimbus.BatchOp) error {
	if err := nimbus.CheckBatch(partitionKey, ops); err != nil {
		return err
	}
	if len(ops) == 0 {
		return nil
	}
	if fx := effectsFor(ctx, t.bolt); fx != nil && fx.collectBatch(t.name, partitionKey, ops) {
		return nil // written with the completion of the message being handled, in order
	}
	return t.update(ctx, "batch", func(b *bbolt.Bucket) error {
		for i, op := range ops {
			if _, err := apply(b, partitionKey, op); err != nil {
				return batchError(i, err)
			}
		}
		return nil
	})
}

// batchError keeps the failing operation's kind and names the operation, in Target and in
// the message.
func batchError(i int, err error) error {
	var e *nimbus.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("batch operation %d: %w", i, err)
	}
	return &nimbus.Error{
		Kind:    e.Kind,
		Target:  fmt.Sprintf("ops[%d]", i),
		Message: fmt.Sprintf("batch operation %d: %s", i, e.Message),
		Err:     e.Err,
	}
}
