package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Commands sends commands to Nimbus core through an outbox: a command is written to the
// outbox after the state change it reports is stored, then queued, then removed from the
// outbox. If the queue is down, the command waits in the outbox and Flush sends it later, so
// a command is never dropped; the queue's duplicate detection (message id = command id)
// keeps a command that was queued twice from reaching core twice (message id = tenant-scoped
// command id).
type Commands struct {
	queue  nimbus.Queue
	outbox nimbus.Table
	log    *slog.Logger
	now    func() time.Time
	// Unsendable, when set, keeps the commands the queue refuses for good (KindInvalid):
	// they leave the outbox, visible and replayable by admins, instead of being retried
	// forever. Unset, they stay in the outbox.
	Unsendable *QueueFailures
}

// NewCommands returns the command sender.
func NewCommands(queue nimbus.Queue, outbox nimbus.Table, log *slog.Logger) *Commands {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Commands{queue: queue, outbox: outbox, log: log, now: time.Now}
}

// outboxPartition holds every pending command; the set is small (commands leave it within
// milliseconds unless the queue is down).
const outboxPartition = "pending"

// flushAge is how old a pending command must be before Flush sends it, so Flush does not
// race a Send that is about to queue it.
const flushAge = 5 * time.Second

// Send stores cmd durably and queues it. An error means the command is not stored; once it
// returns nil the command reaches core, now or after a Flush.
func (c *Commands) Send(ctx context.Context, cmd nimbus.Command) error {
	cmd.IssuedAt = c.now().UTC()
	data, err := json.Marshal(cmd)
	if err != nil {
		return fmt.Errorf("encode command: %w", err)
	}
	if _, err := c.outbox.Upsert(ctx, nimbus.Entity{PartitionKey: outboxPartition, RowKey: cmd.CommandID, Data: data}); err != nil {
		return fmt.Errorf("store command %s: %w", cmd.Type, err)
	}
	if err := c.queue.Send(ctx, nimbus.Message{ID: nimbus.ScopedID(cmd.TenantID, cmd.CommandID), Body: data}); err != nil {
		if c.giveUp(ctx, cmd, data, err) {
			return nil
		}
		c.log.WarnContext(ctx, "command kept in the outbox; the commands queue is unavailable", "commandId", cmd.CommandID, "type", cmd.Type, "err", err)
		return nil
	}
	if err := c.outbox.Delete(ctx, outboxPartition, cmd.CommandID, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		c.log.WarnContext(ctx, "queued command left in the outbox; a later flush queues it again (deduplicated)", "commandId", cmd.CommandID, "err", err)
	}
	return nil
}

// giveUp moves a command the queue refused for good (KindInvalid: no retry can succeed) from
// the outbox to the queue failures, and reports whether it did.
func (c *Commands) giveUp(ctx context.Context, cmd nimbus.Command, data []byte, sendErr error) bool {
	if c.Unsendable == nil || nimbus.KindOf(sendErr) != nimbus.KindInvalid {
		return false
	}
	if err := c.Unsendable.RecordUnsendable(ctx, cmd, data, sendErr); err != nil {
		c.log.WarnContext(ctx, "unsendable command kept in the outbox", "commandId", cmd.CommandID, "err", err)
		return false
	}
	c.log.WarnContext(ctx, "command dead-lettered: the queue refuses it", "tenant", cmd.TenantID, "commandId", cmd.CommandID, "type", cmd.Type, "err", sendErr)
	if err := c.outbox.Delete(ctx, outboxPartition, cmd.CommandID, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		c.log.WarnContext(ctx, "dead-lettered command left in the outbox", "commandId", cmd.CommandID, "err", err)
	}
	return true
}

// Flush queues every pending command older than flushAge and removes it from the outbox. It
// returns how many it sent. One command that cannot be sent does not hold back the others:
// Flush goes on with the rest and reports the failures together at the end, and a command
// the queue refuses for good is dead-lettered (Unsendable) rather than retried forever.
func (c *Commands) Flush(ctx context.Context) (int, error) {
	sent := 0
	var failed []error
	err := eachRecord(ctx, c.outbox, outboxPartition, "", func(e nimbus.Entity, cmd nimbus.Command) error {
		if c.now().Sub(cmd.IssuedAt) < flushAge {
			return nil
		}
		if err := c.queue.Send(ctx, nimbus.Message{ID: nimbus.ScopedID(cmd.TenantID, cmd.CommandID), Body: e.Data}); err != nil {
			if !c.giveUp(ctx, cmd, e.Data, err) {
				failed = append(failed, fmt.Errorf("queue pending command %s: %w", cmd.CommandID, err))
			}
			return nil
		}
		if err := c.outbox.Delete(ctx, outboxPartition, e.RowKey, e.ETag); err != nil && !errors.Is(err, nimbus.ErrNotFound) && !errors.Is(err, nimbus.ErrConflict) {
			failed = append(failed, fmt.Errorf("remove sent command %s: %w", cmd.CommandID, err))
			return nil
		}
		sent++
		return nil
	})
	if err != nil {
		failed = append(failed, err)
	}
	if len(failed) > 0 {
		return sent, fmt.Errorf("flush pending commands: %w", errors.Join(failed...))
	}
	return sent, nil
}

// FlushJob is the job of the FlushCommands timer: one Flush, with what it sent logged.
func (c *Commands) FlushJob(ctx context.Context) error {
	n, err := c.Flush(ctx)
	if n > 0 {
		c.log.InfoContext(ctx, "pending commands sent", "count", n)
	}
	return err
}

// ForwardCommands is the in-process consumer of the commands queue when the handler runs
// standalone: it POSTs each command to Nimbus core's URL (the simulator, or a test sink) and
// fails, so the queue retries, until core answers 2xx. In Azure, core reads the Service Bus
// queue itself and this is not used.
func ForwardCommands(poster Poster, url string) nimbus.Handler {
	return func(ctx context.Context, m nimbus.Message) error {
		a := poster.Post(ctx, url, m.ID, m.Body, "")
		if a.Classify() != nimbus.OutcomeDelivered {
			return fmt.Errorf("forward command %s to core: status %d %s", m.ID, a.Status, a.Err)
		}
		return nil
	}
}
