package embedded

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

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

// A collected Send is held to duplicate detection like any Send: an ID accepted earlier, or
// twice in the same call, is stored once. Its IDs are not recorded, so the duplicate-detection
// keys are written only for ordinary Sends (one randomly placed key per message fewer).
func TestAtomicSendsAreDeduplicated(t *testing.T) {
	db := openTemp(t)
	opts := testQueueOptions
	opts.Atomic = map[string]Atomic{"in": {Queues: []string{"out"}}}
	qs := db.Queues(opts)
	ctx := t.Context()
	if err := qs.Queue("out").Send(ctx, nimbus.Message{ID: "earlier", Body: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	runQueue(t, qs, "in", 1, func(ctx context.Context, m nimbus.Message) error {
		return qs.Queue("out").Send(ctx,
			nimbus.Message{ID: "earlier", Body: []byte("2")},
			nimbus.Message{ID: m.ID + "-a", Body: []byte("3")},
			nimbus.Message{ID: m.ID + "-a", Body: []byte("4")},
			nimbus.Message{ID: m.ID + "-b", Body: []byte("5")})
	})
	if err := qs.Queue("in").Send(ctx, nimbus.Message{ID: "m"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the completion with its sends", func() bool { return qs.Len("in") == 0 && qs.Len("out") == 3 })
	if n := qs.Len("out"); n != 3 {
		t.Fatalf("out holds %d messages, want 3 (earlier, m-a, m-b)", n)
	}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		qb, _ := readBuckets(tx, "out")
		if n := qb.idtime.Stats().KeyN; n != 1 {
			t.Errorf("%d IDs recorded, want only the ordinary Send's", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
