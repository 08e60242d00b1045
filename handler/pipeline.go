package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/funchost"
	"github.com/nimbusflow/connector/handler/nimbus"
	"github.com/nimbusflow/connector/handler/webhook"
)

// pipelineParts are the use cases of the event pipeline and of the actions on tasks.
type pipelineParts struct {
	subs          *app.Subscriptions
	ingest        *app.Ingest
	pipeline      *app.Pipeline
	deliverer     *app.Deliverer
	failures      *app.Failures
	commands      *app.Commands
	tasks         *app.Tasks
	externalTasks *app.ExternalTasks
	claims        *app.Claims
	queueFailures *app.QueueFailures
	scheduler     schedulerParts
	stats         *app.Stats
	// transcripts stores virtual-assistant transcripts (wired by wireTranscripts).
	transcripts *app.Transcripts
	statsView   *app.StatsView
	// attempts is the delivery log, read by the admin API; it records attempts only when
	// NIMBUS_DELIVERY_LOG is on.
	attempts *app.AttemptLog
	// forward consumes the commands queue standalone (nil when no core URL is set).
	forward nimbus.Handler
	// housekeeping is the retention job; standalone it runs every housekeepingEvery.
	housekeeping      *app.Housekeeping
	housekeepingEvery time.Duration
}

func wirePipeline(cfg config, log *slog.Logger, dir *app.Directory, store nimbus.Tables, queues nimbus.Queues) pipelineParts {
	policy := webhook.Policy{AllowInsecure: cfg.callbackPolicy.allowInsecure, AllowedHosts: cfg.callbackPolicy.allowedHosts}
	client := webhook.New(webhook.Config{Policy: policy, Timeout: cfg.callbackPolicy.timeout, MaxPerHost: cfg.callbackPolicy.maxPerHost, UserAgent: "NimbusFlow/" + version})
	stats := app.NewStats(log)
	// Every queue goes through the claim check: bodies too large for a message are stored
	// first, and every consumer in the tables below resolves them.
	claims := app.NewClaims(store.Table(nimbus.TableClaims), log)
	direct := queues // the scheduler's wake-ups are tiny and need the queue's own scheduling
	queues = claims.Queues(queues)
	queueFailures := app.NewQueueFailures(dir, store.Table(nimbus.TableQueueFailures), queues, claims, log)
	events, deliveries := queues.Queue(nimbus.QueueEvents), queues.Queue(nimbus.QueueDeliveries)
	subs := app.NewSubscriptions(dir, store.Table(nimbus.TableSubscriptions), store.Table(nimbus.TableSubscriptionIndex), policy.CheckURL)
	failures := app.NewFailures(dir, store.Table(nimbus.TableDeliveryFailures), deliveries)
	commands := app.NewCommands(queues.Queue(nimbus.QueueCommands), store.Table(nimbus.TableCommandOutbox), log)
	tasks := app.NewTasks(dir, store.Table(nimbus.TableTasks), commands)
	external := app.NewExternalTasks(tasks, store.Table(nimbus.TableExternalTasks), cfg.maxOpenExternalTasks)
	p := pipelineParts{
		subs:          subs,
		ingest:        app.NewIngest(dir, events, stats),
		pipeline:      app.NewPipeline(dir, subs, store.Table(nimbus.TableTasks), deliveries, stats),
		deliverer:     app.NewDeliverer(dir, subs, deliveries, failures, client, cfg.retrySchedule, stats),
		failures:      failures,
		commands:      commands,
		tasks:         tasks,
		externalTasks: external,
		claims:        claims,
		queueFailures: queueFailures,
		stats:         stats,
		attempts:      app.NewAttemptLog(store.Table(nimbus.TableDeliveryAttempts), dir, subs, log),
	}
	if cfg.deliveryLog {
		p.deliverer.SetAttemptLog(p.attempts)
		p.pipeline.SetAttemptLog(p.attempts)
	}
	commands.Unsendable = queueFailures
	p.scheduler = wireScheduler(cfg, log, dir, store, queues, direct, commands)
	p.pipeline.Terminated = external.Released
	p.deliverer.SetMaxPerSubscription(cfg.callbackPolicy.maxPerSub)
	if cfg.coreURL != "" {
		p.forward = claims.Resolve(app.ForwardCommands(client, cfg.coreURL))
	}
	return p
}

// Consumer concurrency of the embedded queues. Events run one per task session at a time,
// so their concurrency is across tasks. Deliveries wait on callbacks (up to the delivery
// timeout), so they get many workers; per-subscription slots keep one slow flow from taking them.
const (
	eventWorkers    = 32
	deliveryWorkers = 512
	commandWorkers  = 4
)

