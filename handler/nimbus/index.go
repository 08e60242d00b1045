package nimbus

// Index is a validated, read-only view of one tenant's directory with the lookups the use
// cases need. It is immutable after NewIndex and safe for concurrent use; a new import builds
// a new Index.
type Index struct {
	dir      Directory
	parent   map[string]string
	services map[string]*Service // by id
	byUPN    map[string]*Service // by folded UPN
	users    map[string]*User    // by folded UPN
	books    map[string]*AddressBook
	owns     map[string][]*Service // folded user UPN → services they own
	limited  map[string][]*Service // folded user UPN → services they are a limited owner of
}

// NewIndex validates d and indexes it. The Index keeps its own copy of the directory.
func NewIndex(d Directory) (*Index, error) {
	d = d.clone()
	if err := d.Validate(); err != nil {
		return nil, err
	}
	x := &Index{
		dir:      d,
		parent:   make(map[string]string, len(d.OUs)),
		services: make(map[string]*Service, len(d.Services)),
		byUPN:    make(map[string]*Service, len(d.Services)),
		users:    make(map[string]*User, len(d.Users)),
		books:    make(map[string]*AddressBook, len(d.AddressBooks)),
		owns:     make(map[string][]*Service),
		limited:  make(map[string][]*Service),
	}
	for _, ou := range x.dir.OUs {
		x.parent[ou.ID] = ou.Parent
	}
	for i := range x.dir.Users {
		u := &x.dir.Users[i]
		x.users[FoldUPN(u.UPN)] = u
	}
	for i := range x.dir.Services {
		s := &x.dir.Services[i]
		x.services[s.ID] = s
		x.byUPN[FoldUPN(s.UPN)] = s
		for _, o := range s.Owners {
			x.owns[FoldUPN(o)] = append(x.owns[FoldUPN(o)], s)
		}
		for _, o := range s.LimitedOwners {
			x.limited[FoldUPN(o)] = append(x.limited[FoldUPN(o)], s)
		}
	}
	for i := range x.dir.AddressBooks {
		b := &x.dir.AddressBooks[i]
		x.books[b.ID] = b
	}
	return x, nil
}

func (d Directory) clone() Directory {
	c := d
	c.OUs = append([]OU(nil), d.OUs...)
	c.Users = make([]User, len(d.Users))
	for i, u := range d.Users {
		u.Roles = append([]Role(nil), u.Roles...)
		c.Users[i] = u
	}
	c.Services = make([]Service, len(d.Services))
	for i, s := range d.Services {
		s.Modalities = append([]Modality(nil), s.Modalities...)
		s.Owners = append([]string(nil), s.Owners...)
		s.LimitedOwners = append([]string(nil), s.LimitedOwners...)
		s.Calendar = s.Calendar.Clone()
		c.Services[i] = s
	}
	c.AddressBooks = append([]AddressBook(nil), d.AddressBooks...)
	return c
}

// TenantID returns the tenant the directory belongs to.
func (x *Index) TenantID() string { return x.dir.TenantID }

// Directory returns a copy of the validated directory (with the root OU made explicit).
func (x *Index) Directory() Directory { return x.dir.clone() }

// User returns the user with that UPN (case-insensitive).
func (x *Index) User(upn string) (*User, bool) {
	u, ok := x.users[FoldUPN(upn)]
	return u, ok
}

// Service returns the service with that id.
func (x *Index) Service(id string) (*Service, bool) {
	s, ok := x.services[id]
	return s, ok
}

// ServiceByUPN returns the service with that UPN (case-insensitive).
func (x *Index) ServiceByUPN(upn string) (*Service, bool) {
	s, ok := x.byUPN[FoldUPN(upn)]
	return s, ok
}

// Services returns the services in directory order. Callers must not modify them.
func (x *Index) Services() []Service { return x.dir.Services }

// Users returns the users in directory order. Callers must not modify them.
func (x *Index) Users() []User { return x.dir.Users }

// AddressBook returns the address book with that id.
func (x *Index) AddressBook(id string) (*AddressBook, bool) {
	b, ok := x.books[id]
	return b, ok
}

// AddressBooks returns the address books in directory order. Callers must not modify them.
func (x *Index) AddressBooks() []AddressBook { return x.dir.AddressBooks }

// Licensed reports whether the tenant may use the connector at all: at least one service is
// licensed EnterpriseRouting or ContactCenter (SPEC 2.4).
func (x *Index) Licensed() bool {
	for _, s := range x.dir.Services {
		if s.License.Routable() {
			return true
		}
	}
	return false
}

// Relation is how an entity's OU stands to a user's OU.
type Relation int

const (
	RelationUnrelated  Relation = iota // a sibling branch, or not an OU of this tenant
	RelationSame                       // the same OU
	RelationAncestor                   // the entity is up the user's path to the root
	RelationDescendant                 // the entity is below the user's OU
)

func (r Relation) String() string {
	return [...]string{"unrelated", "same", "ancestor", "descendant"}[r]
}

// Relation returns how entityOU stands to userOU.
func (x *Index) Relation(userOU, entityOU string) Relation {
	if _, ok := x.parent[userOU]; !ok {
		return RelationUnrelated
	}
	if _, ok := x.parent[entityOU]; !ok {
		return RelationUnrelated
	}
	switch {
	case userOU == entityOU:
		return RelationSame
	case x.above(entityOU, userOU):
		return RelationAncestor
	case x.above(userOU, entityOU):
		return RelationDescendant
	}
	return RelationUnrelated
}

// above reports whether a is a strict ancestor of b. Validation guarantees the walk ends.
func (x *Index) above(a, b string) bool {
	for at := x.parent[b]; at != ""; at = x.parent[at] {
		if at == a {
			return true
		}
	}
	return false
}

// Settings returns the tenant's settings (defaults applied).
func (x *Index) Settings() TenantSettings { return x.dir.Settings }
