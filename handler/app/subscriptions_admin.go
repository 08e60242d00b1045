package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// SubscriptionView is a subscription as the admin API shows it: the callback URL masked to
// scheme and host, and whether its owner lost access (orphaned).
type SubscriptionView struct {
	ID           string                    `json:"id"`
	TenantID     string                    `json:"tenantId"`
	Kind         nimbus.SubscriptionKind   `json:"kind"`
	Owner        string                    `json:"owner"`
	Callback     string                    `json:"callback"`
	Services     []string                  `json:"services"`
	Events       []string                  `json:"events"`
	Modalities   []nimbus.Modality         `json:"modalities,omitempty"`
	Directions   []nimbus.Direction        `json:"directions,omitempty"`
	Status       nimbus.SubscriptionStatus `json:"status"`
	StatusReason string                    `json:"statusReason,omitempty"`
	Orphaned     bool                      `json:"orphaned"`
	Created      time.Time                 `json:"created"`
	Updated      time.Time                 `json:"updated"`
}

// SubscriptionStatuses are the filters of GET /admin/v1/subscriptions.
var SubscriptionStatuses = []string{"active", "suspended", "dead", "orphaned"}

// List returns the tenant's subscriptions with the given status ("" for all); "orphaned"
// lists those whose owner lost access to one of their services, whatever their status.
func (s *Subscriptions) List(ctx context.Context, caller nimbus.Caller, tenantID, status string) ([]SubscriptionView, error) {
	if status != "" && !slices.Contains(SubscriptionStatuses, status) {
		return nil, nimbus.Invalid("status", "status must be one of %v", SubscriptionStatuses)
	}
	if err := s.dir.authorizeAdmin(ctx, caller, tenantID); err != nil {
		return nil, err
	}
	x, err := s.dir.Index(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []SubscriptionView{}
	err = eachRecord(ctx, s.table, tenantID, "", func(_ nimbus.Entity, sub nimbus.Subscription) error {
		v := view(x, &sub)
		if status == "" || status == "orphaned" && v.Orphaned || status == string(sub.Status) {
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

func view(x *nimbus.Index, sub *nimbus.Subscription) SubscriptionView {
	orphaned := false
	for _, id := range sub.ServiceIDs {
		svc, ok := x.Service(id)
		if !ok || !ownerMayUse(x, sub, svc) {
			orphaned = true
		}
	}
	return SubscriptionView{
		ID: sub.ID, TenantID: sub.TenantID, Kind: sub.Kind, Owner: sub.OwnerUPN, Callback: sub.MaskedCallback(),
		Services: sub.ServiceUPNs, Events: sub.Events, Modalities: sub.Modalities, Directions: sub.Directions,
		Status: sub.Status, StatusReason: sub.StatusReason, Orphaned: orphaned, Created: sub.Created, Updated: sub.Updated,
	}
}
