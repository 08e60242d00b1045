// Package nimbus is the vocabulary of the connector: domain types (tenants, organization
// units, services, users, address books, contacts), their validation and limits, the access
// policy (roles × operation groups, the OU rule, licensing), the error kinds, and the small
// interfaces the use cases need from storage.
//
// It must not import the Azure SDK, net/http or any adapter: everything here is pure and
// testable without I/O. A test in this package enforces that.
package nimbus
