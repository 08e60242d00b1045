package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// testQueueTenantScopedDuplicates checks duplicate detection on tenant-scoped ids
// (nimbus.ScopedID): two tenants' messages of the same client-chosen id are both delivered,
// a repeat within one tenant is not, and an id too long to prefix is hashed per tenant.
func testQueueTenantScopedDuplicates(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	q := qs.Queue(name)
	// The run id leads the tenant, so the consumer below tells this run's messages apart.
	tenantA, tenantB := msgID("3c9d4b7e-2a61-4f0e-9b8d-5e7a1c2f4d60"), msgID("7f3e2d1c-0b9a-4876-9543-210fedcba987")
	long := strings.Repeat("e", 300)
	want := map[string]string{
		nimbus.ScopedID(tenantA, "e-1001"): "A e-1001",
		nimbus.ScopedID(tenantB, "e-1001"): "B e-1001",
		nimbus.ScopedID(tenantA, long):     "A long",
		nimbus.ScopedID(tenantB, long):     "B long",
	}
	for id, body := range want {
		if !strings.HasPrefix(id, runID+"-") || len(id) > nimbus.MaxMessageID {
			t.Fatalf("scoped id %q: want the tenant first and at most %d bytes", id, nimbus.MaxMessageID)
		}
		mustSend(t, q, nimbus.Message{ID: id, Body: []byte(body)})
	}
	mustSend(t, q, nimbus.Message{ID: nimbus.ScopedID(tenantA, "e-1001"), Body: []byte("A e-1001 again")})
	in := newInbox()
	consume(t, c, name, 4, in.record)
	got := map[string]string{}
	for range len(want) {
		m := in.next(t, "tenant-scoped messages")
		got[m.ID] = string(m.Body)
	}
	for id, body := range want {
		if got[id] != body {
			t.Errorf("%q: got body %q, want %q", localID(id), got[id], body)
		}
	}
	in.none(t, "after one message per tenant and id", quiet)
}

// testQueueSizeLimit checks the Service Bus Standard size limit at its edge: a body of
// exactly nimbus.MaxMessageBody bytes is stored and delivered intact, one byte more is
// refused with KindInvalid naming the body, and nothing of a refused Send is delivered.
func testQueueSizeLimit(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	q := qs.Queue(name)
	body := bytes.Repeat([]byte("0123456789abcdef"), nimbus.MaxMessageBody/16)
	err := q.Send(t.Context(), nimbus.Message{ID: msgID("over"), Body: append(bytes.Clone(body), '!')})
	wantInvalid(t, "body one byte over the limit", err, "msgs[0].body")
	mustSend(t, q, nimbus.Message{ID: msgID("at-limit"), Body: body})
	in := newInbox()
	consume(t, c, name, 1, in.record)
	m := in.next(t, "message at the limit")
	wantDelivery(t, m, "at-limit", 1)
	if !bytes.Equal(m.Body, body) {
		t.Errorf("body at the limit: got %d bytes, want the %d sent", len(m.Body), len(body))
	}
	in.none(t, "the refused message", quiet)
}

// testQueueDeadLetterSubqueue checks that a dead-lettered message can be consumed from the
// queue's dead-letter sub-queue (nimbus.DeadLetterQueue), with its id, session and body, as
// the EventsDeadLetters and CommandsDeadLetters functions consume it.
func testQueueDeadLetterSubqueue(t *testing.T, qs nimbus.Queues, c Consume, name string) {
	mustSend(t, qs.Queue(name), nimbus.Message{ID: msgID("poison"), SessionID: "s", Body: []byte(`{"tenant":"t"}`)})
	consume(t, c, name, 1, func(context.Context, nimbus.Message) error { return errors.New("always fails") })
	in := newInbox()
	consume(t, c, nimbus.DeadLetterQueue(name), 1, in.record)
	m := in.next(t, "dead letter on the sub-queue")
	if m.ID != msgID("poison") || m.SessionID != "s" || string(m.Body) != `{"tenant":"t"}` {
		t.Fatalf("dead letter: got %q session %q body %q", localID(m.ID), m.SessionID, m.Body)
	}
	in.none(t, "after the one dead letter", quiet)
}
