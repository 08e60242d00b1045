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
// one. The caller must be allowed by AuthorizeAdmin. Because an import replaces everything,
// a directory without any entry is refused rather than wiping the tenant, and so is one
// that leaves no tenant admin, which would lock the tenant's own admins out (SPEC 10).
func (d *Directory) Import(ctx context.Context, caller nimbus.Caller, dir nimbus.Directory) (*nimbus.Index, error) {
	if err := d.authorizeAdmin(ctx, caller, dir.TenantID); err != nil {
		return nil, err
	}
	if len(dir.OUs) == 0 && len(dir.Services) == 0 && len(dir.Users) == 0 && len(dir.AddressBooks) == 0 {
		return nil, nimbus.Invalid("", "The request body is not a tenant directory: it has no ous, services, users or addressBooks. An import replaces the whole directory, so an empty one is refused.")
	}
	if !hasTenantAdmin(dir) {
		return nil, nimbus.Invalid("users", "The directory must keep at least one user with the %s role; without one nobody in the tenant could manage it any more.", nimbus.RoleTenantAdmin)
	}
	return d.store(ctx, dir)
}

func hasTenantAdmin(dir nimbus.Directory) bool {
	for i := range dir.Users {
		if dir.Users[i].HasRole(nimbus.RoleTenantAdmin) {
			return true
		}
	}
	return false
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
	return d.View(x), nil
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

// AdminStanding checks, before any argument of an admin call is looked at, that the caller
// may administer at all: an app token with AppRoleAdmin, or a tenant admin of their own
// tenant. Anything else is KindForbidden.
func (d *Directory) AdminStanding(ctx context.Context, caller nimbus.Caller) error {
	if caller.IsApp {
		if caller.HasAppRole(nimbus.AppRoleAdmin) {
			return nil
		}
		return nimbus.Forbidden("The application token lacks the %s role, which the admin API requires.", nimbus.AppRoleAdmin)
	}
	x, err := d.Index(ctx, caller.TenantID)
	if err != nil {
		if errors.Is(err, nimbus.ErrNotFound) {
			return nimbus.Forbidden("Only a tenant admin may use the admin API; you have no Nimbus role.")
		}
		return err
	}
	if u, ok := x.User(caller.UPN); ok && u.HasRole(nimbus.RoleTenantAdmin) {
		return nil
	}
	return nimbus.Forbidden("Only a tenant admin may use the admin API.")
}

// AuthorizeAdmin allows an admin call on tenantID (SPEC 2.1, 10): by a tenant admin of
// tenantID, by an operator app (any tenant), or by another app token with AppRoleAdmin on
// its own tenant. A caller without admin standing gets KindForbidden; a tenant outside the
// caller's reach answers KindNotFound, exactly like a tenant that does not exist, so nobody
// learns which tenants exist.
func (d *Directory) AuthorizeAdmin(ctx context.Context, caller nimbus.Caller, tenantID string) error {
	if err := d.AdminStanding(ctx, caller); err != nil {
		return err
	}
	if !caller.AdminScope(tenantID) {
		return nimbus.NotFound("Tenant %q is not known to Nimbus.", tenantID)
	}
	return nil
}

func (d *Directory) authorizeAdmin(ctx context.Context, caller nimbus.Caller, tenantID string) error {
	return d.AuthorizeAdmin(ctx, caller, tenantID)
}

func (d *Directory) store(ctx context.Context, dir nimbus.Directory) (*nimbus.Index, error) {
	if !nimbus.ValidTenantID(dir.TenantID) {
		// Checked before the head row is read with it as the key.
		return nil, nimbus.Invalid("tenantId", "tenantId must be a GUID.")
	}
	old, etag, err := d.readHead(ctx, dir.TenantID)
	if err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return nil, err
	}
	stored, err := d.storedSigning(ctx, dir.TenantID, old.Version, etag != "")
	if err != nil {
		return nil, err
	}
	if err := dir.Settings.ApplySigning(stored, d.now()); err != nil {
		return nil, err
	}
	x, err := nimbus.NewIndex(dir)
	if err != nil {
		return nil, err
	}
	tenant := x.TenantID()
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
	add(kindSetting, settingsID, settingsRow{TenantSettings: dir.Settings, Signing: dir.Settings.Signing})
	for _, group := range batchGroups(ops) {
		if err := d.table.Batch(ctx, tenant, group); err != nil {
			return fmt.Errorf("write directory of %s version %d: %w", tenant, version, err)
		}
	}
	return nil
}

// settingsID is the id of the one settings row of a directory version.
const settingsID = "tenant"

// settingsRow is the stored form of the tenant settings: the API fields plus the signing
// secrets, which the API never carries.
type settingsRow struct {
	nimbus.TenantSettings
	Signing nimbus.SigningSecrets `json:"signing,omitzero"`
}

// decodeSettings reads a stored settings row. Rows written before secrets were rotated
// hold the one secret in signingSecret; it becomes the current secret.
func decodeSettings(data []byte) (nimbus.TenantSettings, error) {
	var row settingsRow
	if err := json.Unmarshal(data, &row); err != nil {
		return nimbus.TenantSettings{}, err
	}
	s := row.TenantSettings
	s.Signing = row.Signing
	if s.Signing.Current == "" && s.SigningSecret != nil {
		s.Signing.Current = *s.SigningSecret
	}
	s.SigningSecret, s.SigningSecretSet, s.SigningSecretSetAt, s.PreviousSigningSecretExpiresAt = nil, false, nil, nil
	return s, nil
}

// storedSigning returns the signing secrets of the stored version (none for a new tenant),
// read from storage rather than the cache, so a rotation always starts from what is stored.
func (d *Directory) storedSigning(ctx context.Context, tenant string, version uint64, exists bool) (nimbus.SigningSecrets, error) {
	if !exists {
		return nimbus.SigningSecrets{}, nil
	}
	e, err := d.table.Get(ctx, tenant, versionPrefix(version)+kindSetting+"|"+settingsID)
	if errors.Is(err, nimbus.ErrNotFound) {
		return nimbus.SigningSecrets{}, nil
	}
	if err != nil {
		return nimbus.SigningSecrets{}, fmt.Errorf("read signing secrets of %s: %w", tenant, err)
	}
	var r entityRow
	if err := json.Unmarshal(e.Data, &r); err != nil {
		return nimbus.SigningSecrets{}, fmt.Errorf("decode settings of %s: %w", tenant, err)
	}
	s, err := decodeSettings(r.Data)
	if err != nil {
		return nimbus.SigningSecrets{}, fmt.Errorf("decode settings of %s: %w", tenant, err)
	}
	return s.Signing, nil
}

// View is the directory as the admin API shows it: the tenant settings say whether a
// signing secret is set and since when, never the secret.
func (d *Directory) View(x *nimbus.Index) nimbus.Directory {
	dir := x.Directory()
	dir.Settings = dir.Settings.View(d.now())
	return dir
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
	nimbus.GroupOpeningHours:     "you must be a tenant admin, a service owner or a team owner limited",
}
