package servicebus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// sender is what the publisher needs of *azservicebus.Sender: the seam where unit tests
// check the messages it produces, and the errors it translates, without a broker. Batches
// sit behind their own interface because an *azservicebus.MessageBatch can only be made by
// a connected Sender.
type sender interface {
	newBatch(ctx context.Context) (batch, error)
	sendBatch(ctx context.Context, b batch) error
	schedule(ctx context.Context, msgs []*azservicebus.Message, at time.Time) ([]int64, error)
	cancel(ctx context.Context, seqs []int64) error
	close(ctx context.Context) error
}

// batch is what the publisher needs of *azservicebus.MessageBatch. AddMessage returns
// azservicebus.ErrMessageTooLarge when the message does not fit in what is left.
type batch interface {
	AddMessage(m *azservicebus.Message, options *azservicebus.AddMessageOptions) error
}

// sdkSender is the real sender.
type sdkSender struct{ s *azservicebus.Sender }

func (s sdkSender) newBatch(ctx context.Context) (batch, error) {
	b, err := s.s.NewMessageBatch(ctx, nil)
	if err != nil {
		return nil, err // not b: a nil *MessageBatch in a batch would not be a nil batch
	}
	return b, nil
}

func (s sdkSender) sendBatch(ctx context.Context, b batch) error {
	mb, ok := b.(*azservicebus.MessageBatch)
	if !ok {
		return fmt.Errorf("send batch: got %T, want a batch of this sender", b)
	}
	return s.s.SendMessageBatch(ctx, mb, nil)
}

func (s sdkSender) schedule(ctx context.Context, msgs []*azservicebus.Message, at time.Time) ([]int64, error) {
	return s.s.ScheduleMessages(ctx, msgs, at, nil)
}

func (s sdkSender) cancel(ctx context.Context, seqs []int64) error {
	return s.s.CancelScheduledMessages(ctx, seqs, nil)
}

func (s sdkSender) close(ctx context.Context) error { return s.s.Close(ctx) }

// queue is the nimbus.Queue of one Service Bus queue.
type queue struct {
	p    *Publisher
	name string
}

var _ nimbus.Queue = queue{}

// contentType is set on every message: the bodies the app sends are JSON, and the Functions
// host uses it to hand the body over as text.
const contentType = "application/json"

// Send sends msgs in one batch, which Service Bus accepts or refuses as a whole. Messages
// that do not fit in one batch (about 256 KiB on the Standard tier) are refused with
// KindInvalid rather than split, since a split would break "all or none".
func (q queue) Send(ctx context.Context, msgs ...nimbus.Message) error {
	if err := ctx.Err(); err != nil {
		return sendError(q.name, err)
	}
	if err := nimbus.CheckMessages(msgs); err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	s, err := q.p.sender(q.name)
	if err != nil {
		return err
	}
	b, err := s.newBatch(ctx)
	if err != nil {
		return sendError(q.name, err)
	}
	now := q.p.now()
	for i, m := range msgs {
		sm := toSDK(m, now)
		err := b.AddMessage(sm, nil)
		if errors.Is(err, azservicebus.ErrMessageTooLarge) {
			return q.tooLarge(ctx, s, i, sm)
		}
		if err != nil {
			return sendError(q.name, err)
		}
	}
	return sendError(q.name, s.sendBatch(ctx, b))
}

// toSDK maps a message. A NotBefore that has passed is not sent as a schedule: the message is
// due at once either way, and an immediate message keeps its place in send order.
func toSDK(m nimbus.Message, now time.Time) *azservicebus.Message {
	id, ct := m.ID, contentType
	sm := &azservicebus.Message{MessageID: &id, Body: m.Body, ContentType: &ct}
	if m.SessionID != "" {
		sid := m.SessionID
		sm.SessionID = &sid
	}
	if m.NotBefore.After(now) {
		t := m.NotBefore.UTC()
		sm.ScheduledEnqueueTime = &t
	}
	return sm
}

// tooLarge explains why message i did not fit: alone it is too large, or the call as a whole
// is.
func (q queue) tooLarge(ctx context.Context, s sender, i int, sm *azservicebus.Message) error {
	at := fmt.Sprintf("msgs[%d]", i)
	alone := i == 0
	if !alone {
		b, err := s.newBatch(ctx)
		if err != nil {
			return sendError(q.name, err)
		}
		alone = errors.Is(b.AddMessage(sm, nil), azservicebus.ErrMessageTooLarge)
	}
	if alone {
		return &nimbus.Error{Kind: nimbus.KindInvalid, Target: at + ".body",
			Message: fmt.Sprintf("%s is too large for a Service Bus message", at),
			Err:     fmt.Errorf("send to queue %q: %w", q.name, azservicebus.ErrMessageTooLarge)}
	}
	return &nimbus.Error{Kind: nimbus.KindInvalid, Target: "msgs",
		Message: fmt.Sprintf("the %d messages do not fit in one Service Bus batch; send fewer at once", i+1),
		Err:     fmt.Errorf("send to queue %q: %w", q.name, azservicebus.ErrMessageTooLarge)}
}

// sendError translates an SDK or transport error. A message too large for the link is the
// caller's (KindInvalid); everything else means the broker could not take the messages now:
// lost connections, timeouts, throttling, and also a missing entity or a refused credential,
// which are deployment faults that retrying callers outlast once fixed. All of those are
// KindUnavailable; the Service Bus error code stays in the wrapped chain for the logs.
func sendError(queue string, err error) error {
	if err == nil {
		return nil
	}
	var ne *nimbus.Error
	if errors.As(err, &ne) {
		return err
	}
	op := fmt.Sprintf("send to queue %q", queue)
	if errors.Is(err, azservicebus.ErrMessageTooLarge) {
		return &nimbus.Error{Kind: nimbus.KindInvalid, Target: "msgs",
			Message: "the messages are too large for Service Bus", Err: fmt.Errorf("%s: %w", op, err)}
	}
	if sbErr := (*azservicebus.Error)(nil); errors.As(err, &sbErr) {
		op += fmt.Sprintf(" (code %s)", sbErr.Code)
	}
	return nimbus.Unavailable(op, err)
}
