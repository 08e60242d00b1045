package app

import "github.com/nimbusflow/connector/handler/nimbus"

// DemoTenantID is the tenant seeded in standalone dev mode.
const DemoTenantID = "3c9d4b7e-2a61-4f0e-9b8d-5e7a1c2f4d60"

// DevOperatorTenantID is the operator tenant of dev auth: with no NIMBUS_APP_TENANTS, dev app
// tokens of this tenant are trusted as Nimbus core and as the operator of every tenant. It
// has no directory of its own.
const DevOperatorTenantID = "0a7e1d5c-9b3f-4c28-8e61-d2f04b9a7c15"

// DemoInfo tells scripts and tests who is who in the demo tenant (GET /dev/demo).
type DemoInfo struct {
	TenantID string `json:"tenantId"`
	// OperatorTenantID is the tenant whose dev app tokens play Nimbus core and the operator.
	OperatorTenantID string               `json:"operatorTenantId"`
	Users            DemoUsers            `json:"users"`
	Services         DemoServices         `json:"services"`
	AddressBooks     []nimbus.AddressBook `json:"addressBooks"`
}

// DemoUsers names one user of each role and ownership kind.
type DemoUsers struct {
	TenantAdmin      string `json:"tenantAdmin"`
	OUAdmin          string `json:"ouAdmin"`
	ServiceOwner     string `json:"serviceOwner"`
	TeamOwnerLimited string `json:"teamOwnerLimited"`
	PartnerAdmin     string `json:"partnerAdmin"`
	Supervisor       string `json:"supervisor"`
	User             string `json:"user"`
}

// DemoServices names one service of each license, and one whose workflow is invalid.
type DemoServices struct {
	ContactCenter     string `json:"contactCenter"`
	EnterpriseRouting string `json:"enterpriseRouting"`
	AdvancedRouting   string `json:"advancedRouting"`
	InvalidWorkflow   string `json:"invalidWorkflow"`
}

// Demo returns the demo tenant: the root OU with two child OUs (Sales, Support); a
// ContactCenter service with outbound, external tasks and the virtual assistant; an
// EnterpriseRouting service; an AdvancedRouting service; a ContactCenter service whose
// workflow is invalid; a user of each role and ownership kind; an address book per child OU.
// The ContactCenter and EnterpriseRouting services have opening hours (demoHotlineCalendar,
// demoSalesCalendar); the others have none.
func Demo() (nimbus.Directory, DemoInfo) {
	const root, sales, support = DemoTenantID, "ou-sales", "ou-support"
	users := DemoUsers{
		TenantAdmin: "admin@contoso.com", OUAdmin: "ouadmin@contoso.com", ServiceOwner: "owner@contoso.com",
		TeamOwnerLimited: "limited@contoso.com", PartnerAdmin: "partner@contoso.com",
		Supervisor: "supervisor@contoso.com", User: "user@contoso.com",
	}
	services := DemoServices{
		ContactCenter: "contactcenter@contoso.com", EnterpriseRouting: "sales@contoso.com",
		AdvancedRouting: "reception@contoso.com", InvalidWorkflow: "backoffice@contoso.com",
	}
	books := []nimbus.AddressBook{
		{ID: "sales-partners", Name: "Sales partners", OU: sales},
		{ID: "support-vendors", Name: "Support vendors", OU: support},
	}
	all := []nimbus.Modality{nimbus.ModalityAudio, nimbus.ModalityInstantMessaging, nimbus.ModalityEmail, nimbus.ModalityExternalTask}
	d := nimbus.Directory{
		TenantID: DemoTenantID,
		OUs: []nimbus.OU{
			{ID: root, Name: "Contoso"},
			{ID: sales, Name: "Sales", Parent: root},
			{ID: support, Name: "Support", Parent: root},
		},
		Services: []nimbus.Service{
			{ID: "svc-contactcenter", UPN: services.ContactCenter, Name: "Contact Center", DisplayName: "Contoso Contact Center",
				Description: "Customer hotline with outbound calls, external tasks and the virtual assistant.", TelNumber: "+41445550100",
				OU: sales, License: nimbus.LicenseContactCenter, WorkflowValid: true, Modalities: all,
				OutboundEnabled: true, OutboundWithWorkflowEnabled: true, VirtualAssistantEnabled: true,
				Owners: []string{users.ServiceOwner}, LimitedOwners: []string{users.TeamOwnerLimited},
				Calendar: demoHotlineCalendar()},
			{ID: "svc-sales", UPN: services.EnterpriseRouting, Name: "Sales", DisplayName: "Contoso Sales", TelNumber: "+41445550200",
				OU: sales, License: nimbus.LicenseEnterpriseRouting, WorkflowValid: true,
				Modalities: []nimbus.Modality{nimbus.ModalityAudio, nimbus.ModalityInstantMessaging}, Owners: []string{users.ServiceOwner},
				Calendar: demoSalesCalendar()},
			{ID: "svc-reception", UPN: services.AdvancedRouting, Name: "Reception", TelNumber: "+41445550300",
				OU: root, License: nimbus.LicenseAdvancedRouting, WorkflowValid: true, Modalities: []nimbus.Modality{nimbus.ModalityAudio}},
			{ID: "svc-backoffice", UPN: services.InvalidWorkflow, Name: "Back office",
				OU: support, License: nimbus.LicenseContactCenter, WorkflowValid: false, Modalities: all},
		},
		Users: []nimbus.User{
			{UPN: users.TenantAdmin, OU: root, Roles: []nimbus.Role{nimbus.RoleTenantAdmin}},
			{UPN: users.OUAdmin, OU: sales, Roles: []nimbus.Role{nimbus.RoleOUAdmin}},
			{UPN: users.ServiceOwner, OU: sales, Roles: []nimbus.Role{nimbus.RoleUser}},
			{UPN: users.TeamOwnerLimited, OU: sales, Roles: []nimbus.Role{nimbus.RoleUser}},
			{UPN: users.PartnerAdmin, OU: root, Roles: []nimbus.Role{nimbus.RolePartnerAdmin}},
			{UPN: users.Supervisor, OU: support, Roles: []nimbus.Role{nimbus.RoleSupervisor}},
			{UPN: users.User, OU: support, Roles: []nimbus.Role{nimbus.RoleUser}},
		},
		AddressBooks: books,
	}
	return d, DemoInfo{TenantID: DemoTenantID, OperatorTenantID: DevOperatorTenantID, Users: users, Services: services, AddressBooks: books}
}
