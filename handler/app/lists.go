package app

import (
	"context"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// ConversationServices is GetServices: the UPNs of services the caller may use for
// conversations (task triggers, Update task): visible, owned (any, for a tenant admin),
// licensed EnterpriseRouting or ContactCenter, with a valid workflow.
func (d *Directory) ConversationServices(ctx context.Context, caller nimbus.Caller) ([]string, error) {
	x, acc, err := d.AccessFor(ctx, caller, nimbus.GroupConversations)
	if err != nil {
		return nil, err
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

// List returns a static dropdown (events, modalities, directions, priorities) after checking
// that the role matrix admits the caller to the operation group the list belongs to.
func (d *Directory) List(ctx context.Context, caller nimbus.Caller, g nimbus.Group, list []nimbus.NameValue) ([]nimbus.NameValue, error) {
	if _, _, err := d.AccessFor(ctx, caller, g); err != nil {
		return nil, err
	}
	return list, nil
}

// ExternalTaskServices is GetExternalTasksServices: the conversation services that take
// external tasks (ContactCenter with the ExternalTask modality).
func (d *Directory) ExternalTaskServices(ctx context.Context, caller nimbus.Caller) ([]string, error) {
	upns, err := d.ConversationServices(ctx, caller)
	if err != nil {
		return nil, err
	}
	x, _ := d.Index(ctx, caller.TenantID)
	out := []string{}
	for _, upn := range upns {
		if svc, ok := x.ServiceByUPN(upn); ok && svc.License == nimbus.LicenseContactCenter && svc.HasModality(nimbus.ModalityExternalTask) {
			out = append(out, upn)
		}
	}
	return out, nil
}

// PreferredRoutingUsers is GetUsersForPreferredRouting: the UPNs of users the caller may read.
func (d *Directory) PreferredRoutingUsers(ctx context.Context, caller nimbus.Caller) ([]string, error) {
	x, acc, err := d.AccessFor(ctx, caller, nimbus.GroupConversations)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, u := range x.Users() {
		if acc.CanRead(u.OU) {
			out = append(out, u.UPN)
		}
	}
	return out, nil
}
