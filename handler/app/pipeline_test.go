package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// recordingQueue keeps what was sent, for the test to hand to the next step.
type recordingQueue struct {
	mu   sync.Mutex
	msgs []nimbus.Message
	fail error
}

func (q *recordingQueue) Send(_ context.Context, msgs ...nimbus.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.msgs = append(q.msgs, msgs...)
	return nil
}

func (q *recordingQueue) take() []nimbus.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.msgs
	q.msgs = nil
	return out
}

// scriptedPoster answers each Post with the next scripted attempt (or 200).
type scriptedPoster struct {
	mu      sync.Mutex
	answers []nimbus.Attempt
	posts   []post
	busy    bool
}

type post struct {
	url, id, secret string
	body            []byte
}

func (p *scriptedPoster) Post(_ context.Context, url, id string, body []byte, secret string) nimbus.Attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, post{url, id, secret, body})
	if len(p.answers) == 0 {
		return nimbus.Attempt{Status: 200}
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a
}

func (p *scriptedPoster) Acquire(string) (func(), bool) { return func() {}, !p.busy }

type pipe struct {
	*fixture
	subs       *Subscriptions
	ingest     *Ingest
	pipeline   *Pipeline
	deliverer  *Deliverer
	failures   *Failures
	events     *recordingQueue
	deliveries *recordingQueue
	poster     *scriptedPoster
	stats      *Stats
	now        time.Time
}

var core = nimbus.Caller{TenantID: DemoTenantID, AppID: "core", IsApp: true, Roles: []string{nimbus.AppRoleCore}}

func newPipe(t *testing.T) *pipe {
	t.Helper()
	f := newFixture(t, 0)
	tables := f.tables
	p := &pipe{fixture: f, events: &recordingQueue{}, deliveries: &recordingQueue{}, poster: &scriptedPoster{}, stats: NewStats(nil), now: time.Now()}
	policy := func(u string) error {
		if strings.Contains(u, "forbidden") {
			return nimbus.Invalid("config.url", "the callback host is not allowed")
		}
		return nil
	}
	p.subs = NewSubscriptions(f.dir, tables.Table(nimbus.TableSubscriptions), tables.Table(nimbus.TableSubscriptionIndex), policy)
	p.ingest = NewIngest(f.dir, p.events, p.stats)
	p.pipeline = NewPipeline(f.dir, p.subs, tables.Table(nimbus.TableTasks), p.deliveries, p.stats)
	p.failures = NewFailures(f.dir, tables.Table(nimbus.TableDeliveryFailures), p.deliveries)
	p.deliverer = NewDeliverer(f.dir, p.subs, p.deliveries, p.failures, p.poster, nil, p.stats)
	clock := func() time.Time { return p.now }
	p.deliverer.now, p.pipeline.now, p.subs.now = clock, clock, clock
	return p
}

func (p *pipe) register(t *testing.T, upn, url string, services []string, events []nimbus.TaskEvent, mods []nimbus.Modality, dirs []nimbus.Direction) nimbus.Subscription {
	t.Helper()
	var cfg nimbus.TaskTriggerConfig
	cfg.Config.URL, cfg.Config.Services, cfg.Config.TaskEvents, cfg.Config.Modalities, cfg.Config.Directions = url, services, events, mods, dirs
	sub, err := p.subs.RegisterTaskTrigger(t.Context(), p.caller(upn), cfg)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return sub
}

var seq int64

func event(task string, n int64, ev nimbus.TaskEvent, svc string, mod nimbus.Modality, dir nimbus.Direction) nimbus.IngestEvent {
	seq++
	s := n
	return nimbus.IngestEvent{
		EventID: fmt.Sprintf("ev-%d", seq), TenantID: DemoTenantID, TaskID: task, Sequence: &s, Event: ev,
		OccurredAt: "2026-11-26T10:00:00Z", ServiceUPN: svc, Direction: dir, Modality: mod,
	}
}

