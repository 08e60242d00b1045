package app

import (
	"errors"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestDirectoryImportExport(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	admin := f.caller(f.demo.Users.TenantAdmin)

	got, err := f.dir.Export(ctx, admin, f.demo.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Demo()
	if len(got.Services) != len(want.Services) || len(got.Users) != len(want.Users) || len(got.OUs) != 3 {
		t.Fatalf("export: %d services, %d users, %d OUs", len(got.Services), len(got.Users), len(got.OUs))
	}
	for i := range want.Users {
		if got.Users[i].UPN != want.Users[i].UPN {
			t.Errorf("users[%d]: got %s, want %s (order must survive storage)", i, got.Users[i].UPN, want.Users[i].UPN)
		}
	}

	// Import a smaller directory: the removed service must be gone, and nothing of the old
	// version may be left in storage.
	got.Services = got.Services[:1]
	got.AddressBooks = nil
	if _, err := f.dir.Import(ctx, admin, got); err != nil {
		t.Fatal(err)
	}
	x, err := f.dir.Index(ctx, f.demo.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(x.Services()); n != 1 {
		t.Errorf("services after import: got %d, want 1", n)
	}
	if _, ok := x.AddressBook(f.demo.AddressBooks[0].ID); ok {
		t.Error("address book of the previous version still visible")
	}
	page, err := f.dir.table.List(ctx, f.demo.TenantID, "v", "", nimbus.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Entities {
		if e.RowKey[:17] != versionPrefix(2)[:17] {
			t.Errorf("row of an old version left behind: %q", e.RowKey)
		}
	}
}

func TestDirectoryImportRights(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	d, _ := Demo()
	tests := []struct {
		name   string
		caller nimbus.Caller
		want   error
	}{
		{"tenant admin", f.caller(f.demo.Users.TenantAdmin), nil},
		{"OU admin", f.caller(f.demo.Users.OUAdmin), nimbus.ErrForbidden},
		{"service owner", f.caller(f.demo.Users.ServiceOwner), nimbus.ErrForbidden},
		{"tenant admin of another tenant", nimbus.Caller{TenantID: "99999999-9999-9999-9999-999999999999", UPN: f.demo.Users.TenantAdmin}, nimbus.ErrForbidden},
		{"operator app", nimbus.Caller{TenantID: f.demo.TenantID, AppID: "ops", IsApp: true, Roles: []string{nimbus.AppRoleAdmin}}, nil},
		{"core app", nimbus.Caller{TenantID: f.demo.TenantID, AppID: "core", IsApp: true, Roles: []string{nimbus.AppRoleCore}}, nimbus.ErrForbidden},
		{"admin app of another tenant", nimbus.Caller{TenantID: "99999999-9999-9999-9999-999999999999", AppID: "ops", IsApp: true, Roles: []string{nimbus.AppRoleAdmin}}, nimbus.ErrNotFound},
		{"operator app of another tenant", nimbus.Caller{TenantID: "99999999-9999-9999-9999-999999999999", AppID: "ops", IsApp: true, Operator: true, Roles: []string{nimbus.AppRoleAdmin}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.dir.Import(ctx, tt.caller, d)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("import: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDirectoryInvalidImportChangesNothing(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	d, _ := Demo()
	d.Services[0].Owners = []string{"ghost@contoso.com"}
	_, err := f.dir.Import(ctx, f.caller(f.demo.Users.TenantAdmin), d)
	var e *nimbus.Error
	if !errors.As(err, &e) || e.Kind != nimbus.KindInvalid || e.Target != "services[0].owners[0]" {
		t.Fatalf("got %v, want InvalidArgument at services[0].owners[0]", err)
	}
	x, _ := f.dir.Index(ctx, f.demo.TenantID)
	if s, _ := x.Service("svc-contactcenter"); s.Owners[0] != f.demo.Users.ServiceOwner {
		t.Errorf("stored directory changed by a refused import: owners %v", s.Owners)
	}
}

// Another instance's import becomes visible once the cache TTL has passed.
func TestDirectoryCacheSeesOtherWriters(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	now := time.Now()
	reader := NewDirectory(f.dir.table, time.Minute)
	reader.now = func() time.Time { return now }
	if _, err := reader.Index(ctx, f.demo.TenantID); err != nil {
		t.Fatal(err)
	}
	d, _ := Demo()
	d.Services = d.Services[:2]
	if _, err := f.dir.Import(ctx, f.caller(f.demo.Users.TenantAdmin), d); err != nil {
		t.Fatal(err)
	}
	x, _ := reader.Index(ctx, f.demo.TenantID)
	if n := len(x.Services()); n != 4 {
		t.Errorf("within TTL: got %d services, want the cached 4", n)
	}
	now = now.Add(2 * time.Minute)
	x, _ = reader.Index(ctx, f.demo.TenantID)
	if n := len(x.Services()); n != 2 {
		t.Errorf("after TTL: got %d services, want 2", n)
	}
}

func TestSeedDoesNotOverwrite(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	d, _ := Demo()
	d.Services = d.Services[:1]
	if _, err := f.dir.Import(ctx, f.caller(f.demo.Users.TenantAdmin), d); err != nil {
		t.Fatal(err)
	}
	full, _ := Demo()
	stored, err := f.dir.Seed(ctx, full, false)
	if err != nil || stored {
		t.Fatalf("seed over an existing tenant: stored=%v err=%v", stored, err)
	}
	x, _ := f.dir.Index(ctx, f.demo.TenantID)
	if n := len(x.Services()); n != 1 {
		t.Errorf("seed overwrote the admin's directory: %d services", n)
	}
}

func TestTestConnection(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	u := f.demo.Users
	tests := []struct {
		upn  string
		want error
	}{
		{u.TenantAdmin, nil}, {u.OUAdmin, nil}, {u.ServiceOwner, nil}, {u.TeamOwnerLimited, nil}, {u.PartnerAdmin, nil},
		{u.Supervisor, nimbus.ErrForbidden}, {u.User, nimbus.ErrForbidden}, {"stranger@contoso.com", nimbus.ErrForbidden},
	}
	for _, tt := range tests {
		info, err := f.dir.TestConnection(ctx, f.caller(tt.upn))
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.upn, err, tt.want)
		}
		if err == nil && info.TenantID != f.demo.TenantID {
			t.Errorf("%s: tenant %q", tt.upn, info.TenantID)
		}
	}
	// A tenant without EnterpriseRouting or ContactCenter services fails with a clear 403.
	d, _ := Demo()
	for i := range d.Services {
		d.Services[i].License = nimbus.LicenseAdvancedRouting
	}
	if _, err := f.dir.Import(ctx, f.caller(u.TenantAdmin), d); err != nil {
		t.Fatal(err)
	}
	_, err := f.dir.TestConnection(ctx, f.caller(u.TenantAdmin))
	var e *nimbus.Error
	if !errors.As(err, &e) || e.Kind != nimbus.KindForbidden || e.Message == "" {
		t.Errorf("unlicensed tenant: got %v, want Forbidden with a message", err)
	}
}
