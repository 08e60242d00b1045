package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// The due index (schedulerdue table) finds the entries whose next action has come without
// reading any other entry: one partition per minute of action time ("bucket"), one row per
// entry and action. A sweep reads the buckets from the watermark (the oldest bucket that may
// still hold rows) to the current one, so its cost depends on the rows due by now and the
// minutes since the last sweep, not on how many entries are scheduled later.
//
// Rows are written before the entry that refers to them and deleted after it moved on; a
// row the entry no longer refers to is stale and dropped when the sweep meets it.

const (
	bucketLayout = "200601021504"
	metaBucket   = "meta"
	watermarkRow = "watermark"
	// flushDelay is how old a flush row must be before the sweep acts on it, so it does not
	// race the change that is about to send the events itself.
	flushDelay = 5 * time.Second
	// watermarkLag keeps the watermark a minute behind, for clock differences between
	// instances.
	watermarkLag = time.Minute
)

// dueRow is the record of one index row.
type dueRow struct {
	Tenant    string    `json:"tenant"`
	ServiceID string    `json:"serviceId"`
	EntryID   string    `json:"entryId"`
	At        time.Time `json:"at"`
	Flush     bool      `json:"flush,omitempty"`
}

func bucketOf(t time.Time) string { return t.UTC().Format(bucketLayout) }

// index writes the row for st's action at t and returns its reference.
func (s *Scheduler) index(ctx context.Context, st *storedEntry, at time.Time, flush bool) (string, error) {
	row, err := dueEntity(st, at, flush)
	if err != nil {
		return "", err
	}
	if _, err := s.due.Upsert(ctx, row); err != nil {
		return "", fmt.Errorf("index scheduler entry: %w", err)
	}
	return row.PartitionKey + "\x00" + row.RowKey, nil
}

// dueEntity is the index row of st's action (or flush) at t: partition the minute,
// row key the time (zero-padded nanoseconds, so a bucket lists in time order), kind, tenant
// and entry.
func dueEntity(st *storedEntry, at time.Time, flush bool) (nimbus.Entity, error) {
	kind := "a"
	if flush {
		kind = "f"
	}
	data, err := json.Marshal(dueRow{Tenant: st.Entry.TenantID, ServiceID: st.Entry.ServiceID, EntryID: st.Entry.ID, At: at, Flush: flush})
	if err != nil {
		return nimbus.Entity{}, fmt.Errorf("encode due row: %w", err)
	}
	rk := fmt.Sprintf("%020d|%s|%s|%s", at.UnixNano(), kind, st.Entry.TenantID, st.Entry.ID)
	return nimbus.Entity{PartitionKey: bucketOf(at), RowKey: rk, Data: data}, nil
}

