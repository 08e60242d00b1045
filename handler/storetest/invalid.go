package storetest

import (
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// badKeys are keys the contract rejects: empty, longer than MaxKeyLength, not UTF-8.
var badKeys = map[string]string{
	"Empty":   "",
	"TooLong": strings.Repeat("k", nimbus.MaxKeyLength+1),
	"NotUTF8": "a\xc3\x28b",
}

func testInvalidInputs(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")
	mustInsert(t, tb, pk, "r", []byte("keep"))

	for name, bad := range badKeys {
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				field string
				pk    string
				rk    string
			}{{"partitionKey", bad, "r"}, {"rowKey", pk, bad}} {
				_, err := tb.Get(ctx, c.pk, c.rk)
				wantInvalid(t, "get with bad "+c.field, err, c.field)
				_, err = tb.Insert(ctx, nimbus.Entity{PartitionKey: c.pk, RowKey: c.rk})
				wantInvalid(t, "insert with bad "+c.field, err, c.field)
				_, err = tb.Upsert(ctx, nimbus.Entity{PartitionKey: c.pk, RowKey: c.rk})
				wantInvalid(t, "upsert with bad "+c.field, err, c.field)
				_, err = tb.Update(ctx, nimbus.Entity{PartitionKey: c.pk, RowKey: c.rk})
				wantInvalid(t, "update with bad "+c.field, err, c.field)
				err = tb.Delete(ctx, c.pk, c.rk, "")
				wantInvalid(t, "delete with bad "+c.field, err, c.field)
			}
			_, err := tb.List(ctx, bad, "", "", 10)
			wantInvalid(t, "list with bad partitionKey", err, "partitionKey")
			err = tb.Batch(ctx, bad, []nimbus.BatchOp{{Kind: nimbus.BatchUpsert, RowKey: "r"}})
			wantInvalid(t, "batch with bad partitionKey", err, "partitionKey")
			if name != "Empty" { // an empty prefix means "all rows"
				_, err = tb.List(ctx, pk, bad, "", 10)
				wantInvalid(t, "list with bad prefix", err, "prefix")
			}
		})
	}

	for _, limit := range []int{0, -1, nimbus.MaxPageSize + 1} {
		_, err := tb.List(ctx, pk, "", "", limit)
		wantInvalid(t, "list with limit out of range", err, "limit")
	}
	wantEntity(t, tb, pk, "r", []byte("keep"), "")
}
