package app

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestAddressBookLifecycle(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	admin := f.caller(f.demo.Users.TenantAdmin)
	book := f.demo.AddressBooks[0].ID

	odd := []string{"crm/1", `back\slash`, "hash#tag", "what?", "O'Brien", `"quoted"`, "Zürich", "percent%25", "emoji 📞"}
	for _, id := range odd {
		if _, err := f.books.Add(ctx, admin, book, nimbus.Contact{ExternalID: id, FirstName: "F " + id}); err != nil {
			t.Fatalf("add %q: %v", id, err)
		}
	}
	if _, err := f.books.Add(ctx, admin, book, nimbus.Contact{ExternalID: odd[0]}); !errors.Is(err, nimbus.ErrConflict) {
		t.Errorf("add existing: got %v, want Conflict", err)
	}
	all, err := f.books.Get(ctx, admin, book, nil)
	if err != nil || len(all) != len(odd) {
		t.Fatalf("get all: %d contacts, err %v", len(all), err)
	}
	some, err := f.books.Get(ctx, admin, book, []string{"Zürich", "missing", "O'Brien", "Zürich"})
	if err != nil {
		t.Fatal(err)
	}
	if len(some) != 2 || some[0].ExternalID != "Zürich" || some[1].ExternalID != "O'Brien" {
		t.Errorf("get by ids: got %+v, want Zürich then O'Brien", some)
	}

	upd := nimbus.Contact{ExternalID: "hash#tag", LastName: "Updated"}
	if _, err := f.books.Update(ctx, admin, book, upd); err != nil {
		t.Fatal(err)
	}
	got, _ := f.books.Get(ctx, admin, book, []string{"hash#tag"})
	if len(got) != 1 || got[0].LastName != "Updated" || got[0].FirstName != "" {
		t.Errorf("update replaces the contact: got %+v", got)
	}
	if _, err := f.books.Update(ctx, admin, book, nimbus.Contact{ExternalID: "nobody"}); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("update missing: got %v, want NotFound", err)
	}

	n, err := f.books.Remove(ctx, admin, book, []string{"crm/1", "missing", "what?", "crm/1"})
	if err != nil || n != 2 {
		t.Errorf("remove: removed %d, err %v; want 2, nil", n, err)
	}
	if c, _, _ := readCount(ctx, f.books.contacts, f.demo.TenantID+"|"+book); c != len(odd)-2 {
		t.Errorf("count after remove: got %d, want %d", c, len(odd)-2)
	}
	n, err = f.books.Clear(ctx, admin, book)
	if err != nil || n != len(odd)-2 {
		t.Errorf("clear: removed %d, err %v", n, err)
	}
	if all, _ := f.books.Get(ctx, admin, book, nil); len(all) != 0 {
		t.Errorf("after clear: %d contacts left", len(all))
	}
	if c, _, _ := readCount(ctx, f.books.contacts, f.demo.TenantID+"|"+book); c != 0 {
		t.Errorf("count after clear: got %d, want 0", c)
	}
}

func TestAddressBookValidation(t *testing.T) {
	f := newFixture(t, 0)
	admin := f.caller(f.demo.Users.TenantAdmin)
	c := nimbus.Contact{ExternalID: "x", Addresses: []nimbus.ContactAddress{{City: string(make([]byte, 129))}}}
	_, err := f.books.Add(t.Context(), admin, f.demo.AddressBooks[0].ID, c)
	var e *nimbus.Error
	if !errors.As(err, &e) || e.Target != "addresses[0].city" {
		t.Fatalf("got %v, want InvalidArgument at addresses[0].city", err)
	}
	if all, _ := f.books.Get(t.Context(), admin, f.demo.AddressBooks[0].ID, nil); len(all) != 0 {
		t.Error("an invalid contact was stored")
	}
}

