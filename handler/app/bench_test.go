package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// Matching cost (SPEC 12): fanning out an event of service A must cost the same whether A's
// one subscription is alone in the tenant or next to 10,000 subscriptions of the tenant's
// other services, because Subscriptions.ForService reads only A's partition of the index.
//
// Both stores are the embedded bbolt file the standalone handler uses, with the same
// directory (the demo tenant plus benchOtherServices services); they differ only in the other
// services' subscriptions, which are written straight into the subscription tables in
// batches (10,000 registrations would be 20,000 single writes; the read path measured is the
// real one). The deliveries go to a queue that discards them: queueing costs the same in
// both stores and is not matching.

// benchOtherServices is how many other services the tenant has; the 10,000 other
// subscriptions are spread evenly over them.
const benchOtherServices = 100

// TestBenchMatch measures the fan-out of one event in both stores, interleaving the two in
// rounds so that the noise of a shared machine hits both alike, and prints tab-separated
// "BENCH" lines for scripts/bench.sh pipeline. It runs only with NIMBUS_BENCH=pipeline (or
// match) and asserts nothing about time.
func TestBenchMatch(t *testing.T) {
	if v := os.Getenv("NIMBUS_BENCH"); v != "pipeline" && v != "match" {
		t.Skip("set NIMBUS_BENCH=pipeline (or match) to run the matching benchmark (scripts/bench.sh pipeline)")
	}
	one, many := newBenchMatchStore(t, 0), newBenchMatchStore(t, 10000)
	modes := []struct {
		name   string
		ttl    time.Duration // of the subscription cache; 0 reads the index on every event
		perRun int
		step   func(*benchMatchStore, testing.TB)
	}{
		// The steady state: the subscriptions of a busy service stay cached (5 s TTL).
		{"fan-out, warm cache", time.Hour, 2000, (*benchMatchStore).fanOut},
		// Every event reads the service's index partition from bbolt, as after the TTL or
		// on the first event of a quiet service.
		{"fan-out, cold cache", 0, 1000, (*benchMatchStore).fanOut},
		// The whole event step: directory lookup, task projection read and write (one bbolt
		// transaction with its fsync), fan-out; only queueing the deliveries is left out.
		{"ProcessEvent, warm cache", time.Hour, 100, (*benchMatchStore).process},
	}
	const rounds = 15
	for _, m := range modes {
		stores := []*benchMatchStore{one, many}
		samples := make([][]float64, len(stores))
		for _, s := range stores {
			s.subs.ttl = m.ttl
			m.step(s, t) // fill the cache, if any
		}
		for r := range rounds {
			for j := range stores {
				k := (j + r) % len(stores) // alternate which store goes first
				began := time.Now()
				for range m.perRun {
					m.step(stores[k], t)
				}
				samples[k] = append(samples[k], float64(time.Since(began).Nanoseconds())/float64(m.perRun))
			}
		}
		a, b := benchMedian(samples[0]), benchMedian(samples[1])
		ratio := b / a
		verdict := "met"
		if ratio > 1.5 {
			verdict = "NOT MET"
		}
		fmt.Printf("BENCH\tmatch: %s, 1 subscription\t%.1f us/event\t\t\n", m.name, a/1e3)
		fmt.Printf("BENCH\tmatch: %s, +10,000 on other services\t%.1f us/event\t\t\n", m.name, b/1e3)
		fmt.Printf("BENCH\tmatch ratio (%s)\t%.2f\t<= 1.5\t%s\n", m.name, ratio, verdict)
	}
	fmt.Printf("BENCHNOTE\tmatch: embedded store, demo tenant + %d services; service A has 1 subscription, the other store also 10,000 on the other services; median of %d interleaved rounds per mode\n", benchOtherServices, rounds)
}

// BenchmarkMatch1 and BenchmarkMatch10000 are the fan-out of TestBenchMatch as Go
// benchmarks, for profiling one case:
//
//	go test -run '^$' -bench Match -cpuprofile cpu.out ./handler/app/
func BenchmarkMatch1(b *testing.B)     { benchmarkMatch(b, 0) }
func BenchmarkMatch10000(b *testing.B) { benchmarkMatch(b, 10000) }

func benchmarkMatch(b *testing.B, others int) {
	s := newBenchMatchStore(b, others)
	for _, mode := range []struct {
		name string
		ttl  time.Duration
	}{{"warm", time.Hour}, {"cold", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			s.subs.ttl = mode.ttl
			for b.Loop() {
				s.fanOut(b)
			}
		})
	}
}

// benchMatchStore is one embedded store wired like the handler's pipeline, with service A's
// subscription and an event of A that it matches.
type benchMatchStore struct {
	subs     *Subscriptions
	pipeline *Pipeline
	x        *nimbus.Index
	svc      *nimbus.Service
	task     nimbus.Task
	event    nimbus.IngestEvent
	tasks    int // tasks created by process, for fresh task ids
}

