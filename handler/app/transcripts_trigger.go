package app

import (
	"context"
	"fmt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// RegisterVirtualAssistantTrigger creates the caller's virtual-assistant trigger ("When the
// virtual task assistant has an update"), or updates the services of the one with the same
// owner and callback URL. Every service must be usable for conversations by the caller (as
// for task triggers) and have the virtual assistant enabled (400 naming it otherwise).
func (s *Subscriptions) RegisterVirtualAssistantTrigger(ctx context.Context, caller nimbus.Caller, cfg nimbus.VirtualAssistantTriggerConfig) (nimbus.Subscription, error) {
	if err := cfg.Validate(); err != nil {
		return nimbus.Subscription{}, err
	}
	x, acc, ids, upns, err := s.conversationTrigger(ctx, caller, cfg.Config.URL, cfg.Config.Services)
	if err != nil {
		return nimbus.Subscription{}, err
	}
	for i, upn := range cfg.Config.Services {
		if svc, ok := x.ServiceByUPN(upn); ok && !svc.VirtualAssistantEnabled {
			target := fmt.Sprintf("config.services[%d]", i)
			return nimbus.Subscription{}, nimbus.Invalid(target, "Service %q does not have the virtual assistant enabled, so it has no transcripts to report.", svc.UPN)
		}
	}
	sub := nimbus.Subscription{
		ID: subscriptionID(x.TenantID(), nimbus.KindVirtualAssistant, acc.User.UPN, cfg.Config.URL), TenantID: x.TenantID(),
		Kind: nimbus.KindVirtualAssistant, OwnerUPN: acc.User.UPN, CallbackURL: cfg.Config.URL,
		ServiceIDs: ids, ServiceUPNs: upns, Events: []string{nimbus.EventVoiceTranscriptionReady},
		Status: nimbus.StatusActive,
	}
	return s.upsert(ctx, sub)
}
