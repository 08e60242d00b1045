package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Consume runs a consumer of the named queue with up to concurrency handler calls at once,
// until ctx is done; then it lets the calls in flight finish and returns nil. For the
// embedded queue it is (*embedded.Queues).Run.
type Consume func(ctx context.Context, name string, h nimbus.Handler, concurrency int) error

// Settings the queues that open returns must have (for Service Bus: the entities' settings).
// The suite counts deliveries against QueueMaxDeliveries, hangs handlers past
// QueueLockDuration, and waits about QueueMaxBackoff for a redelivery after an abandon.
// Duplicate detection must cover at least a minute.
const (
	QueueMaxDeliveries = 3
	QueueLockDuration  = time.Second
	QueueMaxBackoff    = 100 * time.Millisecond
)

// waitTimeout bounds every wait for an expected delivery. Generous, so that a slow CI
// machine does not fail the suite; the timing assertions compare, rather than race a clock.
const waitTimeout = 10 * time.Second

// quiet is how long the suite watches for an unexpected delivery after the expected ones.
const quiet = 3*QueueMaxBackoff + 300*time.Millisecond

// queueTests are the subtests. Each has a queue of its own (queueName), so that no two share
// one even when open returns a shared, persistent backend.
var queueTests = []struct {
	name string
	fn   func(t *testing.T, qs nimbus.Queues, consume Consume, queue string)
}{
	{"RoundTrip", testQueueRoundTrip},
	{"CompleteRemoves", testQueueCompleteRemoves},
	{"ErrorRedelivers", testQueueErrorRedelivers},
	{"DeadLetter", testQueueDeadLetter},
	{"Duplicates", testQueueDuplicates},
	{"Scheduled", testQueueScheduled},
	{"SessionFIFO", testQueueSessionFIFO},
	{"SessionsInParallel", testQueueSessionsInParallel},
	{"LockExpiry", testQueueLockExpiry},
	{"Panic", testQueuePanic},
	{"SendAllOrNone", testQueueSendAllOrNone},
	{"ManyScheduled", testQueueManyScheduled},
	{"Isolation", testQueueIsolation},
	{"TenantScopedDuplicates", testQueueTenantScopedDuplicates},
	{"SizeLimit", testQueueSizeLimit},
	{"DeadLetterSubqueue", testQueueDeadLetterSubqueue},
}

// QueueNames lists every queue the suite uses. Implementations whose queues must exist up
// front (Service Bus) create these in open; the Isolation subtest uses its name with the
// suffix "-other" too.
func QueueNames() []string {
	var names []string
	for _, qt := range queueTests {
		names = append(names, queueName(qt.name))
		if qt.name == "Isolation" {
			names = append(names, queueName(qt.name)+"-other")
		}
	}
	return names
}

func queueName(subtest string) string { return "conformance-" + strings.ToLower(subtest) }

// RunQueue runs the queue conformance suite. open is called once per subtest and returns the
// queues under test, configured as the Queue* constants say, and their consumer. Messages
// carry IDs unique to the run, and handlers complete any message of an earlier run without
// looking at it, so a persistent backend may be shared.
func RunQueue(t *testing.T, open func(t *testing.T) (nimbus.Queues, Consume)) {
	for _, qt := range queueTests {
		t.Run(qt.name, func(t *testing.T) {
			qs, consume := open(t)
			qt.fn(t, qs, consume, queueName(qt.name))
		})
	}
}

// msgID returns a message ID unique to this run.
func msgID(local string) string { return runID + "-" + local }

// localID strips the run prefix from an ID made by msgID.
func localID(id string) string { return strings.TrimPrefix(id, runID+"-") }

// Optional methods the suite uses when an implementation has them.
type (
	queueLen    interface{ Len(name string) int }
	deadLetters interface {
		DeadLetters(ctx context.Context, name string) ([]nimbus.Message, error)
		Requeue(ctx context.Context, name string, ids []string) (int, error)
	}
)

// consume starts a consumer and returns the function that stops it and checks that it
// returned nil; the stop also runs at cleanup.
func consume(t *testing.T, c Consume, name string, concurrency int, h nimbus.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() {
		done <- c(ctx, name, func(ctx context.Context, m nimbus.Message) error {
			if !strings.HasPrefix(m.ID, runID+"-") {
				return nil // left over from an earlier run of a persistent backend
			}
			return h(ctx, m)
		}, concurrency)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("consume %s: got %v after cancel, want nil", name, err)
				}
			case <-time.After(QueueLockDuration + waitTimeout):
				t.Errorf("consume %s: still running %v after cancel", name, QueueLockDuration+waitTimeout)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// inbox collects deliveries.
type inbox chan nimbus.Message

func newInbox() inbox { return make(inbox, 4096) }

// record is a handler that records every delivery and completes it.
func (in inbox) record(_ context.Context, m nimbus.Message) error {
	in <- m
	return nil
}

// next waits for the next delivery.
func (in inbox) next(t *testing.T, what string) nimbus.Message {
	t.Helper()
	select {
	case m := <-in:
		return m
	case <-time.After(waitTimeout):
		t.Fatalf("%s: no delivery within %v", what, waitTimeout)
		return nimbus.Message{}
	}
}

// none checks that nothing more is delivered for d.
func (in inbox) none(t *testing.T, what string, d time.Duration) {
	t.Helper()
	select {
	case m := <-in:
		t.Fatalf("%s: unexpected delivery of %q (delivery %d)", what, localID(m.ID), m.DeliveryCount)
	case <-time.After(d):
	}
}

func mustSend(t *testing.T, q nimbus.Queue, msgs ...nimbus.Message) {
	t.Helper()
	if err := q.Send(t.Context(), msgs...); err != nil {
		t.Fatalf("send %d messages: %v", len(msgs), err)
	}
}

// wantDelivery checks the identity and count of a delivery.
func wantDelivery(t *testing.T, m nimbus.Message, id string, count int) {
	t.Helper()
	if m.ID != msgID(id) || m.DeliveryCount != count {
		t.Fatalf("got %q delivery %d, want %q delivery %d", localID(m.ID), m.DeliveryCount, id, count)
	}
}
