package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// testQueueSessionFIFO sends several sessions concurrently and consumes them with more
// handlers than sessions: each session must be handled one message at a time, in send order,
// and a message that fails stays at the head of its session until it succeeds.
func testQueueSessionFIFO(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	const sessions, perSession = 5, 50
	failsOnce := func(i int) bool { return i%7 == 3 }

	var (
		mu        sync.Mutex
		delivered = map[string][]int{} // every delivery, failed ones included
		completed = map[string][]int{}
		busy      = map[string]*atomic.Int32{}
		overlaps  atomic.Int32
		remaining atomic.Int32
		finished  = make(chan struct{})
	)
	remaining.Store(sessions * perSession)
	for s := range sessions {
		busy[fmt.Sprint("session-", s)] = &atomic.Int32{}
	}
	consume(t, c, name, 8, func(ctx context.Context, m nimbus.Message) error {
		b := busy[m.SessionID]
		if b == nil {
			return fmt.Errorf("unexpected session %q", m.SessionID)
		}
		if b.Add(1) != 1 {
			overlaps.Add(1)
		}
		defer b.Add(-1)
		i, err := strconv.Atoi(string(m.Body))
		if err != nil {
			return err
		}
		time.Sleep(time.Duration(i%3) * time.Millisecond) // let other sessions overtake
		fail := failsOnce(i) && m.DeliveryCount == 1
		mu.Lock()
		delivered[m.SessionID] = append(delivered[m.SessionID], i)
		if !fail {
			completed[m.SessionID] = append(completed[m.SessionID], i)
		}
		mu.Unlock()
		if fail {
			return errors.New("fails on its first delivery")
		}
		if remaining.Add(-1) == 0 {
			close(finished)
		}
		return nil
	})

	// Each session is sent by its own goroutine, in Send calls of 1 to 4 messages.
	q := qs.Queue(name)
	sendErrs := make(chan error, sessions)
	for s := range sessions {
		go func() {
			sid := fmt.Sprint("session-", s)
			for i := 0; i < perSession; {
				var msgs []nimbus.Message
				for n := 1 + (i+s)%4; n > 0 && i < perSession; n, i = n-1, i+1 {
					msgs = append(msgs, nimbus.Message{ID: msgID(fmt.Sprint(sid, "-", i)), SessionID: sid, Body: []byte(strconv.Itoa(i))})
				}
				if err := q.Send(t.Context(), msgs...); err != nil {
					sendErrs <- err
					return
				}
			}
			sendErrs <- nil
		}()
	}
	for range sessions {
		if err := <-sendErrs; err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	select {
	case <-finished:
	case <-time.After(3 * waitTimeout):
		t.Fatalf("%d of %d messages not completed within %v", remaining.Load(), sessions*perSession, 3*waitTimeout)
	}

	if n := overlaps.Load(); n > 0 {
		t.Errorf("%d times a session had two messages in flight", n)
	}
	mu.Lock()
	defer mu.Unlock()
	want := make([]int, perSession)
	for i := range want {
		want[i] = i
	}
	for sid := range busy {
		if !slices.Equal(completed[sid], want) {
			t.Errorf("%s: completed in order %v, want 0…%d in order", sid, completed[sid], perSession-1)
		}
		if !slices.IsSorted(delivered[sid]) {
			t.Errorf("%s: delivered in order %v: a later message overtook a failed one", sid, delivered[sid])
		}
	}
}

// testQueueSessionsInParallel checks that a session whose handler is slow holds up only
// itself: another session and session-less messages are handled meanwhile.
func testQueueSessionsInParallel(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	in := newInbox()
	unblock := make(chan struct{})
	consume(t, c, name, 3, func(ctx context.Context, m nimbus.Message) error {
		in <- m
		if m.ID == msgID("a1") {
			select {
			case <-unblock:
			case <-time.After(waitTimeout):
			}
		}
		return nil
	})
	mustSend(t, qs.Queue(name),
		nimbus.Message{ID: msgID("a1"), SessionID: "A"},
		nimbus.Message{ID: msgID("a2"), SessionID: "A"},
		nimbus.Message{ID: msgID("b1"), SessionID: "B"},
		nimbus.Message{ID: msgID("n1")},
	)
	got := map[string]bool{}
	for range 3 {
		got[localID(in.next(t, "deliveries while a1 is blocked").ID)] = true
	}
	if !got["a1"] || !got["b1"] || !got["n1"] {
		t.Fatalf("while a1 is blocked: got %v, want a1, b1 and n1", got)
	}
	in.none(t, "session A while a1 is in flight", quiet)
	close(unblock)
	wantDelivery(t, in.next(t, "a2 after a1 completed"), "a2", 1)
}

// testQueueManyScheduled checks that messages scheduled far ahead cost nothing to the
// delivery of ready ones: the latency of a ready message is measured before and after 20,000
// scheduled messages are added, and compared.
func testQueueManyScheduled(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	const scheduled, perSend = 20000, 1000
	in := newInbox()
	consume(t, c, name, 4, in.record)
	q := qs.Queue(name)
	n := 0
	latency := func(what string) time.Duration {
		var samples []time.Duration
		for range 5 {
			n++
			id := fmt.Sprint("ready-", n)
			start := time.Now()
			mustSend(t, q, nimbus.Message{ID: msgID(id)})
			wantDelivery(t, in.next(t, what), id, 1)
			samples = append(samples, time.Since(start))
		}
		slices.Sort(samples)
		return samples[len(samples)/2]
	}

	before := latency("ready message, nothing scheduled")
	later := time.Now().Add(time.Hour)
	for b := range scheduled / perSend {
		msgs := make([]nimbus.Message, perSend)
		for i := range msgs {
			msgs[i] = nimbus.Message{ID: msgID(fmt.Sprint("later-", b, "-", i)), NotBefore: later}
		}
		mustSend(t, q, msgs...)
	}
	after := latency("ready message, 20,000 scheduled")
	t.Logf("median send-to-delivery latency: %v with nothing scheduled, %v with %d scheduled", before, after, scheduled)
	// The bound is loose on purpose (a ratio with a floor, under a ceiling): a queue that scans
	// its scheduled messages on every receive is slower by orders of magnitude, not by 10×.
	if after > time.Second || after > 10*before+50*time.Millisecond {
		t.Fatalf("latency with %d scheduled messages %v, without %v: scheduled messages slow delivery down", scheduled, after, before)
	}
	in.none(t, "scheduled messages", quiet)
}

// testQueueIsolation checks that queues do not share messages, and that two consumers of
// different queues run at once.
func testQueueIsolation(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	other := name + "-other"
	inA, inB := newInbox(), newInbox()
	consume(t, c, name, 2, inA.record)
	consume(t, c, other, 2, inB.record)
	mustSend(t, qs.Queue(name), nimbus.Message{ID: msgID("a")})
	mustSend(t, qs.Queue(other), nimbus.Message{ID: msgID("b")})
	wantDelivery(t, inA.next(t, name), "a", 1)
	wantDelivery(t, inB.next(t, other), "b", 1)
	inA.none(t, name, quiet)
	inB.none(t, other, 0)
}
