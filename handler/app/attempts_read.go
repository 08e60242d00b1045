package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// AttemptPage is one page of a subscription's delivery log, newest first.
type AttemptPage struct {
	Items []AttemptRecord `json:"items"`
	// Next continues the listing; empty on the last page.
	Next string `json:"next"`
}

// Attempts lists the recent attempts of subscription id of tenant, newest first, limit
// (1..MaxAttemptPage, 0 for DefaultAttemptPage) at a time from cursor next. The tenant's
// admins (SPEC 2.1) and the subscription's owner may read it; for anybody else, as for an
// unknown id, the subscription is not found.
func (l *AttemptLog) Attempts(ctx context.Context, caller nimbus.Caller, tenant, id string, limit int, next string) (AttemptPage, error) {
	if limit == 0 {
		limit = DefaultAttemptPage
	}
	if limit < 1 || limit > MaxAttemptPage {
		return AttemptPage{}, nimbus.Invalid("limit", "limit must be between 1 and %d.", MaxAttemptPage)
	}
	if err := l.authorize(ctx, caller, tenant, id); err != nil {
		return AttemptPage{}, err
	}
	page, err := l.table.List(ctx, attemptPartition(tenant, id), "", next, limit)
	if nimbus.KindOf(err) == nimbus.KindInvalid {
		return AttemptPage{}, nimbus.Invalid("next", "next must be a value returned by a previous page.")
	}
	if err != nil {
		return AttemptPage{}, fmt.Errorf("list delivery log: %w", err)
	}
	out := AttemptPage{Items: []AttemptRecord{}, Next: page.Next}
	cutoff := l.now().Add(-AttemptLogKeep)
	for _, e := range page.Entities {
		if !attemptRowTime(e.RowKey).After(cutoff) {
			out.Next = "" // older than kept, and so is everything after it
			break
		}
		var rec AttemptRecord
		if err := json.Unmarshal(e.Data, &rec); err != nil {
			return AttemptPage{}, fmt.Errorf("decode delivery log row %q: %w", e.RowKey, err)
		}
		out.Items = append(out.Items, rec)
	}
	return out, nil
}

// authorize lets through a tenant admin of tenant and the owner of the subscription. A
// subscription of another tenant, of another user, or unknown is not found, so the answer
// tells nobody which subscriptions exist.
func (l *AttemptLog) authorize(ctx context.Context, caller nimbus.Caller, tenant, id string) error {
	notFound := nimbus.NotFound("Subscription %q was not found.", id)
	if !nimbus.ValidTenantID(tenant) || nimbus.CheckID("id", id) != nil {
		return notFound
	}
	admin := l.dir.AuthorizeAdmin(ctx, caller, tenant)
	if admin != nil && nimbus.KindOf(admin) != nimbus.KindForbidden && nimbus.KindOf(admin) != nimbus.KindNotFound {
		return admin
	}
	if admin != nil && caller.IsApp {
		return admin
	}
	sub, err := l.subs.Get(ctx, tenant, id)
	if errors.Is(err, nimbus.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	if admin == nil {
		return nil
	}
	if caller.IsApp || !strings.EqualFold(caller.TenantID, sub.TenantID) || nimbus.FoldUPN(sub.OwnerUPN) != nimbus.FoldUPN(caller.UPN) {
		return notFound
	}
	return nil
}
