package app

import (
	"context"
	"slices"
	"strconv"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// RegisterSchedulerEntryTrigger creates the caller's "When a scheduler entry changes state"
// trigger, or updates the filters of the one with the same owner and callback URL. Every
// service must be one the caller manages outbound calls of.
func (s *Subscriptions) RegisterSchedulerEntryTrigger(ctx context.Context, caller nimbus.Caller, cfg nimbus.SchedulerTriggerConfig) (nimbus.Subscription, error) {
	x, acc, err := s.dir.AccessFor(ctx, caller, nimbus.GroupOutboundManage)
	if err != nil {
		return nimbus.Subscription{}, err
	}
	if err := cfg.Validate(); err != nil {
		return nimbus.Subscription{}, err
	}
	var ids, upns []string
	for i, upn := range cfg.Config.Services {
		svc, err := outboundService(x, acc, nimbus.GroupOutboundManage, upn, indexedTarget("config.services", i), nimbus.ConversationOutboundCall)
		if err != nil {
			return nimbus.Subscription{}, err
		}
		if !slices.Contains(ids, svc.ID) {
			ids, upns = append(ids, svc.ID), append(upns, svc.UPN)
		}
	}
	if err := s.policy(cfg.Config.URL); err != nil {
		return nimbus.Subscription{}, err
	}
	var events []string
	for _, e := range cfg.Config.SchedulerEntryEvents {
		if !slices.Contains(events, string(e)) {
			events = append(events, string(e))
		}
	}
	sub := nimbus.Subscription{
		ID: subscriptionID(x.TenantID(), nimbus.KindSchedulerEntry, acc.User.UPN, cfg.Config.URL), TenantID: x.TenantID(),
		Kind: nimbus.KindSchedulerEntry, OwnerUPN: acc.User.UPN, CallbackURL: cfg.Config.URL,
		ServiceIDs: ids, ServiceUPNs: upns, Events: events, Status: nimbus.StatusActive,
	}
	return s.upsert(ctx, sub)
}

func indexedTarget(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }
