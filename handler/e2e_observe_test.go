package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// startObserved starts a flow with the metrics listener on a free port and JSON debug logs.
func startObserved(t *testing.T) (*flow, string) {
	t.Helper()
	metrics := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	f := startFlow(t, map[string]string{"NIMBUS_METRICS_ADDR": metrics, "NIMBUS_LOG_FORMAT": "json", "NIMBUS_LOG_LEVEL": "debug"})
	return f, "http://" + metrics + "/metrics"
}

// scrape reads the metrics as "name{labels}" → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("scrape: %d %s", res.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// stats reads GET /admin/v1/stats with token.
func (f *flow) stats(t *testing.T, token, query string) app.StatsReport {
	t.Helper()
	r := f.call("GET", "/admin/v1/stats"+query, token, nil)
	var rep app.StatsReport
	if err := json.Unmarshal(r.body, &rep); err != nil || r.status != 200 {
		t.Fatalf("GET /admin/v1/stats: %d %s", r.status, r.body)
	}
	return rep
}

// logLines returns the handler's JSON log lines with message msg.
func (f *flow) logLines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(f.stderr.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// A known scenario (two delivered, one after a retry; a dead letter; a 410; a stale event; an
// event of a service without a valid workflow) shows exact counts at GET /admin/v1/stats
// and on the metrics listener, and each loss-like outcome is logged with its ids and without
// the callback URL or payload.
func TestObservabilityCountsAndOutcomeLogs(t *testing.T) {
	f, metricsURL := startObserved(t)
	cc := f.demo.Services.ContactCenter
	f.sink.script("/flaky", answer{status: 503})
	f.sink.script("/bad", answer{status: 400})
	f.sink.script("/gone", answer{status: 410})
	okSub := f.trigger(f.owner, "/ok", []string{cc}, []string{"InQueue"}, nil, nil)
	flaky := f.trigger(f.owner, "/flaky", []string{cc}, []string{"InQueue"}, nil, nil)
	bad := f.trigger(f.owner, "/bad", []string{cc}, []string{"InQueue"}, nil, nil)
	gone := f.trigger(f.owner, "/gone", []string{cc}, []string{"InQueue"}, nil, nil)

	first := f.ev("obs", 2, "InQueue", cc, "Audio", "Inbound")
	invalid := f.ev("obs-invalid", 1, "InQueue", f.demo.Services.InvalidWorkflow, "Audio", "Inbound")
	f.ingest(first, invalid)
	f.sink.wait("/ok", 1, 10*time.Second)
	f.sink.wait("/flaky", 2, 10*time.Second)
	f.sink.wait("/bad", 1, 10*time.Second)
	f.sink.wait("/gone", 1, 10*time.Second)
	stale := f.ev("obs", 1, "InQueue", cc, "Audio", "Inbound")
	f.ingest(stale)

	want := map[string]int{app.OutcomeDelivered: 2, app.OutcomeRetried: 1, app.OutcomeDeadLettered: 1, app.OutcomeSubscriptionDead: 1,
		app.OutcomeWithheld: 0, app.OutcomePutOff: 0, app.OutcomeDropped: 0}
	var rep app.StatsReport
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep = f.stats(t, f.admin, "")
		if fmt.Sprint(rep.Deliveries) == fmt.Sprint(want) && rep.Events.Stale == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if fmt.Sprint(rep.Deliveries) != fmt.Sprint(want) {
		t.Errorf("deliveries %v, want %v", rep.Deliveries, want)
	}
	if rep.TenantID != f.demo.TenantID || rep.Events.Accepted != 2 || rep.Events.Stale != 1 || fmt.Sprint(rep.Events.Dropped) != "map[workflow_invalid:1]" {
		t.Errorf("events %+v of %s", rep.Events, rep.TenantID)
	}
	if fmt.Sprint(rep.Subscriptions) != "map[active:3 dead:1 suspended:0]" {
		t.Errorf("subscriptions %v", rep.Subscriptions)
	}
	names := []string{}
	for _, q := range rep.Queues {
		names = append(names, q.Name)
	}
	// Every embedded queue is listed (dead-letter sub-queues and the scheduler's too).
	for _, q := range []string{nimbus.QueueDeliveries, nimbus.QueueEvents, nimbus.QueueEvents + "/$deadletterqueue"} {
		if !slices.Contains(names, q) {
			t.Errorf("queue %s missing from %+v", q, rep.Queues)
		}
	}

	// The last event's message is completed just after it is counted: wait until it is.
	m := scrape(t, metricsURL)
	for deadline := time.Now().Add(5 * time.Second); m[`nimbus_queue_depth{queue="events"}`] != 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		m = scrape(t, metricsURL)
	}
	wantMetrics := map[string]float64{
		"nimbus_events_accepted_total":                                        2,
		"nimbus_events_stale_total":                                           1,
		`nimbus_events_dropped_total{reason="workflow_invalid"}`:              1,
		`nimbus_deliveries_total{outcome="delivered"}`:                        2,
		`nimbus_deliveries_total{outcome="retried"}`:                          1,
		`nimbus_deliveries_total{outcome="deadLettered"}`:                     1,
		`nimbus_deliveries_total{outcome="subscriptionDead"}`:                 1,
		`nimbus_deliveries_total{outcome="withheld"}`:                         0,
		"nimbus_delivery_retries_total":                                       1,
		"nimbus_dead_letters_total":                                           1,
		"nimbus_delivery_attempt_duration_seconds_count":                      5,
		"nimbus_ingest_to_delivered_seconds_count":                            2,
		`nimbus_subscriptions{status="active"}`:                               3,
		`nimbus_subscriptions{status="dead"}`:                                 1,
		`nimbus_queue_depth{queue="events"}`:                                  0,
		`nimbus_delivery_attempt_duration_seconds_bucket{le="+Inf"}`:          5,
		`nimbus_queue_oldest_message_age_seconds{queue="events"}`:             0,
		`nimbus_ingest_to_delivered_seconds_bucket{le="+Inf"}`:                2,
		"nimbus_delivery_log_lost_total":                                      0,
		`nimbus_events_dropped_total{reason="unknown_service"}` + " (absent)": 0,
	}
	for name, v := range wantMetrics {
		if base, ok := strings.CutSuffix(name, " (absent)"); ok {
			if _, present := m[base]; present {
				t.Errorf("metric %s present, want absent", base)
			}
			continue
		}
		if got, ok := m[name]; !ok || got != v {
			t.Errorf("metric %s = %v (present %v), want %v", name, got, ok, v)
		}
	}

	// Logs: each outcome with its ids, never the callback URL or the payload.
	checks := []struct {
		msg, sub, event string
		level           string
		extra           map[string]any
	}{
		{"dead letter: the callback refused the notification", bad, first["eventId"].(string), "WARN", map[string]any{"status": 400.0}},
		{"subscription dead: the callback answered 410 Gone", gone, first["eventId"].(string), "WARN", nil},
		{"delivery retry scheduled", flaky, first["eventId"].(string), "DEBUG", nil},
	}
	for _, c := range checks {
		lines := f.logLines(t, c.msg)
		if len(lines) != 1 {
			t.Errorf("%q logged %d times, want once", c.msg, len(lines))
			continue
		}
		l := lines[0]
		if l["level"] != c.level || l["tenant"] != f.demo.TenantID || l["subscriptionId"] != c.sub || l["eventId"] != c.event || l["service"] == nil || l["service"] == "" {
			t.Errorf("%q: %v", c.msg, l)
		}
		for k, v := range c.extra {
			if l[k] != v {
				t.Errorf("%q: %s = %v, want %v", c.msg, k, l[k], v)
			}
		}
	}
	if l := f.logLines(t, "delivery retry scheduled"); len(l) == 1 {
		if d, err := time.ParseDuration(fmt.Sprint(l[0]["delay"])); err != nil || d <= 0 || d > time.Second {
			t.Errorf("retry delay %v, want the schedule's first step (200ms ± jitter)", l[0]["delay"])
		}
	}
	drops := f.logLines(t, "event dropped")
	reasons := map[string]map[string]any{}
	for _, l := range drops {
		reasons[fmt.Sprint(l["reason"])] = l
	}
	if l := reasons["workflow_invalid"]; l == nil || l["level"] != "WARN" || l["eventId"] != invalid["eventId"] || l["tenant"] != f.demo.TenantID || l["service"] == nil {
		t.Errorf("workflow_invalid drop: %v", l)
	}
	if l := reasons["stale"]; l == nil || l["level"] != "WARN" || l["eventId"] != stale["eventId"] || l["tenant"] != f.demo.TenantID || l["service"] == nil {
		t.Errorf("stale drop: %v", l)
	}
	logs := f.stderr.String()
	for _, secret := range []string{f.sink.srv.URL, strings.TrimPrefix(f.sink.srv.URL, "http://"), "+41790001122"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q (callback URL or payload)", secret)
		}
	}
	_ = okSub
}

