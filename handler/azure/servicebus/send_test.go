package servicebus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// fakeSender stands in for *azservicebus.Sender and records the batches it was asked to send.
type fakeSender struct {
	mu         sync.Mutex
	maxBytes   int // of a batch; 0: unlimited
	sent       [][]*azservicebus.Message
	newErr     error
	sendErr    error
	newBatches int
	closed     bool
	// scheduled and cancelled record Schedule and CancelScheduled calls.
	scheduled   []*azservicebus.Message
	scheduledAt []time.Time
	cancelled   []int64
}

// fakeBatch counts a message as its body plus 100 bytes of headers.
type fakeBatch struct {
	max, size int
	msgs      []*azservicebus.Message
}

func (b *fakeBatch) AddMessage(m *azservicebus.Message, _ *azservicebus.AddMessageOptions) error {
	n := len(m.Body) + 100
	if b.max > 0 && b.size+n > b.max {
		return azservicebus.ErrMessageTooLarge
	}
	b.size += n
	b.msgs = append(b.msgs, m)
	return nil
}

func (f *fakeSender) newBatch(context.Context) (batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.newBatches++
	if f.newErr != nil {
		return nil, f.newErr
	}
	return &fakeBatch{max: f.maxBytes}, nil
}

func (f *fakeSender) sendBatch(_ context.Context, b batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return f.sendErr
	}
	f.sent = append(f.sent, b.(*fakeBatch).msgs)
	return nil
}

func (f *fakeSender) schedule(_ context.Context, msgs []*azservicebus.Message, at time.Time) ([]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	var seqs []int64
	for _, m := range msgs {
		f.scheduled = append(f.scheduled, m)
		f.scheduledAt = append(f.scheduledAt, at)
		seqs = append(seqs, int64(100+len(f.scheduled)))
	}
	return seqs, nil
}

func (f *fakeSender) cancel(_ context.Context, seqs []int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return f.sendErr
	}
	f.cancelled = append(f.cancelled, seqs...)
	return nil
}

func (f *fakeSender) close(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.FixedZone("CET", 3600))

// fakePublisher returns a publisher whose every queue sends through f.
func fakePublisher(f *fakeSender) (*Publisher, *[]string) {
	var opened []string
	p := newPublisher(nil, func(queue string) (sender, error) {
		opened = append(opened, queue)
		return f, nil
	})
	p.now = func() time.Time { return testNow }
	return p, &opened
}

func TestSendMapsMessages(t *testing.T) {
	f := &fakeSender{}
	p, opened := fakePublisher(f)
	future := testNow.Add(90 * time.Second)
	msgs := []nimbus.Message{
		{ID: "e1", SessionID: "tenant/task", Body: []byte(`{"a":1}`)},
		{ID: "e2", Body: []byte(`{"b":2}`)},
		{ID: "e3", Body: []byte(`{}`), NotBefore: future},
		{ID: "e4", NotBefore: testNow.Add(-time.Second)}, // past: sent as due now
		{ID: "e5", SessionID: "s", NotBefore: testNow},   // now is not the future either
	}
	if err := p.Queue("events").Send(t.Context(), msgs...); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := p.Queue("events").Send(t.Context(), nimbus.Message{ID: "e6"}); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if len(*opened) != 1 || (*opened)[0] != "events" {
		t.Fatalf("senders opened: got %v, want one for events", *opened)
	}
	if len(f.sent) != 2 || len(f.sent[0]) != len(msgs) || len(f.sent[1]) != 1 {
		t.Fatalf("got batches of %v messages, want one batch per Send (%d, then 1)", batchSizes(f.sent), len(msgs))
	}
	for i, sm := range f.sent[0] {
		m := msgs[i]
		if sm.MessageID == nil || *sm.MessageID != m.ID {
			t.Errorf("%s: got MessageID %v, want %q", m.ID, deref(sm.MessageID), m.ID)
		}
		if string(sm.Body) != string(m.Body) {
			t.Errorf("%s: got body %q, want %q", m.ID, sm.Body, m.Body)
		}
		if sm.ContentType == nil || *sm.ContentType != "application/json" {
			t.Errorf("%s: got ContentType %v, want application/json", m.ID, deref(sm.ContentType))
		}
		switch {
		case m.SessionID == "" && sm.SessionID != nil:
			t.Errorf("%s: got SessionID %q, want nil (no session)", m.ID, *sm.SessionID)
		case m.SessionID != "" && (sm.SessionID == nil || *sm.SessionID != m.SessionID):
			t.Errorf("%s: got SessionID %v, want %q", m.ID, deref(sm.SessionID), m.SessionID)
		}
		wantScheduled := m.NotBefore.After(testNow)
		switch {
		case !wantScheduled && sm.ScheduledEnqueueTime != nil:
			t.Errorf("%s: got ScheduledEnqueueTime %v, want none", m.ID, *sm.ScheduledEnqueueTime)
		case wantScheduled && (sm.ScheduledEnqueueTime == nil || !sm.ScheduledEnqueueTime.Equal(future) || sm.ScheduledEnqueueTime.Location() != time.UTC):
			t.Errorf("%s: got ScheduledEnqueueTime %v, want %v in UTC", m.ID, sm.ScheduledEnqueueTime, future.UTC())
		}
	}
}

