package storetest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// oddKeys are keys that a storage backend may forbid or misparse: Azure forbids / \ # ? and
// control characters, OData needs ' doubled, URLs need % and non-ASCII escaped, and an
// escaping scheme needs its own escape characters escaped.
var oddKeys = []string{
	"slash/", "/", "back\\slash", "hash#", "question?", "tab\there", "newline\n",
	"quote'", "'", "''", `double"quote`, "percent%", "%", "%25", "%2F", "~", "~7E",
	"spaces  inside ", " leading", "trailing ",
	"Zürich", "emoji😀", "日本語", "max\U0010FFFF", "bmpmax\uFFFF",
	"plus+amp&eq=colon:at@dollar$semi;comma,", "parens()star*bang!", "brackets[]{}<>|^`",
	"ctrl\x00\x01\x1f\x7f", "c1\u0080\u009f", "nbsp\u00a0", "bidi\u200e",
	"(PartitionKey='x',RowKey='y')", "a eq 'b' or true",
	strings.Repeat("Zürich/#?'%", 40)[:400], // a 400-byte key, cut at a rune boundary
	strings.Repeat("k", nimbus.MaxKeyLength),
}

func testOddKeys(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "odd/\\#?'\"%~ Zürich😀\t")
	if len(oddKeys) > nimbus.MaxBatch {
		t.Fatalf("%d odd keys do not fit one batch", len(oddKeys))
	}

	for _, rk := range oddKeys {
		mustInsert(t, tb, pk, rk, []byte(rk))
	}
	for _, rk := range oddKeys {
		wantEntity(t, tb, pk, rk, []byte(rk), "")
	}
	for _, limit := range []int{nimbus.MaxPageSize, 3} {
		got := listAll(t, tb, pk, "", limit)
		wantRowKeys(t, "list", got, oddKeys)
		for _, e := range got {
			if string(e.Data) != e.RowKey {
				t.Fatalf("list: row %q has data %q", e.RowKey, e.Data)
			}
		}
	}

	// Batch updates and deletes address rows by key (in Azure, in a URL inside the batch).
	var ops []nimbus.BatchOp
	for _, e := range listAll(t, tb, pk, "", nimbus.MaxPageSize) {
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchUpdate, RowKey: e.RowKey, Data: []byte("u" + e.RowKey), IfMatch: e.ETag})
	}
	if err := tb.Batch(ctx, pk, ops); err != nil {
		t.Fatalf("batch update of odd keys: %v", err)
	}
	ops = ops[:0]
	for i, e := range listAll(t, tb, pk, "", nimbus.MaxPageSize) {
		if string(e.Data) != "u"+e.RowKey {
			t.Fatalf("after batch update: row %q has data %q", e.RowKey, e.Data)
		}
		if i%2 == 0 {
			if err := tb.Delete(ctx, pk, e.RowKey, e.ETag); err != nil {
				t.Fatalf("delete %q: %v", e.RowKey, err)
			}
			continue
		}
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchDelete, RowKey: e.RowKey, IfMatch: e.ETag})
	}
	if err := tb.Batch(ctx, pk, ops); err != nil {
		t.Fatalf("batch delete of odd keys: %v", err)
	}
	if got := listAll(t, tb, pk, "", nimbus.MaxPageSize); len(got) != 0 {
		t.Fatalf("after deleting every odd key: %d entities left", len(got))
	}

	// The same keys as partition keys.
	for _, k := range oddKeys {
		p := runID + k
		if len(p) > nimbus.MaxKeyLength {
			p = p[:nimbus.MaxKeyLength-len(runID)] + runID // keep it unique and in bounds
		}
		etag := mustInsert(t, tb, p, "r", []byte(k))
		wantEntity(t, tb, p, "r", []byte(k), etag)
		if got := listAll(t, tb, p, "", 10); len(got) != 1 || got[0].PartitionKey != p {
			t.Fatalf("list partition %q: got %d entities", p, len(got))
		}
		if err := tb.Delete(ctx, p, "r", etag); err != nil {
			t.Fatalf("delete in partition %q: %v", p, err)
		}
	}
}

func testOddPrefixes(t *testing.T, ts nimbus.Tables) {
	tb := ts.Table(TableA)
	pk := partition(t, "p")
	keys := []string{
		"a", "ab", "a/1", "a/2", "a#1", "a?", "a\\", "a%", "a%25", "a%2F", "a'x", "a''",
		"Zu", "Zürich-1", "Zürich-2", "Zz", "😀1", "😀2", "😁",
		"\uD7FF", "\uD7FF1", "\uE000", "\uE0001", "\uFFFF", "\uFFFF1", "\uFFFF\uFFFF",
		"\U0010FFFF", "\U0010FFFF1", "\U00010000", "~", "~1", "~7E", "tab\t1", "tab\t\t",
		"\x00", "\x00\x00", "\x01",
	}
	var ops []nimbus.BatchOp
	for _, k := range keys {
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchInsert, RowKey: k, Data: []byte(k)})
	}
	if err := tb.Batch(t.Context(), pk, ops); err != nil {
		t.Fatalf("seed: %v", err)
	}
	prefixes := []string{
		"", "a", "a/", "a%", "a%2", "a'", "a''", "a\\", "Z", "Zü", "Zürich", "😀", "\uD7FF",
		"\uE000", "\uFFFF", "\uFFFF\uFFFF", "\U0010FFFF", "~", "~7", "tab\t", "\x00", "nomatch",
	}
	for _, prefix := range prefixes {
		var want []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		wantRowKeys(t, "list prefix "+strconv.Quote(prefix), listAll(t, tb, pk, prefix, 2), want)
	}
}
