package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Import validates dir and makes it the tenant's whole directory, replacing any previous
// one. The caller must be a tenant admin of that tenant or an app with AppRoleAdmin.
func (d *Directory) Import(ctx context.Context, caller nimbus.Caller, dir nimbus.Directory) (*nimbus.Index, error) {
	if err := d.authorizeAdmin(ctx, caller, dir.TenantID); err != nil {
		return nil, err
	}
	return d.store(ctx, dir)
}

// Export returns the tenant's directory. Same rights as Import.
func (d *Directory) Export(ctx context.Context, caller nimbus.Caller, tenantID string) (nimbus.Directory, error) {
	if err := d.authorizeAdmin(ctx, caller, tenantID); err != nil {
		return nimbus.Directory{}, err
	}
	x, err := d.Index(ctx, tenantID)
	if err != nil {
		return nimbus.Directory{}, err
	}
	return x.Directory(), nil
}

// Seed stores dir only when the tenant has no directory yet, so restarts neither duplicate
// nor overwrite what an admin changed. It reports whether it stored anything. Seed is for
// start-up wiring (demo tenant, --directory file) and checks no caller rights.
func (d *Directory) Seed(ctx context.Context, dir nimbus.Directory, overwrite bool) (bool, error) {
	if !overwrite {
		_, err := d.Index(ctx, dir.TenantID)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, nimbus.ErrNotFound) {
			return false, err
		}
	}
	if _, err := d.store(ctx, dir); err != nil {
		return false, err
	}
	return true, nil
}

// authorizeAdmin allows a tenant admin of tenantID, or an operator app (AppRoleAdmin).
// A user of another tenant learns nothing about whether tenantID exists.
func (d *Directory) authorizeAdmin(ctx context.Context, caller nimbus.Caller, tenantID string) error {
	if caller.IsApp {
		if caller.HasAppRole(nimbus.AppRoleAdmin) {
			return nil
		}
		return nimbus.Forbidden("The application token lacks the %s role.", nimbus.AppRoleAdmin)
	}
	if !strings.EqualFold(caller.TenantID, tenantID) {
		return nimbus.Forbidden("Only a tenant admin of tenant %q may manage its directory.", tenantID)
	}
	x, err := d.Index(ctx, tenantID)
	if err != nil {
		return err
	}
	if u, ok := x.User(caller.UPN); ok && u.HasRole(nimbus.RoleTenantAdmin) {
		return nil
	}
	return nimbus.Forbidden("Only a tenant admin of tenant %q may manage its directory.", tenantID)
}

func (d *Directory) store(ctx context.Context, dir nimbus.Directory) (*nimbus.Index, error) {
	x, err := nimbus.NewIndex(dir)
	if err != nil {
		return nil, err
	}
	tenant := x.TenantID()
	old, etag, err := d.readHead(ctx, tenant)
	if err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return nil, err
	}
	version := old.Version + 1
	if err := d.writeVersion(ctx, tenant, version, x.Directory()); err != nil {
		d.removeVersionsExcept(ctx, tenant, old.Version)
		return nil, err
	}
	data, _ := json.Marshal(head{Version: version})
	if etag == "" {
		_, err = d.table.Insert(ctx, nimbus.Entity{PartitionKey: tenant, RowKey: headRow, Data: data})
	} else {
		_, err = d.table.Update(ctx, nimbus.Entity{PartitionKey: tenant, RowKey: headRow, Data: data, ETag: etag})
	}
	if err != nil {
		d.removeVersionsExcept(ctx, tenant, old.Version)
		if errors.Is(err, nimbus.ErrConflict) || errors.Is(err, nimbus.ErrNotFound) {
			return nil, nimbus.Conflict("The directory of tenant %q was changed by another import at the same time; send it again.", tenant)
		}
		return nil, fmt.Errorf("switch directory of %s to version %d: %w", tenant, version, err)
	}
	d.invalidate(tenant)
	// The new version is live; old rows are garbage whether or not this cleanup finishes.
	d.removeVersionsExcept(ctx, tenant, version)
	return x, nil
}

