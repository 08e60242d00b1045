package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// clockSlack allows for a backend whose clock is not this machine's (Service Bus stamps
// EnqueuedAt itself). The embedded queue shares the clock, so it passes with none.
const clockSlack = time.Second

// testQueueRoundTrip checks what a handler sees: the message as sent, delivery 1, and when
// it was enqueued.
func testQueueRoundTrip(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	q := qs.Queue(name)
	sent := []nimbus.Message{
		{ID: msgID("plain"), Body: []byte(`{"n":1}`)},
		{ID: msgID("session"), SessionID: "tenant/task-1", Body: []byte(`{"n":2}`)},
		{ID: msgID("empty")},
	}
	before := time.Now()
	mustSend(t, q, sent...)
	after := time.Now()

	in := newInbox()
	consume(t, c, name, 4, in.record)
	got := map[string]nimbus.Message{}
	for range sent {
		m := in.next(t, "round trip")
		got[m.ID] = m
	}
	for _, s := range sent {
		m, ok := got[s.ID]
		if !ok {
			t.Fatalf("message %q not delivered", localID(s.ID))
		}
		if !bytes.Equal(m.Body, s.Body) || m.SessionID != s.SessionID {
			t.Errorf("%q: got body %q session %q, want %q and %q", localID(s.ID), m.Body, m.SessionID, s.Body, s.SessionID)
		}
		if m.DeliveryCount != 1 {
			t.Errorf("%q: got delivery count %d, want 1", localID(s.ID), m.DeliveryCount)
		}
		if m.EnqueuedAt.Before(before.Add(-clockSlack)) || m.EnqueuedAt.After(after.Add(clockSlack)) {
			t.Errorf("%q: got EnqueuedAt %v, want between %v and %v", localID(s.ID), m.EnqueuedAt, before, after)
		}
	}
	in.none(t, "after round trip", quiet)
}

// testQueueCompleteRemoves checks that a completed message is gone for good.
func testQueueCompleteRemoves(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	mustSend(t, qs.Queue(name), nimbus.Message{ID: msgID("m"), Body: []byte("x")})
	l, hasLen := qs.(queueLen)
	if hasLen && l.Len(name) != 1 {
		t.Fatalf("before consuming: got Len %d, want 1", l.Len(name))
	}
	in := newInbox()
	stop := consume(t, c, name, 2, in.record)
	wantDelivery(t, in.next(t, "first delivery"), "m", 1)
	in.none(t, "after completion", quiet)
	stop()
	if hasLen && l.Len(name) != 0 {
		t.Fatalf("after completion: got Len %d, want 0", l.Len(name))
	}
}

// testQueueErrorRedelivers checks that a handler error abandons the message: it comes back,
// counted, with the same content.
func testQueueErrorRedelivers(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	mustSend(t, qs.Queue(name), nimbus.Message{ID: msgID("m"), Body: []byte("payload")})
	in := newInbox()
	consume(t, c, name, 2, func(ctx context.Context, m nimbus.Message) error {
		in <- m
		if m.DeliveryCount == 1 {
			return errors.New("transient failure")
		}
		return nil
	})
	wantDelivery(t, in.next(t, "first delivery"), "m", 1)
	m := in.next(t, "redelivery")
	wantDelivery(t, m, "m", 2)
	if string(m.Body) != "payload" {
		t.Errorf("redelivery: got body %q, want %q", m.Body, "payload")
	}
	in.none(t, "after the redelivery completed", quiet)
}