// The OU rule through the use cases: the OU admin of Sales reads and writes the Sales book,
// does not see the Support book, and may read but not write a book placed at the root.
func TestAddressBookOURule(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	d, _ := Demo()
	d.AddressBooks = append(d.AddressBooks, nimbus.AddressBook{ID: "company", Name: "Company", OU: d.TenantID})
	if _, err := f.dir.Import(ctx, f.caller(f.demo.Users.TenantAdmin), d); err != nil {
		t.Fatal(err)
	}
	ouAdmin := f.caller(f.demo.Users.OUAdmin)
	list, err := f.books.List(ctx, ouAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(list); got != "[{Sales partners sales-partners} {Company company}]" {
		t.Errorf("OU admin's books: %s", got)
	}
	if _, err := f.books.Add(ctx, ouAdmin, "sales-partners", nimbus.Contact{ExternalID: "a"}); err != nil {
		t.Errorf("write own OU: %v", err)
	}
	if _, err := f.books.Get(ctx, ouAdmin, "support-vendors", nil); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("sibling book: got %v, want NotFound", err)
	}
	if _, err := f.books.Get(ctx, ouAdmin, "company", nil); err != nil {
		t.Errorf("read root book: %v", err)
	}
	if _, err := f.books.Add(ctx, ouAdmin, "company", nimbus.Contact{ExternalID: "a"}); !errors.Is(err, nimbus.ErrForbidden) {
		t.Errorf("write root book: got %v, want Forbidden", err)
	}
	if _, err := f.books.Clear(ctx, ouAdmin, "company"); !errors.Is(err, nimbus.ErrForbidden) {
		t.Errorf("clear root book: got %v, want Forbidden", err)
	}
	if _, err := f.books.List(ctx, f.caller(f.demo.Users.ServiceOwner)); !errors.Is(err, nimbus.ErrForbidden) {
		t.Errorf("service owner lists books: got %v, want Forbidden", err)
	}
	if _, err := f.books.Get(ctx, f.caller(f.demo.Users.ServiceOwner), "no-such-book", nil); !errors.Is(err, nimbus.ErrForbidden) {
		t.Errorf("service owner, unknown book: got %v, want Forbidden (role first)", err)
	}
}

// Concurrent adds never push a book past its cap, and the count stays exact.
func TestAddressBookCapUnderConcurrency(t *testing.T) {
	const capacity, writers, each = 25, 6, 10
	f := newFixture(t, capacity)
	ctx := t.Context()
	admin := f.caller(f.demo.Users.TenantAdmin)
	book := f.demo.AddressBooks[0].ID
	var wg sync.WaitGroup
	var mu sync.Mutex
	added, full := 0, 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := f.books.Add(ctx, admin, book, nimbus.Contact{ExternalID: fmt.Sprintf("w%d-%d", w, i)})
				mu.Lock()
				switch {
				case err == nil:
					added++
				case errors.Is(err, nimbus.ErrConflict):
					full++
				default:
					t.Errorf("add: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if added != capacity || full != writers*each-capacity {
		t.Errorf("added %d, refused %d; want %d and %d", added, full, capacity, writers*each-capacity)
	}
	all, _ := f.books.Get(ctx, admin, book, nil)
	if len(all) != capacity {
		t.Errorf("stored %d contacts, want %d", len(all), capacity)
	}
}

// Clearing N contacts takes about N/50 storage round trips (per 99 contacts: read the count,
// then one batch deleting them with the count), not N.
func TestClearUsesBatches(t *testing.T) {
	const n = 1500
	f := newFixture(t, 0)
	ctx := t.Context()
	admin := f.caller(f.demo.Users.TenantAdmin)
	book := f.demo.AddressBooks[0].ID
	pk := f.demo.TenantID + "|" + book
	var ops []nimbus.BatchOp
	for i := range n {
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchInsert, RowKey: fmt.Sprintf("%s%05d", contactPrefix, i), Data: []byte(fmt.Sprintf(`{"externalId":"%05d"}`, i))})
		if len(ops) == nimbus.MaxBatch {
			if err := f.contacts.Table.Batch(ctx, pk, ops); err != nil {
				t.Fatal(err)
			}
			ops = nil
		}
	}
	all, err := f.books.Get(ctx, admin, book, nil)
	if err != nil || len(all) != n {
		t.Fatalf("get all pages through storage: got %d contacts, err %v; want %d", len(all), err, n)
	}
	before := f.contacts.total()
	removed, err := f.books.Clear(ctx, admin, book)
	if err != nil || removed != n {
		t.Fatalf("clear: removed %d, err %v", removed, err)
	}
	trips := f.contacts.total() - before
	if limit := int64(2*(n/(nimbus.MaxBatch-1)+1) + n/1000 + 8); trips > limit {
		t.Errorf("clear of %d contacts took %d storage round trips, want at most %d", n, trips, limit)
	}
	t.Logf("clear of %d contacts: %d round trips (%d batches)", n, trips, f.contacts.batches.Load())
}
