package storetest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// testLargeBatch: a batch carrying MaxBatchData bytes in all is applied; one byte more is
// refused up front as invalid, naming "ops", with nothing written. Azure's limit on the size
// of a transaction must never surface as a storage error for a batch the contract allows.
func testLargeBatch(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")
	const n = nimbus.MaxBatchData / nimbus.MaxEntityData
	var ops []nimbus.BatchOp
	for i := range n {
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: string(rune('a' + i)), Data: payload(uint64(10+i), nimbus.MaxEntityData)})
	}
	if err := tb.Batch(ctx, pk, ops); err != nil {
		t.Fatalf("batch of %d × %d bytes: %v", n, nimbus.MaxEntityData, err)
	}
	for _, op := range ops {
		wantEntity(t, tb, pk, op.RowKey, op.Data, "")
	}

	over := append([]nimbus.BatchOp{}, ops...)
	over = append(over, nimbus.BatchOp{Kind: nimbus.BatchInsert, RowKey: "extra", Data: []byte{1}})
	wantInvalid(t, "batch over MaxBatchData", tb.Batch(ctx, pk, over), "ops")
	wantMissing(t, tb, pk, "extra")
}

// testExactBytes: data is stored byte for byte, whatever it holds: JSON with characters
// that encoders like to escape, multi-byte UTF-8, invalid UTF-8, NUL bytes.
func testExactBytes(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	pk := partition(t, "p")
	odd := []byte(`{"v":"<a href='x'>&amp;</a> \u2028 ` + "\u2028\u2029 😀 Ä 日本 \x00 \xff\xfe" + `"}`)
	var big bytes.Buffer
	for big.Len()+len(odd) <= nimbus.MaxEntityData {
		big.Write(odd)
	}
	for name, data := range map[string][]byte{"odd": odd, "big": big.Bytes(), "empty": {}} {
		mustInsert(t, tb, pk, name, data)
		got := mustGet(t, tb, pk, name)
		if !bytes.Equal(got.Data, data) {
			t.Errorf("%s: stored %d bytes, read back %d bytes that differ (%s…)", name, len(data), len(got.Data), strings.ToValidUTF8(string(got.Data[:min(len(got.Data), 40)]), "?"))
		}
	}
}
