package app

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// cancellingQueue is a scheduler queue that schedules with sequence numbers and records
// cancellations, as Service Bus does.
type cancellingQueue struct {
	recordingQueue
	next      int64
	cancelled []int64
}

func (q *cancellingQueue) Schedule(ctx context.Context, m nimbus.Message) (int64, error) {
	if err := q.Send(ctx, m); err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next++
	return q.next, nil
}

func (q *cancellingQueue) CancelScheduled(_ context.Context, seq int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.cancelled = append(q.cancelled, seq)
	return nil
}

type schedFixture struct {
	*fixture
	s        *Scheduler
	due      *countingTable
	events   *recordingQueue
	commands *recordingQueue
	wake     *cancellingQueue
	clock    time.Time
	mu       sync.Mutex
}

func newSchedFixture(t *testing.T) *schedFixture {
	t.Helper()
	f := &schedFixture{fixture: newFixture(t, 0), events: &recordingQueue{}, commands: &recordingQueue{}, wake: &cancellingQueue{}}
	f.clock = time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	f.due = &countingTable{Table: f.tables.Table(nimbus.TableSchedulerDue)}
	cmds := NewCommands(f.commands, f.tables.Table(nimbus.TableCommandOutbox), nil)
	f.s = NewScheduler(f.dir, f.tables.Table(nimbus.TableSchedulerEntries), f.due, f.events, f.wake, cmds, time.Minute, nil)
	f.s.now = f.now
	return f
}

func (f *schedFixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

func (f *schedFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.clock = f.clock.Add(d)
	f.mu.Unlock()
}

func (f *schedFixture) create(t *testing.T, due time.Time, maxAttempts int) nimbus.SchedulerEntryEventData {
	t.Helper()
	w := nimbus.SchedulerEntryWrite{ServiceUPN: f.demo.Services.ContactCenter, Destination: "+41790001122", DueDateTimeUTC: due.Format(time.RFC3339), MaxAttempts: &maxAttempts}
	e, err := f.s.Create(t.Context(), f.caller(f.demo.Users.ServiceOwner), w, nimbus.ConversationOutboundCall)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func eventsOf(t *testing.T, msgs []nimbus.Message) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		var env nimbus.Envelope
		if err := json.Unmarshal(m.Body, &env); err != nil || env.SchedulerEntry == nil {
			t.Fatalf("event message %s: %v", m.Body, err)
		}
		out = append(out, string(env.SchedulerEntry.Event))
	}
	return out
}

// Finding due entries reads nothing of the entries scheduled later: a sweep with 300
// future entries reads as many index rows as one with none.
func TestSchedulerSweepReadsOnlyDueRows(t *testing.T) {
	f := newSchedFixture(t)
	for i := range 300 {
		f.create(t, f.clock.Add(time.Duration(i+2)*time.Minute), 1)
	}
	f.advance(30 * time.Second)
	res, err := f.s.Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 0 || res.Buckets > 2 {
		t.Errorf("sweep read %d rows of %d buckets, want none of at most 2", res.Rows, res.Buckets)
	}
	// Three minutes on, exactly the entries due by then are found and fired.
	f.advance(3 * time.Minute)
	f.events.take()
	res, err = f.s.Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Acted != 2 {
		t.Errorf("sweep acted on %d rows, want the 2 due ones (%+v)", res.Acted, res)
	}
	if got := eventsOf(t, f.events.take()); len(got) != 2 || got[0] != "DueDateReached" {
		t.Errorf("events %v", got)
	}
}