func newBenchMatchStore(tb testing.TB, others int) *benchMatchStore {
	tb.Helper()
	ctx := context.Background()
	db, err := embedded.Open(filepath.Join(tb.TempDir(), "nimbus.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	tables := db.Tables()
	dir := NewDirectory(tables.Table(nimbus.TableDirectory), 0)
	d, info := Demo()
	for k := range benchOtherServices {
		d.Services = append(d.Services, nimbus.Service{
			ID: fmt.Sprintf("svc-bench-%03d", k), UPN: fmt.Sprintf("bench-%03d@contoso.com", k), Name: fmt.Sprintf("Bench %03d", k),
			OU: "ou-sales", License: nimbus.LicenseContactCenter, WorkflowValid: true, Modalities: []nimbus.Modality{nimbus.ModalityAudio},
			Owners: []string{info.Users.ServiceOwner},
		})
	}
	if _, err := dir.Seed(ctx, d, false); err != nil {
		tb.Fatal(err)
	}
	subs := NewSubscriptions(dir, tables.Table(nimbus.TableSubscriptions), tables.Table(nimbus.TableSubscriptionIndex), func(string) error { return nil })
	s := &benchMatchStore{subs: subs, pipeline: NewPipeline(dir, subs, tables.Table(nimbus.TableTasks), benchDiscard{}, NewStats(nil))}

	var cfg nimbus.TaskTriggerConfig
	cfg.Config.URL = "https://prod-00.westeurope.logic.azure.com/workflows/a/triggers/manual/paths/invoke?sig=x"
	cfg.Config.Services = []string{info.Services.ContactCenter}
	cfg.Config.TaskEvents = []nimbus.TaskEvent{nimbus.EventInQueue, nimbus.EventTerminated}
	if _, err := subs.RegisterTaskTrigger(ctx, nimbus.Caller{TenantID: info.TenantID, UPN: info.Users.ServiceOwner}, cfg); err != nil {
		tb.Fatal(err)
	}
	benchWriteSubscriptions(tb, subs, info, others)

	if s.x, err = dir.Index(ctx, info.TenantID); err != nil {
		tb.Fatal(err)
	}
	s.svc, _ = s.x.ServiceByUPN(info.Services.ContactCenter)
	seq := int64(1)
	s.event = nimbus.IngestEvent{
		EventID: "bench-match", TenantID: info.TenantID, TaskID: "bench-task", Sequence: &seq, Event: nimbus.EventInQueue,
		OccurredAt: "2026-11-26T10:00:00Z", ServiceUPN: info.Services.ContactCenter, Direction: nimbus.DirectionInbound,
		Modality: nimbus.ModalityAudio, Fields: nimbus.TaskFields{CallerTelNumber: "+41790001122"},
	}
	s.task.Apply(&s.event, s.svc.ID, time.Now().UTC())

	// The stores must differ only in the other services' subscriptions.
	for _, c := range []struct {
		service string
		want    int
	}{{s.svc.ID, 1}, {"svc-bench-000", others / benchOtherServices}} {
		got, err := subs.ForService(ctx, info.TenantID, c.service)
		if err != nil || len(got) != c.want {
			tb.Fatalf("subscriptions of %s: got %d (%v), want %d", c.service, len(got), err, c.want)
		}
	}
	return s
}

// benchWriteSubscriptions stores n task subscriptions of the other services as registration
// would (record and index copy), a batch of nimbus.MaxBatch rows per transaction.
func benchWriteSubscriptions(tb testing.TB, subs *Subscriptions, info DemoInfo, n int) {
	ctx := context.Background()
	now := time.Now().UTC()
	records := make([]nimbus.BatchOp, 0, nimbus.MaxBatch)
	index := map[string][]nimbus.BatchOp{}
	flush := func(t nimbus.Table, pk string, ops []nimbus.BatchOp) {
		if len(ops) == 0 {
			return
		}
		if err := t.Batch(ctx, pk, ops); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range n {
		svc := fmt.Sprintf("svc-bench-%03d", i%benchOtherServices)
		url := fmt.Sprintf("https://prod-%02d.westeurope.logic.azure.com/workflows/%08x/triggers/manual/paths/invoke?sig=x", i%100, i)
		sub := nimbus.Subscription{
			ID: subscriptionID(info.TenantID, nimbus.KindTask, info.Users.ServiceOwner, url), TenantID: info.TenantID,
			Kind: nimbus.KindTask, OwnerUPN: info.Users.ServiceOwner, CallbackURL: url,
			ServiceIDs: []string{svc}, ServiceUPNs: []string{fmt.Sprintf("bench-%03d@contoso.com", i%benchOtherServices)},
			Events: []string{string(nimbus.EventInQueue), string(nimbus.EventTerminated)}, Status: nimbus.StatusActive, Created: now, Updated: now,
		}
		data, err := json.Marshal(sub)
		if err != nil {
			tb.Fatal(err)
		}
		op := nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: sub.ID, Data: data}
		if records = append(records, op); len(records) == nimbus.MaxBatch {
			flush(subs.table, info.TenantID, records)
			records = records[:0]
		}
		pk := indexKey(info.TenantID, svc)
		if index[pk] = append(index[pk], op); len(index[pk]) == nimbus.MaxBatch {
			flush(subs.index, pk, index[pk])
			index[pk] = nil
		}
	}
	flush(subs.table, info.TenantID, records)
	for pk, ops := range index {
		flush(subs.index, pk, ops)
	}
}

// fanOut matches the event against the service's subscriptions and encodes the deliveries:
// ForService, the filters, the owner's access, the notification.
func (s *benchMatchStore) fanOut(tb testing.TB) {
	if err := s.pipeline.fanOut(context.Background(), s.x, s.svc, &s.task, &s.event, time.Time{}); err != nil {
		tb.Fatal(err)
	}
}

// process runs the whole event step for the first event of a new task.
func (s *benchMatchStore) process(tb testing.TB) {
	s.tasks++
	e := s.event
	e.EventID, e.TaskID = fmt.Sprintf("bench-match-%d", s.tasks), fmt.Sprintf("bench-task-%d", s.tasks)
	body, err := json.Marshal(e)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.pipeline.ProcessEvent(context.Background(), nimbus.Message{ID: e.EventID, Body: body}); err != nil {
		tb.Fatal(err)
	}
}

// benchDiscard is a deliveries queue that drops what it is sent.
type benchDiscard struct{}

func (benchDiscard) Send(context.Context, ...nimbus.Message) error { return nil }

func benchMedian(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}
