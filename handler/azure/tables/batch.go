package tables

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Batch submits the operations as one entity group transaction, which the service applies
// atomically. An empty batch is a no-op (the SDK would reject it).
func (t *table) Batch(ctx context.Context, partitionKey string, ops []nimbus.BatchOp) error {
	if err := nimbus.CheckBatch(partitionKey, ops); err != nil {
		return err
	}
	if len(ops) == 0 {
		return nil
	}
	pk := encodeKey(partitionKey)
	actions := make([]aztables.TransactionAction, len(ops))
	for i, op := range ops {
		a, err := transactionAction(pk, op)
		if err != nil {
			return internal(fmt.Sprintf("encode batch operation %d", i), err)
		}
		actions[i] = a
	}
	_, err := t.client.SubmitTransaction(ctx, actions, nil)
	return batchError(err, len(ops))
}

// transactionAction maps a validated operation. Update and delete always carry If-Match
// ("*" when unconditional): an updatereplace without it would be an upsert.
func transactionAction(partitionKey string, op nimbus.BatchOp) (aztables.TransactionAction, error) {
	rowKey := encodeKey(op.RowKey)
	var a aztables.TransactionAction
	var err error
	switch op.Kind {
	case nimbus.BatchInsert:
		a.ActionType = aztables.TransactionTypeAdd
		a.Entity, err = marshalEntity(partitionKey, rowKey, op.Data)
	case nimbus.BatchUpsert:
		a.ActionType = aztables.TransactionTypeInsertReplace
		a.Entity, err = marshalEntity(partitionKey, rowKey, op.Data)
	case nimbus.BatchUpdate:
		a.ActionType = aztables.TransactionTypeUpdateReplace
		a.Entity, err = marshalEntity(partitionKey, rowKey, op.Data)
		a.IfMatch = ifMatch(op.IfMatch)
	case nimbus.BatchDelete:
		a.ActionType = aztables.TransactionTypeDelete
		a.Entity, err = keysOnly(partitionKey, rowKey)
		a.IfMatch = ifMatch(op.IfMatch)
	default:
		err = fmt.Errorf("unknown batch operation kind %d", op.Kind)
	}
	return a, err
}

// batchError translates the result of SubmitTransaction. When an operation fails, the service
// answers 202 Accepted with the failed operation's response inside the multipart body, and
// the SDK reports a *azcore.ResponseError for the outer 202 without an error code; the kind
// and the operation index must be read from that body.
func batchError(err error, n int) error {
	var re *azcore.ResponseError
	if err == nil || !errors.As(err, &re) || re.RawResponse == nil || re.StatusCode >= 300 {
		return translate("batch", err)
	}
	body, readErr := runtime.Payload(re.RawResponse)
	if readErr != nil {
		return translate("batch", err)
	}
	f, ok := parseBatchFailure(body)
	if !ok {
		return internal("batch", err)
	}
	e := fromStatus("batch", f.status, f.code, err)
	if f.index < 0 || f.index >= n {
		return e
	}
	return &nimbus.Error{
		Kind:       e.Kind,
		Target:     fmt.Sprintf("ops[%d]", f.index),
		Message:    fmt.Sprintf("batch operation %d: %s", f.index, e.Message),
		RetryAfter: e.RetryAfter,
		Err:        e.Err,
	}
}

// batchFailure is the failed inner response of a batch.
type batchFailure struct {
	status int
	code   string
	index  int // -1 when the service did not say
}

// opIndex matches the "<index>:" with which the service prefixes the message of a failed
// batch operation, e.g. "1:The specified entity already exists.".
var opIndex = regexp.MustCompile(`^(\d+):`)

// parseBatchFailure finds the first inner response with a 4xx/5xx status in a batch response
// body and reads its OData error. A JSON body (the whole batch was rejected) has no inner
// status line; then only the error code is known.
func parseBatchFailure(body []byte) (batchFailure, bool) {
	f := batchFailure{index: -1}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), len(body)+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "HTTP/1.1 "); ok && f.status == 0 {
			code, _, _ := strings.Cut(rest, " ")
			if s, err := strconv.Atoi(code); err == nil && s >= 400 {
				f.status = s
			}
			continue
		}
		if !strings.HasPrefix(line, "{") || (f.status == 0 && !bytes.HasPrefix(body, []byte("{"))) {
			continue
		}
		var oe struct {
			Error struct {
				Code    string `json:"code"`
				Message struct {
					Value string `json:"value"`
				} `json:"message"`
			} `json:"odata.error"`
		}
		if json.Unmarshal([]byte(line), &oe) != nil || oe.Error.Code == "" {
			continue
		}
		f.code = oe.Error.Code
		if m := opIndex.FindStringSubmatch(oe.Error.Message.Value); m != nil {
			f.index, _ = strconv.Atoi(m[1])
		}
		return f, true
	}
	return f, f.status != 0
}
