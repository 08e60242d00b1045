package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// failingBatches fails every batch after the first ok ones, as a crash part-way would leave
// storage: the batches before it are applied, nothing after.
type failingBatches struct {
	nimbus.Table
	ok atomic.Int64
}

func (f *failingBatches) Batch(ctx context.Context, pk string, ops []nimbus.BatchOp) error {
	if f.ok.Add(-1) < 0 {
		return nimbus.Unavailable("batch", errors.New("storage went away"))
	}
	return f.Table.Batch(ctx, pk, ops)
}

// A clear that stops part-way (crash, storage outage) leaves the count row equal to the
// contacts still stored, so a full book that was partly cleared accepts new contacts again
// without another clear, and its cap still holds exactly.
func TestClearStoppedPartWayKeepsTheCount(t *testing.T) {
	const capacity = 300
	f := newFixture(t, capacity)
	ctx := t.Context()
	admin := f.caller(f.demo.Users.TenantAdmin)
	book := f.demo.AddressBooks[0].ID
	for i := range capacity {
		if _, err := f.books.Add(ctx, admin, book, nimbus.Contact{ExternalID: fmt.Sprintf("c%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.books.Add(ctx, admin, book, nimbus.Contact{ExternalID: "one-too-many"}); !errors.Is(err, nimbus.ErrConflict) {
		t.Fatalf("add to a full book: got %v, want Conflict", err)
	}

	broken := &failingBatches{Table: f.contacts.Table}
	broken.ok.Store(2)
	stopped := NewAddressBooks(f.dir, broken, capacity)
	if _, err := stopped.Clear(ctx, admin, book); err == nil {
		t.Fatal("clear did not fail although storage failed part-way")
	}
	left, err := f.books.Get(ctx, admin, book, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) == 0 || len(left) == capacity {
		t.Fatalf("%d contacts left; the failure did not land part-way", len(left))
	}
	free := capacity - len(left)
	for i := range free {
		if _, err := f.books.Add(ctx, admin, book, nimbus.Contact{ExternalID: fmt.Sprintf("n%04d", i)}); err != nil {
			t.Fatalf("add %d of %d free places after a clear stopped part-way (%d left): %v", i+1, free, len(left), err)
		}
	}
	if _, err := f.books.Add(ctx, admin, book, nimbus.Contact{ExternalID: "over"}); !errors.Is(err, nimbus.ErrConflict) {
		t.Errorf("add beyond the cap after refilling: got %v, want Conflict", err)
	}
}

// 32 concurrent writers of one book all succeed: none is turned away as "busy".
func TestAddressBookManyWriters(t *testing.T) {
	testManyWriters(t, newFixture(t, 0))
}

func testManyWriters(t *testing.T, f *fixture) {
	const writers, each = 32, 15
	ctx := t.Context()
	admin := f.caller(f.demo.Users.TenantAdmin)
	book := f.demo.AddressBooks[0].ID
	if _, err := f.books.Clear(ctx, admin, book); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%02d-%02d", w, i)
				if _, err := f.books.Add(ctx, admin, book, nimbus.Contact{ExternalID: id}); err != nil {
					failed.Add(1)
					t.Errorf("add %s: %v", id, err)
				}
				if i%3 == 2 {
					if _, err := f.books.Remove(ctx, admin, book, []string{id}); err != nil {
						failed.Add(1)
						t.Errorf("remove %s: %v", id, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d writes failed", n, writers*each*4/3)
	}
	all, err := f.books.Get(ctx, admin, book, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := writers * (each - each/3); len(all) != want {
		t.Errorf("stored %d contacts, want %d", len(all), want)
	}
	if n, _, _ := readCount(ctx, f.contacts, f.demo.TenantID+"|"+book); n != len(all) {
		t.Errorf("count row says %d, %d are stored", n, len(all))
	}
	if n := f.books.locks.size(); n != 0 {
		t.Errorf("%d book locks left after every writer finished", n)
	}
}