func batchSizes(batches [][]*azservicebus.Message) []int {
	var n []int
	for _, b := range batches {
		n = append(n, len(b))
	}
	return n
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func TestSendTooLarge(t *testing.T) {
	big := make([]byte, 950) // with headers, more than a batch holds
	small := make([]byte, 300)
	cases := []struct {
		name   string
		msgs   []nimbus.Message
		target string
	}{
		{"first alone", []nimbus.Message{{ID: "a", Body: big}, {ID: "b"}}, "msgs[0].body"},
		{"later alone", []nimbus.Message{{ID: "a"}, {ID: "b", Body: big}}, "msgs[1].body"},
		{"together", []nimbus.Message{{ID: "a", Body: small}, {ID: "b", Body: small}, {ID: "c", Body: small}}, "msgs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSender{maxBytes: 1000}
			p, _ := fakePublisher(f)
			err := p.Queue("q").Send(t.Context(), tc.msgs...)
			wantKind(t, err, nimbus.KindInvalid)
			if got := err.(*nimbus.Error).Target; got != tc.target {
				t.Errorf("got target %q, want %q", got, tc.target)
			}
			if !errors.Is(err, azservicebus.ErrMessageTooLarge) {
				t.Errorf("got %v, want ErrMessageTooLarge in the chain", err)
			}
			if len(f.sent) != 0 {
				t.Errorf("sent %v messages, want none (all or none)", batchSizes(f.sent))
			}
		})
	}
}

func TestSendValidates(t *testing.T) {
	f := &fakeSender{}
	p, opened := fakePublisher(f)
	q := p.Queue("q")
	err := q.Send(t.Context(), nimbus.Message{ID: "ok"}, nimbus.Message{ID: strings.Repeat("x", nimbus.MaxMessageID+1)})
	wantKind(t, err, nimbus.KindInvalid)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantKind(t, q.Send(ctx, nimbus.Message{ID: "ok"}), nimbus.KindUnavailable)
	if err := q.Send(t.Context()); err != nil {
		t.Fatalf("empty send: %v", err)
	}
	if len(*opened) != 0 || len(f.sent) != 0 {
		t.Fatalf("got %d senders and %d batches, want none", len(*opened), len(f.sent))
	}
}

func TestSendErrors(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		name string
		err  error
		kind nimbus.Kind
	}{
		{"connection lost", &azservicebus.Error{Code: azservicebus.CodeConnectionLost}, nimbus.KindUnavailable},
		{"timeout code", &azservicebus.Error{Code: azservicebus.CodeTimeout}, nimbus.KindUnavailable},
		{"closed", &azservicebus.Error{Code: azservicebus.CodeClosed}, nimbus.KindUnavailable},
		{"unauthorized", &azservicebus.Error{Code: azservicebus.CodeUnauthorizedAccess}, nimbus.KindUnavailable},
		{"no such queue", &azservicebus.Error{Code: azservicebus.CodeNotFound}, nimbus.KindUnavailable},
		{"net error", fmt.Errorf("amqp: %w", opErr), nimbus.KindUnavailable},
		{"deadline", context.DeadlineExceeded, nimbus.KindUnavailable},
		{"broker error", errors.New("amqp:resource-limit-exceeded"), nimbus.KindUnavailable},
		{"too large", azservicebus.ErrMessageTooLarge, nimbus.KindInvalid},
	}
	for _, tc := range cases {
		for _, at := range []string{"newSender", "newBatch", "sendBatch"} {
			t.Run(tc.name+"/"+at, func(t *testing.T) {
				f := &fakeSender{}
				p, _ := fakePublisher(f)
				switch at {
				case "newSender":
					p.newSender = func(string) (sender, error) { return nil, tc.err }
				case "newBatch":
					f.newErr = tc.err
				case "sendBatch":
					f.sendErr = tc.err
				}
				err := p.Queue("q").Send(t.Context(), nimbus.Message{ID: "m"})
				wantKind(t, err, tc.kind)
				if !errors.Is(err, tc.err) {
					t.Errorf("got %v, want the SDK error in the chain", err)
				}
				if msg := err.(*nimbus.Error).Message; strings.Contains(msg, tc.err.Error()) {
					t.Errorf("message %q shows SDK text", msg)
				}
			})
		}
	}
}

func TestSendAfterClose(t *testing.T) {
	f := &fakeSender{}
	p, _ := fakePublisher(f)
	q := p.Queue("q")
	if err := q.Send(t.Context(), nimbus.Message{ID: "m"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if !f.closed {
		t.Error("sender not closed")
	}
	wantKind(t, q.Send(t.Context(), nimbus.Message{ID: "m2"}), nimbus.KindUnavailable)
}

// wantKind checks that err is a *nimbus.Error (not merely wrapping one) of kind.
func wantKind(t *testing.T, err error, kind nimbus.Kind) {
	t.Helper()
	e, ok := err.(*nimbus.Error)
	if !ok {
		t.Fatalf("got %T (%v), want *nimbus.Error of kind %s", err, err, kind)
	}
	if e.Kind != kind {
		t.Fatalf("got kind %s (%v), want %s", e.Kind, err, kind)
	}
}
