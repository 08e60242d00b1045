package app

import (
	"bytes"
	"encoding/json"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// encodeStored renders v as the JSON stored in a table row. Unlike json.Marshal it leaves
// <, > and & as they are: escaped as \u003c they take six bytes instead of one, so a value
// within its field limits could outgrow the row it fits in as written.
func encodeStored(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// batchGroups splits ops into consecutive groups that each fit one Table.Batch: at most
// MaxBatch operations and MaxBatchData bytes of data. For writes that need not be atomic as
// a whole (rows that nothing references yet, deletes that may be repeated).
func batchGroups(ops []nimbus.BatchOp) [][]nimbus.BatchOp {
	var groups [][]nimbus.BatchOp
	start, size := 0, 0
	for i, op := range ops {
		if i > start && (i-start == nimbus.MaxBatch || size+len(op.Data) > nimbus.MaxBatchData) {
			groups = append(groups, ops[start:i])
			start, size = i, 0
		}
		size += len(op.Data)
	}
	if start < len(ops) {
		groups = append(groups, ops[start:])
	}
	return groups
}