// run pushes events through ingest and fan-out and returns the deliveries queued.
func (p *pipe) run(t *testing.T, events ...nimbus.IngestEvent) []Delivery {
	t.Helper()
	if _, err := p.ingest.Accept(t.Context(), core, events); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	for _, m := range p.events.take() {
		if err := p.pipeline.ProcessEvent(t.Context(), m); err != nil {
			t.Fatalf("process: %v", err)
		}
	}
	var out []Delivery
	for _, m := range p.deliveries.take() {
		var d Delivery
		if err := json.Unmarshal(m.Body, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func TestFanOutFilters(t *testing.T) {
	p := newPipe(t)
	cc, sales := p.demo.Services.ContactCenter, p.demo.Services.EnterpriseRouting
	owner := p.demo.Users.ServiceOwner
	all := p.register(t, owner, "https://a.logic.azure.com/all", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue, nimbus.EventTerminated}, nil, nil)
	chat := p.register(t, owner, "https://a.logic.azure.com/chat", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}, []nimbus.Modality{nimbus.ModalityInstantMessaging}, nil)
	out := p.register(t, owner, "https://a.logic.azure.com/out", []string{cc, sales}, []nimbus.TaskEvent{nimbus.EventWorkflowStarted}, nil, []nimbus.Direction{nimbus.DirectionOutbound})

	tests := []struct {
		name string
		ev   nimbus.IngestEvent
		want []string
	}{
		{"audio in queue", event("t1", 1, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound), []string{all.ID}},
		{"chat in queue", event("t2", 1, nimbus.EventInQueue, cc, nimbus.ModalityInstantMessaging, nimbus.DirectionInbound), []string{all.ID, chat.ID}},
		{"event nobody wants", event("t3", 1, nimbus.EventSystemAccepted, cc, nimbus.ModalityAudio, nimbus.DirectionInbound), nil},
		{"other service", event("t4", 1, nimbus.EventInQueue, sales, nimbus.ModalityAudio, nimbus.DirectionInbound), nil},
		{"outbound start", event("t5", 1, nimbus.EventWorkflowStarted, sales, nimbus.ModalityAudio, nimbus.DirectionOutbound), []string{out.ID}},
		{"inbound start", event("t6", 1, nimbus.EventWorkflowStarted, cc, nimbus.ModalityAudio, nimbus.DirectionInbound), nil},
	}
	for _, tt := range tests {
		got := p.run(t, tt.ev)
		var ids []string
		for _, d := range got {
			ids = append(ids, d.SubscriptionID)
		}
		if fmt.Sprint(slices.Sorted(slices.Values(ids))) != fmt.Sprint(slices.Sorted(slices.Values(tt.want))) {
			t.Errorf("%s: delivered to %v, want %v", tt.name, ids, tt.want)
		}
	}
}

func TestTaskProjectionRules(t *testing.T) {
	p := newPipe(t)
	cc := p.demo.Services.ContactCenter
	sub := p.register(t, p.demo.Users.TenantAdmin, "https://a.logic.azure.com/x", []string{cc},
		[]nimbus.TaskEvent{nimbus.EventWorkflowStarted, nimbus.EventParameterUpdated, nimbus.EventConnectedToUser}, nil, nil)
	in := nimbus.DirectionInbound
	start := event("call", 1, nimbus.EventWorkflowStarted, cc, nimbus.ModalityAudio, in)
	start.Fields.CallerTelNumber = "+41790000000"
	if got := p.run(t, start); len(got) != 1 || got[0].SubscriptionID != sub.ID {
		t.Fatalf("first WorkflowStarted: %+v", got)
	}
	if got := p.run(t, event("call", 2, nimbus.EventWorkflowStarted, cc, nimbus.ModalityAudio, in)); len(got) != 0 {
		t.Errorf("second WorkflowStarted delivered: %d", len(got))
	}
	param := event("call", 3, nimbus.EventParameterUpdated, cc, nimbus.ModalityAudio, in)
	param.Parameter = &nimbus.Parameter{Name: "language", Value: "de"}
	got := p.run(t, param)
	if len(got) != 1 {
		t.Fatalf("ParameterUpdated: %d deliveries", len(got))
	}
	var data nimbus.TaskEventData
	_ = json.Unmarshal(got[0].Payload, &data)
	if data.UpdatedParameterName != "language" || data.UpdatedParameterValue != "de" || data.CallerTelNumber != "+41790000000" || data.Sequence != 3 || data.ServiceUPN != cc {
		t.Errorf("payload: %+v", data)
	}
	if len(data.TaskInformation.CustomContextParameters) != 1 {
		t.Errorf("parameter not kept in taskInformation: %+v", data.TaskInformation)
	}
	stale := event("call", 3, nimbus.EventConnectedToUser, cc, nimbus.ModalityAudio, in)
	if got := p.run(t, stale); len(got) != 0 {
		t.Errorf("event with a stale sequence delivered")
	}
	// The same event delivered twice by the queue (same id) fans out once: the second
	// processing finds the sequence applied.
	conn := event("call", 4, nimbus.EventConnectedToUser, cc, nimbus.ModalityAudio, in)
	body := envelopeBody(conn)
	for range 2 {
		if err := p.pipeline.ProcessEvent(t.Context(), nimbus.Message{ID: conn.EventID, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(p.deliveries.take()); n != 1 {
		t.Errorf("redelivered event fanned out %d times, want 1", n)
	}
}

// A crash after the deliveries were queued but before the projection was written repeats the
// step on redelivery with the same delivery ids, which the queue deduplicates.
func TestFanOutIsRepeatableAfterACrash(t *testing.T) {
	p := newPipe(t)
	cc := p.demo.Services.ContactCenter
	p.register(t, p.demo.Users.TenantAdmin, "https://a.logic.azure.com/x", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}, nil, nil)
	ev := event("crash", 1, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound)
	body := envelopeBody(ev)
	broken := &failingTable{Table: p.tables.Table(nimbus.TableTasks), fail: nimbus.Unavailable("write", errors.New("down"))}
	p.pipeline.tasks = taskStore{broken}
	if err := p.pipeline.ProcessEvent(t.Context(), nimbus.Message{ID: ev.EventID, Body: body}); err == nil {
		t.Fatal("a failed projection write must fail the step so the queue redelivers it")
	}
	first := p.deliveries.take()
	broken.fail = nil
	if err := p.pipeline.ProcessEvent(t.Context(), nimbus.Message{ID: ev.EventID, Body: body}); err != nil {
		t.Fatal(err)
	}
	second := p.deliveries.take()
	if len(first) != 1 || len(second) != 1 || first[0].ID != second[0].ID {
		t.Errorf("delivery ids across the repeat: %v then %v", ids(first), ids(second))
	}
}

// envelopeBody is the events-queue body ingest builds for e.
func envelopeBody(e nimbus.IngestEvent) []byte {
	body, err := json.Marshal(nimbus.Envelope{Kind: nimbus.EventKindTask, Tenant: e.TenantID, Service: e.ServiceUPN, ID: e.EventID, Task: &e})
	if err != nil {
		panic(err)
	}
	return body
}

func ids(msgs []nimbus.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}

type failingTable struct {
	nimbus.Table
	fail error
}

func (f *failingTable) Insert(ctx context.Context, e nimbus.Entity) (string, error) {
	if f.fail != nil {
		return "", f.fail
	}
	return f.Table.Insert(ctx, e)
}
