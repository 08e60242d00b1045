package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// bigBody is a queued body of a tenant, larger than a queue message may be.
func bigBody(tenant string) []byte {
	body, _ := json.Marshal(map[string]string{"tenantId": tenant, "blob": strings.Repeat("b", 400<<10)})
	return body
}

func TestClaimCheck(t *testing.T) {
	f := newFixture(t, 0)
	claims := NewClaims(f.tables.Table(nimbus.TableClaims), nil)
	rec := &recordingQueue{}
	q := claims.Queues(fakeQueues{rec}).Queue(nimbus.QueueDeliveries)
	big, small := bigBody(f.demo.TenantID), []byte(`{"tenantId":"x"}`)
	msgs := []nimbus.Message{{ID: "big", Body: big}, {ID: "small", Body: small}}
	if err := q.Send(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msgs[0].Body, big) {
		t.Error("Send changed the caller's message")
	}
	sent := rec.take()
	if len(sent[0].Body) > nimbus.MaxInlineBody || !bytes.Equal(sent[1].Body, small) {
		t.Fatalf("sent %d and %q bytes, want a claim reference and the small body as it is", len(sent[0].Body), sent[1].Body)
	}
	if err := nimbus.CheckMessages(sent); err != nil {
		t.Errorf("claimed messages: %v", err)
	}

	// A failing handler keeps the claim for the redelivery; a successful one removes it.
	var got []byte
	fail := errors.New("not yet")
	h := claims.Resolve(func(_ context.Context, m nimbus.Message) error { got = m.Body; return fail })
	if err := h(t.Context(), sent[0]); err == nil || !bytes.Equal(got, big) {
		t.Fatalf("first handling: err %v, body of %d bytes, want the failure and the %d bytes", err, len(got), len(big))
	}
	fail = nil
	if err := h(t.Context(), sent[0]); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("redelivery: err %v, body of %d bytes", err, len(got))
	}
	ref, _ := ParseRef(sent[0].Body)
	if _, err := claims.Get(t.Context(), ref.Claim.TenantID, ref.Claim.ID); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("claim after its message was handled: %v, want not found", err)
	}
	// Another tenant never reads the claim.
	if err := q.Send(t.Context(), nimbus.Message{ID: "big2", Body: big}); err != nil {
		t.Fatal(err)
	}
	ref, _ = ParseRef(rec.take()[0].Body)
	if _, err := claims.Get(t.Context(), "7f3e2d1c-0b9a-4876-9543-210fedcba987", ref.Claim.ID); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("another tenant's read: %v, want not found", err)
	}
	// Core reads a claim with its application token; nobody else may.
	if body, err := claims.Read(t.Context(), core, ref.Claim.TenantID, ref.Claim.ID); err != nil || !bytes.Equal(body, big) {
		t.Errorf("core reads the claim: %d bytes, %v", len(body), err)
	}
	if _, err := claims.Read(t.Context(), f.caller(f.demo.Users.TenantAdmin), ref.Claim.TenantID, ref.Claim.ID); nimbus.KindOf(err) != nimbus.KindForbidden {
		t.Errorf("a user reads the claim: %v, want KindForbidden", err)
	}
	// Purge removes old claims, but not those kept for dead letters.
	if err := q.Send(t.Context(), nimbus.Message{ID: "big3", Body: big}); err != nil {
		t.Fatal(err)
	}
	kept, _ := ParseRef(rec.take()[0].Body)
	if err := claims.Keep(t.Context(), kept.Claim.TenantID, kept.Claim.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := claims.Purge(t.Context(), f.demo.TenantID, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("purge: %d, %v; want 1", n, err)
	}
	if _, err := claims.Get(t.Context(), kept.Claim.TenantID, kept.Claim.ID); err != nil {
		t.Errorf("kept claim: %v", err)
	}
	// A body that names no tenant, or exceeds what a claim holds, is refused, not queued.
	tooLarge, _ := json.Marshal(map[string]string{"tenantId": f.demo.TenantID, "blob": strings.Repeat("b", nimbus.MaxClaimBody)})
	for name, body := range map[string][]byte{"no tenant": bytes.Repeat([]byte("x"), 300<<10), "too large": tooLarge} {
		if err := q.Send(t.Context(), nimbus.Message{ID: "bad", Body: body}); nimbus.KindOf(err) != nimbus.KindInvalid {
			t.Errorf("%s: got %v, want KindInvalid", name, err)
		}
	}
}