func (d *Directory) writeVersion(ctx context.Context, tenant string, version uint64, dir nimbus.Directory) error {
	prefix := versionPrefix(version)
	var ops []nimbus.BatchOp
	seq := 0
	add := func(kind, id string, v any) {
		data, _ := json.Marshal(v)
		row, _ := json.Marshal(entityRow{Kind: kind, Seq: seq, Data: data})
		seq++
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: prefix + kind + "|" + id, Data: row})
	}
	for _, ou := range dir.OUs {
		add(kindOU, ou.ID, ou)
	}
	for _, s := range dir.Services {
		add(kindService, s.ID, s)
	}
	for _, u := range dir.Users {
		add(kindUser, nimbus.FoldUPN(u.UPN), u)
	}
	for _, b := range dir.AddressBooks {
		add(kindBook, b.ID, b)
	}
	add(kindSetting, "tenant", dir.Settings)
	for _, group := range batchGroups(ops) {
		if err := d.table.Batch(ctx, tenant, group); err != nil {
			return fmt.Errorf("write directory of %s version %d: %w", tenant, version, err)
		}
	}
	return nil
}

// removeVersionsExcept deletes every versioned row of the tenant not of version keep. It is
// best effort: leftovers are unreferenced and removed by a later import.
func (d *Directory) removeVersionsExcept(ctx context.Context, tenant string, keep uint64) {
	keepPrefix := versionPrefix(keep)
	var ops []nimbus.BatchOp
	err := eachEntity(ctx, d.table, tenant, "v", func(e nimbus.Entity) error {
		if !strings.HasPrefix(e.RowKey, keepPrefix) {
			ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchDelete, RowKey: e.RowKey})
		}
		return nil
	})
	if err != nil {
		return
	}
	for start := 0; start < len(ops); start += nimbus.MaxBatch {
		if err := d.table.Batch(ctx, tenant, ops[start:min(start+nimbus.MaxBatch, len(ops))]); err != nil {
			return
		}
	}
}

func (d *Directory) invalidate(tenant string) {
	d.mu.Lock()
	d.forgetLocked(tenant)
	d.mu.Unlock()
}

// Access resolves a user caller to their access in their own tenant. App tokens have no
// directory user and are refused with KindForbidden.
func (d *Directory) Access(ctx context.Context, caller nimbus.Caller) (*nimbus.Index, *nimbus.Access, error) {
	if caller.IsApp {
		return nil, nil, nimbus.Forbidden("Connector operations need a user token; application tokens have no Nimbus role.")
	}
	x, err := d.Index(ctx, caller.TenantID)
	if err != nil {
		if errors.Is(err, nimbus.ErrNotFound) {
			return nil, nil, nimbus.Forbidden("You have no Nimbus role in this tenant.")
		}
		return nil, nil, err
	}
	a, err := x.Access(caller.UPN)
	if err != nil {
		return nil, nil, err
	}
	return x, a, nil
}

// AccessFor resolves the caller like Access and also requires the role matrix to admit the
// caller to operation group g (for at least one service), else KindForbidden.
func (d *Directory) AccessFor(ctx context.Context, caller nimbus.Caller, g nimbus.Group) (*nimbus.Index, *nimbus.Access, error) {
	x, acc, err := d.Access(ctx, caller)
	if err != nil {
		return nil, nil, err
	}
	if !acc.Allows(g, nil) {
		return nil, nil, nimbus.Forbidden("Your Nimbus role does not allow %s: %s.", g, whoMay[g])
	}
	return x, acc, nil
}

// whoMay says, per operation group, who may use it (SPEC 2.2), for error messages.
var whoMay = map[nimbus.Group]string{
	nimbus.GroupConversations:    "you must be a tenant admin or a service owner",
	nimbus.GroupAddressBooks:     "you must be a tenant admin or an OU admin",
	nimbus.GroupOutboundManage:   "you must be a tenant admin or a service owner",
	nimbus.GroupOutboundSchedule: "you must be a tenant admin, a service owner or a team owner limited",
	nimbus.GroupStaticLists:      "you must be a tenant admin, an OU admin or an owner of a service",
	nimbus.GroupTestConnection:   "you need to be a tenant admin, OU admin, partner admin, or an owner of a service",
}
