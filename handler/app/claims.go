package app

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Claims is the claim check of the queues (SPEC 4.4 "Size"): a body larger than
// nimbus.MaxInlineBody is stored in the claims table first, and the message carries a
// nimbus.ClaimRef instead. Consumers get the real body back (Resolve), and the claim is
// deleted once its message was handled; claims nobody consumed (commands read by core on
// Service Bus, messages dropped as duplicates) are removed by Purge.
//
// Storage: partition tenant; row "<id>" holds the claim's header (size, parts, time), rows
// "<id>/<n>" its parts of at most claimPart bytes, all written and deleted in one batch.
type Claims struct {
	table nimbus.Table
	log   *slog.Logger
	now   func() time.Time
}

// NewClaims returns the claim check over the claims table.
func NewClaims(table nimbus.Table, log *slog.Logger) *Claims {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Claims{table: table, log: log, now: time.Now}
}

// claimPart is the size of one stored part: a quarter of nimbus.MaxEntityData, so that a
// whole claim (MaxClaimBody) is one batch of at most 9 rows.
const claimPart = 256 << 10

type claimHeader struct {
	Bytes   int       `json:"bytes"`
	Parts   int       `json:"parts"`
	Created time.Time `json:"created"`
	// Kept marks a claim whose message is a dead letter waiting for replay: Purge leaves it.
	Kept bool `json:"kept,omitempty"`
}