// testQueueDeadLetter checks that a message failing QueueMaxDeliveries times is set aside,
// that it unblocks its session, and (when the implementation can) that it is listed and can
// be requeued.
func testQueueDeadLetter(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	q := qs.Queue(name)
	mustSend(t, q,
		nimbus.Message{ID: msgID("poison"), SessionID: "s", Body: []byte("bad")},
		nimbus.Message{ID: msgID("next"), SessionID: "s", Body: []byte("good")},
	)
	in := newInbox()
	healed := make(chan struct{})
	stop := consume(t, c, name, 4, func(ctx context.Context, m nimbus.Message) error {
		in <- m
		select {
		case <-healed:
			return nil
		default:
		}
		if m.ID == msgID("poison") {
			return errors.New("always fails")
		}
		return nil
	})
	for n := 1; n <= QueueMaxDeliveries; n++ {
		wantDelivery(t, in.next(t, "poison delivery"), "poison", n)
	}
	// The session was blocked behind the poison message until it was dead-lettered.
	wantDelivery(t, in.next(t, "message behind the poison one"), "next", 1)
	in.none(t, "after dead-lettering", quiet)

	dl, ok := qs.(deadLetters)
	if !ok {
		return
	}
	dead, err := dl.DeadLetters(t.Context(), name)
	if err != nil {
		t.Fatalf("dead letters: %v", err)
	}
	if len(dead) != 1 || dead[0].ID != msgID("poison") || string(dead[0].Body) != "bad" || dead[0].DeliveryCount != QueueMaxDeliveries {
		t.Fatalf("dead letters: got %+v, want only %q with body %q and %d deliveries", dead, "poison", "bad", QueueMaxDeliveries)
	}
	close(healed)
	n, err := dl.Requeue(t.Context(), name, []string{msgID("poison"), msgID("unknown")})
	if err != nil || n != 1 {
		t.Fatalf("requeue: got %d, %v, want 1, nil", n, err)
	}
	wantDelivery(t, in.next(t, "requeued message"), "poison", 1)
	in.none(t, "after the requeued message completed", quiet)
	stop()
	if dead, err := dl.DeadLetters(t.Context(), name); err != nil || len(dead) != 0 {
		t.Fatalf("dead letters after requeue: got %d, %v, want none", len(dead), err)
	}
}

// testQueueDuplicates checks duplicate detection across and within Send calls: the first
// message of an ID wins.
func testQueueDuplicates(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	q := qs.Queue(name)
	mustSend(t, q, nimbus.Message{ID: msgID("x"), Body: []byte("first")})
	mustSend(t, q, nimbus.Message{ID: msgID("x"), Body: []byte("second")})
	mustSend(t, q, nimbus.Message{ID: msgID("y"), Body: []byte("first")}, nimbus.Message{ID: msgID("y"), Body: []byte("second")})
	in := newInbox()
	consume(t, c, name, 4, in.record)
	got := map[string]string{}
	for range 2 {
		m := in.next(t, "deliveries")
		if _, dup := got[m.ID]; dup {
			t.Fatalf("%q delivered twice", localID(m.ID))
		}
		got[m.ID] = string(m.Body)
	}
	for _, id := range []string{"x", "y"} {
		if got[msgID(id)] != "first" {
			t.Errorf("%q: got body %q, want %q", id, got[msgID(id)], "first")
		}
	}
	in.none(t, "after the first of each ID", quiet)
}

// testQueueScheduled checks that a scheduled message waits for its time, and no longer.
func testQueueScheduled(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	in := newInbox()
	consume(t, c, name, 2, func(ctx context.Context, m nimbus.Message) error {
		m.NotBefore = time.Now() // the delivery time, for the check below
		in <- m
		return nil
	})
	notBefore := time.Now().Add(300 * time.Millisecond)
	mustSend(t, qs.Queue(name),
		nimbus.Message{ID: msgID("later"), NotBefore: notBefore},
		nimbus.Message{ID: msgID("now")},
	)
	wantDelivery(t, in.next(t, "unscheduled message"), "now", 1)
	m := in.next(t, "scheduled message")
	wantDelivery(t, m, "later", 1)
	// 5 ms for the difference between the wall clock the queue schedules by and the monotonic
	// clock these readings compare by.
	if early := notBefore.Sub(m.NotBefore); early > 5*time.Millisecond {
		t.Fatalf("scheduled message delivered %v early", early)
	}
}

