package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Add stores a new contact; KindConflict when its externalId exists or the book is full.
func (a *AddressBooks) Add(ctx context.Context, caller nimbus.Caller, bookID string, c nimbus.Contact) (nimbus.Contact, error) {
	pk, data, err := a.prepareWrite(ctx, caller, bookID, c)
	if err != nil {
		return nimbus.Contact{}, err
	}
	unlock, err := a.locks.lock(ctx, pk)
	if err != nil {
		return nimbus.Contact{}, err
	}
	defer unlock()
	for r := newRetrier(); ; {
		if ok, err := r.next(ctx); err != nil || !ok {
			return nimbus.Contact{}, orBusy(err, bookID)
		}
		n, etag, err := readCount(ctx, a.contacts, pk)
		if err != nil {
			return nimbus.Contact{}, err
		}
		if n >= a.maxContacts {
			return nimbus.Contact{}, nimbus.Conflict("Address book %q is full: it holds the maximum of %d contacts.", bookID, a.maxContacts)
		}
		ops := []nimbus.BatchOp{{Kind: nimbus.BatchInsert, RowKey: contactPrefix + c.ExternalID, Data: data}, countOp(n+1, etag)}
		err = a.contacts.Batch(ctx, pk, ops)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, nimbus.ErrConflict) {
			return nimbus.Contact{}, fmt.Errorf("add contact %q: %w", c.ExternalID, err)
		}
		// Either the contact exists or another writer moved the count on: tell which.
		if _, err := a.contacts.Get(ctx, pk, contactPrefix+c.ExternalID); err == nil {
			return nimbus.Contact{}, nimbus.Conflict("A contact with externalId %q already exists in address book %q.", c.ExternalID, bookID)
		} else if !errors.Is(err, nimbus.ErrNotFound) {
			return nimbus.Contact{}, fmt.Errorf("add contact %q: %w", c.ExternalID, err)
		}
	}
}

// prepareWrite validates c, checks the caller may write to the book, and encodes c.
func (a *AddressBooks) prepareWrite(ctx context.Context, caller nimbus.Caller, bookID string, c nimbus.Contact) (string, []byte, error) {
	if err := c.Validate(); err != nil {
		return "", nil, err
	}
	pk, err := a.book(ctx, caller, bookID, true)
	if err != nil {
		return "", nil, err
	}
	data, err := encodeStored(c)
	if err != nil {
		return "", nil, fmt.Errorf("encode contact: %w", err)
	}
	return pk, data, nil
}

// Update replaces an existing contact; KindNotFound when its externalId does not exist.
func (a *AddressBooks) Update(ctx context.Context, caller nimbus.Caller, bookID string, c nimbus.Contact) (nimbus.Contact, error) {
	pk, data, err := a.prepareWrite(ctx, caller, bookID, c)
	if err != nil {
		return nimbus.Contact{}, err
	}
	_, err = a.contacts.Update(ctx, nimbus.Entity{PartitionKey: pk, RowKey: contactPrefix + c.ExternalID, Data: data})
	if errors.Is(err, nimbus.ErrNotFound) {
		return nimbus.Contact{}, nimbus.NotFound("No contact with externalId %q exists in address book %q.", c.ExternalID, bookID)
	}
	if err != nil {
		return nimbus.Contact{}, fmt.Errorf("update contact %q: %w", c.ExternalID, err)
	}
	return c, nil
}

