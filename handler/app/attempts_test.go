package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// attemptLogOn returns a delivery log over a fresh embedded table, its clock set to now.
func attemptLogOn(t *testing.T, now time.Time) (*AttemptLog, nimbus.Table, *fixture) {
	t.Helper()
	f := newFixture(t, 0)
	table := f.tables.Table(nimbus.TableDeliveryAttempts)
	subs := NewSubscriptions(f.dir, f.tables.Table(nimbus.TableSubscriptions), f.tables.Table(nimbus.TableSubscriptionIndex), nil)
	l := NewAttemptLog(table, f.dir, subs, nil)
	l.now = func() time.Time { return now }
	t.Cleanup(func() { l.Close(context.Background()) })
	return l, table, f
}

func countRows(t *testing.T, table nimbus.Table, pk string) int {
	t.Helper()
	n := 0
	if err := eachEntity(t.Context(), table, pk, "", func(nimbus.Entity) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// Writing keeps each subscription's log to its newest AttemptLogPerSubscription rows and
// drops rows older than AttemptLogKeep; a sweep also ages out a log nobody writes to.
func TestAttemptLogBounds(t *testing.T) {
	now := time.Now()
	l, table, _ := attemptLogOn(t, now)
	tenant := DemoTenantID
	var batch []pendingAttempt
	for i := range AttemptLogPerSubscription + attemptTrimEvery {
		at := now.Add(-time.Duration(AttemptLogPerSubscription+attemptTrimEvery-i) * time.Second)
		batch = append(batch, pendingAttempt{tenant: tenant, subscription: "busy", rec: AttemptRecord{Time: at, AttemptID: fmt.Sprint(i), Attempt: 1}})
	}
	// A quiet subscription with one old and one recent attempt.
	batch = append(batch,
		pendingAttempt{tenant: tenant, subscription: "quiet", rec: AttemptRecord{Time: now.Add(-AttemptLogKeep - time.Hour), AttemptID: "old"}},
		pendingAttempt{tenant: tenant, subscription: "quiet", rec: AttemptRecord{Time: now.Add(-time.Hour), AttemptID: "new"}},
		pendingAttempt{tenant: tenant, subscription: "gone", rec: AttemptRecord{Time: now.Add(-AttemptLogKeep - time.Hour), AttemptID: "gone"}},
	)
	// In two flushes: the second brings the log past its bound, and the trim after it
	// removes the oldest rows.
	l.write(batch[:AttemptLogPerSubscription])
	l.write(batch[AttemptLogPerSubscription:])
	if got := countRows(t, table, attemptPartition(tenant, "busy")); got != AttemptLogPerSubscription {
		t.Errorf("busy subscription keeps %d rows, want %d", got, AttemptLogPerSubscription)
	}
	page, err := table.List(t.Context(), attemptPartition(tenant, "busy"), "", "", 1)
	if err != nil || len(page.Entities) != 1 || !attemptRowTime(page.Entities[0].RowKey).Equal(now.Add(-time.Second)) {
		t.Errorf("newest row first: %+v, %v", page.Entities, err)
	}
	if got := countRows(t, table, attemptPartition(tenant, "quiet")); got != 2 {
		t.Errorf("quiet subscription has %d rows before the sweep, want 2", got)
	}
	l.sweepAll()
	if got := countRows(t, table, attemptPartition(tenant, "quiet")); got != 1 {
		t.Errorf("quiet subscription has %d rows after the sweep, want 1", got)
	}
	if got := countRows(t, table, attemptPartition(tenant, "gone")); got != 0 {
		t.Errorf("expired log has %d rows after the sweep, want 0", got)
	}
	if got := countRows(t, table, attemptPartitions); got != 2 {
		t.Errorf("%d partitions listed after the sweep, want 2 (busy, quiet)", got)
	}
}

// Record never blocks: a full buffer drops and counts the record; Close flushes the rest.
func TestAttemptLogRecordNeverBlocks(t *testing.T) {
	now := time.Now()
	f := newFixture(t, 0)
	table := f.tables.Table(nimbus.TableDeliveryAttempts)
	l := &AttemptLog{table: table, now: func() time.Time { return now }, log: NewStats(nil).log,
		ch: make(chan pendingAttempt, 2), stop: make(chan struct{}), stopped: make(chan struct{}),
		sinceTrim: map[string]int{}, known: map[string]bool{}} // writer not started yet
	for i := range 3 {
		l.Record(DemoTenantID, "s", AttemptRecord{Time: now.Add(time.Duration(i)), AttemptID: fmt.Sprint(i)}, []byte(`{"event":"InQueue"}`))
	}
	if l.Lost() != 1 {
		t.Errorf("lost %d, want 1", l.Lost())
	}
	go l.run()
	l.Close(t.Context())
	page, err := table.List(t.Context(), attemptPartition(DemoTenantID, "s"), "", "", 10)
	if err != nil || len(page.Entities) != 2 {
		t.Fatalf("flushed on close: %d rows, %v", len(page.Entities), err)
	}
	var nilLog *AttemptLog
	nilLog.Record(DemoTenantID, "s", AttemptRecord{}, nil) // the log turned off: a no-op
}

func TestErrorClass(t *testing.T) {
	cases := []struct {
		a    nimbus.Attempt
		want string
	}{
		{nimbus.Attempt{Status: 200}, ""},
		{nimbus.Attempt{Status: 204}, ""},
		{nimbus.Attempt{Status: 400}, "http4xx"},
		{nimbus.Attempt{Status: 404}, "http4xx"},
		{nimbus.Attempt{Status: 410}, "gone"},
		{nimbus.Attempt{Status: 429}, "throttled"},
		{nimbus.Attempt{Status: 503}, "http5xx"},
		{nimbus.Attempt{Status: 302}, "http3xx"},
		{nimbus.Attempt{Err: nimbus.AttemptTimedOut}, "timeout"},
		{nimbus.Attempt{Err: nimbus.AttemptRefused}, "ssrf"},
		{nimbus.Attempt{Err: "connection refused"}, "connection"},
	}
	for _, c := range cases {
		if got := ErrorClass(c.a); got != c.want {
			t.Errorf("ErrorClass(%+v) = %q, want %q", c.a, got, c.want)
		}
	}
}

func TestAttemptRowKeyOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	older, newer := attemptRowKey(t0, "b"), attemptRowKey(t0.Add(time.Nanosecond), "a")
	if newer >= older {
		t.Errorf("row key of a newer attempt %q does not sort before %q", newer, older)
	}
	if got := attemptRowTime(older); !got.Equal(t0) {
		t.Errorf("attemptRowTime = %v, want %v", got, t0)
	}
	if got := attemptRowTime("not a key"); !got.IsZero() {
		t.Errorf("attemptRowTime of a bad key = %v", got)
	}
}
