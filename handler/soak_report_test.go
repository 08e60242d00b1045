package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/sim"
)

type rssSample struct {
	at  time.Duration
	mib float64
}

// sampleRSS records the handler's resident memory every 5 s until ctx ends.
func sampleRSS(ctx context.Context, h *soakHandler, began time.Time) []rssSample {
	var out []rssSample
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
			if v := h.rssMiB(); v > 0 {
				out = append(out, rssSample{time.Since(began), v})
			}
		}
	}
}

// runFaults injects the faults of each cycle (5 minutes, or the whole run when shorter) at
// fixed fractions of it: callbacks answering 5xx, 429 with Retry-After, hanging; kill -9 of
// the handler and restart; a storage outage; and, once, a callback answering 410.
func runFaults(ctx context.Context, t *testing.T, dur time.Duration, began time.Time, sink *soakSink, h *soakHandler, proxy *outageProxy, proxyAddr string) []string {
	cycle := min(dur, 5*time.Minute)
	var log []string
	note := func(s string) { log = append(log, fmt.Sprintf("%7s  %s", time.Since(began).Round(time.Second), s)) }
	type step struct {
		at float64
		do func()
	}
	steps := []step{
		{0.05, func() { sink.setMode(mode5xx); note("callback /faulty answers 500/502/503") }},
		{0.15, func() { sink.setMode(modeOK); note("callback /faulty answers 200") }},
		{0.20, func() { sink.setMode(mode429); note("callback /faulty answers 429 Retry-After: 1") }},
		{0.30, func() { sink.setMode(modeOK); note("callback /faulty answers 200") }},
		{0.35, func() { sink.setMode(modeHang); note("callback /faulty hangs") }},
		{0.42, func() { sink.setMode(modeOK); note("callback /faulty answers 200") }},
		{0.45, func() { h.kill9(); note("handler killed with SIGKILL"); h.start(); note("handler restarted") }},
		{0.60, func() { proxy.down(); note("storage cut (Azurite proxy down)") }},
		{0.72, func() { proxy.up(proxyAddr); note("storage back") }},
		{0.80, func() { sink.setGone(); note("callback /gone answers 410 from now on") }},
	}
	for c := 0; ; c++ {
		for i, s := range steps {
			if c > 0 && i == len(steps)-1 {
				continue // 410 ends the subscription once
			}
			at := began.Add(time.Duration(c)*cycle + time.Duration(s.at*float64(cycle)))
			select {
			case <-ctx.Done():
				sink.setMode(modeOK)
				proxy.mu.Lock()
				down := proxy.ln == nil
				proxy.mu.Unlock()
				if down {
					proxy.up(proxyAddr)
					note("storage back")
				}
				return log
			case <-time.After(time.Until(at)):
				s.do()
			}
		}
	}
}

// soakReport is the reconciliation of a soak run.
type soakReport struct {
	duration                     time.Duration
	faults                       []string
	rss                          []rssSample
	stats                        *sim.Stats
	cpu                          time.Duration
	accepted, expected           int
	delivered, deadLetters, lost int
	duplicates, rejected         int
	latencies                    []time.Duration
	goneDelivered                int
	goneDead                     bool
	missing                      []string
}

// reconcile waits (up to settle) until every accepted event that a subscription matches is
// acknowledged by its callback or listed as a dead letter, then counts.
func reconcile(t *testing.T, api *soakAPI, d soakDemo, sink *soakSink, subs map[string]string, accepted map[string]soakAccepted, services []string, settle time.Duration) *soakReport {
	deadline := time.Now().Add(settle)
	for {
		r := count(t, api, d, sink, subs, accepted, services)
		if (r.lost == 0 && r.goneDead) || time.Now().After(deadline) {
			return r
		}
		time.Sleep(5 * time.Second)
	}
}

