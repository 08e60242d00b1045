package storetest

import (
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// testPartitionIsolation uses partition keys where one is a prefix of the other, and row
// keys that make ("a", "bx") and ("ab", "x") collide under naive concatenation.
func testPartitionIsolation(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	base := partition(t, "")
	pa, pab := base+"a", base+"ab"
	rows := []struct{ pk, rk, data string }{
		{pa, "bx", "a/bx"}, {pab, "x", "ab/x"}, {pa, "x", "a/x"}, {pab, "bx", "ab/bx"}, {base, "abx", "/abx"},
	}
	for _, r := range rows {
		mustInsert(t, tb, r.pk, r.rk, []byte(r.data))
	}
	for _, r := range rows {
		wantEntity(t, tb, r.pk, r.rk, []byte(r.data), "")
	}
	wantRowKeys(t, "list a", listAll(t, tb, pa, "", 10), []string{"bx", "x"})
	wantRowKeys(t, "list ab", listAll(t, tb, pab, "", 10), []string{"bx", "x"})
	wantRowKeys(t, "list base", listAll(t, tb, base, "", 10), []string{"abx"})
	wantRowKeys(t, "list a prefix b", listAll(t, tb, pa, "b", 10), []string{"bx"})
	for _, e := range listAll(t, tb, pa, "", 10) {
		if string(e.Data) != "a/"+e.RowKey {
			t.Fatalf("list a: row %q has data %q", e.RowKey, e.Data)
		}
	}

	if err := tb.Delete(ctx, pa, "x", ""); err != nil {
		t.Fatalf("delete a/x: %v", err)
	}
	wantEntity(t, tb, pab, "x", []byte("ab/x"), "")
	err := tb.Batch(ctx, pab, []nimbus.BatchOp{{Kind: nimbus.BatchDelete, RowKey: "x"}, {Kind: nimbus.BatchDelete, RowKey: "bx"}})
	if err != nil {
		t.Fatalf("batch delete in ab: %v", err)
	}
	wantEntity(t, tb, pa, "bx", []byte("a/bx"), "")
	// A batch in one partition must not see rows of another.
	err = tb.Batch(ctx, pab, []nimbus.BatchOp{{Kind: nimbus.BatchUpdate, RowKey: "bx", Data: []byte("lost")}})
	wantKind(t, "batch update of a row that exists only in another partition", err, nimbus.KindNotFound)
	wantEntity(t, tb, pa, "bx", []byte("a/bx"), "")
}

func testTableIsolation(t *testing.T, ts nimbus.Tables) {
	a, b := ts.Table(TableA), ts.Table(TableB)
	pk := partition(t, "p")
	mustInsert(t, a, pk, "r", []byte("in a"))
	mustInsert(t, b, pk, "r", []byte("in b"))
	if err := a.Delete(t.Context(), pk, "r", ""); err != nil {
		t.Fatalf("delete from a: %v", err)
	}
	wantMissing(t, a, pk, "r")
	wantEntity(t, b, pk, "r", []byte("in b"), "")
	wantRowKeys(t, "list b", listAll(t, b, pk, "", 10), []string{"r"})
}