// Losing access suspends the subscription: logged at warn with its ids, counted as withheld.
func TestObservabilitySuspensionLogged(t *testing.T) {
	f, _ := startObserved(t)
	cc := f.demo.Services.ContactCenter
	sub := f.trigger(f.owner, "/owner", []string{cc}, []string{"InQueue"}, nil, nil)
	r := f.call("GET", "/admin/v1/tenants/"+f.demo.TenantID+"/directory", f.admin, nil)
	var d nimbus.Directory
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatal(err)
	}
	for i := range d.Services {
		if d.Services[i].UPN == cc {
			d.Services[i].Owners = nil
		}
	}
	if r := f.call("PUT", "/admin/v1/tenants/"+f.demo.TenantID+"/directory", f.admin, d); r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	ev := f.ev("sus", 1, "InQueue", cc, "Audio", "Inbound")
	f.ingest(ev)
	deadline := time.Now().Add(10 * time.Second)
	for len(f.logLines(t, "subscription suspended: its owner lost access")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	lines := f.logLines(t, "subscription suspended: its owner lost access")
	if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["subscriptionId"] != sub || lines[0]["eventId"] != ev["eventId"] || lines[0]["tenant"] != f.demo.TenantID {
		t.Fatalf("suspension log: %v", lines)
	}
	if rep := f.stats(t, f.admin, ""); rep.Deliveries[app.OutcomeWithheld] != 1 || rep.Subscriptions["suspended"] != 1 {
		t.Errorf("withheld %d, suspended %d; want 1, 1", rep.Deliveries[app.OutcomeWithheld], rep.Subscriptions["suspended"])
	}
	// The owner sees why in the delivery log.
	var page app.AttemptPage
	for deadline := time.Now().Add(5 * time.Second); len(page.Items) == 0 && time.Now().Before(deadline); {
		r := f.call("GET", "/admin/v1/subscriptions/"+sub+"/attempts", f.owner, nil)
		if r.status != 200 {
			t.Fatalf("attempts: %d %s", r.status, r.body)
		}
		_ = json.Unmarshal(r.body, &page)
		time.Sleep(50 * time.Millisecond)
	}
	if len(page.Items) != 1 || page.Items[0].Outcome != app.LogWithheld || page.Items[0].EventID != ev["eventId"] || page.Items[0].Status != 0 {
		t.Errorf("delivery log of a withheld delivery: %+v", page.Items)
	}
}