// testQueueLockExpiry checks that a handler that hangs past the lock, ignoring its context,
// loses the message: its context is cancelled and the message is delivered again.
func testQueueLockExpiry(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	in := newInbox()
	release := make(chan struct{})
	cancelled := make(chan time.Duration, 1)
	stop := consume(t, c, name, 2, func(ctx context.Context, m nimbus.Message) error {
		in <- m
		if m.DeliveryCount > 1 {
			return nil
		}
		start := time.Now()
		select {
		case <-ctx.Done():
			cancelled <- time.Since(start)
		case <-release:
		}
		<-release // hang on, ignoring the cancellation
		return nil
	})
	defer stop()
	defer close(release) // runs first: the hung handler returns before the consumer stops
	mustSend(t, qs.Queue(name), nimbus.Message{ID: msgID("m")})
	wantDelivery(t, in.next(t, "first delivery"), "m", 1)
	wantDelivery(t, in.next(t, "delivery after the lock expired"), "m", 2)
	select {
	case d := <-cancelled:
		if d < QueueLockDuration*8/10 {
			t.Errorf("handler context cancelled after %v, want about the lock duration %v", d, QueueLockDuration)
		}
	case <-time.After(waitTimeout):
		t.Errorf("handler context not cancelled when the lock expired")
	}
}

// testQueuePanic checks that a panicking handler abandons the message and the consumer
// carries on.
func testQueuePanic(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	in := newInbox()
	consume(t, c, name, 1, func(ctx context.Context, m nimbus.Message) error {
		in <- m
		if m.DeliveryCount == 1 && m.ID == msgID("bomb") {
			panic("handler bug")
		}
		return nil
	})
	q := qs.Queue(name)
	mustSend(t, q, nimbus.Message{ID: msgID("bomb")})
	wantDelivery(t, in.next(t, "first delivery"), "bomb", 1)
	wantDelivery(t, in.next(t, "delivery after the panic"), "bomb", 2)
	mustSend(t, q, nimbus.Message{ID: msgID("after")})
	wantDelivery(t, in.next(t, "a later message"), "after", 1)
}

// testQueueSendAllOrNone checks validation: one bad message fails the whole Send, and
// nothing of it is delivered.
func testQueueSendAllOrNone(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	q := qs.Queue(name)
	long := string(bytes.Repeat([]byte("i"), nimbus.MaxMessageID+1))
	cases := []struct {
		name   string
		bad    nimbus.Message
		target string
	}{
		{"missing ID", nimbus.Message{}, "msgs[1].id"},
		{"long ID", nimbus.Message{ID: long}, "msgs[1].id"},
		{"long session", nimbus.Message{ID: msgID("bad-session"), SessionID: long}, "msgs[1].sessionId"},
		{"large body", nimbus.Message{ID: msgID("bad-body"), Body: make([]byte, nimbus.MaxMessageBody+1)}, "msgs[1].body"},
	}
	for _, tc := range cases {
		err := q.Send(t.Context(), nimbus.Message{ID: msgID("valid-" + tc.name)}, tc.bad, nimbus.Message{ID: msgID("also-" + tc.name)})
		wantInvalid(t, tc.name, err, tc.target)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantKind(t, "send with a cancelled context", q.Send(ctx, nimbus.Message{ID: msgID("cancelled")}), nimbus.KindUnavailable)
	if err := q.Send(t.Context()); err != nil {
		t.Fatalf("empty send: %v", err)
	}

	// The longest valid ID works; the marker, sent last, is the only other delivery.
	maxID := msgID(string(bytes.Repeat([]byte("m"), nimbus.MaxMessageID-len(msgID("")))))
	mustSend(t, q, nimbus.Message{ID: maxID, Body: make([]byte, 64<<10)})
	mustSend(t, q, nimbus.Message{ID: msgID("marker")})
	in := newInbox()
	consume(t, c, name, 1, in.record)
	got := map[string]bool{}
	for range 2 {
		got[in.next(t, "valid messages").ID] = true
	}
	if !got[maxID] || !got[msgID("marker")] {
		t.Fatalf("got %v, want the longest-ID message and the marker", got)
	}
	in.none(t, "messages of failed sends", quiet)
}
