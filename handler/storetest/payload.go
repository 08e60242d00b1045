package storetest

import (
	"math/rand/v2"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// payload returns n pseudo-random bytes, so that chunking bugs cannot hide behind repetition.
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testLargePayload(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")
	big := payload(1, 300<<10)

	mustInsert(t, tb, pk, "big", big)
	wantEntity(t, tb, pk, "big", big, "")

	bigger := payload(2, 300<<10+1)
	if _, err := tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "big", Data: bigger}); err != nil {
		t.Fatalf("update: %v", err)
	}
	wantEntity(t, tb, pk, "big", bigger, "")

	small := []byte("small again")
	if _, err := tb.Upsert(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "big", Data: small}); err != nil {
		t.Fatalf("upsert smaller: %v", err)
	}
	wantEntity(t, tb, pk, "big", small, "") // no chunk of the larger value survives

	maxData := payload(3, nimbus.MaxEntityData)
	mustInsert(t, tb, pk, "max", maxData)
	wantEntity(t, tb, pk, "max", maxData, "")

	b1, b2 := payload(4, 200<<10), payload(5, 250<<10)
	err := tb.Batch(ctx, pk, []nimbus.BatchOp{
		{Kind: nimbus.BatchUpsert, RowKey: "b1", Data: b1},
		{Kind: nimbus.BatchInsert, RowKey: "b2", Data: b2},
	})
	if err != nil {
		t.Fatalf("batch of large entities: %v", err)
	}
	want := map[string][]byte{"big": small, "max": maxData, "b1": b1, "b2": b2}
	got := listAll(t, tb, pk, "", 2)
	if len(got) != len(want) {
		t.Fatalf("list: got %d entities, want %d", len(got), len(want))
	}
	for _, e := range got {
		if string(e.Data) != string(want[e.RowKey]) {
			t.Fatalf("list: row %q has %d bytes, want %d (or different content)", e.RowKey, len(e.Data), len(want[e.RowKey]))
		}
	}

	tooBig := make([]byte, nimbus.MaxEntityData+1)
	_, err = tb.Insert(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "huge", Data: tooBig})
	wantInvalid(t, "insert too large", err, "data")
	_, err = tb.Upsert(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "big", Data: tooBig})
	wantInvalid(t, "upsert too large", err, "data")
	_, err = tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "big", Data: tooBig})
	wantInvalid(t, "update too large", err, "data")
	wantMissing(t, tb, pk, "huge")
	wantEntity(t, tb, pk, "big", small, "")
}
