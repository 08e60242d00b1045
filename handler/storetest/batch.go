package storetest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func testBatchMixed(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	pk := partition(t, "p")
	before := map[string]string{}
	for _, rk := range []string{"upd", "del", "rep", "updany", "delany"} {
		before[rk] = mustInsert(t, tb, pk, rk, []byte(rk+"0"))
	}

	err := tb.Batch(t.Context(), pk, []nimbus.BatchOp{
		{Kind: nimbus.BatchInsert, RowKey: "new", Data: []byte("new1")},
		{Kind: nimbus.BatchUpsert, RowKey: "ups", Data: []byte("ups1")},
		{Kind: nimbus.BatchUpsert, RowKey: "rep", Data: []byte("rep1")},
		{Kind: nimbus.BatchUpdate, RowKey: "upd", Data: []byte("upd1"), IfMatch: before["upd"]},
		{Kind: nimbus.BatchDelete, RowKey: "del", IfMatch: before["del"]},
		{Kind: nimbus.BatchUpdate, RowKey: "updany", Data: []byte("updany1")},
		{Kind: nimbus.BatchDelete, RowKey: "delany"},
	})
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	for _, rk := range []string{"new", "ups", "rep", "upd", "updany"} {
		e := mustGet(t, tb, pk, rk)
		if string(e.Data) != rk+"1" {
			t.Errorf("%s: got %q, want %q", rk, e.Data, rk+"1")
		}
		if e.ETag == before[rk] {
			t.Errorf("%s: ETag unchanged by the batch", rk)
		}
	}
	wantMissing(t, tb, pk, "del")
	wantMissing(t, tb, pk, "delany")
}

func testBatchAtomic(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	cases := []struct {
		name   string
		ops    func(etags map[string]string) []nimbus.BatchOp
		kind   nimbus.Kind
		failAt int
	}{
		{"InsertExisting", func(e map[string]string) []nimbus.BatchOp {
			return []nimbus.BatchOp{
				{Kind: nimbus.BatchUpsert, RowKey: "a", Data: []byte("a1")},
				{Kind: nimbus.BatchInsert, RowKey: "n1", Data: []byte("n1")},
				{Kind: nimbus.BatchUpdate, RowKey: "b", Data: []byte("b1"), IfMatch: e["b"]},
				{Kind: nimbus.BatchInsert, RowKey: "c", Data: []byte("c1")},
			}
		}, nimbus.KindConflict, 3},
		{"UpdateMissing", func(e map[string]string) []nimbus.BatchOp {
			return []nimbus.BatchOp{
				{Kind: nimbus.BatchUpsert, RowKey: "a", Data: []byte("a1")},
				{Kind: nimbus.BatchInsert, RowKey: "n1", Data: []byte("n1")},
				{Kind: nimbus.BatchUpdate, RowKey: "missing", Data: []byte("m1")},
				{Kind: nimbus.BatchDelete, RowKey: "c"},
			}
		}, nimbus.KindNotFound, 2},
		{"UpdateStaleETag", func(e map[string]string) []nimbus.BatchOp {
			return []nimbus.BatchOp{
				{Kind: nimbus.BatchDelete, RowKey: "c", IfMatch: e["c"]},
				{Kind: nimbus.BatchUpdate, RowKey: "b", Data: []byte("b1"), IfMatch: e["a"]},
				{Kind: nimbus.BatchUpsert, RowKey: "a", Data: []byte("a1")},
			}
		}, nimbus.KindConflict, 1},
		{"DeleteStaleETag", func(e map[string]string) []nimbus.BatchOp {
			return []nimbus.BatchOp{
				{Kind: nimbus.BatchInsert, RowKey: "n1", Data: []byte("n1")},
				{Kind: nimbus.BatchUpsert, RowKey: "a", Data: []byte("a1")},
				{Kind: nimbus.BatchDelete, RowKey: "b", IfMatch: e["c"]},
			}
		}, nimbus.KindConflict, 2},
		{"DeleteMissing", func(e map[string]string) []nimbus.BatchOp {
			return []nimbus.BatchOp{
				{Kind: nimbus.BatchUpdate, RowKey: "a", Data: []byte("a1"), IfMatch: e["a"]},
				{Kind: nimbus.BatchDelete, RowKey: "missing"},
			}
		}, nimbus.KindNotFound, 1},
		{"FirstOpFails", func(e map[string]string) []nimbus.BatchOp {
			return []nimbus.BatchOp{
				{Kind: nimbus.BatchInsert, RowKey: "a", Data: []byte("a1")},
				{Kind: nimbus.BatchUpsert, RowKey: "b", Data: []byte("b1")},
				{Kind: nimbus.BatchDelete, RowKey: "c"},
			}
		}, nimbus.KindConflict, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pk := partition(t, "p")
			etags := map[string]string{}
			for _, rk := range []string{"a", "b", "c"} {
				etags[rk] = mustInsert(t, tb, pk, rk, []byte(rk+"0"))
			}
			err := tb.Batch(t.Context(), pk, tc.ops(etags))
			wantKind(t, "batch", err, tc.kind)
			if got, want := err.(*nimbus.Error).Target, fmt.Sprintf("ops[%d]", tc.failAt); got != want {
				t.Errorf("batch: got target %q, want %q (%v)", got, want, err)
			}
			for _, rk := range []string{"a", "b", "c"} {
				wantEntity(t, tb, pk, rk, []byte(rk+"0"), etags[rk])
			}
			wantMissing(t, tb, pk, "n1")
			wantMissing(t, tb, pk, "missing")
		})
	}
}