// Two firers racing on one due entry: one DueDateReached and one command.
func TestSchedulerFiresOnceUnderRace(t *testing.T) {
	f := newSchedFixture(t)
	e := f.create(t, f.clock.Add(time.Minute), 1)
	f.advance(2 * time.Minute)
	f.events.take()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.s.advance(context.Background(), f.demo.TenantID, "svc-contactcenter", e.SchedulerEntryID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// The queue drops a repeated message id (duplicate detection), so count distinct ones.
	distinct := map[string]nimbus.Message{}
	for _, m := range f.events.take() {
		distinct[m.ID] = m
	}
	var msgs []nimbus.Message
	for _, m := range distinct {
		msgs = append(msgs, m)
	}
	if got := eventsOf(t, msgs); len(got) != 1 || got[0] != "DueDateReached" {
		t.Errorf("events %v, want one DueDateReached", got)
	}
	ids := map[string]bool{}
	for _, m := range f.commands.take() {
		ids[m.ID] = true
	}
	if len(ids) != 1 {
		t.Errorf("commands %v, want one", ids)
	}
}

// An update cancels the waiting wake-up and schedules a new one; removal cancels it.
func TestSchedulerCancelsStaleWakeUps(t *testing.T) {
	f := newSchedFixture(t)
	e := f.create(t, f.clock.Add(time.Hour), 1)
	if n := len(f.wake.take()); n != 1 {
		t.Fatalf("wake-ups after create: %d", n)
	}
	w := nimbus.SchedulerEntryWrite{ServiceUPN: f.demo.Services.ContactCenter, Destination: "+41790001122", DueDateTimeUTC: f.clock.Add(2 * time.Hour).Format(time.RFC3339)}
	if _, err := f.s.Update(t.Context(), f.caller(f.demo.Users.ServiceOwner), e.SchedulerEntryID, w, nimbus.ConversationOutboundCall); err != nil {
		t.Fatal(err)
	}
	msgs := f.wake.take()
	if len(msgs) != 1 || !msgs[0].NotBefore.Equal(f.clock.Add(2*time.Hour)) || len(f.wake.cancelled) != 1 || f.wake.cancelled[0] != 1 {
		t.Fatalf("after update: wake-ups %v, cancelled %v", msgs, f.wake.cancelled)
	}
	if _, err := f.s.Delete(t.Context(), f.caller(f.demo.Users.ServiceOwner), e.SchedulerEntryID); err != nil {
		t.Fatal(err)
	}
	if len(f.wake.cancelled) != 2 || f.wake.cancelled[1] != 2 {
		t.Errorf("after removal: cancelled %v", f.wake.cancelled)
	}
}

// A change whose events were not sent (a crash right after the write) is completed by the
// sweep, with the same event ids.
func TestSchedulerSweepSendsWhatACrashLeftPending(t *testing.T) {
	f := newSchedFixture(t)
	f.events.fail = errors.New("queue down")
	e := f.create(t, f.clock.Add(time.Hour), 1)
	f.events.fail = nil
	if got := f.events.take(); len(got) != 0 {
		t.Fatalf("events sent while the queue was down: %d", len(got))
	}
	f.advance(flushDelay + time.Second)
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	msgs := f.events.take()
	if got := eventsOf(t, msgs); len(got) != 1 || got[0] != "Scheduled" {
		t.Fatalf("events after sweep %v", got)
	}
	var env nimbus.Envelope
	_ = json.Unmarshal(msgs[0].Body, &env)
	if env.ID != e.SchedulerEntryID+".1" {
		t.Errorf("event id %q", env.ID)
	}
	// Sent once: the next sweep finds nothing pending.
	f.advance(time.Minute)
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.events.take()); n != 0 {
		t.Errorf("pending events sent again: %d", n)
	}
}

