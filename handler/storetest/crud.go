package storetest

import (
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func testCRUD(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")

	etag := mustInsert(t, tb, pk, "r1", []byte(`{"n":1}`))
	wantEntity(t, tb, pk, "r1", []byte(`{"n":1}`), etag)

	etag2, err := tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r1", Data: []byte(`{"n":2}`), ETag: etag})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	wantEntity(t, tb, pk, "r1", []byte(`{"n":2}`), etag2)

	// Unconditional update.
	etag3, err := tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r1", Data: []byte(`{"n":3}`)})
	if err != nil {
		t.Fatalf("unconditional update: %v", err)
	}
	wantEntity(t, tb, pk, "r1", []byte(`{"n":3}`), etag3)

	// Empty data is a valid payload.
	mustInsert(t, tb, pk, "empty", nil)
	wantEntity(t, tb, pk, "empty", nil, "")

	page, err := tb.List(ctx, pk, "", "", 10)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if page.Next != "" {
		t.Fatalf("list: got cursor %q after the only page", page.Next)
	}
	wantRowKeys(t, "list", page.Entities, []string{"empty", "r1"})
	for _, e := range page.Entities {
		if e.RowKey == "r1" && (string(e.Data) != `{"n":3}` || e.ETag != etag3) {
			t.Fatalf("list: got r1 = %s ETag %q, want {\"n\":3} ETag %q", e.Data, e.ETag, etag3)
		}
	}

	if err := tb.Delete(ctx, pk, "r1", etag3); err != nil {
		t.Fatalf("delete: %v", err)
	}
	wantMissing(t, tb, pk, "r1")
	if err := tb.Delete(ctx, pk, "empty", ""); err != nil {
		t.Fatalf("unconditional delete: %v", err)
	}
	wantMissing(t, tb, pk, "empty")

	// A deleted row can be inserted again.
	etag4 := mustInsert(t, tb, pk, "r1", []byte("again"))
	wantEntity(t, tb, pk, "r1", []byte("again"), etag4)
}

func testMissing(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")

	_, err := tb.Get(ctx, pk, "nope")
	wantKind(t, "get missing", err, nimbus.KindNotFound)
	_, err = tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "nope", Data: []byte("x")})
	wantKind(t, "update missing", err, nimbus.KindNotFound)
	err = tb.Delete(ctx, pk, "nope", "")
	wantKind(t, "delete missing", err, nimbus.KindNotFound)
	wantMissing(t, tb, pk, "nope") // the failed update must not have created it

	page, err := tb.List(ctx, pk, "", "", 1)
	if err != nil {
		t.Fatalf("list empty partition: %v", err)
	}
	if len(page.Entities) != 0 || page.Next != "" {
		t.Fatalf("list empty partition: got %d entities, cursor %q", len(page.Entities), page.Next)
	}
}

func testInsertConflict(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	pk := partition(t, "p")
	etag := mustInsert(t, tb, pk, "r", []byte("first"))
	_, err := tb.Insert(t.Context(), nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte("second")})
	wantKind(t, "insert existing", err, nimbus.KindConflict)
	wantEntity(t, tb, pk, "r", []byte("first"), etag)
}

func testETag(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")
	seen := map[string]bool{}
	fresh := func(what, etag string) {
		t.Helper()
		if etag == "" || seen[etag] {
			t.Fatalf("%s: got ETag %q, want a new non-empty one (seen %v)", what, etag, seen)
		}
		seen[etag] = true
	}

	stale := mustInsert(t, tb, pk, "r", []byte("v1")) // fresh now, stale after the update
	fresh("insert", stale)
	current, err := tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte("v2"), ETag: stale})
	if err != nil {
		t.Fatalf("update with fresh ETag: %v", err)
	}
	fresh("update", current)

	_, err = tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte("lost"), ETag: stale})
	wantKind(t, "update with stale ETag", err, nimbus.KindConflict)
	err = tb.Delete(ctx, pk, "r", stale)
	wantKind(t, "delete with stale ETag", err, nimbus.KindConflict)
	wantEntity(t, tb, pk, "r", []byte("v2"), current)

	// Rewriting the same data still changes the ETag.
	same, err := tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte("v2"), ETag: current})
	if err != nil {
		t.Fatalf("update with same data: %v", err)
	}
	fresh("update with same data", same)
	up, err := tb.Upsert(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte("v3")})
	if err != nil {
		t.Fatalf("upsert: %v", err)
	}
	fresh("upsert", up)
	wantEntity(t, tb, pk, "r", []byte("v3"), up)

	if err := tb.Delete(ctx, pk, "r", up); err != nil {
		t.Fatalf("delete with fresh ETag: %v", err)
	}
	wantMissing(t, tb, pk, "r")

	// An ETag from before a delete must not match the re-inserted row.
	again := mustInsert(t, tb, pk, "r", []byte("v4"))
	fresh("re-insert", again)
	_, err = tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte("lost"), ETag: up})
	wantKind(t, "update with ETag of the deleted row", err, nimbus.KindConflict)
	_, err = tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte("lost"), ETag: "not-an-etag"})
	wantKind(t, "update with a made-up ETag", err, nimbus.KindConflict)
	wantEntity(t, tb, pk, "r", []byte("v4"), again)
}

func testUpsert(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")

	etag1, err := tb.Upsert(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte("created")})
	if err != nil {
		t.Fatalf("upsert new: %v", err)
	}
	wantEntity(t, tb, pk, "r", []byte("created"), etag1)

	// Upsert is unconditional: it ignores the entity's ETag, even a stale one.
	etag2, err := tb.Upsert(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte("replaced"), ETag: "stale"})
	if err != nil {
		t.Fatalf("upsert existing: %v", err)
	}
	if etag2 == etag1 {
		t.Fatalf("upsert existing: ETag unchanged %q", etag2)
	}
	wantEntity(t, tb, pk, "r", []byte("replaced"), etag2)
}