func testBatchLimits(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")

	inserts := func(n int) []nimbus.BatchOp {
		ops := make([]nimbus.BatchOp, n)
		for i := range ops {
			ops[i] = nimbus.BatchOp{Kind: nimbus.BatchInsert, RowKey: fmt.Sprintf("r%03d", i), Data: []byte{byte(i)}}
		}
		return ops
	}
	wantEmpty := func(what string) {
		t.Helper()
		if got := listAll(t, tb, pk, "", nimbus.MaxPageSize); len(got) != 0 {
			t.Fatalf("%s: got %d entities, want none", what, len(got))
		}
	}

	wantInvalid(t, "batch of 101", tb.Batch(ctx, pk, inserts(nimbus.MaxBatch+1)), "ops")
	wantEmpty("after batch of 101")

	dup := []nimbus.BatchOp{
		{Kind: nimbus.BatchInsert, RowKey: "x", Data: []byte("1")},
		{Kind: nimbus.BatchUpsert, RowKey: "y", Data: []byte("2")},
		{Kind: nimbus.BatchUpsert, RowKey: "x", Data: []byte("3")},
	}
	wantInvalid(t, "duplicate row keys", tb.Batch(ctx, pk, dup), "ops[2]")
	wantEmpty("after duplicate row keys")

	bad := []struct {
		name   string
		op     nimbus.BatchOp
		target string
	}{
		{"EmptyRowKey", nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: ""}, "rowKey"},
		{"LongRowKey", nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: string(bytes.Repeat([]byte("k"), nimbus.MaxKeyLength+1))}, "rowKey"},
		{"InvalidUTF8RowKey", nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: "a\xffb"}, "rowKey"},
		{"UnknownKind", nimbus.BatchOp{Kind: 0, RowKey: "k"}, "kind"},
		{"DataTooLarge", nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: "k", Data: make([]byte, nimbus.MaxEntityData+1)}, "data"},
	}
	for _, b := range bad {
		ops := []nimbus.BatchOp{{Kind: nimbus.BatchUpsert, RowKey: "ok"}, b.op}
		wantInvalid(t, "batch with "+b.name, tb.Batch(ctx, pk, ops), "ops[1]."+b.target)
	}
	wantInvalid(t, "batch with empty partition key", tb.Batch(ctx, "", inserts(1)), "partitionKey")
	wantEmpty("after invalid batches")

	if err := tb.Batch(ctx, pk, nil); err != nil {
		t.Fatalf("empty batch: got %v, want a no-op", err)
	}
	if err := tb.Batch(ctx, pk, inserts(nimbus.MaxBatch)); err != nil {
		t.Fatalf("batch of %d: %v", nimbus.MaxBatch, err)
	}
	if got := listAll(t, tb, pk, "", nimbus.MaxPageSize); len(got) != nimbus.MaxBatch {
		t.Fatalf("after batch of %d: got %d entities", nimbus.MaxBatch, len(got))
	}
}