// tenantOf finds the tenant a queued body belongs to: the envelope's "tenant" or the
// "tenantId" of a delivery or command.
func tenantOf(body []byte) (string, bool) {
	var v struct {
		Tenant   string `json:"tenant"`
		TenantID string `json:"tenantId"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", false
	}
	t := cmp.Or(v.Tenant, v.TenantID)
	return t, t != ""
}

// Put stores body as a claim and returns the reference body to queue in its place.
func (c *Claims) Put(ctx context.Context, body []byte) ([]byte, error) {
	tenant, ok := tenantOf(body)
	if !ok {
		return nil, nimbus.Invalid("body", "a body of %d bytes needs a claim, but names no tenant", len(body))
	}
	if len(body) > nimbus.MaxClaimBody {
		return nil, nimbus.Invalid("body", "a queued body holds at most %d bytes, got %d", nimbus.MaxClaimBody, len(body))
	}
	var ref nimbus.ClaimRef
	ref.Claim.TenantID, ref.Claim.ID, ref.Claim.Bytes = tenant, uuid.NewString(), len(body)
	h := claimHeader{Bytes: len(body), Parts: (len(body) + claimPart - 1) / claimPart, Created: c.now().UTC()}
	head, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode claim: %w", err)
	}
	// The tenant is listed first, so that no crash leaves a claim that Purge cannot find.
	if _, err := c.table.Upsert(ctx, nimbus.Entity{PartitionKey: claimTenants, RowKey: tenant, Data: []byte("{}")}); err != nil {
		return nil, fmt.Errorf("list claim tenant: %w", err)
	}
	ops := []nimbus.BatchOp{{Kind: nimbus.BatchInsert, RowKey: ref.Claim.ID, Data: head}}
	for i := range h.Parts {
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchInsert, RowKey: claimPartKey(ref.Claim.ID, i), Data: body[i*claimPart : min((i+1)*claimPart, len(body))]})
	}
	if err := c.table.Batch(ctx, tenant, ops); err != nil {
		return nil, fmt.Errorf("store claim: %w", err)
	}
	out, err := json.Marshal(ref)
	if err != nil {
		return nil, fmt.Errorf("encode claim reference: %w", err)
	}
	return out, nil
}

func claimPartKey(id string, n int) string { return fmt.Sprintf("%s/%d", id, n) }

// claimPrefix starts every reference body; a body that does not start so is not a claim.
var claimPrefix = []byte(`{"claimCheck":`)

// ParseRef reports whether body is a claim reference, and which.
func ParseRef(body []byte) (nimbus.ClaimRef, bool) {
	var ref nimbus.ClaimRef
	if !bytes.HasPrefix(body, claimPrefix) || json.Unmarshal(body, &ref) != nil || ref.Claim.ID == "" || ref.Claim.TenantID == "" {
		return nimbus.ClaimRef{}, false
	}
	return ref, true
}

// Get returns the body of a claim; KindNotFound when it is gone. tenant must be the
// claim's: another tenant's claim is not found.
func (c *Claims) Get(ctx context.Context, tenant, id string) ([]byte, error) {
	if nimbus.CheckID("id", id) != nil || strings.Contains(id, "/") {
		return nil, nimbus.NotFound("Claim %q was not found.", id)
	}
	e, err := c.table.Get(ctx, tenant, id)
	if errors.Is(err, nimbus.ErrNotFound) {
		return nil, nimbus.NotFound("Claim %q was not found.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read claim: %w", err)
	}
	var h claimHeader
	if err := json.Unmarshal(e.Data, &h); err != nil {
		return nil, fmt.Errorf("decode claim %s: %w", id, err)
	}
	body := make([]byte, 0, h.Bytes)
	for i := range h.Parts {
		p, err := c.table.Get(ctx, tenant, claimPartKey(id, i))
		if err != nil {
			return nil, fmt.Errorf("read claim %s part %d: %w", id, i, err)
		}
		body = append(body, p.Data...)
	}
	if len(body) != h.Bytes {
		return nil, fmt.Errorf("read claim %s: %d bytes stored, header says %d", id, len(body), h.Bytes)
	}
	return body, nil
}

// Delete removes a claim; a claim already gone is not an error. Parts go first and the
// header last, so an interrupted delete leaves a header that Purge finds. Row by row rather
// than one batch, so that a consumer that completes its message in one transaction (the
// embedded runner, see embedded.Atomic) removes the claim in that transaction too.
func (c *Claims) Delete(ctx context.Context, tenant, id string) error {
	e, err := c.table.Get(ctx, tenant, id)
	if errors.Is(err, nimbus.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read claim: %w", err)
	}
	var h claimHeader
	if err := json.Unmarshal(e.Data, &h); err != nil {
		return fmt.Errorf("decode claim %s: %w", id, err)
	}
	for i := range h.Parts {
		if err := c.table.Delete(ctx, tenant, claimPartKey(id, i), ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
			return fmt.Errorf("delete claim %s: %w", id, err)
		}
	}
	if err := c.table.Delete(ctx, tenant, id, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return fmt.Errorf("delete claim %s: %w", id, err)
	}
	return nil
}

// Keep marks a claim as belonging to a dead letter, so Purge leaves it until the dead letter
// is replayed and handled.
func (c *Claims) Keep(ctx context.Context, tenant, id string) error {
	e, err := c.table.Get(ctx, tenant, id)
	if err != nil {
		return fmt.Errorf("read claim: %w", err)
	}
	var h claimHeader
	if err := json.Unmarshal(e.Data, &h); err != nil {
		return fmt.Errorf("decode claim %s: %w", id, err)
	}
	h.Kept = true
	data, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode claim: %w", err)
	}
	e.Data = data
	if _, err := c.table.Update(ctx, e); err != nil {
		return fmt.Errorf("keep claim %s: %w", id, err)
	}
	return nil
}

// ClaimRetention is how long an unconsumed claim is kept before Purge removes it: far past
// any retry of its message, and long enough for core to read a command's claim.
const ClaimRetention = 7 * 24 * time.Hour

// claimTenants is the partition that lists, one row each, the tenants that ever stored a
// claim, so housekeeping finds them without a scan; tenant ids are GUIDs, so it names none.
const claimTenants = "~tenants"

// PurgeJob is the claims' part of the Housekeeping timer: it removes, in every tenant that
// stored claims, those older than ClaimRetention (bodies whose message was never consumed).
func (c *Claims) PurgeJob(ctx context.Context) error {
	var tenants []string
	if err := eachEntity(ctx, c.table, claimTenants, "", func(e nimbus.Entity) error {
		tenants = append(tenants, e.RowKey)
		return nil
	}); err != nil {
		return fmt.Errorf("list claim tenants: %w", err)
	}
	before := c.now().Add(-ClaimRetention)
	var errs []error
	for _, t := range tenants {
		n, err := c.Purge(ctx, t, before)
		if err != nil {
			errs = append(errs, fmt.Errorf("purge claims of %s: %w", t, err))
		} else if n > 0 {
			c.log.InfoContext(ctx, "stale claims removed", "tenant", t, "count", n)
		}
	}
	return errors.Join(errs...)
}

// Purge removes the tenant's claims created before the cutoff, except those kept for dead
// letters, and returns how many it removed. PurgeJob calls it per tenant.
func (c *Claims) Purge(ctx context.Context, tenant string, before time.Time) (int, error) {
	var old []string
	err := eachEntity(ctx, c.table, tenant, "", func(e nimbus.Entity) error {
		if strings.Contains(e.RowKey, "/") {
			return nil
		}
		var h claimHeader
		if json.Unmarshal(e.Data, &h) == nil && !h.Kept && h.Created.Before(before) {
			old = append(old, e.RowKey)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list claims: %w", err)
	}
	for i, id := range old {
		if err := c.Delete(ctx, tenant, id); err != nil {
			return i, err
		}
	}
	return len(old), nil
}

// Queues wraps qs so that every Send stores bodies over nimbus.MaxInlineBody as claims.
func (c *Claims) Queues(qs nimbus.Queues) nimbus.Queues { return claimQueues{c: c, qs: qs} }

type claimQueues struct {
	c  *Claims
	qs nimbus.Queues
}

func (cq claimQueues) Queue(name string) nimbus.Queue {
	return claimQueue{c: cq.c, q: cq.qs.Queue(name)}
}

type claimQueue struct {
	c *Claims
	q nimbus.Queue
}

// Send claims the large bodies, then sends. If the Send fails, the claims it stored stay
// until Purge: the caller retries with new ones.
func (cq claimQueue) Send(ctx context.Context, msgs ...nimbus.Message) error {
	out, cloned := msgs, false
	for i, m := range msgs {
		if len(m.Body) <= nimbus.MaxInlineBody {
			continue
		}
		ref, err := cq.c.Put(ctx, m.Body)
		if err != nil {
			return fmt.Errorf("claim check of message %s: %w", m.ID, err)
		}
		if !cloned {
			out, cloned = slices.Clone(msgs), true // never change the caller's slice
		}
		out[i].Body = ref
	}
	return cq.q.Send(ctx, out...)
}

// Resolve wraps a consumer: a message carrying a claim reference is handed to h with the
// claimed body, and the claim is deleted once h succeeded. A claim that is gone (purged
// long after its message should have been handled) cannot be handled on redelivery either,
// so the message is dropped with an error log.
func (c *Claims) Resolve(h nimbus.Handler) nimbus.Handler {
	return func(ctx context.Context, m nimbus.Message) error {
		ref, ok := ParseRef(m.Body)
		if !ok {
			return h(ctx, m)
		}
		body, err := c.Get(ctx, ref.Claim.TenantID, ref.Claim.ID)
		if errors.Is(err, nimbus.ErrNotFound) {
			c.log.ErrorContext(ctx, "queued message dropped: its claimed body is gone", "messageId", m.ID, "tenant", ref.Claim.TenantID, "claim", ref.Claim.ID)
			return nil
		}
		if err != nil {
			return err
		}
		m.Body = body
		if err := h(ctx, m); err != nil {
			return err
		}
		if err := c.Delete(ctx, ref.Claim.TenantID, ref.Claim.ID); err != nil {
			c.log.WarnContext(ctx, "claim left for purge", "messageId", m.ID, "claim", ref.Claim.ID, "err", err)
		}
		return nil
	}
}

// Read returns a claimed body to Nimbus core, which reads commands from Service Bus itself
// and finds a claim reference in place of a command too large for a message.
func (c *Claims) Read(ctx context.Context, caller nimbus.Caller, tenant, id string) ([]byte, error) {
	if !caller.IsApp || !caller.HasAppRole(nimbus.AppRoleCore) {
		return nil, nimbus.Forbidden("Only Nimbus core (an application token with the %s role) may read claimed messages.", nimbus.AppRoleCore)
	}
	if !nimbus.ValidTenantID(tenant) {
		return nil, nimbus.Invalid("tenantId", "tenantId (a GUID) is required.")
	}
	return c.Get(ctx, tenant, id)
}
