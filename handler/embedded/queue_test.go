package embedded

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/nimbusflow/connector/handler/nimbus"
	"github.com/nimbusflow/connector/handler/storetest"
)

// testQueueOptions are the settings the conformance suite asks for, with a short backoff.
var testQueueOptions = QueueOptions{
	LockDuration:  storetest.QueueLockDuration,
	MaxDeliveries: storetest.QueueMaxDeliveries,
	RetryBackoff:  func(int) time.Duration { return 10 * time.Millisecond },
	Logger:        slog.New(slog.DiscardHandler),
}

func TestQueueConformance(t *testing.T) {
	storetest.RunQueue(t, func(t *testing.T) (nimbus.Queues, storetest.Consume) {
		qs := openTemp(t).Queues(testQueueOptions)
		return qs, qs.Run
	})
}

// runQueue consumes name with h until the test ends, and checks that Run returns nil.
func runQueue(t *testing.T, qs *Queues, name string, concurrency int, h nimbus.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- qs.Run(ctx, name, h, concurrency) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run %s: %v", name, err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func TestQueueSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nimbus.db")
	db, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	var backoff atomic.Int64
	opts := testQueueOptions
	opts.RetryBackoff = func(int) time.Duration { return time.Duration(backoff.Load()) }
	qs := db.Queues(opts)
	ctx := t.Context()
	q := qs.Queue("q")
	failing := make(chan nimbus.Message, 16)
	fail := func(ctx context.Context, m nimbus.Message) error {
		failing <- m
		return errors.New("fail")
	}

	// Dead-letter "poison".
	backoff.Store(int64(10 * time.Millisecond))
	if err := q.Send(ctx, nimbus.Message{ID: "poison", Body: []byte("p")}); err != nil {
		t.Fatalf("send: %v", err)
	}
	stop := runQueue(t, qs, "q", 2, fail)
	for range storetest.QueueMaxDeliveries {
		receive(t, failing)
	}
	stop()

	// Abandon "failed-once" once; the long backoff keeps it from coming back before the stop.
	backoff.Store(int64(time.Second))
	err = q.Send(ctx,
		nimbus.Message{ID: "failed-once", SessionID: "s", Body: []byte("a")},
		nimbus.Message{ID: "behind", SessionID: "s", Body: []byte("b")},
		nimbus.Message{ID: "scheduled", NotBefore: time.Now().Add(time.Hour)},
	)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	stop = runQueue(t, qs, "q", 2, fail)
	if m := receive(t, failing); m.ID != "failed-once" {
		t.Fatalf("got %q, want failed-once", m.ID)
	}
	stop()
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	db = reopen(t, path)
	qs = db.Queues(testQueueOptions)
	if n := qs.Len("q"); n != 3 {
		t.Fatalf("after reopen: got Len %d, want 3 (the session pair and the scheduled message)", n)
	}
	dead, err := qs.DeadLetters(ctx, "q")
	if err != nil || len(dead) != 1 || dead[0].ID != "poison" || string(dead[0].Body) != "p" {
		t.Fatalf("dead letters after reopen: got %+v, %v, want poison", dead, err)
	}
	// Duplicate detection survives too.
	if err := qs.Queue("q").Send(ctx, nimbus.Message{ID: "poison"}); err != nil {
		t.Fatalf("send duplicate: %v", err)
	}
	if n := qs.Len("q"); n != 3 {
		t.Fatalf("after sending a duplicate: got Len %d, want 3", n)
	}
	got := make(chan nimbus.Message, 16)
	runQueue(t, qs, "q", 4, func(ctx context.Context, m nimbus.Message) error {
		got <- m
		return nil
	})
	// The abandon was persisted: the count goes on, and the session keeps its order.
	for _, want := range []struct {
		id    string
		count int
	}{{"failed-once", 2}, {"behind", 1}} {
		if m := receive(t, got); m.ID != want.id || m.DeliveryCount != want.count || m.SessionID != "s" {
			t.Fatalf("got %q delivery %d, want %q delivery %d in session s", m.ID, m.DeliveryCount, want.id, want.count)
		}
	}
	select {
	case m := <-got:
		t.Fatalf("unexpected delivery of %q", m.ID)
	case <-time.After(200 * time.Millisecond):
	}
}