type fakeQueues struct{ q nimbus.Queue }

func (f fakeQueues) Queue(string) nimbus.Queue { return f.q }

// scriptedQueue fails the sends of chosen message ids.
type scriptedQueue struct {
	recordingQueue
	fails map[string]error
}

func (q *scriptedQueue) Send(ctx context.Context, msgs ...nimbus.Message) error {
	for _, m := range msgs {
		if err := q.fails[m.ID]; err != nil {
			return err
		}
	}
	return q.recordingQueue.Send(ctx, msgs...)
}

// One command the queue cannot take now, and one it refuses for good, do not hold back the
// command behind them; the refused one is dead-lettered where admins see it.
func TestFlushGoesPastUnsendableCommands(t *testing.T) {
	f := newFixture(t, 0)
	q := &scriptedQueue{fails: map[string]error{}}
	outbox := f.tables.Table(nimbus.TableCommandOutbox)
	failures := NewQueueFailures(f.dir, f.tables.Table(nimbus.TableQueueFailures), fakeQueues{q}, NewClaims(f.tables.Table(nimbus.TableClaims), nil), nil)
	c := NewCommands(q, outbox, nil)
	c.Unsendable = failures
	tenant := f.demo.TenantID
	down := nimbus.Unavailable("send", errors.New("down"))
	for _, id := range []string{"a-down", "b-refused", "c-fine"} {
		q.fails[nimbus.ScopedID(tenant, id)] = down
		if err := c.Send(t.Context(), nimbus.Command{CommandID: id, TenantID: tenant, Type: nimbus.CommandTaskUpdated, TaskID: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	q.fails[nimbus.ScopedID(tenant, "b-refused")] = nimbus.Invalid("body", "too large")
	delete(q.fails, nimbus.ScopedID(tenant, "c-fine"))
	c.now = func() time.Time { return time.Now().Add(time.Minute) }
	sent, err := c.Flush(t.Context())
	if sent != 1 || err == nil || !strings.Contains(err.Error(), "a-down") {
		t.Errorf("flush: sent %d, err %v; want 1 sent and the failure of a-down", sent, err)
	}
	if got := ids(q.take()); len(got) != 1 || got[0] != nimbus.ScopedID(tenant, "c-fine") {
		t.Errorf("queued %v, want only c-fine", got)
	}
	admin := f.caller(f.demo.Users.TenantAdmin)
	dead, err := failures.List(t.Context(), admin, QueueFailureFilter{TenantID: tenant})
	if err != nil || len(dead) != 1 || dead[0].MessageID != nimbus.ScopedID(tenant, "b-refused") || dead[0].Queue != nimbus.QueueCommands {
		t.Fatalf("queue failures: %+v, %v; want b-refused on %s", dead, err, nimbus.QueueCommands)
	}
	var left []string
	_ = eachEntity(t.Context(), outbox, outboxPartition, "", func(e nimbus.Entity) error { left = append(left, e.RowKey); return nil })
	if len(left) != 1 || left[0] != nimbus.ScopedID(tenant, "a-down") {
		t.Errorf("outbox holds %v, want only a-down", left)
	}
	// Replayed once the queue takes it again, the command is queued and leaves the list.
	delete(q.fails, nimbus.ScopedID(tenant, "b-refused"))
	if n, err := failures.Replay(t.Context(), admin, QueueFailureFilter{TenantID: tenant, IDs: []string{dead[0].ID}}); err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	if got := q.take(); len(got) != 1 || !strings.Contains(string(got[0].Body), "b-refused") {
		t.Errorf("replayed %v", ids(got))
	}
}

// An event the fan-out keeps failing is dead-lettered by the queue, shows up in the queue
// failures through the dead-letter sub-queue, and is processed when replayed.
func TestDeadLetteredEventIsVisibleAndReplayable(t *testing.T) {
	db, err := embedded.Open(filepath.Join(t.TempDir(), "nimbus.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := newFixtureOn(t, db.Tables(), 0)
	qs := db.Queues(embedded.QueueOptions{MaxDeliveries: 2, RetryBackoff: func(int) time.Duration { return time.Millisecond }})
	claims := NewClaims(f.tables.Table(nimbus.TableClaims), nil)
	queues := claims.Queues(qs)
	stats := NewStats(nil)
	subs := NewSubscriptions(f.dir, f.tables.Table(nimbus.TableSubscriptions), f.tables.Table(nimbus.TableSubscriptionIndex), func(string) error { return nil })
	deliveries := &recordingQueue{}
	pipeline := NewPipeline(f.dir, subs, f.tables.Table(nimbus.TableTasks), deliveries, stats)
	broken := &failingTable{Table: f.tables.Table(nimbus.TableTasks), fail: nimbus.Unavailable("write", errors.New("down"))}
	var mu sync.Mutex
	pipeline.tasks = newTaskStore(&lockedTable{failingTable: broken, mu: &mu}, f.dir)
	failures := NewQueueFailures(f.dir, f.tables.Table(nimbus.TableQueueFailures), queues, claims, nil)

	cc := f.demo.Services.ContactCenter
	var cfg nimbus.TaskTriggerConfig
	cfg.Config.URL, cfg.Config.Services, cfg.Config.TaskEvents = "https://a.logic.azure.com/x", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}
	if _, err := subs.RegisterTaskTrigger(t.Context(), f.caller(f.demo.Users.TenantAdmin), cfg); err != nil {
		t.Fatal(err)
	}
	ingest := NewIngest(f.dir, queues.Queue(nimbus.QueueEvents), stats)
	if _, err := ingest.Accept(t.Context(), core, []nimbus.IngestEvent{event("dl", 1, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = qs.Run(ctx, nimbus.QueueEvents, claims.Resolve(pipeline.ProcessEvent), 2) }()
	go func() {
		_ = qs.Run(ctx, nimbus.DeadLetterQueue(nimbus.QueueEvents), failures.RecordDeadLetters(nimbus.QueueEvents), 1)
	}()

	admin := f.caller(f.demo.Users.TenantAdmin)
	var dead []QueueFailure
	for deadline := time.Now().Add(10 * time.Second); len(dead) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the dead-lettered event never showed up in the queue failures")
		}
		if dead, err = failures.List(t.Context(), admin, QueueFailureFilter{TenantID: f.demo.TenantID, Queue: nimbus.QueueEvents}); err != nil {
			t.Fatal(err)
		}
	}
	if len(dead) != 1 || !strings.HasPrefix(dead[0].SessionID, f.demo.TenantID+"/") || !strings.Contains(string(dead[0].Body), `"kind":"task"`) {
		t.Fatalf("queue failure: %+v", dead)
	}
	if n := len(deliveries.take()); n == 0 {
		t.Fatal("the failing fan-out queued no deliveries before the projection write failed")
	}
	mu.Lock()
	broken.fail = nil
	mu.Unlock()
	if n, err := failures.Replay(t.Context(), admin, QueueFailureFilter{TenantID: f.demo.TenantID, Queue: nimbus.QueueEvents}); err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := pipeline.tasks.get(t.Context(), f.demo.TenantID, "dl"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replayed event was not processed")
		}
	}
	if left, _ := failures.List(t.Context(), admin, QueueFailureFilter{TenantID: f.demo.TenantID}); len(left) != 0 {
		t.Errorf("queue failures after replay: %+v", left)
	}
}

// lockedTable guards the switch of a failingTable used from queue workers.
type lockedTable struct {
	*failingTable
	mu *sync.Mutex
}

func (l *lockedTable) Insert(ctx context.Context, e nimbus.Entity) (string, error) {
	l.mu.Lock()
	fail := l.fail
	l.mu.Unlock()
	if fail != nil {
		return "", fail
	}
	return l.failingTable.Table.Insert(ctx, e)
}

// The Housekeeping timer finds every tenant that stored claims and removes the claims whose
// message was never consumed once ClaimRetention has passed; younger ones stay.
func TestClaimsPurgeJob(t *testing.T) {
	f := newFixture(t, 0)
	claims := NewClaims(f.tables.Table(nimbus.TableClaims), nil)
	now := time.Now()
	claims.now = func() time.Time { return now }
	old, err := claims.Put(t.Context(), bigBody(f.demo.TenantID))
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(ClaimRetention)
	young, err := claims.Put(t.Context(), bigBody(f.demo.TenantID))
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if err := claims.PurgeJob(t.Context()); err != nil {
		t.Fatal(err)
	}
	oldRef, _ := ParseRef(old)
	youngRef, _ := ParseRef(young)
	if _, err := claims.Get(t.Context(), f.demo.TenantID, oldRef.Claim.ID); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("claim past its retention: %v, want not found", err)
	}
	if _, err := claims.Get(t.Context(), f.demo.TenantID, youngRef.Claim.ID); err != nil {
		t.Errorf("claim within its retention: %v", err)
	}
}