// consumers is the table of Service Bus triggered functions: each row is a folder under
// functions/ (serviceBusTrigger on that queue), answered at /{Function} under the Functions
// host and run as an in-process consumer of the embedded queue standalone. A contract test
// holds the rows and the folders to each other. Adding a consumer is one row here and its
// folder.
// Handlers of the work queues resolve claimed bodies first (app.Claims.Resolve).
func (p pipelineParts) consumers() []funchost.Consumer {
	return []funchost.Consumer{
		{Function: "ProcessEvents", Queue: nimbus.QueueEvents, Handler: p.claims.Resolve(p.pipeline.ProcessEvent), Workers: eventWorkers},
		{Function: "DeliverWebhooks", Queue: nimbus.QueueDeliveries, Handler: p.claims.Resolve(p.deliverer.Deliver), Workers: deliveryWorkers},
		{Function: "FireSchedulerEntries", Queue: nimbus.QueueScheduler, Handler: p.scheduler.app.Fire, Workers: schedulerWorkers},
		// Dead-letter sub-queues: what a queue gave up on becomes visible and replayable
		// through the admin API. Their handlers store claim references as they are.
		{Function: "EventsDeadLetters", Queue: nimbus.DeadLetterQueue(nimbus.QueueEvents), Handler: p.queueFailures.RecordDeadLetters(nimbus.QueueEvents), Workers: 1},
		{Function: "CommandsDeadLetters", Queue: nimbus.DeadLetterQueue(nimbus.QueueCommands), Handler: p.queueFailures.RecordDeadLetters(nimbus.QueueCommands), Workers: 1},
	}
}

// timers is the table of timer triggered functions, read like consumers: answered at
// /{Function} under the Functions host (the host runs one occurrence at a time across all
// instances), ticked in-process standalone. Adding a timer is one row here and its folder.
func (p pipelineParts) timers() []funchost.Timer {
	return []funchost.Timer{
		{Function: "FlushCommands", Schedule: "*/5 * * * * *", Job: p.commands.FlushJob},
		{Function: "Housekeeping", Schedule: "0 0 * * * *", Job: p.housekeepingJob, Period: p.housekeepingEvery},
		{Function: "SchedulerSweep", Schedule: "0 */1 * * * *", Job: p.scheduler.app.SweepJob, Period: p.scheduler.sweepInterval},
	}
}

// atomicCompletion is what the embedded runner writes with the completion of a message when
// tables and queues share the bbolt file: an event's deliveries and its task projection are
// stored in the transaction that completes the event (one fsync instead of three, and no
// state between them after a crash), and so is the removal of a claimed event body. The fan-out was written for it: it reads the projection
// before it writes, ignores the returned ETag, and a conflicting projection write only makes
// the queue hand the event out again. With Azure tables it does not apply, since the
// projection must then be written after the deliveries are queued, as the fan-out does.
var atomicCompletion = map[string]embedded.Atomic{
	nimbus.QueueEvents: {Queues: []string{nimbus.QueueDeliveries}, Tables: []string{nimbus.TableTasks, nimbus.TableClaims}},
}

// consume runs the in-process consumers of the embedded queues until ctx is done, then lets
// in-flight messages finish. It returns once every consumer stopped.
func consume(ctx context.Context, a *assembly, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if a.queues == nil {
		close(done)
		return done
	}
	rows := a.parts.consumers()
	if a.parts.forward != nil {
		// Standalone only: stands in for core reading its queue.
		rows = append(rows, funchost.Consumer{Queue: nimbus.QueueCommands, Handler: a.parts.forward, Workers: commandWorkers})
	}
	errs := make(chan error, len(rows))
	for _, c := range rows {
		go func() { errs <- a.queues.Run(ctx, c.Queue, c.Handler, c.Workers) }()
	}
	go func() {
		defer close(done)
		for range len(rows) {
			if err := <-errs; err != nil {
				log.Error("queue consumer stopped", "err", err)
			}
		}
	}()
	return done
}

// tick runs every timer of the table in-process, each at its schedule's period, until ctx is
// done. Under the Functions host the host's timer triggers run them instead.
func tick(ctx context.Context, timers []funchost.Timer, log *slog.Logger) error {
	periods := make([]time.Duration, len(timers))
	for i, t := range timers {
		d, err := funchost.Every(t.Schedule)
		if err != nil {
			return fmt.Errorf("timer %s: %w", t.Function, err)
		}
		if t.Period > 0 {
			d = t.Period
		}
		periods[i] = d
	}
	for i, t := range timers {
		go func() {
			tk := time.NewTicker(periods[i])
			defer tk.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tk.C:
					if err := t.Job(ctx); err != nil {
						log.Warn("timer job failed; the next occurrence retries", "function", t.Function, "err", err)
					}
				}
			}
		}()
	}
	return nil
}

// housekeepingJob is the Housekeeping timer: retention of terminated task projections, of
// transcripts and of claims never consumed. Every part runs even when one fails; the next occurrence retries what failed.
func (p pipelineParts) housekeepingJob(ctx context.Context) error {
	return errors.Join(p.housekeeping.Job(ctx), p.transcripts.RetentionJob(ctx), p.claims.PurgeJob(ctx))
}
