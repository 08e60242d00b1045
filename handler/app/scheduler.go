package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Scheduler keeps scheduler entries and moves them through their lifecycle (SPEC 6).
//
// Storage: the schedulerentries table holds each entry under "<tenant>|<serviceId>" (so a
// service's entries are one partition) and a locator row per entry under the tenant, which
// maps an entry id to its service. The schedulerdue table is the due index (scheduler_due.go).
//
// Every change is a conditional write (ETag) of the entry that also records the events it
// raised and the OutboundCallRequested it needs ("pending"), so two instances racing on an
// entry cannot both change it. Pending events and commands are sent after the write and then
// cleared; a crash in between leaves a flush row in the due index, and the sweep sends them
// again with the same ids (queue duplicate detection, commandId per attempt).
type Scheduler struct {
	dir      *Directory
	entries  nimbus.Table
	due      nimbus.Table
	events   nimbus.Queue
	fire     nimbus.Queue
	commands *Commands
	log      *slog.Logger
	now      func() time.Time
	// grace is added to an attempt's timeout before it counts as AttemptTimeout.
	grace time.Duration
	// marked is set once the due index is known to have its watermark.
	marked atomic.Bool
}

// DefaultSchedulerGrace is NIMBUS_SCHEDULER_TIMEOUT_GRACE's default.
const DefaultSchedulerGrace = 60 * time.Second

// NewScheduler returns the scheduler use cases. fire is the scheduler queue: a message
// scheduled for each entry's next action wakes FireSchedulerEntries then.
func NewScheduler(dir *Directory, entries, due nimbus.Table, events, fire nimbus.Queue, commands *Commands, grace time.Duration, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{dir: dir, entries: entries, due: due, events: events, fire: fire, commands: commands, grace: grace, log: log, now: time.Now}
}

// storedEntry is the record of the schedulerentries table.
type storedEntry struct {
	Entry nimbus.SchedulerEntry `json:"entry"`
	// Pending are events raised and not yet known to be queued.
	Pending []pendingEvent `json:"pending,omitempty"`
	// Commands are commands to core not yet known to be stored in the command outbox.
	Commands []nimbus.Command `json:"commands,omitempty"`
	// Row is the due index row of the entry's next action; Flush the row that marks
	// pending sends (both "<partition>\x00<row>").
	Row   string `json:"row,omitempty"`
	Flush string `json:"flush,omitempty"`
	// WakeSeq and WakeAt identify the scheduled message of the next action, on a queue
	// that can cancel it (nimbus.ScheduledQueue).
	WakeSeq int64     `json:"wakeSeq,omitempty"`
	WakeAt  time.Time `json:"wakeAt,omitzero"`
}

type pendingEvent struct {
	ID    string                     `json:"id"`
	Event nimbus.SchedulerEntryEvent `json:"event"`
}

func (st *storedEntry) raised(ev *nimbus.SchedulerEntryEvent) {
	if ev != nil {
		st.Pending = append(st.Pending, pendingEvent{ID: st.Entry.EventID(st.Entry.Seq), Event: *ev})
	}
}

func (st *storedEntry) hasPending() bool { return len(st.Pending) > 0 || len(st.Commands) > 0 }

func entryPartition(tenant, serviceID string) string { return tenant + "|" + serviceID }

type locator struct {
	ServiceID string `json:"serviceId"`
}

// locate finds the service of an entry id of the tenant; KindNotFound when there is none.
func (s *Scheduler) locate(ctx context.Context, tenant, id string) (string, error) {
	if nimbus.CheckID("SchedulerEntryID", id) != nil {
		return "", entryNotFound(id)
	}
	e, err := s.entries.Get(ctx, tenant, id)
	if errors.Is(err, nimbus.ErrNotFound) {
		return "", entryNotFound(id)
	}
	if err != nil {
		return "", fmt.Errorf("locate scheduler entry: %w", err)
	}
	var l locator
	if err := json.Unmarshal(e.Data, &l); err != nil {
		return "", fmt.Errorf("decode scheduler entry locator %s: %w", id, err)
	}
	return l.ServiceID, nil
}

func entryNotFound(id string) error {
	return nimbus.NotFound("Scheduler entry %q was not found.", id)
}

func (s *Scheduler) load(ctx context.Context, tenant, serviceID, id string) (*storedEntry, string, error) {
	e, err := s.entries.Get(ctx, entryPartition(tenant, serviceID), id)
	if errors.Is(err, nimbus.ErrNotFound) {
		return nil, "", entryNotFound(id)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read scheduler entry: %w", err)
	}
	var st storedEntry
	if err := json.Unmarshal(e.Data, &st); err != nil {
		return nil, "", fmt.Errorf("decode scheduler entry %s: %w", id, err)
	}
	return &st, e.ETag, nil
}

// write stores st: inserted when etag is empty, else replaced only if still at etag.
func (s *Scheduler) write(ctx context.Context, st *storedEntry, etag string) (string, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encode scheduler entry: %w", err)
	}
	e := nimbus.Entity{PartitionKey: entryPartition(st.Entry.TenantID, st.Entry.ServiceID), RowKey: st.Entry.ID, Data: data, ETag: etag}
	if etag == "" {
		return s.entries.Insert(ctx, e)
	}
	return s.entries.Update(ctx, e)
}

// step changes an entry in place and reports whether it changed; a nimbus error refuses
// the change.
type step func(st *storedEntry, now time.Time) (bool, error)

