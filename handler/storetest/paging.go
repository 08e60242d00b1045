package storetest

import (
	"fmt"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// seed inserts n entities with row keys r00000, r00001, … in batches and returns the keys.
func seed(t *testing.T, tb nimbus.Table, pk string, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("r%05d", i)
	}
	for start := 0; start < n; start += nimbus.MaxBatch {
		end := min(start+nimbus.MaxBatch, n)
		ops := make([]nimbus.BatchOp, 0, end-start)
		for _, k := range keys[start:end] {
			ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchInsert, RowKey: k, Data: []byte(k)})
		}
		if err := tb.Batch(t.Context(), pk, ops); err != nil {
			t.Fatalf("seed batch at %d: %v", start, err)
		}
	}
	return keys
}

// testPaging proves that List pages past the 1,000 entities one Azure query returns.
func testPaging(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	pk := partition(t, "p")
	keys := seed(t, tb, pk, 1250)

	for _, limit := range []int{nimbus.MaxPageSize, 7} {
		got := listAll(t, tb, pk, "", limit)
		wantRowKeys(t, fmt.Sprintf("list with limit %d", limit), got, keys)
		for _, e := range got {
			if string(e.Data) != e.RowKey || e.ETag == "" {
				t.Fatalf("list with limit %d: row %q has data %q, ETag %q", limit, e.RowKey, e.Data, e.ETag)
			}
		}
	}

	// A first page of 1000 must not be the last one.
	page, err := tb.List(t.Context(), pk, "", "", nimbus.MaxPageSize)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if page.Next == "" {
		t.Fatalf("list: first page of %d entities has no cursor", len(page.Entities))
	}

	got := listAll(t, tb, pk, "r01", 7)
	wantRowKeys(t, "list prefix r01", got, keys[1000:1250])

	_, err = tb.List(t.Context(), pk, "", "not a cursor!", 10)
	wantInvalid(t, "list with a malformed cursor", err, "cursor")
}

// testPagingAcrossWrites checks that cursors survive writes: a pass sees every entity that
// existed throughout it exactly once.
func testPagingAcrossWrites(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")
	keys := seed(t, tb, pk, 30)

	seen := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := tb.List(ctx, pk, "", cursor, 7)
		if err != nil {
			t.Fatalf("list page %d: %v", pages, err)
		}
		for _, e := range page.Entities {
			seen[e.RowKey]++
		}
		if pages == 0 {
			// Write behind, at and ahead of the cursor.
			if err := tb.Delete(ctx, pk, "r00020", ""); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if err := tb.Delete(ctx, pk, keys[len(page.Entities)-1], ""); err != nil {
				t.Fatalf("delete: %v", err)
			}
			for _, k := range []string{"r00000a", "r00025a", "r00029z"} {
				mustInsert(t, tb, pk, k, []byte(k))
			}
			if _, err := tb.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: "r00010", Data: []byte("changed")}); err != nil {
				t.Fatalf("update: %v", err)
			}
		}
		if page.Next == "" {
			break
		}
		if pages > 100 {
			t.Fatal("more than 100 pages")
		}
		cursor = page.Next
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("row %q seen %d times", k, n)
		}
	}
	for _, k := range keys {
		if k != "r00020" && seen[k] == 0 {
			t.Errorf("row %q, which existed throughout, was not seen", k)
		}
	}
}
