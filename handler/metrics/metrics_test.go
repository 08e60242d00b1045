package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/app"
)

func serve(t *testing.T, src Source) string {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(src).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("metrics: %d %s", rec.Code, body)
	}
	return string(body)
}

// The metrics sum the tenants' counters of app.Stats and carry no tenant label.
func TestMetricsSumTenants(t *testing.T) {
	s := app.NewStats(nil)
	s.Accepted("a", 3)
	s.Accepted("b", 2)
	s.Dropped("a", app.DropWorkflowInvalid)
	s.Dropped("b", app.DropWorkflowInvalid)
	s.Dropped("", app.DropMalformed)
	s.Stale("b")
	s.Delivery("a", app.OutcomeDelivered)
	s.Delivery("b", app.OutcomeDelivered)
	s.Delivery("b", app.OutcomeRetried)
	s.Delivery("a", app.OutcomeDeadLettered)
	s.ObserveAttempt(20 * time.Millisecond)
	s.ObserveAttempt(3 * time.Second)
	s.ObserveDelivered(40 * time.Millisecond)
	src := Source{
		Stats:         s,
		Queues:        func() []app.QueueGauge { return []app.QueueGauge{{Name: "events", Depth: 4, OldestAgeSeconds: 1.5}} },
		Subscriptions: func(context.Context) (map[string]int, error) { return map[string]int{"active": 2, "dead": 1}, nil },
		Lost:          func() int64 { return 7 },
	}
	out := serve(t, src)
	for _, want := range []string{
		"nimbus_events_accepted_total 5",
		"nimbus_events_stale_total 1",
		`nimbus_events_dropped_total{reason="workflow_invalid"} 2`,
		`nimbus_events_dropped_total{reason="malformed"} 1`,
		`nimbus_deliveries_total{outcome="delivered"} 2`,
		`nimbus_deliveries_total{outcome="retried"} 1`,
		`nimbus_deliveries_total{outcome="putOff"} 0`,
		"nimbus_delivery_retries_total 1",
		"nimbus_dead_letters_total 1",
		`nimbus_queue_depth{queue="events"} 4`,
		`nimbus_queue_oldest_message_age_seconds{queue="events"} 1.5`,
		`nimbus_delivery_attempt_duration_seconds_bucket{le="0.025"} 1`,
		`nimbus_delivery_attempt_duration_seconds_bucket{le="2.5"} 1`,
		`nimbus_delivery_attempt_duration_seconds_bucket{le="5"} 2`,
		"nimbus_delivery_attempt_duration_seconds_count 2",
		"nimbus_ingest_to_delivered_seconds_count 1",
		`nimbus_subscriptions{status="active"} 2`,
		"nimbus_delivery_log_lost_total 7",
		"go_goroutines ",
	} {
		if !strings.Contains(out, "\n"+want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(out, "tenant=") {
		t.Errorf("a metric carries a tenant label")
	}
}

// A failing subscription count leaves that gauge out and serves the rest.
func TestMetricsSurviveAFailingSubscriptionCount(t *testing.T) {
	src := Source{Stats: app.NewStats(nil), Subscriptions: func(context.Context) (map[string]int, error) { return nil, errors.New("storage down") }}
	out := serve(t, src)
	if !strings.Contains(out, "nimbus_events_accepted_total 0") || strings.Contains(out, "nimbus_subscriptions{") {
		t.Errorf("metrics with a failing count:\n%s", out)
	}
}
