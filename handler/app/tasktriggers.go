package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// RegisterTaskTrigger creates the caller's task trigger, or updates the filters of the one
// with the same owner and callback URL (Power Automate subscribes again on every save). It
// reports whether the subscription is new.
func (s *Subscriptions) RegisterTaskTrigger(ctx context.Context, caller nimbus.Caller, cfg nimbus.TaskTriggerConfig) (nimbus.Subscription, error) {
	if err := cfg.Validate(); err != nil {
		return nimbus.Subscription{}, err
	}
	x, acc, ids, upns, err := s.conversationTrigger(ctx, caller, cfg.Config.URL, cfg.Config.Services)
	if err != nil {
		return nimbus.Subscription{}, err
	}
	events := make([]string, len(cfg.Config.TaskEvents))
	for i, e := range cfg.Config.TaskEvents {
		events[i] = string(e)
	}
	sub := nimbus.Subscription{
		ID: subscriptionID(x.TenantID(), nimbus.KindTask, acc.User.UPN, cfg.Config.URL), TenantID: x.TenantID(),
		Kind: nimbus.KindTask, OwnerUPN: acc.User.UPN, CallbackURL: cfg.Config.URL,
		ServiceIDs: ids, ServiceUPNs: upns, Events: events,
		Modalities: cfg.Config.Modalities, Directions: cfg.Config.Directions,
		Status: nimbus.StatusActive,
	}
	return s.upsert(ctx, sub)
}

// conversationTrigger is what registering a trigger on conversations (tasks, the virtual
// assistant) checks first: the caller's conversations rights, that every named service is one
// the caller may use (ids and canonical UPNs, without repeats), and the callback URL policy.
func (s *Subscriptions) conversationTrigger(ctx context.Context, caller nimbus.Caller, url string, services []string) (*nimbus.Index, *nimbus.Access, []string, []string, error) {
	x, acc, err := s.dir.AccessFor(ctx, caller, nimbus.GroupConversations)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ids, upns, err := conversationServices(x, acc, services, "config.services")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := s.policy(url); err != nil {
		return nil, nil, nil, nil, err
	}
	return x, acc, ids, upns, nil
}

// upsert stores sub, keeping the creation time of an existing subscription with that id.
func (s *Subscriptions) upsert(ctx context.Context, sub nimbus.Subscription) (nimbus.Subscription, error) {
	now := s.now().UTC()
	sub.Created, sub.Updated = now, now
	var dropped []string
	old, err := s.Get(ctx, sub.TenantID, sub.ID)
	switch {
	case err == nil:
		sub.Created = old.Created
		for _, id := range old.ServiceIDs {
			if !slices.Contains(sub.ServiceIDs, id) {
				dropped = append(dropped, id)
			}
		}
	case !errors.Is(err, nimbus.ErrNotFound):
		return nimbus.Subscription{}, err
	}
	if err := s.save(ctx, sub, dropped); err != nil {
		return nimbus.Subscription{}, err
	}
	return sub, nil
}

// conversationServices resolves service UPNs the caller names for a conversations operation
// (see conversationService), without repeats.
func conversationServices(x *nimbus.Index, acc *nimbus.Access, upns []string, target string) ([]string, []string, error) {
	var ids, names []string
	for i, upn := range upns {
		svc, err := conversationService(x, acc, upn, fmt.Sprintf("%s[%d]", target, i))
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(ids, svc.ID) {
			ids, names = append(ids, svc.ID), append(names, svc.UPN)
		}
	}
	return ids, names, nil
}

// conversationService resolves a service the caller names (field target) for a conversations
// operation: it must be visible and usable for the caller (403 naming it otherwise, the same
// answer for a service that does not exist), licensed and with a valid workflow (400).
func conversationService(x *nimbus.Index, acc *nimbus.Access, upn, target string) (*nimbus.Service, error) {
	unavailable := &nimbus.Error{Kind: nimbus.KindForbidden, Target: target, Message: fmt.Sprintf("Service %q does not exist or is not available to you.", upn)}
	svc, ok := x.ServiceByUPN(upn)
	if !ok {
		return nil, unavailable
	}
	var e *nimbus.Error
	if errors.As(acc.CheckService(nimbus.GroupConversations, svc), &e) {
		if e.Kind == nimbus.KindInvalid {
			return nil, nimbus.Invalid(target, "%s", e.Message)
		}
		return nil, unavailable
	}
	if !svc.WorkflowValid {
		return nil, nimbus.Invalid(target, "Service %q has no valid workflow, so it raises no task events; fix its workflow in Nimbus first.", svc.UPN)
	}
	return svc, nil
}

// Delete removes the caller's subscription of that kind. A subscription that is gone, of
// another tenant or of another kind counts as gone; one of another user of the tenant may be
// removed only by a tenant admin.
func (s *Subscriptions) Delete(ctx context.Context, caller nimbus.Caller, kind nimbus.SubscriptionKind, id string) error {
	if caller.IsApp {
		return nimbus.Forbidden("Triggers are removed with the user connection that created them.")
	}
	if nimbus.CheckID("triggerId", id) != nil {
		return nil // no such id can exist
	}
	sub, err := s.Get(ctx, caller.TenantID, id)
	if errors.Is(err, nimbus.ErrNotFound) || err == nil && sub.Kind != kind {
		return nil
	}
	if err != nil {
		return err
	}
	if nimbus.FoldUPN(sub.OwnerUPN) != nimbus.FoldUPN(caller.UPN) {
		x, acc, err := s.dir.Access(ctx, caller)
		if err != nil {
			return err
		}
		if !acc.User.HasRole(nimbus.RoleTenantAdmin) || x.TenantID() != sub.TenantID {
			return nimbus.Forbidden("This trigger belongs to another user; only they or a tenant admin can remove it.")
		}
	}
	for _, svc := range sub.ServiceIDs {
		if err := s.index.Delete(ctx, indexKey(sub.TenantID, svc), sub.ID, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
			return fmt.Errorf("unindex subscription: %w", err)
		}
		s.invalidate(sub.TenantID, svc)
	}
	if err := s.table.Delete(ctx, sub.TenantID, sub.ID, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return fmt.Errorf("delete subscription: %w", err)
	}
	s.forget(sub.TenantID, sub.ID)
	return nil
}
