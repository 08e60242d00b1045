package app

import (
	"log/slog"
	"maps"
	"sync"
	"time"
)

// Stats counts what happens to events and deliveries, per tenant, since the process started.
// It is the one source of the Prometheus metrics (handler/metrics) and of GET
// /admin/v1/stats; the methods that record a loss-like outcome also log it (SPEC 4.5).
// Counters live in memory: they restart at zero with the process, as Prometheus counters do.
// Safe for concurrent use.
type Stats struct {
	log   *slog.Logger
	since time.Time

	mu      sync.Mutex
	tenants map[string]*TenantCounts
	// attempt is the latency of one delivery attempt; ingestToDelivered is the time from
	// an event's acceptance to the 2xx of one of its deliveries.
	attempt, ingestToDelivered *Histogram
}

// Delivery outcomes, as counted by Stats and shown in the delivery log.
const (
	OutcomeDelivered        = "delivered"
	OutcomeRetried          = "retried"
	OutcomeDeadLettered     = "deadLettered"
	OutcomeWithheld         = "withheld"
	OutcomePutOff           = "putOff"
	OutcomeSubscriptionDead = "subscriptionDead"
	// OutcomeDropped is a delivery not attempted because its subscription was removed or
	// is dead, or its tenant is gone.
	OutcomeDropped = "dropped"
)

// DeliveryOutcomes lists every delivery outcome, in the order reports show them.
var DeliveryOutcomes = []string{OutcomeDelivered, OutcomeRetried, OutcomeDeadLettered, OutcomeWithheld, OutcomePutOff, OutcomeSubscriptionDead, OutcomeDropped}

// TenantCounts are the counters of one tenant ("" for events that name no readable tenant).
type TenantCounts struct {
	Accepted   int64            `json:"accepted"`
	Stale      int64            `json:"stale"`
	Dropped    map[string]int64 `json:"dropped"`    // by reason
	Deliveries map[string]int64 `json:"deliveries"` // by outcome
}

func (c *TenantCounts) clone() TenantCounts {
	return TenantCounts{Accepted: c.Accepted, Stale: c.Stale, Dropped: maps.Clone(c.Dropped), Deliveries: maps.Clone(c.Deliveries)}
}

// NewStats returns zeroed counters that log through log (nil: discard).
func NewStats(log *slog.Logger) *Stats {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stats{log: log, since: time.Now().UTC(), tenants: map[string]*TenantCounts{},
		attempt: newHistogram(AttemptLatencyBuckets), ingestToDelivered: newHistogram(IngestLatencyBuckets)}
}

// Since is when counting started (the process start).
func (s *Stats) Since() time.Time { return s.since }

// tenant returns the tenant's counters; called with s.mu held.
func (s *Stats) tenant(id string) *TenantCounts {
	c := s.tenants[id]
	if c == nil {
		c = &TenantCounts{Dropped: map[string]int64{}, Deliveries: map[string]int64{}}
		s.tenants[id] = c
	}
	return c
}

// Accepted counts n events of tenant queued by ingest.
func (s *Stats) Accepted(tenant string, n int) {
	s.mu.Lock()
	s.tenant(tenant).Accepted += int64(n)
	s.mu.Unlock()
}

// Stale counts an event that was older than what the task already showed, or a repeat, and
// logs it at warn: it is dropped (SPEC 4.5).
func (s *Stats) Stale(tenant string, attrs ...any) {
	s.mu.Lock()
	s.tenant(tenant).Stale++
	s.mu.Unlock()
	s.log.Warn("event dropped", append(append([]any{"tenant", tenant}, attrs...), "reason", "stale")...)
}

// Dropped counts an event of tenant dropped for reason (one of the Drop constants) and logs
// it at warn with attrs, which name the event, never its payload. tenant "" counts events
// whose tenant is not known (they are logged with the tenant they named).
func (s *Stats) Dropped(tenant, reason string, attrs ...any) {
	s.mu.Lock()
	s.tenant(tenant).Dropped[reason]++
	s.mu.Unlock()
	if tenant != "" {
		attrs = append([]any{"tenant", tenant}, attrs...)
	}
	s.log.Warn("event dropped", append(attrs, "reason", reason)...)
}

// Delivery counts one delivery outcome of tenant (one of DeliveryOutcomes).
func (s *Stats) Delivery(tenant, outcome string) {
	s.mu.Lock()
	s.tenant(tenant).Deliveries[outcome]++
	s.mu.Unlock()
}

// ObserveAttempt records the latency of one delivery attempt.
func (s *Stats) ObserveAttempt(d time.Duration) { s.attempt.observe(d.Seconds()) }

// ObserveDelivered records the time from an event's acceptance to a 2xx of its delivery.
func (s *Stats) ObserveDelivered(d time.Duration) { s.ingestToDelivered.observe(d.Seconds()) }

// Event drop reasons.
const (
	DropWorkflowInvalid = "workflow_invalid"
	DropUnknownService  = "unknown_service"
	DropUnknownTenant   = "unknown_tenant"
	DropTaskPurged      = "task_purged"
	DropMalformed       = "malformed"
	DropInvalid         = "invalid"
)

// StatsSnapshot is a copy of every counter.
type StatsSnapshot struct {
	Since             time.Time
	Tenants           map[string]TenantCounts
	Attempt           HistogramSnapshot
	IngestToDelivered HistogramSnapshot
}

// Snapshot returns a copy of the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	s.mu.Lock()
	out := StatsSnapshot{Since: s.since, Tenants: make(map[string]TenantCounts, len(s.tenants))}
	for id, c := range s.tenants {
		out.Tenants[id] = c.clone()
	}
	s.mu.Unlock()
	out.Attempt, out.IngestToDelivered = s.attempt.snapshot(), s.ingestToDelivered.snapshot()
	return out
}

// Tenant returns a copy of one tenant's counters (zero when it has none).
func (s *Stats) Tenant(id string) TenantCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.tenants[id]; c != nil {
		return c.clone()
	}
	return TenantCounts{Dropped: map[string]int64{}, Deliveries: map[string]int64{}}
}