// Core's reports: stale and repeated reports change nothing; retry after the service's delay.
func TestSchedulerReports(t *testing.T) {
	f := newSchedFixture(t)
	e := f.create(t, f.clock.Add(-time.Minute), 2)
	id := e.SchedulerEntryID
	report := func(attempt int, outcome nimbus.AttemptOutcome) {
		t.Helper()
		r := nimbus.AttemptReport{TenantID: f.demo.TenantID, Attempt: attempt, Outcome: outcome, OccurredAt: f.now().Format(time.RFC3339)}
		if err := f.s.Report(t.Context(), id, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := eventsOf(t, f.events.take()); len(got) != 2 || got[1] != "DueDateReached" {
		t.Fatalf("events after create %v", got)
	}
	report(2, nimbus.OutcomeReached) // not the current attempt
	report(1, nimbus.OutcomeNotReached)
	report(1, nimbus.OutcomeNotReached) // repeated
	if got := eventsOf(t, f.events.take()); len(got) != 1 || got[0] != "Scheduled" {
		t.Fatalf("events after reports %v", got)
	}
	f.advance(nimbus.DefaultOutboundRetryDelay + time.Second)
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := eventsOf(t, f.events.take()); len(got) != 1 || got[0] != "DueDateReached" {
		t.Fatalf("events after the retry delay %v", got)
	}
	report(2, nimbus.OutcomeNotReached)
	msgs := f.events.take()
	var env nimbus.Envelope
	_ = json.Unmarshal(msgs[0].Body, &env)
	if ev := env.SchedulerEntry; ev.Event != nimbus.SchedulerLimitReached || ev.Attempt != 2 || ev.Entry.CompletionReason != nimbus.ReasonNoAnswer {
		t.Errorf("last event %+v", ev)
	}
	// The ended entry is kept for its retention, then the sweep deletes it.
	f.advance(nimbus.FinalEntryRetention - time.Minute)
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.locate(t.Context(), f.demo.TenantID, id); err != nil {
		t.Fatalf("entry gone before its retention: %v", err)
	}
	f.advance(2 * time.Minute)
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.locate(t.Context(), f.demo.TenantID, id); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("entry after its retention: %v", err)
	}
	if _, err := f.s.entries.Get(t.Context(), entryPartition(f.demo.TenantID, "svc-contactcenter"), id); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("entry record after its retention: %v", err)
	}
}

// A firing whose sends failed (the queue down, or a crash after the write) keeps the row
// that came due as its marker; the sweep sends the event and the command later, once.
func TestSchedulerSweepCompletesAnInterruptedFiring(t *testing.T) {
	f := newSchedFixture(t)
	e := f.create(t, f.clock.Add(time.Minute), 1)
	f.events.take()
	f.events.fail = errors.New("queue down")
	f.advance(2 * time.Minute)
	res, err := f.s.Sweep(t.Context())
	if err != nil || res.Acted != 1 {
		t.Fatalf("sweep: %+v %v", res, err)
	}
	f.events.fail = nil
	// Too soon: the change that raised them might still be sending.
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.events.take()); n != 0 {
		t.Fatalf("sent %d events before the flush delay", n)
	}
	f.advance(flushDelay + time.Second)
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := eventsOf(t, f.events.take()); len(got) != 1 || got[0] != "DueDateReached" {
		t.Fatalf("events %v", got)
	}
	cmds := f.commands.take()
	if len(cmds) != 1 || cmds[0].ID != nimbus.ScopedID(f.demo.TenantID, nimbus.OutboundCommandID(f.demo.TenantID, e.SchedulerEntryID, 1)) {
		t.Fatalf("commands %v", cmds)
	}
	f.advance(time.Minute)
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.events.take()) + len(f.commands.take()); n != 0 {
		t.Errorf("sent %d messages again", n)
	}
}

// A late firing whose sends failed keeps its marker row in a bucket behind the watermark's
// lag; the sweep that finds it too soon to resend must not move the watermark past it.
func TestSchedulerWatermarkWaitsForKeptRows(t *testing.T) {
	f := newSchedFixture(t)
	e := f.create(t, f.clock.Add(time.Minute), 1)
	f.events.take()
	f.advance(5 * time.Minute)
	f.events.fail = errors.New("queue down")
	if _, err := f.s.advance(t.Context(), f.demo.TenantID, "svc-contactcenter", e.SchedulerEntryID); err != nil {
		t.Fatal(err)
	}
	f.events.fail = nil
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.events.take()); n != 0 {
		t.Fatalf("sent %d events before the flush delay", n)
	}
	f.advance(flushDelay + time.Second)
	if _, err := f.s.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := eventsOf(t, f.events.take()); len(got) != 1 || got[0] != "DueDateReached" {
		t.Fatalf("events %v, want the DueDateReached left pending", got)
	}
}