func receive(t *testing.T, ch <-chan nimbus.Message) nimbus.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10 s")
		return nimbus.Message{}
	}
}

func reopen(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestQueueRunArguments(t *testing.T) {
	qs := openTemp(t).Queues(testQueueOptions)
	ctx := t.Context()
	noop := func(context.Context, nimbus.Message) error { return nil }
	cases := []struct {
		name        string
		queue       string
		h           nimbus.Handler
		concurrency int
		kind        nimbus.Kind
	}{
		{"nil handler", "q", nil, 1, nimbus.KindInvalid},
		{"zero concurrency", "q", noop, 0, nimbus.KindInvalid},
		{"empty name", "", noop, 1, nimbus.KindInvalid},
		{"long name", string(make([]byte, maxQueueName+1)), noop, 1, nimbus.KindInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := qs.Run(ctx, tc.queue, tc.h, tc.concurrency)
			if got := nimbus.KindOf(err); got != tc.kind {
				t.Fatalf("got kind %s (%v), want %s", got, err, tc.kind)
			}
		})
	}
	t.Run("second run", func(t *testing.T) {
		runQueue(t, qs, "busy", 1, noop)
		q, err := qs.queue("busy")
		if err != nil {
			t.Fatal(err)
		}
		for start := time.Now(); ; time.Sleep(time.Millisecond) { // until the first Run is up
			q.mu.Lock()
			consuming := q.consuming
			q.mu.Unlock()
			if consuming {
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatal("the first Run did not start")
			}
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := qs.Run(ctx, "busy", noop, 1); nimbus.KindOf(err) != nimbus.KindConflict {
			t.Fatalf("second Run of a queue: got %v, want KindConflict", err)
		}
	})
}

func TestQueueClosed(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "nimbus.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	qs := db.Queues(testQueueOptions)
	q := qs.Queue("q")
	if err := q.Send(t.Context(), nimbus.Message{ID: "before"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	started := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- qs.Run(context.Background(), "q", func(ctx context.Context, m nimbus.Message) error {
			close(started)
			<-release
			return nil
		}, 1)
	}()
	<-started
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got := nimbus.KindOf(q.Send(t.Context(), nimbus.Message{ID: "after"})); got != nimbus.KindUnavailable {
		t.Errorf("send after close: got kind %s, want %s", got, nimbus.KindUnavailable)
	}
	close(release) // the completion cannot be written: Run must give up
	select {
	case err := <-done:
		if got := nimbus.KindOf(err); got != nimbus.KindUnavailable {
			t.Errorf("run after close: got %v, want kind %s", err, nimbus.KindUnavailable)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the file was closed")
	}
}

func TestDefaultRetryBackoff(t *testing.T) {
	cases := []struct {
		n    int
		want time.Duration
	}{
		{0, 100 * time.Millisecond}, {1, 100 * time.Millisecond}, {2, 200 * time.Millisecond},
		{5, 1600 * time.Millisecond}, {9, 25600 * time.Millisecond}, {10, 30 * time.Second},
		{50, 30 * time.Second}, {1 << 30, 30 * time.Second},
	}
	for _, tc := range cases {
		if got := defaultRetryBackoff(tc.n); got != tc.want {
			t.Errorf("defaultRetryBackoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestDuplicateIDsPruned(t *testing.T) {
	db := openTemp(t)
	opts := testQueueOptions
	opts.DuplicateWindow = 50 * time.Millisecond
	qs := db.Queues(opts)
	q := qs.Queue("q")
	for i := range 3 {
		if err := q.Send(t.Context(), nimbus.Message{ID: "same"}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		time.Sleep(60 * time.Millisecond) // past the window: the next send is not a duplicate
	}
	if n := qs.Len("q"); n != 3 {
		t.Fatalf("got Len %d, want 3 (one per window)", n)
	}
	// Expired IDs are pruned as later sends come in: only the latest remains.
	err := db.Bolt().View(func(tx *bbolt.Tx) error {
		qb, _ := readBuckets(tx, "q")
		if n := qb.idtime.Stats().KeyN; n != 1 {
			t.Errorf("got %d remembered IDs, want 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
}
