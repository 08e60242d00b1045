package nimbus

import (
	"errors"
	"strings"
	"testing"
)

func validDirectory() Directory {
	return Directory{
		TenantID:     tenantA,
		OUs:          []OU{{ID: "a", Name: "A", Parent: tenantA}},
		Users:        []User{{UPN: "anna@contoso.com", OU: "a", Roles: []Role{RoleUser}}},
		Services:     []Service{{ID: "s1", UPN: "sales@contoso.com", Name: "Sales", OU: "a", License: LicenseContactCenter, TelNumber: "+41441234567", Owners: []string{"ANNA@contoso.com"}, Modalities: []Modality{ModalityAudio}}},
		AddressBooks: []AddressBook{{ID: "b1", Name: "Partners", OU: tenantA}},
	}
}

func TestDirectoryValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(d *Directory)
		target string // "" = valid
	}{
		{"valid with implied root", func(d *Directory) {}, ""},
		{"retry delay in range", func(d *Directory) { d.Services[0].OutboundRetryDelaySeconds = 86400 }, ""},
		{"retry delay too long", func(d *Directory) { d.Services[0].OutboundRetryDelaySeconds = 86401 }, "services[0].outboundRetryDelaySeconds"},
		{"retry delay negative", func(d *Directory) { d.Services[0].OutboundRetryDelaySeconds = -1 }, "services[0].outboundRetryDelaySeconds"},
		{"tenant id not a GUID", func(d *Directory) { d.TenantID = "contoso" }, "tenantId"},
		{"duplicate OU id", func(d *Directory) { d.OUs = append(d.OUs, OU{ID: "a", Parent: tenantA}) }, "ous[2].id"},
		{"OU parent missing", func(d *Directory) { d.OUs = append(d.OUs, OU{ID: "x", Parent: "nope"}) }, "ous[2].parent"},
		{"second root", func(d *Directory) { d.OUs = append(d.OUs, OU{ID: "x"}) }, "ous[1].parent"},
		{"root with parent", func(d *Directory) {
			d.OUs = []OU{{ID: tenantA, Parent: "a"}, {ID: "a", Parent: tenantA}}
		}, "ous[0].parent"},
		{"cycle", func(d *Directory) {
			d.OUs = append(d.OUs, OU{ID: "x", Parent: "y"}, OU{ID: "y", Parent: "x"})
		}, "ous[2].parent"},
		{"OU id with control character", func(d *Directory) { d.OUs[0].ID = "a\x01" }, "ous[1].id"},
		{"OU id too long", func(d *Directory) { d.OUs[0].ID = strings.Repeat("x", MaxIDLength+1) }, "ous[1].id"},
		{"user UPN invalid", func(d *Directory) { d.Users[0].UPN = "anna" }, "users[0].upn"},
		{"user UPN duplicate ignoring case", func(d *Directory) {
			d.Users = append(d.Users, User{UPN: "Anna@Contoso.com", OU: "a"})
		}, "users[1].upn"},
		{"user OU unknown", func(d *Directory) { d.Users[0].OU = "zz" }, "users[0].ou"},
		{"user role unknown", func(d *Directory) { d.Users[0].Roles = []Role{"Boss"} }, "users[0].roles[0]"},
		{"service id duplicate", func(d *Directory) {
			d.Services = append(d.Services, Service{ID: "s1", UPN: "other@contoso.com", OU: "a"})
		}, "services[1].id"},
		{"service UPN duplicate", func(d *Directory) {
			d.Services = append(d.Services, Service{ID: "s2", UPN: "SALES@contoso.com", OU: "a"})
		}, "services[1].upn"},
		{"service license unknown", func(d *Directory) { d.Services[0].License = "Gold" }, "services[0].license"},
		{"service license empty means None", func(d *Directory) { d.Services[0].License = "" }, ""},
		{"service owner unknown", func(d *Directory) { d.Services[0].Owners = []string{"ghost@contoso.com"} }, "services[0].owners[0]"},
		{"service limited owner unknown", func(d *Directory) { d.Services[0].LimitedOwners = []string{"ghost@contoso.com"} }, "services[0].limitedOwners[0]"},
		{"service telNumber not E.164", func(d *Directory) { d.Services[0].TelNumber = "044 123" }, "services[0].telNumber"},
		{"service modality unknown", func(d *Directory) { d.Services[0].Modalities = []Modality{"Fax"} }, "services[0].modalities[0]"},
		{"service name too long", func(d *Directory) { d.Services[0].Name = strings.Repeat("n", MaxNameLength+1) }, "services[0].name"},
		{"address book without name", func(d *Directory) { d.AddressBooks[0].Name = " " }, "addressBooks[0].name"},
		{"address book duplicate", func(d *Directory) {
			d.AddressBooks = append(d.AddressBooks, AddressBook{ID: "b1", Name: "x", OU: "a"})
		}, "addressBooks[1].id"},
		{"address book OU unknown", func(d *Directory) { d.AddressBooks[0].OU = "q" }, "addressBooks[0].ou"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDirectory()
			tt.edit(&d)
			err := d.Validate()
			if tt.target == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindInvalid {
				t.Fatalf("got %v, want InvalidArgument", err)
			}
			if e.Target != tt.target {
				t.Errorf("target: got %q, want %q (%s)", e.Target, tt.target, e.Message)
			}
		})
	}
}

func TestIndexKeepsItsOwnCopy(t *testing.T) {
	d := validDirectory()
	x, err := NewIndex(d)
	if err != nil {
		t.Fatal(err)
	}
	d.Services[0].Owners[0] = "mallory@contoso.com"
	s, _ := x.ServiceByUPN("Sales@Contoso.com")
	if s.Owners[0] != "ANNA@contoso.com" {
		t.Errorf("index changed with its input: owners %v", s.Owners)
	}
	if got := len(x.Directory().OUs); got != 2 {
		t.Errorf("export OUs: got %d, want 2 (root made explicit)", got)
	}
}