// refTime is the time of an index row reference (zero for a malformed one).
func refTime(ref string) time.Time {
	_, rk, _ := strings.Cut(ref, "\x00")
	nanos, _, _ := strings.Cut(rk, "|")
	n, err := strconv.ParseInt(nanos, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// unindex deletes a row; failures are left to the sweep, which drops stale rows.
func (s *Scheduler) unindex(ctx context.Context, ref string) {
	pk, rk, _ := strings.Cut(ref, "\x00")
	if err := s.due.Delete(ctx, pk, rk, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		s.log.DebugContext(ctx, "due row left for the sweep", "err", err)
	}
}

// fireRef is the body of a message on the scheduler queue: which entry to look at.
type fireRef struct {
	TenantID  string `json:"tenantId"`
	ServiceID string `json:"serviceId"`
	EntryID   string `json:"entryId"`
}

// wake schedules a message on the scheduler queue for st's next action, and cancels the
// message of the previous one if it is still waiting. It is an optimisation over the sweep
// (the action happens on time, not at the next sweep), so failures only log.
func (s *Scheduler) wake(ctx context.Context, st *storedEntry) {
	at := st.Entry.NextAction(s.grace)
	sq, cancellable := s.fire.(nimbus.ScheduledQueue)
	if cancellable && st.WakeSeq != 0 && st.WakeAt.After(s.now()) {
		if err := sq.CancelScheduled(ctx, st.WakeSeq); err != nil {
			s.log.DebugContext(ctx, "scheduler message not cancelled; it changes nothing when it arrives", "schedulerEntryId", st.Entry.ID, "err", err)
		}
	}
	st.WakeSeq, st.WakeAt = 0, time.Time{}
	if st.Entry.State.Final() {
		return // deleting an ended entry is the sweep's, it needs no punctual wake-up
	}
	body, err := json.Marshal(fireRef{TenantID: st.Entry.TenantID, ServiceID: st.Entry.ServiceID, EntryID: st.Entry.ID})
	if err != nil {
		return
	}
	m := nimbus.Message{ID: nimbus.ScopedID(st.Entry.TenantID, fmt.Sprintf("fire:%s@%d", st.Entry.ID, at.UnixNano())), Body: body, NotBefore: at}
	if cancellable {
		seq, err := sq.Schedule(ctx, m)
		if err == nil {
			st.WakeSeq, st.WakeAt = seq, at
			return
		}
		s.log.WarnContext(ctx, "scheduler entry left to the sweep; the scheduler queue is unavailable", "tenant", st.Entry.TenantID, "schedulerEntryId", st.Entry.ID, "err", err)
		return
	}
	if err := s.fire.Send(ctx, m); err != nil {
		s.log.WarnContext(ctx, "scheduler entry left to the sweep; the scheduler queue is unavailable", "tenant", st.Entry.TenantID, "schedulerEntryId", st.Entry.ID, "err", err)
	}
}

// Fire is the FireSchedulerEntries handler: a scheduled message says an entry's next action
// may have come. Acting is idempotent and conditional, so a message that arrives after the
// entry moved on (updated, removed, reported) changes nothing.
func (s *Scheduler) Fire(ctx context.Context, m nimbus.Message) error {
	var ref fireRef
	if err := json.Unmarshal(m.Body, &ref); err != nil || ref.TenantID == "" || ref.EntryID == "" {
		s.log.WarnContext(ctx, "malformed scheduler message dropped", "messageId", m.ID)
		return nil
	}
	_, err := s.advance(ctx, ref.TenantID, ref.ServiceID, ref.EntryID)
	if errors.Is(err, nimbus.ErrNotFound) {
		return nil
	}
	return err
}

// advance does what an entry's time calls for: fire a due entry, time out an attempt, or
// send what a crash left pending.
func (s *Scheduler) advance(ctx context.Context, tenant, serviceID, id string) (*storedEntry, error) {
	retry := nimbus.DefaultOutboundRetryDelay
	if x, err := s.dir.Index(ctx, tenant); err == nil {
		if svc, ok := x.Service(serviceID); ok {
			retry = svc.RetryDelay()
		}
	}
	st, err := s.change(ctx, tenant, serviceID, id, func(st *storedEntry, now time.Time) (bool, error) {
		if ev := st.Entry.Fire(now); ev != nil {
			st.raised(ev)
			st.Commands = append(st.Commands, outboundCommand(&st.Entry))
			return true, nil
		}
		if ev := st.Entry.TimeOut(s.grace, retry, now); ev != nil {
			st.raised(ev)
			return true, nil
		}
		return false, nil
	})
	if err != nil || !st.Entry.State.Final() || st.hasPending() || s.now().Before(st.Entry.NextAction(s.grace)) {
		return st, err
	}
	return nil, s.purge(ctx, st)
}

// purge deletes an entry whose retention after its end has passed, with its locator and
// index row.
func (s *Scheduler) purge(ctx context.Context, st *storedEntry) error {
	e := &st.Entry
	if err := s.entries.Delete(ctx, entryPartition(e.TenantID, e.ServiceID), e.ID, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return fmt.Errorf("delete ended scheduler entry: %w", err)
	}
	if err := s.entries.Delete(ctx, e.TenantID, e.ID, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return fmt.Errorf("delete ended scheduler entry locator: %w", err)
	}
	if st.Row != "" {
		s.unindex(ctx, st.Row)
	}
	return nil
}

// SweepResult says what one sweep did.
type SweepResult struct {
	Buckets int // index partitions read
	Rows    int // rows read
	Acted   int // rows acted on
}

// Sweep is the SchedulerSweep job: the safety net that acts on every index row whose time
// has come (overdue entries whose message was lost, attempt timeouts, pending sends), and
// drops stale rows.
func (s *Scheduler) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := s.now().UTC()
	mark, etag, err := s.watermark(ctx, now)
	if err != nil {
		return res, err
	}
	var failed []error
	newMark := ""
	for b := mark; b.Before(now) || bucketOf(b) == bucketOf(now); b = b.Add(time.Minute) {
		bucket := bucketOf(b)
		res.Buckets++
		left := 0
		err := eachRecord(ctx, s.due, bucket, "", func(e nimbus.Entity, r dueRow) error {
			res.Rows++
			if r.At.After(now) || r.Flush && now.Sub(r.At) < flushDelay {
				left++
				return nil
			}
			res.Acted++
			kept, err := s.sweepRow(ctx, bucket+"\x00"+e.RowKey, r)
			if err != nil {
				failed = append(failed, err)
			}
			if kept || err != nil {
				left++
			}
			return nil
		})
		if err != nil {
			failed = append(failed, err)
			left++
		}
		if left == 0 && newMark == "" && b.Before(now.Add(-watermarkLag).Truncate(time.Minute)) {
			continue // the watermark may move past this bucket
		}
		if newMark == "" {
			newMark = bucket
		}
	}
	if newMark != "" && newMark != bucketOf(mark) {
		s.setWatermark(ctx, newMark, etag)
	}
	if len(failed) > 0 {
		return res, fmt.Errorf("sweep scheduler entries: %w", errors.Join(failed...))
	}
	return res, nil
}

// sweepRow acts on one row whose time came and deletes it once the entry no longer needs
// it. It reports whether the row stays (it still marks sends in flight).
func (s *Scheduler) sweepRow(ctx context.Context, ref string, r dueRow) (bool, error) {
	st, err := s.advance(ctx, r.Tenant, r.ServiceID, r.EntryID)
	if err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return true, err
	}
	if st != nil && (st.Row == ref || st.Flush == ref) {
		return true, nil
	}
	s.unindex(ctx, ref)
	return false, nil
}

