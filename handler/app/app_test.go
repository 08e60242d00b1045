package app

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// countingTable counts the storage round trips a use case makes.
type countingTable struct {
	nimbus.Table
	gets, lists, batches, writes atomic.Int64
}

func (c *countingTable) Get(ctx context.Context, pk, rk string) (nimbus.Entity, error) {
	c.gets.Add(1)
	return c.Table.Get(ctx, pk, rk)
}

func (c *countingTable) List(ctx context.Context, pk, prefix, cursor string, limit int) (nimbus.Page, error) {
	c.lists.Add(1)
	return c.Table.List(ctx, pk, prefix, cursor, limit)
}

func (c *countingTable) Batch(ctx context.Context, pk string, ops []nimbus.BatchOp) error {
	c.batches.Add(1)
	return c.Table.Batch(ctx, pk, ops)
}

func (c *countingTable) Update(ctx context.Context, e nimbus.Entity) (string, error) {
	c.writes.Add(1)
	return c.Table.Update(ctx, e)
}

func (c *countingTable) total() int64 {
	return c.gets.Load() + c.lists.Load() + c.batches.Load() + c.writes.Load()
}

type fixture struct {
	tables   nimbus.Tables
	dir      *Directory
	books    *AddressBooks
	contacts *countingTable
	demo     DemoInfo
}

func newFixture(t *testing.T, maxContacts int) *fixture {
	t.Helper()
	db, err := embedded.Open(filepath.Join(t.TempDir(), "nimbus.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newFixtureOn(t, db.Tables(), maxContacts)
}

func newFixtureOn(t *testing.T, tables nimbus.Tables, maxContacts int) *fixture {
	t.Helper()
	dir := NewDirectory(tables.Table(nimbus.TableDirectory), 0)
	contacts := &countingTable{Table: tables.Table(nimbus.TableContacts)}
	d, info := Demo()
	if _, err := dir.Seed(t.Context(), d, false); err != nil {
		t.Fatal(err)
	}
	return &fixture{tables: tables, dir: dir, books: NewAddressBooks(dir, contacts, maxContacts), contacts: contacts, demo: info}
}

func (f *fixture) caller(upn string) nimbus.Caller {
	return nimbus.Caller{TenantID: f.demo.TenantID, UPN: upn}
}
