package app

import (
	"context"
	"encoding/json"
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
	for attempt := range maxWriteAttempts {
		if err := pause(ctx, attempt); err != nil {
			return nimbus.Contact{}, err
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
	return nimbus.Contact{}, busy(bookID)
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
	data, err := json.Marshal(c)
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
	for attempt := range maxWriteAttempts {
		if err := pause(ctx, attempt); err != nil {
			return 0, err
		}
		found, err := a.lookup(ctx, pk, ids)
		if err != nil {
			return 0, err
		}
		var ops []nimbus.BatchOp
		for _, f := range found {
			if f.ok {
				ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchDelete, RowKey: contactPrefix + f.id, IfMatch: f.etag})
			}
		}
		if len(ops) == 0 {
			return 0, nil
		}
		n, etag, err := readCount(ctx, a.contacts, pk)
		if err != nil {
			return 0, err
		}
		ops = append(ops, countOp(max(n-len(ops), 0), etag))
		err = a.contacts.Batch(ctx, pk, ops)
		if err == nil {
			return len(ops) - 1, nil
		}
		if !errors.Is(err, nimbus.ErrConflict) && !errors.Is(err, nimbus.ErrNotFound) {
			return 0, fmt.Errorf("remove contacts: %w", err)
		}
		// A concurrent writer changed a contact or the count: read again and retry.
	}
	return 0, busy(bookID)
}

// Clear removes every contact of the book in batch transactions of MaxBatch deletes, about
// N/100 storage round trips, then recounts. It is not atomic as a whole (a book may hold
// 65,000 contacts); a failure part-way leaves fewer contacts, and repeating the call finishes
// the job.
func (a *AddressBooks) Clear(ctx context.Context, caller nimbus.Caller, bookID string) (int, error) {
	pk, err := a.book(ctx, caller, bookID, true)
	if err != nil {
		return 0, err
	}
	removed := 0
	for {
		page, err := a.contacts.List(ctx, pk, contactPrefix, "", nimbus.MaxPageSize)
		if err != nil {
			return removed, fmt.Errorf("clear contacts: %w", err)
		}
		if len(page.Entities) == 0 {
			break
		}
		for start := 0; start < len(page.Entities); start += nimbus.MaxBatch {
			group := page.Entities[start:min(start+nimbus.MaxBatch, len(page.Entities))]
			ops := make([]nimbus.BatchOp, len(group))
			for i, e := range group {
				ops[i] = nimbus.BatchOp{Kind: nimbus.BatchDelete, RowKey: e.RowKey}
			}
			switch err := a.contacts.Batch(ctx, pk, ops); {
			case err == nil:
				removed += len(ops)
			case errors.Is(err, nimbus.ErrNotFound):
				// Someone removed one of these meanwhile; the next listing picks up the rest.
			default:
				return removed, fmt.Errorf("clear contacts: %w", err)
			}
		}
	}
	return removed, a.recount(ctx, pk, bookID)
}

// recount sets the count row to the number of stored contacts. The ETag condition makes it
// retry when a writer added or removed contacts while it counted.
func (a *AddressBooks) recount(ctx context.Context, pk, bookID string) error {
	for attempt := range maxWriteAttempts {
		if err := pause(ctx, attempt); err != nil {
			return err
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
	return busy(bookID)
}

func busy(bookID string) error {
	return &nimbus.Error{Kind: nimbus.KindUnavailable, Message: fmt.Sprintf("Address book %q is being changed by many writers at once; try again.", bookID), RetryAfter: time.Second}
}
