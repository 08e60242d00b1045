package tables

import (
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// The contract's limits must fit Azure's: an entity of MaxEntityData with the longest keys
// stays under the 1 MiB an entity may take (Azurite counts the request JSON, where binary
// data is base64), and a batch of MaxBatchData under the 4 MiB of a transaction, allowing a
// generous 2 KiB of multipart envelope per operation.
func TestContractLimitsFitAzure(t *testing.T) {
	longKey := encodeKey(strings.Repeat("é", nimbus.MaxKeyLength/2))
	body, err := marshalEntity(longKey, longKey, make([]byte, nimbus.MaxEntityData))
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > 1<<20 {
		t.Errorf("entity of MaxEntityData: %d bytes of JSON, over 1 MiB", len(body))
	}
	total := 0
	for range nimbus.MaxBatchData / nimbus.MaxEntityData {
		a, err := transactionAction(longKey, nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: longKey, Data: make([]byte, nimbus.MaxEntityData)})
		if err != nil {
			t.Fatal(err)
		}
		total += len(a.Entity) + 2<<10
	}
	if total > 4<<20 {
		t.Errorf("batch of MaxBatchData: about %d bytes of request, over 4 MiB", total)
	}
}