func count(t *testing.T, api *soakAPI, d soakDemo, sink *soakSink, subs map[string]string, accepted map[string]soakAccepted, services []string) *soakReport {
	r := &soakReport{accepted: len(accepted)}
	var failures []struct {
		SubscriptionID string `json:"subscriptionId"`
		EventID        string `json:"eventId"`
	}
	if err := api.operator(d, "/admin/v1/delivery-failures", &failures); err != nil {
		t.Logf("list delivery failures: %v", err)
	}
	dead := map[string]bool{}
	for _, f := range failures {
		dead[subs[f.SubscriptionID]+" "+f.EventID] = true
	}
	var deadSubs []struct {
		ID string `json:"id"`
	}
	if err := api.operator(d, "/admin/v1/subscriptions?status=dead", &deadSubs); err != nil {
		t.Logf("list dead subscriptions: %v", err)
	}
	for _, s := range deadSubs {
		r.goneDead = r.goneDead || subs[s.ID] == "/gone"
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for id, a := range accepted {
		if !a.deliverable || !slices.Contains(services, a.service) {
			continue
		}
		for _, path := range []string{"/healthy", "/faulty"} {
			r.expected++
			got, ok := sink.firstOK[path][id]
			switch {
			case ok:
				r.delivered++
				if path == "/healthy" {
					r.latencies = append(r.latencies, max(0, got.Sub(a.at)))
				}
			case dead[path+" "+id]:
				r.deadLetters++
			default:
				r.lost++
				if len(r.missing) < 10 {
					r.missing = append(r.missing, path+" "+id)
				}
			}
		}
	}
	r.duplicates = sink.dupes["/healthy"] + sink.dupes["/faulty"]
	r.goneDelivered = len(sink.firstOK["/gone"])
	return r
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func (r *soakReport) print(w io.Writer) {
	r.rejected = int(r.stats.EventsRejected.Load())
	row := func(k string, v any) { fmt.Fprintf(w, "| %-44s | %-28v |\n", k, v) }
	fmt.Fprintf(w, "\nsoak faults:\n%s\n\n", strings.Join(r.faults, "\n"))
	fmt.Fprintf(w, "| %-44s | %-28s |\n|%s|%s|\n", "soak "+r.duration.String(), "result", strings.Repeat("-", 46), strings.Repeat("-", 30))
	row("tasks started", r.stats.TasksStarted.Load())
	row("events accepted by the handler (202)", r.accepted)
	row("events rejected (4xx)", r.rejected)
	row("batches sent again (handler down/busy)", r.stats.SendRetries.Load())
	row("expected deliveries (/healthy, /faulty)", r.expected)
	row("delivered (acknowledged by the callback)", r.delivered)
	row("documented dead letters", r.deadLetters)
	row("lost", r.lost)
	row("duplicates (same event acknowledged twice)", r.duplicates)
	row("latency accept→callback p50 (/healthy)", percentile(r.latencies, 0.50).Round(time.Millisecond))
	row("latency accept→callback p99 (/healthy)", percentile(r.latencies, 0.99).Round(time.Millisecond))
	row("410 subscription dead", r.goneDead)
	row("delivered to /gone before the 410", r.goneDelivered)
	if n := len(r.rss); n > 0 {
		early := r.rss[min(n-1, n/10)].mib
		peak := 0.0
		for _, s := range r.rss {
			peak = max(peak, s.mib)
		}
		row("RSS MiB at 10% / end / max", fmt.Sprintf("%.0f / %.0f / %.0f", early, r.rss[n-1].mib, peak))
		var marks []string
		for i := 0; i < n; i += max(1, n/6) {
			marks = append(marks, fmt.Sprintf("%s:%.0f", r.rss[i].at.Round(time.Second), r.rss[i].mib))
		}
		row("RSS MiB over time", strings.Join(marks, " "))
	}
	if r.accepted > 0 {
		row("handler CPU per 1,000 events", (r.cpu * 1000 / time.Duration(r.accepted)).Round(time.Millisecond))
	}
	row("commands answered", r.stats.CommandsAnswered.Load())
	if len(r.missing) > 0 {
		fmt.Fprintf(w, "\nmissing deliveries (first 10): %s\n", strings.Join(r.missing, ", "))
	}
}
