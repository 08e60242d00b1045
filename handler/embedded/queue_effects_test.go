package embedded

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Under an Atomic rule, a handler's sends and writes appear only with the completion of its
// message; a failed handler leaves none of them; a write whose condition fails at completion
// fails the completion, and the handler runs again.
func TestAtomicCompletion(t *testing.T) {
	db := openTemp(t)
	opts := testQueueOptions
	opts.Atomic = map[string]Atomic{"in": {Queues: []string{"out"}, Tables: []string{"state"}}}
	qs := db.Queues(opts)
	state := db.Tables().Table("state")
	other := db.Tables().Table("other")
	ctx := t.Context()

	var runs atomic.Int32
	release := make(chan struct{})
	seen := make(chan string, 10)
	runQueue(t, qs, "in", 1, func(ctx context.Context, m nimbus.Message) error {
		n := runs.Add(1)
		if err := qs.Queue("out").Send(ctx, nimbus.Message{ID: m.ID + "-out"}); err != nil {
			return err
		}
		etag := ""
		if m.ID == "conflict" && n == 2 {
			etag = `"999"` // a stale ETag: the completion must fail
		}
		if _, err := state.Upsert(ctx, nimbus.Entity{PartitionKey: "p", RowKey: m.ID, Data: []byte("v")}); err != nil {
			return err
		}
		if etag != "" {
			if _, err := state.Update(ctx, nimbus.Entity{PartitionKey: "p", RowKey: m.ID, Data: []byte("w"), ETag: etag}); err != nil {
				return err
			}
		}
		// A table outside the rule is written at once.
		if _, err := other.Upsert(ctx, nimbus.Entity{PartitionKey: "p", RowKey: m.ID, Data: []byte("x")}); err != nil {
			return err
		}
		seen <- m.ID
		<-release
		if m.ID == "fails" {
			return errors.New("handler failed")
		}
		return nil
	})

	// While the handler runs, only the write outside the rule is visible.
	if err := qs.Queue("in").Send(ctx, nimbus.Message{ID: "ok"}); err != nil {
		t.Fatal(err)
	}
	<-seen
	if _, err := other.Get(ctx, "p", "ok"); err != nil {
		t.Errorf("write outside the rule: %v, want it stored at once", err)
	}
	if _, err := state.Get(ctx, "p", "ok"); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("collected write visible before completion: %v", err)
	}
	if n := qs.Len("out"); n != 0 {
		t.Errorf("collected send visible before completion: %d messages", n)
	}
	release <- struct{}{}
	waitFor(t, "completion with its writes", func() bool {
		_, err := state.Get(ctx, "p", "ok")
		return err == nil && qs.Len("out") == 1 && qs.Len("in") == 0
	})

	// A failed handler leaves nothing of what it collected.
	if err := qs.Queue("in").Send(ctx, nimbus.Message{ID: "fails"}); err != nil {
		t.Fatal(err)
	}
	<-seen
	release <- struct{}{}
	<-seen // the redelivery: nothing of the first run was written
	if _, err := state.Get(ctx, "p", "fails"); !errors.Is(err, nimbus.ErrNotFound) || qs.Len("out") != 1 {
		t.Errorf("after a failed handler: state %v, out %d; want nothing written", err, qs.Len("out"))
	}
	close(release)
	waitFor(t, "the dead letter of the failing message", func() bool { return qs.Len("in") == 0 })

	// A completion whose write conflicts is not stored; the handler runs again and succeeds.
	runs.Store(1)
	if err := qs.Queue("in").Send(ctx, nimbus.Message{ID: "conflict"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the conflicting completion retried", func() bool {
		_, err := state.Get(ctx, "p", "conflict")
		return err == nil && qs.Len("in") == 0
	})
	if runs.Load() < 3 {
		t.Errorf("handler ran %d times, want a run after the conflict", runs.Load()-1)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}
