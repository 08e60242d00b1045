package app

import (
	"context"
	"fmt"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// QueueGauge is the backlog of one queue: how many messages it holds (scheduled ones
// included) and how long the oldest message that is due has been waiting.
type QueueGauge struct {
	Name             string  `json:"name"`
	Depth            int     `json:"depth"`
	OldestAgeSeconds float64 `json:"oldestAgeSeconds"`
}

// QueueGauges reports the backlog of the queues this process can see: the embedded queue
// can; with Service Bus the figures come from Azure Monitor and this is nil.
type QueueGauges func() []QueueGauge

// StatsReport answers GET /admin/v1/stats: one tenant's counters since the process started,
// its subscriptions by status, and the operator-wide queue figures.
type StatsReport struct {
	TenantID      string         `json:"tenantId"`
	Since         time.Time      `json:"since"`
	Events        EventCounts    `json:"events"`
	Deliveries    map[string]int `json:"deliveries"`
	Subscriptions map[string]int `json:"subscriptions"`
	Queues        []QueueGauge   `json:"queues"`
}

// EventCounts are the event counters of a StatsReport.
type EventCounts struct {
	Accepted int64            `json:"accepted"`
	Stale    int64            `json:"stale"`
	Dropped  map[string]int64 `json:"dropped"`
}

// StatsView serves the stats of a tenant to its admins.
type StatsView struct {
	stats  *Stats
	dir    *Directory
	subs   *Subscriptions
	queues QueueGauges
}

// NewStatsView returns the stats use case; queues may be nil.
func NewStatsView(stats *Stats, dir *Directory, subs *Subscriptions, queues QueueGauges) *StatsView {
	return &StatsView{stats: stats, dir: dir, subs: subs, queues: queues}
}

// Queues returns the queue figures (none when they cannot be read here).
func (v *StatsView) Queues() []QueueGauge {
	if v.queues == nil {
		return []QueueGauge{}
	}
	return v.queues()
}

// Report returns the tenant's stats; the caller must be an admin of it.
func (v *StatsView) Report(ctx context.Context, caller nimbus.Caller, tenant string) (StatsReport, error) {
	if err := v.dir.authorizeAdmin(ctx, caller, tenant); err != nil {
		return StatsReport{}, err
	}
	c := v.stats.Tenant(tenant)
	subs, err := v.subs.CountByStatus(ctx, tenant)
	if err != nil {
		return StatsReport{}, err
	}
	out := StatsReport{
		TenantID: tenant, Since: v.stats.Since(),
		Events:        EventCounts{Accepted: c.Accepted, Stale: c.Stale, Dropped: c.Dropped},
		Deliveries:    map[string]int{},
		Subscriptions: subs,
		Queues:        v.Queues(),
	}
	for _, o := range DeliveryOutcomes {
		out.Deliveries[o] = int(c.Deliveries[o])
	}
	return out, nil
}

// SubscriptionStatusesCounted are the statuses CountByStatus reports.
var SubscriptionStatusesCounted = []nimbus.SubscriptionStatus{nimbus.StatusActive, nimbus.StatusSuspended, nimbus.StatusDead}

// CountByStatus counts the tenant's subscriptions by status.
func (s *Subscriptions) CountByStatus(ctx context.Context, tenant string) (map[string]int, error) {
	out := map[string]int{}
	for _, st := range SubscriptionStatusesCounted {
		out[string(st)] = 0
	}
	err := eachRecord(ctx, s.table, tenant, "", func(_ nimbus.Entity, sub nimbus.Subscription) error {
		out[string(sub.Status)]++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count subscriptions: %w", err)
	}
	return out, nil
}

// SubscriptionTotals counts subscriptions by status over the tenants that had events or
// deliveries since the process started (the store cannot list tenants cheaply), for the
// metrics.
func (v *StatsView) SubscriptionTotals(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, st := range SubscriptionStatusesCounted {
		out[string(st)] = 0
	}
	for tenant := range v.stats.Snapshot().Tenants {
		if tenant == "" {
			continue
		}
		n, err := v.subs.CountByStatus(ctx, tenant)
		if err != nil {
			return nil, err
		}
		for k, c := range n {
			out[k] += c
		}
	}
	return out, nil
}
