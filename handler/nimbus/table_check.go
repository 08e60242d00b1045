package nimbus

import (
	"fmt"
	"unicode/utf8"
)

// The checks below are the input contract of Table. Every implementation applies them before
// touching its backend, so all of them refuse the same inputs with the same errors, and
// handler/storetest holds them to it.

// CheckKey validates a partition key, row key or prefix named target.
func CheckKey(target, key string) *Error {
	switch {
	case key == "":
		return Invalid(target, "%s is required", target)
	case len(key) > MaxKeyLength:
		return Invalid(target, "%s must be at most %d bytes, got %d", target, MaxKeyLength, len(key))
	case !utf8.ValidString(key):
		return Invalid(target, "%s must be valid UTF-8", target)
	}
	return nil
}

// CheckData validates an entity payload.
func CheckData(target string, data []byte) *Error {
	if len(data) > MaxEntityData {
		return Invalid(target, "%s must be at most %d bytes, got %d", target, MaxEntityData, len(data))
	}
	return nil
}

// CheckEntity validates the keys and payload of e.
func CheckEntity(e Entity) error {
	if err := CheckKey("partitionKey", e.PartitionKey); err != nil {
		return err
	}
	if err := CheckKey("rowKey", e.RowKey); err != nil {
		return err
	}
	if err := CheckData("data", e.Data); err != nil {
		return err
	}
	return nil
}

// CheckList validates the arguments of Table.List.
func CheckList(partitionKey, prefix string, limit int) error {
	if err := CheckKey("partitionKey", partitionKey); err != nil {
		return err
	}
	if prefix != "" {
		if err := CheckKey("prefix", prefix); err != nil {
			return err
		}
	}
	if limit < 1 || limit > MaxPageSize {
		return Invalid("limit", "limit must be between 1 and %d, got %d", MaxPageSize, limit)
	}
	return nil
}

// CheckBatch validates a batch before it touches the store.
func CheckBatch(partitionKey string, ops []BatchOp) error {
	if err := CheckKey("partitionKey", partitionKey); err != nil {
		return err
	}
	if len(ops) > MaxBatch {
		return Invalid("ops", "a batch holds at most %d operations, got %d", MaxBatch, len(ops))
	}
	seen := make(map[string]bool, len(ops))
	total := 0
	for i, op := range ops {
		at := fmt.Sprintf("ops[%d]", i)
		if op.Kind < BatchInsert || op.Kind > BatchDelete {
			return Invalid(at+".kind", "%s.kind %d is not a batch operation", at, op.Kind)
		}
		if err := CheckKey(at+".rowKey", op.RowKey); err != nil {
			return err
		}
		if err := CheckData(at+".data", op.Data); err != nil {
			return err
		}
		if seen[op.RowKey] {
			return Invalid(at+".rowKey", "%s.rowKey repeats the row key of an earlier operation; a batch changes each row at most once", at)
		}
		seen[op.RowKey] = true
		if total += len(op.Data); total > MaxBatchData {
			return Invalid("ops", "a batch carries at most %d bytes of data, got more at ops[%d]", MaxBatchData, i)
		}
	}
	return nil
}
