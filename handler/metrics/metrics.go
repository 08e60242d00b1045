// Package metrics exposes the pipeline's counters (app.Stats) in the Prometheus text format,
// for the separate listener NIMBUS_METRICS_ADDR. It reads app.Stats at scrape time, so the
// figures are the same as GET /admin/v1/stats, summed over tenants: no metric carries a
// tenant label, which keeps their number bounded whatever the number of tenants.
//
// It holds no state of its own and imports no adapter.
package metrics

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nimbusflow/connector/handler/app"
)

// Source is what the metrics are read from.
type Source struct {
	Stats *app.Stats
	// Queues reports the queue backlog; nil when it cannot be read here (Service Bus).
	Queues app.QueueGauges
	// Subscriptions counts subscriptions by status; nil leaves the gauge out.
	Subscriptions func(ctx context.Context) (map[string]int, error)
	// Lost reports how many delivery log records were dropped (buffer full); nil leaves it out.
	Lost func() int64
}

var (
	descAccepted   = prometheus.NewDesc("nimbus_events_accepted_total", "Events accepted by ingest and queued.", nil, nil)
	descDropped    = prometheus.NewDesc("nimbus_events_dropped_total", "Events dropped, by reason.", []string{"reason"}, nil)
	descStale      = prometheus.NewDesc("nimbus_events_stale_total", "Events dropped as older than the task they are about, or repeated.", nil, nil)
	descDeliveries = prometheus.NewDesc("nimbus_deliveries_total", "Delivery outcomes: delivered, retried, deadLettered, withheld, putOff, subscriptionDead, dropped.", []string{"outcome"}, nil)
	descRetries    = prometheus.NewDesc("nimbus_delivery_retries_total", "Delivery attempts that failed and were scheduled again.", nil, nil)
	descDead       = prometheus.NewDesc("nimbus_dead_letters_total", "Deliveries that became dead letters.", nil, nil)
	descDepth      = prometheus.NewDesc("nimbus_queue_depth", "Messages in the queue, scheduled ones included.", []string{"queue"}, nil)
	descOldest     = prometheus.NewDesc("nimbus_queue_oldest_message_age_seconds", "How long the oldest due message of the queue has waited.", []string{"queue"}, nil)
	descIngest     = prometheus.NewDesc("nimbus_ingest_to_delivered_seconds", "Time from an event's acceptance to a 2xx answer of its delivery.", nil, nil)
	descAttempt    = prometheus.NewDesc("nimbus_delivery_attempt_duration_seconds", "Duration of one delivery attempt (the callback's answer time).", nil, nil)
	descSubs       = prometheus.NewDesc("nimbus_subscriptions", "Subscriptions by status, of the tenants active since the process started.", []string{"status"}, nil)
	descLost       = prometheus.NewDesc("nimbus_delivery_log_lost_total", "Delivery log records dropped because the writer's buffer was full.", nil, nil)
)

// subscriptionsTTL is how long a subscription count is reused: counting reads the
// subscriptions of every tenant, too much for every scrape.
const subscriptionsTTL = 30 * time.Second

// collector is a prometheus.Collector over a Source.
type collector struct {
	src Source

	mu      sync.Mutex
	subs    map[string]int
	subsAt  time.Time
	subsErr error
}

// Describe lists the descriptors without collecting (a Collect would count subscriptions
// at registration and cache that count).
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAccepted, descDropped, descStale, descDeliveries, descRetries, descDead, descDepth, descOldest, descIngest, descAttempt, descSubs, descLost} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.src.Stats.Snapshot()
	var accepted, stale int64
	dropped, deliveries := map[string]int64{}, map[string]int64{}
	for _, o := range app.DeliveryOutcomes {
		deliveries[o] = 0
	}
	for _, t := range snap.Tenants {
		accepted += t.Accepted
		stale += t.Stale
		for k, v := range t.Dropped {
			dropped[k] += v
		}
		for k, v := range t.Deliveries {
			deliveries[k] += v
		}
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descAccepted, accepted)
	counter(descStale, stale)
	for _, k := range sortedKeys(dropped) {
		counter(descDropped, dropped[k], k)
	}
	for _, k := range sortedKeys(deliveries) {
		counter(descDeliveries, deliveries[k], k)
	}
	counter(descRetries, deliveries[app.OutcomeRetried])
	counter(descDead, deliveries[app.OutcomeDeadLettered])
	ch <- histogram(descIngest, snap.IngestToDelivered)
	ch <- histogram(descAttempt, snap.Attempt)
	if c.src.Queues != nil {
		for _, q := range c.src.Queues() {
			ch <- prometheus.MustNewConstMetric(descDepth, prometheus.GaugeValue, float64(q.Depth), q.Name)
			ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, q.OldestAgeSeconds, q.Name)
		}
	}
	if subs, err := c.subscriptions(); err != nil {
		ch <- prometheus.NewInvalidMetric(descSubs, err) // reported, the other metrics still served
	} else {
		for _, k := range sortedKeys(subs) {
			ch <- prometheus.MustNewConstMetric(descSubs, prometheus.GaugeValue, float64(subs[k]), k)
		}
	}
	if c.src.Lost != nil {
		counter(descLost, c.src.Lost())
	}
}

// subscriptions returns the subscription counts, reading them at most every
// subscriptionsTTL; nil, nil when the source has none.
func (c *collector) subscriptions() (map[string]int, error) {
	if c.src.Subscriptions == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs == nil || time.Since(c.subsAt) > subscriptionsTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.subs, c.subsErr = c.src.Subscriptions(ctx)
		c.subsAt = time.Now()
	}
	return c.subs, c.subsErr
}

func histogram(d *prometheus.Desc, h app.HistogramSnapshot) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b] = h.Cumulative[i]
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Handler serves the metrics of src, with the Go runtime's and the process's, at any path.
func Handler(src Source) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{src: src}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorHandling: promhttp.ContinueOnError})
}
