package app

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// deliverOnce hands the queued delivery messages to the deliverer and returns what it queued
// next (retries).
func (p *pipe) deliverAll(t *testing.T, msgs []nimbus.Message) []nimbus.Message {
	t.Helper()
	for _, m := range msgs {
		if err := p.deliverer.Deliver(t.Context(), m); err != nil {
			t.Fatalf("deliver: %v", err)
		}
	}
	return p.deliveries.take()
}

func (p *pipe) oneDelivery(t *testing.T) ([]nimbus.Message, nimbus.Subscription) {
	t.Helper()
	cc := p.demo.Services.ContactCenter
	sub := p.register(t, p.demo.Users.TenantAdmin, "https://a.logic.azure.com/cb?sig=secret", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}, nil, nil)
	if _, err := p.ingest.Accept(t.Context(), core, []nimbus.IngestEvent{event("d", 1, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound)}); err != nil {
		t.Fatal(err)
	}
	for _, m := range p.events.take() {
		if err := p.pipeline.ProcessEvent(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	return p.deliveries.take(), sub
}

func TestDeliveryOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		answers    []nimbus.Attempt
		wantStatus nimbus.SubscriptionStatus
		wantPosts  int
		deadLetter bool
	}{
		{"2xx delivered", []nimbus.Attempt{{Status: 202}}, nimbus.StatusActive, 1, false},
		{"500 then 200", []nimbus.Attempt{{Status: 500}, {Status: 200}}, nimbus.StatusActive, 2, false},
		{"timeout then 200", []nimbus.Attempt{{Err: "timeout"}, {Status: 200}}, nimbus.StatusActive, 2, false},
		{"410 kills the subscription", []nimbus.Attempt{{Status: 410}}, nimbus.StatusDead, 1, false},
		{"404 three times kills it", []nimbus.Attempt{{Status: 404}, {Status: 404}, {Status: 404}}, nimbus.StatusDead, 3, false},
		{"404 twice then 200", []nimbus.Attempt{{Status: 404}, {Status: 404}, {Status: 200}}, nimbus.StatusActive, 3, false},
		{"400 is a dead letter", []nimbus.Attempt{{Status: 400}}, nimbus.StatusActive, 1, true},
		{"refused address is a dead letter", []nimbus.Attempt{{Err: nimbus.AttemptRefused}}, nimbus.StatusActive, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipe(t)
			p.poster.answers = tt.answers
			msgs, sub := p.oneDelivery(t)
			var webhookIDs []string
			for len(msgs) > 0 {
				for _, m := range msgs {
					var d Delivery
					_ = json.Unmarshal(m.Body, &d)
					webhookIDs = append(webhookIDs, d.WebhookID)
				}
				msgs = p.deliverAll(t, msgs)
			}
			if got := len(p.poster.posts); got != tt.wantPosts {
				t.Errorf("posts: got %d, want %d", got, tt.wantPosts)
			}
			for _, id := range webhookIDs {
				if id != webhookIDs[0] {
					t.Errorf("webhook-id changed across retries: %v", webhookIDs)
				}
			}
			got, _ := p.subs.Get(t.Context(), sub.TenantID, sub.ID)
			if got.Status != tt.wantStatus {
				t.Errorf("status: got %s (%s), want %s", got.Status, got.StatusReason, tt.wantStatus)
			}
			dl, _ := p.failures.list(t.Context(), FailureFilter{TenantID: sub.TenantID})
			if (len(dl) == 1) != tt.deadLetter {
				t.Errorf("dead letters: %d", len(dl))
			}
		})
	}
}

func TestRetryScheduling(t *testing.T) {
	p := newPipe(t)
	p.poster.answers = []nimbus.Attempt{{Status: 429, RetryAfter: 2 * time.Second}, {Status: 503}, {Status: 500}}
	msgs, _ := p.oneDelivery(t)
	first := p.now
	next := p.deliverDue(t, msgs)
	if len(next) != 1 || !next[0].NotBefore.Equal(first.Add(2*time.Second)) {
		t.Fatalf("429 Retry-After 2: next at %v, want %v", next[0].NotBefore, first.Add(2*time.Second))
	}
	// The Retry-After used no step of the schedule: a 503 without one waits its first, 5 s.
	next = p.deliverDue(t, next)
	lo, hi := p.now.Add(4*time.Second), p.now.Add(6*time.Second)
	if len(next) != 1 || next[0].NotBefore.Before(lo) || next[0].NotBefore.After(hi) {
		t.Fatalf("503 without Retry-After: next at %v, want 5 s ± 20 %%", next[0].NotBefore.Sub(p.now))
	}
	next = p.deliverDue(t, next)
	lo, hi = p.now.Add(24*time.Second), p.now.Add(36*time.Second)
	if len(next) != 1 || next[0].NotBefore.Before(lo) || next[0].NotBefore.After(hi) {
		t.Fatalf("then a 500: next at %v, want 30 s ± 20 %%", next[0].NotBefore.Sub(p.now))
	}
	var d Delivery
	_ = json.Unmarshal(next[0].Body, &d)
	if d.Attempt != 4 || d.Step != 2 || !d.FirstAttempt.Equal(first) {
		t.Errorf("attempt %d, step %d, first attempt %v; want 4, 2, %v", d.Attempt, d.Step, d.FirstAttempt, first)
	}
	if next[0].SessionID != msgs[0].SessionID || next[0].SessionID == "" {
		t.Errorf("retry in session %q, first attempt in %q", next[0].SessionID, msgs[0].SessionID)
	}
}

