package app

import (
	"context"
	"slices"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// triggerGroup is the operation group a subscription's owner needs on its services to keep
// receiving its notifications (SPEC 2.2): the group that allowed creating the trigger.
func triggerGroup(kind nimbus.SubscriptionKind) nimbus.Group {
	if kind == nimbus.KindSchedulerEntry {
		return nimbus.GroupOutboundManage
	}
	return nimbus.GroupConversations
}

// ownerMayUse reports whether the subscription's owner may still use the service for its
// trigger: still a directory user, with the role or ownership, within the OU rule, and the
// service still licensed.
func ownerMayUse(x *nimbus.Index, sub *nimbus.Subscription, svc *nimbus.Service) bool {
	acc, err := x.Access(sub.OwnerUPN)
	return err == nil && acc.CheckService(triggerGroup(sub.Kind), svc) == nil
}

// AccessCheck is the outcome of re-checking a subscription owner's access before a delivery.
type AccessCheck struct {
	Deliver bool   // the notification may go out
	Reason  string // why the owner lost access; "" when they have it
}

// RecheckOwner re-checks, before an attempt, that the subscription's owner may still use
// the service of the event (SPEC 2.5) and keeps the subscription's status in step: a
// subscription suspended for lost access becomes active again once access is back; without
// access, under the tenant's enforce policy (the default) the delivery is withheld and the
// subscription suspended with the reason, while under the legacy policy it is delivered and
// the subscription is active (the admin API lists it as orphaned). serviceID "" (a
// delivery that does not say) passes when the owner may use any of the subscription's
// services.
func (s *Subscriptions) RecheckOwner(ctx context.Context, x *nimbus.Index, sub *nimbus.Subscription, serviceID string) (AccessCheck, error) {
	reason := ""
	if serviceID == "" {
		if !slices.ContainsFunc(sub.ServiceIDs, func(id string) bool {
			svc, ok := x.Service(id)
			return ok && ownerMayUse(x, sub, svc)
		}) {
			reason = "The owner no longer has access to any service of this trigger."
		}
	} else if svc, ok := x.Service(serviceID); !ok {
		reason = "The service of this notification is no longer in the directory."
	} else if !ownerMayUse(x, sub, svc) {
		reason = "The owner no longer has access to service " + svc.UPN + "."
	}
	if reason == "" || x.Settings().RevokedAccess == nimbus.RevokedLegacy {
		// Delivering: a subscription suspended earlier (access lost under enforce) is active
		// again, also when the tenant has since chosen the legacy policy.
		if sub.Status == nimbus.StatusSuspended {
			if err := s.SetStatus(ctx, sub.TenantID, sub.ID, nimbus.StatusActive, "", sub.NotFoundStreak); err != nil {
				return AccessCheck{}, err
			}
		}
		return AccessCheck{Deliver: true, Reason: reason}, nil
	}
	if sub.Status != nimbus.StatusSuspended || sub.StatusReason != reason {
		if err := s.SetStatus(ctx, sub.TenantID, sub.ID, nimbus.StatusSuspended, reason, sub.NotFoundStreak); err != nil {
			return AccessCheck{}, err
		}
	}
	return AccessCheck{Reason: reason}, nil
}
