package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
	"github.com/nimbusflow/connector/handler/webhook"
)

// The callback client keeps half of each host for healthy subscriptions.
var _ app.SlowAcquirer = (*webhook.Client)(nil)

// subscription returns the admin view of one subscription.
func (f *flow) subscription(t *testing.T, id string) app.SubscriptionView {
	t.Helper()
	r := f.call("GET", "/admin/v1/subscriptions", f.admin, nil)
	var views []app.SubscriptionView
	if err := json.Unmarshal(r.body, &views); err != nil || r.status != 200 {
		t.Fatalf("list subscriptions: %d %s", r.status, r.body)
	}
	for _, v := range views {
		if v.ID == id {
			return v
		}
	}
	t.Fatalf("subscription %s is not listed", id)
	return app.SubscriptionView{}
}

// waitStatus polls until the subscription has the status, and returns its view.
func (f *flow) waitStatus(t *testing.T, id string, status nimbus.SubscriptionStatus, timeout time.Duration) app.SubscriptionView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v := f.subscription(t, id)
		if v.Status == status {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription %s is %s (%s), want %s within %v", id, v.Status, v.StatusReason, status, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deadLetters polls until the subscription has n dead letters, and returns them.
func (f *flow) deadLetters(t *testing.T, sub string, n int, timeout time.Duration) []app.DeliveryFailure {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var failures []app.DeliveryFailure
		r := f.call("GET", "/admin/v1/delivery-failures?subscriptionId="+sub, f.admin, nil)
		if err := json.Unmarshal(r.body, &failures); err != nil || r.status != 200 {
			t.Fatalf("dead letters: %d %s", r.status, r.body)
		}
		if len(failures) >= n {
			return failures
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters of %s, want %d within %v", len(failures), sub, n, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A callback that hangs must not starve a healthy subscription on the same host, nor delay
// the retries of a third one: the unit of isolation is the subscription.
func TestDeliveryFairnessAcrossSubscriptionsOfOneHost(t *testing.T) {
	f := startFlow(t, map[string]string{"NIMBUS_DELIVERY_TIMEOUT": "5s", "NIMBUS_RETRY_SCHEDULE": "1s,1s,1s"})
	cc := f.demo.Services.ContactCenter
	const n = 300
	for range 4 * n {
		f.sink.script("/slow", answer{hang: true})
	}
	const flaky = 10
	for range flaky {
		f.sink.script("/flaky", answer{status: 500})
	}
	f.trigger(f.owner, "/slow", []string{cc}, []string{"InQueue"}, nil, nil)
	f.trigger(f.admin, "/ok", []string{cc}, []string{"InQueue"}, nil, nil)
	f.trigger(f.admin, "/flaky", []string{cc}, []string{"Terminated"}, nil, nil)

	var batch []map[string]any
	for i := range n {
		batch = append(batch, f.ev(fmt.Sprintf("fair-%d", i), 1, "InQueue", cc, "Audio", "Inbound"))
	}
	began := time.Now()
	f.ingest(batch...)
	defer func() { t.Logf("/ok had all after %v", time.Since(began)) }()
	// The healthy flow alone takes a few seconds on a loaded machine; starved behind the hanging
	// one it took minutes.
	f.sink.wait("/ok", n, 15*time.Second)

	// Retries of another subscription on the same host come on their schedule (1 s ± 20 %),
	// while the hanging subscription still has a backlog.
	batch = nil
	for i := range flaky {
		batch = append(batch, f.ev(fmt.Sprintf("fair-%d", i), 2, "Terminated", cc, "Audio", "Inbound"))
	}
	f.ingest(batch...)
	got := f.sink.wait("/flaky", 2*flaky, 20*time.Second)
	first := map[string]time.Time{}
	for _, r := range got {
		id := r.header.Get("webhook-id")
		at, seen := first[id]
		if !seen {
			first[id] = r.at
			continue
		}
		if gap := r.at.Sub(at); gap > 3*time.Second {
			t.Errorf("retry of a 500 came %v after the first attempt, want about 1 s", gap.Round(time.Millisecond))
		}
	}
	if len(first) != flaky {
		t.Errorf("%d distinct deliveries to /flaky, want %d", len(first), flaky)
	}
}

// The owner's access is checked before every attempt: a retry is withheld once the owner is
// no longer an owner of the service, the subscription is suspended with the reason, and it
// resumes when access returns. With the legacy policy the retry goes out.
func TestDeliveryRechecksAccessBeforeEveryAttempt(t *testing.T) {
	for _, policy := range []nimbus.RevokedAccessPolicy{nimbus.RevokedEnforce, nimbus.RevokedLegacy} {
		t.Run(string(policy), func(t *testing.T) {
			// The retry comes 3 s ± 20 % after the first attempt, well after the import.
			f := startFlow(t, map[string]string{"NIMBUS_RETRY_SCHEDULE": "3s,3s,3s"})
			cc := f.demo.Services.ContactCenter
			d := f.directory(t)
			d.Settings.RevokedAccess = policy
			f.putDirectory(t, d)
			f.sink.script("/owner", answer{status: 500})
			sub := f.trigger(f.owner, "/owner", []string{cc}, []string{"InQueue", "Terminated"}, nil, nil)
			f.ingest(f.ev("revoked", 1, "InQueue", cc, "Audio", "Inbound"))
			f.sink.wait("/owner", 1, 10*time.Second)

			// The owner is removed from the service while the retry waits.
			var owners []string
			for i := range d.Services {
				if d.Services[i].UPN == cc {
					owners, d.Services[i].Owners = d.Services[i].Owners, slices.DeleteFunc(slices.Clone(d.Services[i].Owners), func(u string) bool { return u == f.demo.Users.ServiceOwner })
				}
			}
			f.putDirectory(t, d)
			if policy == nimbus.RevokedLegacy {
				f.sink.wait("/owner", 2, 10*time.Second)
				if v := f.subscription(t, sub); v.Status != nimbus.StatusActive || !v.Orphaned {
					t.Errorf("legacy: subscription %s, orphaned %v; want active and orphaned", v.Status, v.Orphaned)
				}
				return
			}
			// The retry suspends the subscription instead of reaching the callback.
			v := f.waitStatus(t, sub, nimbus.StatusSuspended, 15*time.Second)
			if v.StatusReason == "" || !v.Orphaned {
				t.Errorf("suspended without a reason (%q) or not orphaned (%v)", v.StatusReason, v.Orphaned)
			}
			f.sink.quiet("/owner", time.Second)
			if got := len(f.sink.at("/owner")); got != 1 {
				t.Fatalf("%d POSTs reached the callback, want only the first attempt", got)
			}

			// Access returns: the subscription resumes and the next event is delivered.
			for i := range d.Services {
				if d.Services[i].UPN == cc {
					d.Services[i].Owners = owners
				}
			}
			f.putDirectory(t, d)
			f.ingest(f.ev("revoked", 2, "Terminated", cc, "Audio", "Inbound"))
			got := f.sink.wait("/owner", 2, 10*time.Second)
			if field(got[1], "event") != "Terminated" {
				t.Errorf("after access returned, got %s", got[1].body)
			}
			f.waitStatus(t, sub, nimbus.StatusActive, 10*time.Second)
		})
	}
}

// A short Retry-After brings attempts forward but does not shorten the delivery's life: it
// is a dead letter only once the schedule's whole span has passed since its first attempt.
func TestDeliveryShortRetryAfterKeepsTheRetrySpan(t *testing.T) {
	schedule := []time.Duration{time.Second, time.Second, time.Second, 4 * time.Second}
	var span time.Duration
	var parts []string
	for _, d := range schedule {
		span += d
		parts = append(parts, d.String())
	}
	f := startFlow(t, map[string]string{"NIMBUS_RETRY_SCHEDULE": strings.Join(parts, ",")})
	cc := f.demo.Services.ContactCenter
	for range 100 {
		f.sink.script("/busy", answer{status: 503, retryAfter: "1"})
	}
	sub := f.trigger(f.owner, "/busy", []string{cc}, []string{"InQueue"}, nil, nil)
	f.ingest(f.ev("ra", 1, "InQueue", cc, "Audio", "Inbound"))

	dl := f.deadLetters(t, sub, 1, span+15*time.Second)
	got := f.sink.at("/busy")
	if len(got) == 0 {
		t.Fatal("no attempt reached the callback")
	}
	first, last := got[0].at, got[len(got)-1].at
	if lived := last.Sub(first); lived < span-200*time.Millisecond {
		t.Errorf("the last attempt came %v after the first, want at least the schedule's span %v", lived.Round(time.Millisecond), span)
	}
	if dl[0].FailedAt.Sub(first) < span-200*time.Millisecond {
		t.Errorf("dead letter %v after the first attempt, want at least %v", dl[0].FailedAt.Sub(first).Round(time.Millisecond), span)
	}
	if dl[0].Attempts != len(got) || dl[0].LastStatus != 503 {
		t.Errorf("dead letter: %d attempts, last status %d; the callback saw %d attempts", dl[0].Attempts, dl[0].LastStatus, len(got))
	}
	// Retry-After: 1 was honoured (earlier than the 4 s step of the schedule).
	for i := 1; i < len(got); i++ {
		if gap := got[i].at.Sub(got[i-1].at); gap < 900*time.Millisecond || gap > 2500*time.Millisecond {
			t.Errorf("attempt %d came %v after the previous one, want about 1 s (Retry-After)", i+1, gap.Round(time.Millisecond))
		}
	}
}

// With nothing failing, one subscription receives each task's events in sequence order.
func TestDeliveryOrderPerTaskAndSubscription(t *testing.T) {
	f := startFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/order", []string{cc}, []string{"ParameterUpdated"}, nil, nil)
	f.sink.slowly("/order", 5*time.Millisecond)
	const tasks, events = 400, 5
	postParameterBursts(f, cc, "ord-", tasks, events)
	disorder := outOfOrder(t, f.sink.wait("/order", tasks*events, 60*time.Second))
	if len(disorder) > 0 {
		t.Errorf("%d of %d tasks arrived out of sequence order", len(disorder), tasks)
	}
}

// postParameterBursts ingests events ParameterUpdated events for each of tasks tasks of
// service (task ids prefix+i), a task's events close together as core reports a busy task, in
// batches of 250.
func postParameterBursts(f *flow, service, prefix string, tasks, events int) {
	var all []map[string]any
	for i := range tasks {
		for seq := 1; seq <= events; seq++ {
			e := f.ev(fmt.Sprintf("%s%d", prefix, i), seq, "ParameterUpdated", service, "Audio", "Inbound")
			e["parameter"] = map[string]string{"name": "step", "value": strconv.Itoa(seq)}
			all = append(all, e)
		}
	}
	for len(all) > 0 {
		n := min(len(all), 250)
		f.ingest(all[:n]...)
		all = all[n:]
	}
}

// outOfOrder counts, per task, the notifications that arrived after a later one of the same
// task (by sequence).
func outOfOrder(t *testing.T, got []received) map[string]int {
	t.Helper()
	last, disorder := map[string]int{}, map[string]int{}
	for _, r := range got {
		task := field(r, "taskId")
		seq, err := strconv.Atoi(field(r, "sequence"))
		if err != nil {
			t.Fatalf("notification without a sequence: %s", r.body)
		}
		if seq < last[task] {
			disorder[task]++
		}
		last[task] = max(last[task], seq)
	}
	return disorder
}