// deliverDue moves the clock to each message's due time and delivers it.
func (p *pipe) deliverDue(t *testing.T, msgs []nimbus.Message) []nimbus.Message {
	t.Helper()
	for _, m := range msgs {
		if m.NotBefore.After(p.now) {
			p.now = m.NotBefore
		}
		if err := p.deliverer.Deliver(t.Context(), m); err != nil {
			t.Fatalf("deliver: %v", err)
		}
	}
	return p.deliveries.take()
}

func TestRetriesExhaustedThenReplay(t *testing.T) {
	p := newPipe(t)
	p.deliverer.schedule = []time.Duration{time.Second, time.Second}
	p.poster.answers = []nimbus.Attempt{{Status: 500}, {Status: 500}, {Status: 502}}
	msgs, sub := p.oneDelivery(t)
	for len(msgs) > 0 {
		msgs = p.deliverDue(t, msgs)
	}
	admin := p.caller(p.demo.Users.TenantAdmin)
	dl, err := p.failures.List(t.Context(), admin, FailureFilter{TenantID: sub.TenantID})
	if err != nil || len(dl) != 1 || dl[0].Attempts != 3 || dl[0].LastStatus != 502 {
		t.Fatalf("dead letters: %+v, %v", dl, err)
	}
	if _, err := p.failures.List(t.Context(), p.caller(p.demo.Users.ServiceOwner), FailureFilter{TenantID: sub.TenantID}); !errors.Is(err, nimbus.ErrForbidden) {
		t.Errorf("service owner lists dead letters: %v", err)
	}
	n, err := p.failures.Replay(t.Context(), admin, FailureFilter{TenantID: sub.TenantID, SubscriptionID: sub.ID})
	if err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	msgs = p.deliveries.take()
	p.deliverAll(t, msgs)
	last := p.poster.posts[len(p.poster.posts)-1]
	if last.id != dl[0].WebhookID {
		t.Errorf("replayed with webhook-id %q, want %q", last.id, dl[0].WebhookID)
	}
	if dl, _ := p.failures.list(t.Context(), FailureFilter{TenantID: sub.TenantID}); len(dl) != 0 {
		t.Errorf("replayed dead letter still listed")
	}
}

func TestBusyHostPutsOff(t *testing.T) {
	p := newPipe(t)
	msgs, _ := p.oneDelivery(t)
	p.poster.busy = true
	next := p.deliverAll(t, msgs)
	if len(p.poster.posts) != 0 || len(next) != 1 || next[0].NotBefore.Sub(p.now) != hostBusyDelay || next[0].ID == msgs[0].ID || next[0].SessionID != msgs[0].SessionID {
		t.Fatalf("busy host: posts %d, next %+v", len(p.poster.posts), next)
	}
	var d Delivery
	_ = json.Unmarshal(next[0].Body, &d)
	if d.Attempt != 1 || !d.FirstAttempt.IsZero() {
		t.Errorf("a put-off is not an attempt: attempt %d, first attempt %v", d.Attempt, d.FirstAttempt)
	}
	p.poster.busy = false
	if next = p.deliverDue(t, next); len(next) != 0 || len(p.poster.posts) != 1 {
		t.Errorf("once the host is free: %d posts, %d messages queued", len(p.poster.posts), len(next))
	}
}

func TestSigningSecretIsUsed(t *testing.T) {
	p := newPipe(t)
	d, _ := Demo()
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	d.Settings.SigningSecret = &secret
	if _, err := p.dir.Import(t.Context(), p.caller(p.demo.Users.TenantAdmin), d); err != nil {
		t.Fatal(err)
	}
	msgs, _ := p.oneDelivery(t)
	p.deliverAll(t, msgs)
	if len(p.poster.posts) != 1 || p.poster.posts[0].secret != secret {
		t.Errorf("secret not passed to the poster")
	}
}