// Remove deletes the contacts with the given external ids; ids that do not exist are
// ignored. Each group of up to MaxBatch-1 contacts is removed atomically; a failure part-way
// leaves earlier groups removed, and repeating the call completes it.
func (a *AddressBooks) Remove(ctx context.Context, caller nimbus.Caller, bookID string, externalIDs []string) (int, error) {
	pk, err := a.book(ctx, caller, bookID, true)
	if err != nil {
		return 0, err
	}
	ids := dedupe(externalIDs)
	removed := 0
	for start := 0; start < len(ids); start += nimbus.MaxBatch - 1 {
		n, err := a.removeGroup(ctx, pk, bookID, ids[start:min(start+nimbus.MaxBatch-1, len(ids))])
		removed += n
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

func (a *AddressBooks) removeGroup(ctx context.Context, pk, bookID string, ids []string) (int, error) {
	unlock, err := a.locks.lock(ctx, pk)
	if err != nil {
		return 0, err
	}
	defer unlock()
	for r := newRetrier(); ; {
		if ok, err := r.next(ctx); err != nil || !ok {
			return 0, orBusy(err, bookID)
		}
		found, err := a.lookup(ctx, pk, ids)
		if err != nil {
			return 0, err
		}
		var rows []nimbus.Entity
		for _, f := range found {
			if f.ok {
				rows = append(rows, nimbus.Entity{RowKey: contactPrefix + f.id, ETag: f.etag})
			}
		}
		if len(rows) == 0 {
			return 0, nil
		}
		done, err := a.deleteCounted(ctx, pk, rows)
		if err != nil {
			return 0, fmt.Errorf("remove contacts: %w", err)
		}
		if done {
			return len(rows), nil
		}
		// A concurrent writer changed a contact or the count: read again and retry.
	}
}

// deleteCounted deletes rows (each at the ETag it was read with) and lowers the count row by
// as many, in one batch transaction: the count is right after every batch, whatever happens
// to the process between two of them. It reports false, changing nothing, when another
// writer changed one of the rows or the count meanwhile. rows must fit one batch with the
// count row.
func (a *AddressBooks) deleteCounted(ctx context.Context, pk string, rows []nimbus.Entity) (bool, error) {
	n, etag, err := readCount(ctx, a.contacts, pk)
	if err != nil {
		return false, err
	}
	ops := make([]nimbus.BatchOp, 0, len(rows)+1)
	for _, e := range rows {
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchDelete, RowKey: e.RowKey, IfMatch: e.ETag})
	}
	ops = append(ops, countOp(max(n-len(rows), 0), etag))
	err = a.contacts.Batch(ctx, pk, ops)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, nimbus.ErrConflict), errors.Is(err, nimbus.ErrNotFound):
		return false, nil
	}
	return false, err
}

// Clear removes every contact of the book in batch transactions of MaxBatch-1 deletes plus
// the count row, reading the count before each: about N/50 storage round trips. It is not
// atomic as a whole (a book may hold 65,000 contacts), but the count is right after every
// batch, so a crash or failure part-way leaves fewer contacts and a true count, and repeating
// the call finishes the job. Other writers of the book take turns with each batch.
func (a *AddressBooks) Clear(ctx context.Context, caller nimbus.Caller, bookID string) (int, error) {
	pk, err := a.book(ctx, caller, bookID, true)
	if err != nil {
		return 0, err
	}
	removed := 0
	r := newRetrier()
list:
	for {
		page, err := a.contacts.List(ctx, pk, contactPrefix, "", nimbus.MaxPageSize)
		if err != nil {
			return removed, fmt.Errorf("clear contacts: %w", err)
		}
		if len(page.Entities) == 0 {
			break
		}
		for start := 0; start < len(page.Entities); start += nimbus.MaxBatch - 1 {
			group := page.Entities[start:min(start+nimbus.MaxBatch-1, len(page.Entities))]
			unlock, err := a.locks.lock(ctx, pk)
			if err != nil {
				return removed, err
			}
			done, err := a.deleteCounted(ctx, pk, group)
			unlock()
			if err != nil {
				return removed, fmt.Errorf("clear contacts: %w", err)
			}
			if !done {
				// A concurrent writer changed one of these rows or the count: list again.
				if ok, err := r.next(ctx); err != nil || !ok {
					return removed, orBusy(err, bookID)
				}
				continue list
			}
			removed += len(group)
		}
	}
	// Counts written by older versions, which recounted only at the end, may be off after a
	// crash; setting the count from what is stored heals them.
	return removed, a.recount(ctx, pk, bookID)
}

// recount sets the count row to the number of stored contacts. The ETag condition makes it
// retry when a writer added or removed contacts while it counted.
func (a *AddressBooks) recount(ctx context.Context, pk, bookID string) error {
	unlock, err := a.locks.lock(ctx, pk)
	if err != nil {
		return err
	}
	defer unlock()
	for r := newRetrier(); ; {
		if ok, err := r.next(ctx); err != nil || !ok {
			return orBusy(err, bookID)
		}
		_, etag, err := readCount(ctx, a.contacts, pk)
		if err != nil {
			return err
		}
		n := 0
		if err := eachEntity(ctx, a.contacts, pk, contactPrefix, func(nimbus.Entity) error { n++; return nil }); err != nil {
			return fmt.Errorf("count contacts: %w", err)
		}
		err = a.contacts.Batch(ctx, pk, []nimbus.BatchOp{countOp(n, etag)})
		if err == nil || !errors.Is(err, nimbus.ErrConflict) {
			return err
		}
	}
}

// orBusy returns err, or, when the retries ran out without one, the "busy" answer.
func orBusy(err error, bookID string) error {
	if err != nil {
		return err
	}
	return busy(bookID)
}

func busy(bookID string) error {
	return &nimbus.Error{Kind: nimbus.KindUnavailable, Message: fmt.Sprintf("Address book %q is being changed by many writers at once; try again.", bookID), RetryAfter: time.Second}
}
