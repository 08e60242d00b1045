// Package storetest is the conformance suite for nimbus.Table and nimbus.Queue
// implementations: every implementation (the embedded bbolt store, the Azure Table adapter
// against Azurite, the embedded durable queue) runs the same tests, which is how the system
// proves that the embedded default keeps Azure Table and Service Bus semantics as far as the
// app relies on them. Run holds the Table suite, RunQueue the Queue suite.
//
// It holds test code only, imported from _test.go files; production code must not import it.
// It must not import any implementation either: implementations reach the suite through the
// open function given to Run.
package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Table names used by the suite. Implementations that create tables up front (Azure) must
// create these in open.
const (
	TableA = "conformancea"
	TableB = "conformanceb"
)

// TableNames lists every table the suite uses.
func TableNames() []string { return []string{TableA, TableB} }

// runID makes partition keys unique per process, so that runs against a persistent backend
// (Azurite keeps its state for the whole test script) never see each other's entities.
var runID = func() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}()

// Run runs the conformance suite. open is called once per subtest, with that subtest's t, and
// returns the implementation under test; it may return a fresh store each time or a shared
// one, since every subtest uses partition keys unique to the run and the subtest.
func Run(t *testing.T, open func(t *testing.T) nimbus.Tables) {
	subtests := []struct {
		name string
		fn   func(t *testing.T, ts nimbus.Tables)
	}{
		{"CRUD", testCRUD},
		{"Missing", testMissing},
		{"InsertConflict", testInsertConflict},
		{"ETag", testETag},
		{"Upsert", testUpsert},
		{"BatchMixed", testBatchMixed},
		{"BatchAtomic", testBatchAtomic},
		{"BatchLimits", testBatchLimits},
		{"OddKeys", testOddKeys},
		{"OddPrefixes", testOddPrefixes},
		{"Paging", testPaging},
		{"PagingAcrossWrites", testPagingAcrossWrites},
		{"PartitionIsolation", testPartitionIsolation},
		{"TableIsolation", testTableIsolation},
		{"ConcurrentIncrements", testConcurrentIncrements},
		{"ConcurrentInserts", testConcurrentInserts},
		{"LargePayload", testLargePayload},
		{"LargeBatch", testLargeBatch},
		{"ExactBytes", testExactBytes},
		{"InvalidInputs", testInvalidInputs},
	}
	for _, st := range subtests {
		t.Run(st.name, func(t *testing.T) {
			st.fn(t, open(t))
		})
	}
}

// nonces holds a random value per *testing.T, so that repeated runs in one process
// (go test -count=N against the same Azurite) use fresh partitions too.
var nonces sync.Map

// partition returns a partition key unique to this run and subtest, ending in suffix.
func partition(t *testing.T, suffix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	n, _ := nonces.LoadOrStore(t, hex.EncodeToString(b))
	return runID + n.(string) + "|" + t.Name() + "|" + suffix
}

var sentinels = map[nimbus.Kind]error{
	nimbus.KindNotFound:    nimbus.ErrNotFound,
	nimbus.KindConflict:    nimbus.ErrConflict,
	nimbus.KindInvalid:     nimbus.ErrInvalid,
	nimbus.KindUnavailable: nimbus.ErrUnavailable,
}

// wantKind fails the test unless err is a *nimbus.Error (not merely wrapping one) of kind.
func wantKind(t *testing.T, what string, err error, kind nimbus.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want %s", what, kind)
	}
	e, ok := err.(*nimbus.Error)
	if !ok {
		t.Fatalf("%s: got %T (%v), want *nimbus.Error", what, err, err)
	}
	if e.Kind != kind {
		t.Fatalf("%s: got kind %s (%v), want %s", what, e.Kind, err, kind)
	}
	if sentinel, ok := sentinels[kind]; ok && !errors.Is(err, sentinel) {
		t.Fatalf("%s: errors.Is(err, the %s sentinel) = false", what, kind)
	}
}