// A delivery put off for lack of a slot keeps its place: the next delivery of the same task
// to the same subscription waits behind it, even when it comes back first.
func TestPutOffDeliveriesKeepTheirOrder(t *testing.T) {
	p := newPipe(t)
	p.deliverer.SetMaxPerSubscription(1)
	p.deliverer.slots.wait = 10 * time.Millisecond
	cc := p.demo.Services.ContactCenter
	sub := p.register(t, p.demo.Users.TenantAdmin, "https://a.logic.azure.com/cb?sig=secret", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue, nimbus.EventTerminated}, nil, nil)
	if _, err := p.ingest.Accept(t.Context(), core, []nimbus.IngestEvent{
		event("ord", 1, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound),
		event("ord", 2, nimbus.EventTerminated, cc, nimbus.ModalityAudio, nimbus.DirectionInbound),
	}); err != nil {
		t.Fatal(err)
	}
	for _, m := range p.events.take() {
		if err := p.pipeline.ProcessEvent(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	msgs := p.deliveries.take()
	if len(msgs) != 2 || msgs[0].SessionID == "" || msgs[0].SessionID != msgs[1].SessionID {
		t.Fatalf("deliveries of one task to one subscription: %d in sessions %q", len(msgs), []string{msgs[0].SessionID, msgs[1].SessionID})
	}
	busy, _ := p.deliverer.slots.acquire(t.Context(), slotKey(&sub), false) // another attempt holds the only slot
	putOff := p.deliverAll(t, msgs)
	if len(putOff) != 2 || len(p.poster.posts) != 0 {
		t.Fatalf("with no free slot: %d put off, %d posted", len(putOff), len(p.poster.posts))
	}
	busy.done(true, false)
	again := p.deliverAll(t, []nimbus.Message{putOff[1]}) // the later one comes back first
	if len(again) != 1 || len(p.poster.posts) != 0 {
		t.Fatalf("the later delivery went ahead of the earlier one: %d posted", len(p.poster.posts))
	}
	p.deliverAll(t, []nimbus.Message{putOff[0]})
	p.deliverAll(t, again)
	if len(p.poster.posts) != 2 {
		t.Fatalf("posted %d, want 2", len(p.poster.posts))
	}
	var got []string
	for _, post := range p.poster.posts {
		var data map[string]any
		_ = json.Unmarshal(post.body, &data)
		got = append(got, data["event"].(string))
	}
	if got[0] != "InQueue" || got[1] != "Terminated" {
		t.Errorf("posted %v, want InQueue then Terminated", got)
	}
}

// The owner's access is re-checked before a retry: withheld and suspended once they lost it,
// active again and delivered when it returns.
func TestRetryWithheldWhenOwnerLostAccess(t *testing.T) {
	p := newPipe(t)
	cc := p.demo.Services.ContactCenter
	owner := p.demo.Users.ServiceOwner
	sub := p.register(t, owner, "https://a.logic.azure.com/cb?sig=secret", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}, nil, nil)
	p.poster.answers = []nimbus.Attempt{{Status: 500}}
	if _, err := p.ingest.Accept(t.Context(), core, []nimbus.IngestEvent{event("acc", 1, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound)}); err != nil {
		t.Fatal(err)
	}
	for _, m := range p.events.take() {
		if err := p.pipeline.ProcessEvent(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	retry := p.deliverDue(t, p.deliveries.take())
	if len(retry) != 1 || len(p.poster.posts) != 1 {
		t.Fatalf("first attempt: %d posts, %d retries", len(p.poster.posts), len(retry))
	}
	admin := p.caller(p.demo.Users.TenantAdmin)
	d, _ := Demo()
	owners := map[int][]string{}
	for i := range d.Services {
		owners[i] = d.Services[i].Owners
		d.Services[i].Owners = nil
	}
	if _, err := p.dir.Import(t.Context(), admin, d); err != nil {
		t.Fatal(err)
	}
	if next := p.deliverDue(t, retry); len(next) != 0 || len(p.poster.posts) != 1 {
		t.Fatalf("retry after the owner lost access: %d posts, %d queued", len(p.poster.posts), len(next))
	}
	got, _ := p.subs.Get(t.Context(), sub.TenantID, sub.ID)
	if got.Status != nimbus.StatusSuspended || got.StatusReason == "" {
		t.Fatalf("subscription %s (%q), want suspended with a reason", got.Status, got.StatusReason)
	}
	for i := range d.Services {
		d.Services[i].Owners = owners[i]
	}
	if _, err := p.dir.Import(t.Context(), admin, d); err != nil {
		t.Fatal(err)
	}
	if out := p.run(t, event("acc", 2, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound)); len(out) != 1 {
		t.Fatalf("after access returned: %d deliveries queued", len(out))
	}
	if got, _ := p.subs.Get(t.Context(), sub.TenantID, sub.ID); got.Status != nimbus.StatusActive {
		t.Errorf("after access returned: %s", got.Status)
	}
}
