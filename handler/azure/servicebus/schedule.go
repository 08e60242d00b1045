package servicebus

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/nimbusflow/connector/handler/nimbus"
)

var _ nimbus.ScheduledQueue = queue{}

// Schedule sends m as a scheduled message for m.NotBefore and returns the sequence number
// Service Bus gave it, the handle CancelScheduled needs. A NotBefore that has passed
// schedules for now: the message is due at once either way.
func (q queue) Schedule(ctx context.Context, m nimbus.Message) (int64, error) {
	if err := nimbus.CheckMessages([]nimbus.Message{m}); err != nil {
		return 0, err
	}
	s, err := q.p.sender(q.name)
	if err != nil {
		return 0, err
	}
	now := q.p.now()
	at := m.NotBefore.UTC()
	if !at.After(now) {
		at = now.UTC()
	}
	sm := toSDK(m, now)
	sm.ScheduledEnqueueTime = nil // ScheduleMessages sets it from at
	seqs, err := s.schedule(ctx, []*azservicebus.Message{sm}, at)
	if err != nil {
		return 0, sendError(q.name, err)
	}
	if len(seqs) != 1 {
		return 0, sendError(q.name, fmt.Errorf("scheduled one message, got %d sequence numbers", len(seqs)))
	}
	return seqs[0], nil
}

// CancelScheduled withdraws the scheduled message with that sequence number.
func (q queue) CancelScheduled(ctx context.Context, seq int64) error {
	if seq <= 0 {
		return nimbus.Invalid("seq", "a scheduled message's sequence number is positive, got %d", seq)
	}
	s, err := q.p.sender(q.name)
	if err != nil {
		return err
	}
	if err := s.cancel(ctx, []int64{seq}); err != nil {
		return sendError(q.name, errors.Join(fmt.Errorf("cancel scheduled message %d", seq), err))
	}
	return nil
}
