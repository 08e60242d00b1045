package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// TestBenchScheduler measures the scheduler in the embedded store and prints tab-separated
// "BENCH" lines for scripts/bench.sh scheduler. It runs only with NIMBUS_BENCH=scheduler
// and asserts nothing about time.
//
//   - due-finding cost: one sweep pass over the due index with 1,000 and with 100,000
//     entries scheduled over the next week, interleaved in rounds; the ratio of the medians
//     (target <= 1.5).
//   - lateness: 10,000 entries due in the same second, fired by the scheduler queue's
//     consumer as the handler runs it; how late each DueDateReached is (p50, p99, max).
func TestBenchScheduler(t *testing.T) {
	if os.Getenv("NIMBUS_BENCH") != "scheduler" {
		t.Skip("set NIMBUS_BENCH=scheduler to run the scheduler benchmark (scripts/bench.sh scheduler)")
	}
	small, large := newBenchScheduler(t), newBenchScheduler(t)
	small.seedFuture(t, 1000)
	large.seedFuture(t, 100000)
	const rounds, perRound = 15, 50
	samples := [2][]float64{}
	stores := []*benchScheduler{small, large}
	for r := range rounds {
		for j := range stores {
			k := (j + r) % 2
			began := time.Now()
			for range perRound {
				res, err := stores[k].s.Sweep(t.Context())
				if err != nil || res.Acted != 0 {
					t.Fatalf("sweep: %+v %v", res, err)
				}
			}
			samples[k] = append(samples[k], float64(time.Since(began).Nanoseconds())/perRound)
		}
	}
	a, b := benchMedian(samples[0]), benchMedian(samples[1])
	verdict := "met"
	if b/a > 1.5 {
		verdict = "NOT MET"
	}
	fmt.Printf("BENCH\tscheduler: due-finding pass, 1,000 future entries\t%.1f us/pass\t\t\n", a/1e3)
	fmt.Printf("BENCH\tscheduler: due-finding pass, 100,000 future entries\t%.1f us/pass\t\t\n", b/1e3)
	fmt.Printf("BENCH\tscheduler: due-finding ratio 100,000 / 1,000\t%.2f\t<= 1.5\t%s\n", b/a, verdict)
	fmt.Printf("BENCHNOTE\tscheduler due-finding: embedded store; entries spread over the next 7 days; one sweep pass (watermark read and the due buckets) with nothing due, median of %d interleaved rounds of %d passes\n", rounds, perRound)

	lateness(t, newBenchScheduler(t), 10000)
}

// lateness seeds n entries due in one second, two seconds ahead, runs the scheduler
// queue's consumer as the handler does, and reports how late each entry fired.
func lateness(t *testing.T, b *benchScheduler, n int) {
	due := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	b.seed(t, n, func(int) time.Time { return due }, true)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = b.queues.Run(ctx, nimbus.QueueScheduler, b.s.Fire, 16) }()
	deadline := time.Now().Add(10 * time.Minute)
	for b.events.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d entries fired", b.events.count(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var late []float64
	for _, m := range b.events.all() {
		var env nimbus.Envelope
		if err := json.Unmarshal(m.Body, &env); err != nil || env.SchedulerEntry == nil {
			t.Fatalf("event %s", m.Body)
		}
		late = append(late, float64(env.SchedulerEntry.OccurredAt.Sub(due).Milliseconds()))
	}
	slices.Sort(late)
	pct := func(p float64) float64 { return late[min(len(late)-1, int(p*float64(len(late))))] }
	fmt.Printf("BENCH\tscheduler: lateness of %d entries due in one second, p50\t%.0f ms\t\t\n", n, pct(0.50))
	fmt.Printf("BENCH\tscheduler: lateness of %d entries due in one second, p99\t%.0f ms\t\t\n", n, pct(0.99))
	fmt.Printf("BENCH\tscheduler: lateness of %d entries due in one second, max\t%.0f ms\t\t\n", n, late[len(late)-1])
	fmt.Printf("BENCHNOTE\tscheduler lateness: embedded store and queue, %d entries due in the same second, fired by the FireSchedulerEntries consumer (16 workers); lateness = DueDateReached time - due time\n", n)
}

// countingQueue keeps every message sent, for counting.
type countingQueue struct {
	mu   sync.Mutex
	msgs []nimbus.Message
}

func (q *countingQueue) Send(_ context.Context, msgs ...nimbus.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, msgs...)
	return nil
}

func (q *countingQueue) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

func (q *countingQueue) all() []nimbus.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.msgs)
}

type benchScheduler struct {
	s      *Scheduler
	tables nimbus.Tables
	queues *embedded.Queues
	events *countingQueue
	demo   DemoInfo
}