// Under the Functions host the stats route answers at /manage/v1 (the Admin function's
// route) and the metrics listener stays off.
func TestObservabilityUnderTheFunctionsHost(t *testing.T) {
	metrics := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	f := startFlow(t, map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": fmt.Sprint(freePort(t)), "NIMBUS_DEV_AUTH": "true", "NIMBUS_METRICS_ADDR": metrics})
	if r := f.call("GET", "/manage/v1/stats", f.admin, nil); r.status != 200 || !strings.Contains(string(r.body), `"tenantId":"`+f.demo.TenantID+`"`) {
		t.Errorf("GET /manage/v1/stats: %d %s", r.status, r.body)
	}
	if res, err := http.Get("http://" + metrics + "/metrics"); err == nil {
		res.Body.Close()
		t.Errorf("the metrics listener answers under the Functions host: %d", res.StatusCode)
	}
	if !strings.Contains(f.stderr.String(), "NIMBUS_METRICS_ADDR is ignored under the Functions host") {
		t.Errorf("no warning that the metrics listener is off:\n%s", f.stderr)
	}
}

// A delivery whose retries run out and a subscription killed by repeated 404s are logged at
// warn with their ids, and never with the callback URL.
func TestObservabilityRetriesExhaustedAndRepeated404Logged(t *testing.T) {
	f := startFlow(t, map[string]string{"NIMBUS_LOG_FORMAT": "json", "NIMBUS_RETRY_SCHEDULE": "50ms,50ms"})
	cc := f.demo.Services.ContactCenter
	f.sink.script("/down", answer{status: 503}, answer{status: 503}, answer{status: 503})
	f.sink.script("/missing", answer{status: 404}, answer{status: 404}, answer{status: 404})
	down := f.trigger(f.owner, "/down", []string{cc}, []string{"InQueue"}, nil, nil)
	missing := f.trigger(f.owner, "/missing", []string{cc}, []string{"InQueue"}, nil, nil)
	ev := f.ev("exhaust", 1, "InQueue", cc, "Audio", "Inbound")
	f.ingest(ev)
	f.sink.wait("/down", 3, 10*time.Second)
	f.sink.wait("/missing", 3, 10*time.Second)
	for _, c := range []struct{ msg, sub string }{
		{"dead letter: retries exhausted", down},
		{"subscription dead: the callback answered 404 repeatedly", missing},
	} {
		var lines []map[string]any
		for deadline := time.Now().Add(5 * time.Second); len(lines) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			lines = f.logLines(t, c.msg)
		}
		if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["subscriptionId"] != c.sub || lines[0]["eventId"] != ev["eventId"] ||
			lines[0]["tenant"] != f.demo.TenantID || lines[0]["service"] == nil {
			t.Errorf("%q: %v", c.msg, lines)
		}
	}
	if strings.Contains(f.stderr.String(), strings.TrimPrefix(f.sink.srv.URL, "http://")) {
		t.Errorf("the log holds the callback address")
	}
}
