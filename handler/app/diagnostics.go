package app

import (
	"context"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// ConnectionInfo is the answer of the connector's test connection.
type ConnectionInfo struct {
	TenantID string   `json:"tenantId"`
	UPN      string   `json:"upn"`
	Roles    []string `json:"roles"`
}

// TestConnection checks that the caller may use the connector at all: a directory user with
// a role that admits the connector, in a tenant with at least one EnterpriseRouting or
// ContactCenter service (SPEC 2.4).
func (d *Directory) TestConnection(ctx context.Context, caller nimbus.Caller) (ConnectionInfo, error) {
	x, acc, err := d.AccessFor(ctx, caller, nimbus.GroupTestConnection)
	if err != nil {
		return ConnectionInfo{}, err
	}
	if !x.Licensed() {
		return ConnectionInfo{}, nimbus.Forbidden("Your tenant has no service licensed EnterpriseRouting or ContactCenter; the connector needs at least one.")
	}
	return ConnectionInfo{TenantID: x.TenantID(), UPN: acc.User.UPN, Roles: acc.Roles()}, nil
}
