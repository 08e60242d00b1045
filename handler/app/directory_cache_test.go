package app

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Requests naming ever new unknown tenants must neither grow memory without bound nor cost
// a storage read each time the same unknown tenant comes back, and they must not push known
// tenants out of the cache.
func TestDirectoryCacheIsBounded(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	table := &countingTable{Table: f.tables.Table(nimbus.TableDirectory)}
	d := NewDirectory(table, time.Hour)
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }

	if _, err := d.Index(ctx, f.demo.TenantID); err != nil {
		t.Fatal(err)
	}
	const flood = 3 * maxMissingTenants
	for i := range flood {
		_, err := d.Index(ctx, uuid.NewString())
		if !errors.Is(err, nimbus.ErrNotFound) {
			t.Fatalf("unknown tenant %d: got %v, want NotFound", i, err)
		}
	}
	d.mu.Lock()
	known, missing := d.cache.len(), d.missing.len()
	d.mu.Unlock()
	if known > maxCachedTenants || missing > maxMissingTenants {
		t.Errorf("after %d unknown tenants: %d known and %d missing entries cached, want at most %d and %d",
			flood, known, missing, maxCachedTenants, maxMissingTenants)
	}

	// The known tenant is still served from memory.
	before := table.total()
	if _, err := d.Index(ctx, f.demo.TenantID); err != nil {
		t.Fatal(err)
	}
	if n := table.total() - before; n != 0 {
		t.Errorf("known tenant after the flood: %d storage calls, want 0 (evicted by unknown tenants)", n)
	}

	// An unknown tenant asked again within the TTL costs no storage read; after it, one.
	stranger := uuid.NewString()
	_, _ = d.Index(ctx, stranger)
	before = table.total()
	_, _ = d.Index(ctx, stranger)
	if n := table.total() - before; n != 0 {
		t.Errorf("unknown tenant asked again: %d storage calls, want 0", n)
	}
	now = now.Add(2 * time.Hour)
	_, _ = d.Index(ctx, stranger)
	if n := table.total() - before; n != 1 {
		t.Errorf("unknown tenant after the TTL: %d storage calls, want 1", n)
	}
}

// A tenant remembered as missing becomes known at once when it is imported through the same
// process.
func TestDirectoryMissingTenantImportedAtOnce(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	d := NewDirectory(f.tables.Table("directory2"), time.Hour)
	demo, info := Demo()
	if _, err := d.Index(ctx, info.TenantID); !errors.Is(err, nimbus.ErrNotFound) {
		t.Fatalf("before the import: got %v, want NotFound", err)
	}
	if _, err := d.Seed(ctx, demo, true); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Index(ctx, info.TenantID); err != nil {
		t.Fatalf("after the import: %v", err)
	}
}

func TestLRUDropsLeastRecentlyUsed(t *testing.T) {
	c := newLRU[string, int](2)
	c.put("a", 1)
	c.put("b", 2)
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Fatalf("get a: got %d %v", v, ok)
	}
	c.put("c", 3) // b is the least recently used now
	if _, ok := c.get("b"); ok {
		t.Error("b survived although it was the least recently used")
	}
	for k, want := range map[string]int{"a": 1, "c": 3} {
		if v, ok := c.get(k); !ok || v != want {
			t.Errorf("get %s: got %d %v, want %d", k, v, ok, want)
		}
	}
	c.put("a", 10)
	c.remove("c")
	if v, _ := c.get("a"); v != 10 || c.len() != 1 {
		t.Errorf("after replace and remove: a=%d len=%d, want 10 and 1", v, c.len())
	}
}
