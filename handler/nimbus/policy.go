package nimbus

// Group is a group of connector operations that share one row of the role matrix (SPEC 2.2).
type Group int

const (
	// GroupConversations: task trigger, Update task, external tasks, virtual assistant.
	GroupConversations Group = iota + 1
	// GroupAddressBooks: list books, get/add/update/remove/clear contacts.
	GroupAddressBooks
	// GroupOutboundManage: scheduler-entry trigger, get/update/remove entries.
	GroupOutboundManage
	// GroupOutboundSchedule: schedule a new outbound call and its dropdowns.
	GroupOutboundSchedule
	// GroupStaticLists: events, modalities, directions, priorities.
	GroupStaticLists
	// GroupTestConnection: the connector's test connection.
	GroupTestConnection
	// GroupOpeningHours: the opening-hours check and its services dropdown.
	GroupOpeningHours
)

// Groups lists every operation group.
var Groups = []Group{GroupConversations, GroupAddressBooks, GroupOutboundManage, GroupOutboundSchedule, GroupStaticLists, GroupTestConnection, GroupOpeningHours}

func (g Group) String() string {
	switch g {
	case GroupConversations:
		return "conversations"
	case GroupAddressBooks:
		return "address books"
	case GroupOutboundManage:
		return "outbound scheduler"
	case GroupOutboundSchedule:
		return "scheduling outbound calls"
	case GroupStaticLists:
		return "static lists"
	case GroupTestConnection:
		return "test connection"
	case GroupOpeningHours:
		return "the opening-hours check"
	}
	return "unknown"
}

// Access is what one directory user may do. It is derived from the directory at call time,
// so a change of roles, ownership or OU placement takes effect on the next call.
type Access struct {
	x    *Index
	User *User
	// ou is where the user's reach starts: the root for a tenant admin, else their OU.
	ou string
}

// Access returns the access of the user with that UPN, or KindForbidden when the UPN is not
// a user of the directory ("no Nimbus role").
func (x *Index) Access(upn string) (*Access, error) {
	u, ok := x.User(upn)
	if !ok {
		return nil, Forbidden("You have no Nimbus role in this tenant. Ask a tenant admin to add your account to Nimbus.")
	}
	ou := u.OU
	if u.HasRole(RoleTenantAdmin) {
		// A tenant admin is placed at the root and so sees everything in the tenant.
		ou = x.TenantID()
	}
	return &Access{x: x, User: u, ou: ou}, nil
}

// CanRead applies the OU rule for reading: the entity is in the user's OU, up the path to
// the root, or below.
func (a *Access) CanRead(entityOU string) bool {
	return a.x.Relation(a.ou, entityOU) != RelationUnrelated
}

// CanWrite applies the OU rule for writing and managing: the entity is in the user's OU or
// below it.
func (a *Access) CanWrite(entityOU string) bool {
	switch a.x.Relation(a.ou, entityOU) {
	case RelationSame, RelationDescendant:
		return true
	}
	return false
}

// owner reports whether the user owns svc, or any service when svc is nil.
func (a *Access) owner(svc *Service) bool {
	if svc == nil {
		return len(a.x.owns[FoldUPN(a.User.UPN)]) > 0
	}
	return containsFold(svc.Owners, a.User.UPN)
}

// limitedOwner reports whether the user is a limited owner of svc, or of any service when
// svc is nil.
func (a *Access) limitedOwner(svc *Service) bool {
	if svc == nil {
		return len(a.x.limited[FoldUPN(a.User.UPN)]) > 0
	}
	return containsFold(svc.LimitedOwners, a.User.UPN)
}

func containsFold(upns []string, upn string) bool {
	want := FoldUPN(upn)
	for _, u := range upns {
		if FoldUPN(u) == want {
			return true
		}
	}
	return false
}

// Allows reports whether the role matrix lets the user execute operations of group g. For
// the service-scoped groups, svc is the service the operation names; nil asks whether the
// user may use the group for at least one service (dropdowns, test connection). Allows does
// not apply the OU rule or licensing: callers check visibility with CanRead first, so that an
// invisible service answers like a missing one.
func (a *Access) Allows(g Group, svc *Service) bool {
	u := a.User
	if u.HasRole(RoleTenantAdmin) {
		return true
	}
	switch g {
	case GroupConversations, GroupOutboundManage:
		return a.owner(svc)
	case GroupOutboundSchedule, GroupOpeningHours:
		return a.owner(svc) || a.limitedOwner(svc)
	case GroupAddressBooks:
		return u.HasRole(RoleOUAdmin)
	case GroupStaticLists:
		return u.HasRole(RoleOUAdmin) || a.owner(nil) || a.limitedOwner(nil)
	case GroupTestConnection:
		return u.HasRole(RoleOUAdmin) || u.HasRole(RolePartnerAdmin) || a.owner(nil) || a.limitedOwner(nil)
	}
	return false
}

// Roles returns the user's roles plus the ownership kinds they hold, for TestConnection.
func (a *Access) Roles() []string {
	out := make([]string, 0, len(a.User.Roles)+2)
	for _, r := range a.User.Roles {
		out = append(out, string(r))
	}
	if a.owner(nil) {
		out = append(out, "ServiceOwner")
	}
	if a.limitedOwner(nil) {
		out = append(out, "TeamOwnerLimited")
	}
	return out
}

// CheckService decides whether the user may run an operation of group g naming svc, in the
// order a caller should learn about problems: no right to the group at all (KindForbidden);
// the service is outside what the user may read (KindNotFound, exactly like a missing
// service); no right to this service (KindForbidden); the service's license does not admit
// the connector (KindInvalid).
func (a *Access) CheckService(g Group, svc *Service) error {
	if !a.Allows(g, nil) {
		return Forbidden("Your Nimbus role does not allow %s.", g)
	}
	if !a.CanRead(svc.OU) {
		return NotFound("Service %q was not found.", svc.UPN)
	}
	if !a.Allows(g, svc) {
		return Forbidden("Your Nimbus role does not allow %s for service %q: you must be a tenant admin or an owner of the service.", g, svc.UPN)
	}
	if !svc.License.Routable() {
		return Invalid("", "Service %q is licensed %s; the connector needs EnterpriseRouting or ContactCenter.", svc.UPN, svc.License)
	}
	return nil
}

// CheckAddressBook decides whether the user may read (write=false) or change (write=true)
// the contacts of book: no right to address books (KindForbidden); the book is outside what
// the user may read (KindNotFound); a write to a book up the path (KindForbidden).
func (a *Access) CheckAddressBook(book *AddressBook, write bool) error {
	if !a.Allows(GroupAddressBooks, nil) {
		return Forbidden("Your Nimbus role does not allow %s: you must be a tenant admin or an OU admin.", GroupAddressBooks)
	}
	if !a.CanRead(book.OU) {
		return NotFound("Address book %q was not found.", book.ID)
	}
	if write && !a.CanWrite(book.OU) {
		return Forbidden("Address book %q belongs to an organization unit above yours; you may read it but not change it.", book.ID)
	}
	return nil
}