func newBenchScheduler(t *testing.T) *benchScheduler {
	t.Helper()
	db, err := embedded.Open(filepath.Join(t.TempDir(), "nimbus.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tables := db.Tables()
	dir := NewDirectory(tables.Table(nimbus.TableDirectory), 0)
	d, info := Demo()
	if _, err := dir.Seed(t.Context(), d, false); err != nil {
		t.Fatal(err)
	}
	qs := db.Queues(embedded.QueueOptions{})
	events := &countingQueue{}
	cmds := NewCommands(&countingQueue{}, tables.Table(nimbus.TableCommandOutbox), nil)
	s := NewScheduler(dir, tables.Table(nimbus.TableSchedulerEntries), tables.Table(nimbus.TableSchedulerDue), events, qs.Queue(nimbus.QueueScheduler), cmds, DefaultSchedulerGrace, nil)
	if err := s.ensureWatermark(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &benchScheduler{s: s, tables: tables, queues: qs, events: events, demo: info}
}

// seedFuture stores n entries due over the next seven days.
func (b *benchScheduler) seedFuture(t *testing.T, n int) {
	start := time.Now().Add(2 * time.Minute)
	b.seed(t, n, func(i int) time.Time { return start.Add(time.Duration(i) * (7 * 24 * time.Hour / time.Duration(n))) }, false)
}

// seed stores n Scheduled entries as Create does (entry, locator, due index row, and with
// wake the scheduler queue's message), in batches to keep the setup short.
func (b *benchScheduler) seed(t *testing.T, n int, due func(int) time.Time, wake bool) {
	t.Helper()
	ctx := t.Context()
	tenant, svc := b.demo.TenantID, "svc-contactcenter"
	var entries, locators []nimbus.BatchOp
	rows := map[string][]nimbus.BatchOp{}
	var wakes []nimbus.Message
	flush := func(force bool) {
		if len(entries) >= nimbus.MaxBatch || force && len(entries) > 0 {
			if err := b.tables.Table(nimbus.TableSchedulerEntries).Batch(ctx, entryPartition(tenant, svc), entries); err != nil {
				t.Fatal(err)
			}
			if err := b.tables.Table(nimbus.TableSchedulerEntries).Batch(ctx, tenant, locators); err != nil {
				t.Fatal(err)
			}
			entries, locators = nil, nil
		}
		for pk, ops := range rows {
			if len(ops) >= nimbus.MaxBatch || force && len(ops) > 0 {
				if err := b.tables.Table(nimbus.TableSchedulerDue).Batch(ctx, pk, ops); err != nil {
					t.Fatal(err)
				}
				delete(rows, pk)
			}
		}
		if len(wakes) >= nimbus.MaxBatch || force && len(wakes) > 0 {
			if err := b.queues.Queue(nimbus.QueueScheduler).Send(ctx, wakes...); err != nil {
				t.Fatal(err)
			}
			wakes = nil
		}
	}
	for i := range n {
		at := due(i)
		st := &storedEntry{Entry: nimbus.SchedulerEntry{ID: uuid.NewString(), TenantID: tenant, ServiceID: svc, ServiceUPN: b.demo.Services.ContactCenter,
			ConversationType: nimbus.ConversationOutboundCall, Destination: "+41790001122", DistributionPriority: nimbus.PriorityNormal,
			DueAt: at, MaxAttempts: 1, AttemptTimeout: 3600, MaxQueueTime: 300, RonaTimeout: 20, State: nimbus.SchedulerScheduled, Attempt: 1, Seq: 1}}
		row, err := dueEntity(st, at, false)
		if err != nil {
			t.Fatal(err)
		}
		st.Row = row.PartitionKey + "\x00" + row.RowKey
		data, _ := json.Marshal(st)
		loc, _ := json.Marshal(locator{ServiceID: svc})
		entries = append(entries, nimbus.BatchOp{Kind: nimbus.BatchInsert, RowKey: st.Entry.ID, Data: data})
		locators = append(locators, nimbus.BatchOp{Kind: nimbus.BatchInsert, RowKey: st.Entry.ID, Data: loc})
		rows[row.PartitionKey] = append(rows[row.PartitionKey], nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: row.RowKey, Data: row.Data})
		if wake {
			body, _ := json.Marshal(fireRef{TenantID: tenant, ServiceID: svc, EntryID: st.Entry.ID})
			wakes = append(wakes, nimbus.Message{ID: "fire:" + st.Entry.ID, Body: body, NotBefore: at})
		}
		flush(false)
	}
	flush(true)
}