// wantInvalid checks for KindInvalid whose Target mentions target.
func wantInvalid(t *testing.T, what string, err error, target string) {
	t.Helper()
	wantKind(t, what, err, nimbus.KindInvalid)
	if e := err.(*nimbus.Error); !strings.Contains(e.Target, target) {
		t.Fatalf("%s: got target %q, want it to name %q", what, e.Target, target)
	}
}

func mustInsert(t *testing.T, tb nimbus.Table, pk, rk string, data []byte) string {
	t.Helper()
	etag, err := tb.Insert(t.Context(), nimbus.Entity{PartitionKey: pk, RowKey: rk, Data: data})
	if err != nil {
		t.Fatalf("insert %q/%q: %v", pk, rk, err)
	}
	if etag == "" {
		t.Fatalf("insert %q/%q: got empty ETag", pk, rk)
	}
	return etag
}

func mustGet(t *testing.T, tb nimbus.Table, pk, rk string) nimbus.Entity {
	t.Helper()
	e, err := tb.Get(t.Context(), pk, rk)
	if err != nil {
		t.Fatalf("get %q/%q: %v", pk, rk, err)
	}
	if e.PartitionKey != pk || e.RowKey != rk {
		t.Fatalf("get %q/%q: got keys %q/%q", pk, rk, e.PartitionKey, e.RowKey)
	}
	if e.ETag == "" {
		t.Fatalf("get %q/%q: got empty ETag", pk, rk)
	}
	return e
}

// wantEntity checks that the stored entity has data and, when etag is set, that ETag.
func wantEntity(t *testing.T, tb nimbus.Table, pk, rk string, data []byte, etag string) {
	t.Helper()
	e := mustGet(t, tb, pk, rk)
	if !bytes.Equal(e.Data, data) {
		t.Fatalf("get %q/%q: got data %s, want %s", pk, rk, abbrev(e.Data), abbrev(data))
	}
	if etag != "" && e.ETag != etag {
		t.Fatalf("get %q/%q: got ETag %q, want %q", pk, rk, e.ETag, etag)
	}
}

func wantMissing(t *testing.T, tb nimbus.Table, pk, rk string) {
	t.Helper()
	_, err := tb.Get(t.Context(), pk, rk)
	wantKind(t, fmt.Sprintf("get %q/%q", pk, rk), err, nimbus.KindNotFound)
}

// listAll follows cursors to the end and returns every entity, failing on duplicates.
func listAll(t *testing.T, tb nimbus.Table, pk, prefix string, limit int) []nimbus.Entity {
	t.Helper()
	var all []nimbus.Entity
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("list %q prefix %q: more than 10000 pages", pk, prefix)
		}
		page, err := tb.List(t.Context(), pk, prefix, cursor, limit)
		if err != nil {
			t.Fatalf("list %q prefix %q page %d: %v", pk, prefix, pages, err)
		}
		if len(page.Entities) > limit {
			t.Fatalf("list %q: got %d entities in a page, limit %d", pk, len(page.Entities), limit)
		}
		for _, e := range page.Entities {
			if e.PartitionKey != pk {
				t.Fatalf("list %q: got entity of partition %q", pk, e.PartitionKey)
			}
			if seen[e.RowKey] {
				t.Fatalf("list %q prefix %q: row %q seen twice", pk, prefix, e.RowKey)
			}
			seen[e.RowKey] = true
			all = append(all, e)
		}
		if page.Next == "" {
			return all
		}
		cursor = page.Next
	}
}

func rowKeys(es []nimbus.Entity) map[string]bool {
	m := make(map[string]bool, len(es))
	for _, e := range es {
		m[e.RowKey] = true
	}
	return m
}

// wantRowKeys checks that got holds exactly the keys of want.
func wantRowKeys(t *testing.T, what string, got []nimbus.Entity, want []string) {
	t.Helper()
	g := rowKeys(got)
	for _, k := range want {
		if !g[k] {
			t.Errorf("%s: missing row %q", what, k)
		}
		delete(g, k)
	}
	for k := range g {
		t.Errorf("%s: unexpected row %q", what, k)
	}
	if t.Failed() {
		t.FailNow()
	}
}

func abbrev(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q… (%d bytes)", b[:40], len(b))
	}
	return fmt.Sprintf("%q", b)
}
