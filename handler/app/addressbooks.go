package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// AddressBooks serves the address-book operations of the connector.
//
// Storage: the contacts table, one partition per book ("<tenant>|<book>"), a row per contact
// under "c|<externalId>", and a "count" row holding the number of contacts. Every insert or
// delete of contacts is one batch transaction together with an ETag-guarded update of the
// count row, so the cap holds under concurrent writers and no request leaves a partial write.
type AddressBooks struct {
	dir         *Directory
	contacts    nimbus.Table
	maxContacts int
	locks       keyedMutex // by book partition: writers of one book take turns
}

// NewAddressBooks returns the use cases; maxContacts ≤ 0 selects the default cap.
func NewAddressBooks(dir *Directory, contacts nimbus.Table, maxContacts int) *AddressBooks {
	if maxContacts <= 0 {
		maxContacts = nimbus.DefaultMaxContactsPerBook
	}
	return &AddressBooks{dir: dir, contacts: contacts, maxContacts: maxContacts}
}

const (
	contactPrefix = "c|"
	// maxWriteAttempts bounds retries of an ETag race on a task or a tenant's count row.
	maxWriteAttempts = 20
	// lookupConcurrency bounds parallel point reads of one request.
	lookupConcurrency = 8
)

// BookRef is one entry of GetAddressBooks.
type BookRef struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// List returns the address books the caller may read.
func (a *AddressBooks) List(ctx context.Context, caller nimbus.Caller) ([]BookRef, error) {
	x, acc, err := a.dir.AccessFor(ctx, caller, nimbus.GroupAddressBooks)
	if err != nil {
		return nil, err
	}
	out := []BookRef{}
	for _, b := range x.AddressBooks() {
		if acc.CanRead(b.OU) {
			out = append(out, BookRef{Name: b.Name, ID: b.ID})
		}
	}
	return out, nil
}

// book resolves bookID for the caller and checks read or write rights.
func (a *AddressBooks) book(ctx context.Context, caller nimbus.Caller, bookID string, write bool) (string, error) {
	x, acc, err := a.dir.AccessFor(ctx, caller, nimbus.GroupAddressBooks)
	if err != nil {
		return "", err
	}
	b, ok := x.AddressBook(bookID)
	if !ok {
		return "", nimbus.NotFound("Address book %q was not found.", bookID)
	}
	if err := acc.CheckAddressBook(b, write); err != nil {
		return "", err
	}
	return x.TenantID() + "|" + b.ID, nil
}

// Get returns the contacts with the given external ids, in that order, skipping ids that do
// not exist; with no ids it returns every contact of the book.
func (a *AddressBooks) Get(ctx context.Context, caller nimbus.Caller, bookID string, externalIDs []string) ([]nimbus.Contact, error) {
	pk, err := a.book(ctx, caller, bookID, false)
	if err != nil {
		return nil, err
	}
	if len(externalIDs) == 0 {
		return a.all(ctx, pk)
	}
	found, err := a.lookup(ctx, pk, dedupe(externalIDs))
	if err != nil {
		return nil, err
	}
	out := []nimbus.Contact{}
	for _, f := range found {
		if f.ok {
			out = append(out, f.contact)
		}
	}
	return out, nil
}

func (a *AddressBooks) all(ctx context.Context, pk string) ([]nimbus.Contact, error) {
	out := []nimbus.Contact{}
	err := eachRecord(ctx, a.contacts, pk, contactPrefix, func(_ nimbus.Entity, c nimbus.Contact) error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return out, nil
}

type lookedUp struct {
	id      string
	ok      bool
	etag    string
	contact nimbus.Contact
}

// lookup point-reads ids with bounded concurrency; results keep the order of ids.
func (a *AddressBooks) lookup(ctx context.Context, pk string, ids []string) ([]lookedUp, error) {
	out := make([]lookedUp, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, lookupConcurrency)
	var wg sync.WaitGroup
	for i, id := range ids {
		out[i].id = id
		if nimbus.CheckID("externalId", id) != nil {
			continue // such an id cannot have been stored
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			e, err := a.contacts.Get(ctx, pk, contactPrefix+id)
			if errors.Is(err, nimbus.ErrNotFound) {
				return
			}
			if err == nil {
				err = json.Unmarshal(e.Data, &out[i].contact)
			}
			if err != nil {
				errs[i] = fmt.Errorf("read contact %q: %w", id, err)
				return
			}
			out[i].ok, out[i].etag = true, e.ETag
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
