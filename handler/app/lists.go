package app

import (
	"context"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// ConversationServices is GetServices: the UPNs of services the caller may use for
// conversations (task triggers, Update task): visible, owned (any, for a tenant admin),
// licensed EnterpriseRouting or ContactCenter, with a valid workflow.
func (d *Directory) ConversationServices(ctx context.Context, caller nimbus.Caller) ([]string, error) {
	x, acc, err := d.Access(ctx, caller)
	if err != nil {
		return nil, err
	}
	if !acc.Allows(nimbus.GroupConversations, nil) {
		return nil, nimbus.Forbidden("Your Nimbus role does not allow conversations: you must be a tenant admin or a service owner.")
	}
	out := []string{}
	for i := range x.Services() {
		svc := &x.Services()[i]
		if svc.WorkflowValid && acc.CheckService(nimbus.GroupConversations, svc) == nil {
			out = append(out, svc.UPN)
		}
	}
	return out, nil
}

// StaticList returns one of the static dropdowns (events, modalities, directions) after
// checking that the caller may use the connector's lists at all.
func (d *Directory) StaticList(ctx context.Context, caller nimbus.Caller, list []nimbus.NameValue) ([]nimbus.NameValue, error) {
	_, acc, err := d.Access(ctx, caller)
	if err != nil {
		return nil, err
	}
	if !acc.Allows(nimbus.GroupStaticLists, nil) {
		return nil, nimbus.Forbidden("Your Nimbus role does not allow using the connector's lists.")
	}
	return list, nil
}