type watermark struct {
	Bucket string `json:"bucket"`
}

// watermark returns the oldest bucket that may hold rows; a new index starts a minute ago.
func (s *Scheduler) watermark(ctx context.Context, now time.Time) (time.Time, string, error) {
	e, err := s.due.Get(ctx, metaBucket, watermarkRow)
	if errors.Is(err, nimbus.ErrNotFound) {
		return now.Add(-watermarkLag).Truncate(time.Minute), "", nil
	}
	if err != nil {
		return time.Time{}, "", fmt.Errorf("read scheduler watermark: %w", err)
	}
	var w watermark
	t, perr := time.Parse(bucketLayout, "")
	if json.Unmarshal(e.Data, &w) == nil {
		t, perr = time.Parse(bucketLayout, w.Bucket)
	}
	if perr != nil {
		return now.Add(-watermarkLag).Truncate(time.Minute), e.ETag, nil
	}
	return t, e.ETag, nil
}

func (s *Scheduler) setWatermark(ctx context.Context, bucket, etag string) {
	data, _ := json.Marshal(watermark{Bucket: bucket})
	var err error
	if etag == "" {
		_, err = s.due.Insert(ctx, nimbus.Entity{PartitionKey: metaBucket, RowKey: watermarkRow, Data: data})
	} else {
		_, err = s.due.Update(ctx, nimbus.Entity{PartitionKey: metaBucket, RowKey: watermarkRow, Data: data, ETag: etag})
	}
	if err != nil && !errors.Is(err, nimbus.ErrConflict) {
		s.log.WarnContext(ctx, "scheduler watermark not moved; the next sweep reads the same buckets", "err", err)
	}
}

// SweepJob is the job of the SchedulerSweep timer.
func (s *Scheduler) SweepJob(ctx context.Context) error {
	res, err := s.Sweep(ctx)
	if res.Acted > 0 {
		s.log.InfoContext(ctx, "scheduler sweep acted on entries", "rows", res.Acted)
	}
	return err
}