// change applies fn to the stored entry with an ETag condition, retrying on a lost race,
// and sends what the change raised. It returns the entry as stored.
func (s *Scheduler) change(ctx context.Context, tenant, serviceID, id string, fn step) (*storedEntry, error) {
	for attempt := range maxWriteAttempts {
		if err := pause(ctx, attempt); err != nil {
			return nil, err
		}
		st, etag, err := s.load(ctx, tenant, serviceID, id)
		if err != nil {
			return nil, err
		}
		now := s.now().UTC()
		changed, err := fn(st, now)
		if err != nil {
			return nil, err
		}
		if !changed {
			// What another change left pending is its own to send, unless it has been
			// waiting long enough to look abandoned (a crash after its write).
			if st.hasPending() && now.Sub(st.Entry.Updated) >= flushDelay {
				s.flush(ctx, st, etag)
			}
			return st, nil
		}
		oldRow := st.Row
		etag, err = s.commit(ctx, st, etag, now)
		if errors.Is(err, nimbus.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.afterCommit(ctx, st, etag, oldRow)
		return st, nil
	}
	return nil, &nimbus.Error{Kind: nimbus.KindUnavailable, Message: "The scheduler entry is being changed by many writers at once; try again.", RetryAfter: time.Second}
}

// commit writes the index rows the changed entry needs, then the entry itself (inserted
// when etag is empty). Rows come first, so a crash never leaves an entry the index misses.
func (s *Scheduler) commit(ctx context.Context, st *storedEntry, etag string, now time.Time) (string, error) {
	old := st.Row
	st.Row = ""
	if at := st.Entry.NextAction(s.grace); !at.IsZero() {
		row, err := s.index(ctx, st, maxTime(at, now), false)
		if err != nil {
			return "", err
		}
		st.Row = row
	}
	if st.hasPending() && st.Flush == "" && old != "" && old != st.Row && !refTime(old).After(now) {
		// Firing and timing out: the row that came due marks the pending sends until they
		// are out, which saves writing and deleting a flush row on the busiest path.
		st.Flush = old
	}
	if st.hasPending() && st.Flush == "" {
		row, err := s.index(ctx, st, now, true)
		if err != nil {
			return "", err
		}
		st.Flush = row
	}
	return s.write(ctx, st, etag)
}

// afterCommit wakes the firer at the next action, sends what the change raised (storing
// the wake-up's sequence number with it), and drops the index row the change made
// obsolete. Each part is retried by the sweep if it fails.
func (s *Scheduler) afterCommit(ctx context.Context, st *storedEntry, etag, oldRow string) {
	if st.Row != oldRow {
		s.wake(ctx, st)
	}
	marker := st.Flush
	sent := s.flush(ctx, st, etag)
	if oldRow != "" && oldRow != st.Row && (oldRow != marker || sent) {
		s.unindex(ctx, oldRow)
	}
}

// flush sends the pending events and commands of st and then clears them (conditionally:
// if another change came in between, its own flush sends them again, deduplicated). It
// reports whether the cleared entry was stored, and with it the flush row deleted.
func (s *Scheduler) flush(ctx context.Context, st *storedEntry, etag string) bool {
	if !st.hasPending() && st.Flush == "" {
		return true
	}
	if err := s.send(ctx, st); err != nil {
		s.log.WarnContext(ctx, "scheduler entry events kept pending; the sweep sends them again", "tenant", st.Entry.TenantID, "schedulerEntryId", st.Entry.ID, "err", err)
		return false
	}
	flushRow := st.Flush
	st.Pending, st.Commands, st.Flush = nil, nil, ""
	if _, err := s.write(ctx, st, etag); err != nil {
		if !errors.Is(err, nimbus.ErrConflict) {
			s.log.WarnContext(ctx, "sent scheduler entry events left pending; they are sent again, deduplicated", "tenant", st.Entry.TenantID, "schedulerEntryId", st.Entry.ID, "err", err)
		}
		return false
	}
	if flushRow != "" {
		s.unindex(ctx, flushRow)
	}
	return true
}

// send queues the pending events (one message each, ids derived from the event ids) and
// stores the pending commands in the command outbox.
func (s *Scheduler) send(ctx context.Context, st *storedEntry) error {
	if len(st.Pending) > 0 {
		msgs := make([]nimbus.Message, 0, len(st.Pending))
		for _, p := range st.Pending {
			ev := p.Event
			body, err := json.Marshal(nimbus.Envelope{Kind: nimbus.EventKindSchedulerEntry, Tenant: st.Entry.TenantID, Service: st.Entry.ServiceUPN, ID: p.ID, SchedulerEntry: &ev})
			if err != nil {
				return fmt.Errorf("encode scheduler entry event: %w", err)
			}
			msgs = append(msgs, nimbus.Message{ID: nimbus.ScopedID(st.Entry.TenantID, "se:"+p.ID), SessionID: nimbus.ScopedID(st.Entry.TenantID, "se:"+st.Entry.ID), Body: body})
		}
		if err := s.events.Send(ctx, msgs...); err != nil {
			return fmt.Errorf("queue scheduler entry events: %w", err)
		}
	}
	for _, cmd := range st.Commands {
		if err := s.commands.Send(ctx, cmd); err != nil {
			return err
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// outboundCommand is the OutboundCallRequested of the entry's current attempt.
func outboundCommand(e *nimbus.SchedulerEntry) nimbus.Command {
	call := e.OutboundCall()
	return nimbus.Command{
		CommandID: nimbus.OutboundCommandID(e.TenantID, e.ID, e.Attempt), TenantID: e.TenantID,
		Type: nimbus.CommandOutboundCallRequested, ServiceID: e.ServiceID, ServiceUPN: e.ServiceUPN, OutboundCall: &call,
	}
}
