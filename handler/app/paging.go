package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// eachEntity calls fn for every entity of the partition whose row key starts with prefix,
// page by page (MaxPageSize each). An error of List or of fn stops the walk and is returned.
func eachEntity(ctx context.Context, t nimbus.Table, pk, prefix string, fn func(nimbus.Entity) error) error {
	cursor := ""
	for {
		page, err := t.List(ctx, pk, prefix, cursor, nimbus.MaxPageSize)
		if err != nil {
			return err
		}
		for _, e := range page.Entities {
			if err := fn(e); err != nil {
				return err
			}
		}
		if cursor = page.Next; cursor == "" {
			return nil
		}
	}
}

// eachRecord is eachEntity for partitions of JSON records: fn gets each entity decoded as T.
func eachRecord[T any](ctx context.Context, t nimbus.Table, pk, prefix string, fn func(e nimbus.Entity, v T) error) error {
	return eachEntity(ctx, t, pk, prefix, func(e nimbus.Entity) error {
		var v T
		if err := json.Unmarshal(e.Data, &v); err != nil {
			return fmt.Errorf("decode row %q: %w", e.RowKey, err)
		}
		return fn(e, v)
	})
}
