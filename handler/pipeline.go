package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nimbusflow/connector/handler/app"
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
	stats         *app.Stats
	statsView     *app.StatsView
	// attempts is the delivery log, read by the admin API; it records attempts only when
	// NIMBUS_DELIVERY_LOG is on.
	attempts *app.AttemptLog
	// forward consumes the commands queue standalone (nil when no core URL is set).
	forward nimbus.Handler
}

func wirePipeline(cfg config, log *slog.Logger, dir *app.Directory, store nimbus.Tables, queues nimbus.Queues) pipelineParts {
	policy := webhook.Policy{AllowInsecure: cfg.callbackPolicy.allowInsecure, AllowedHosts: cfg.callbackPolicy.allowedHosts}
	client := webhook.New(webhook.Config{Policy: policy, Timeout: cfg.callbackPolicy.timeout, MaxPerHost: cfg.callbackPolicy.maxPerHost, UserAgent: "NimbusFlow/" + version})
	stats := app.NewStats(log)
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
		stats:         stats,
		attempts:      app.NewAttemptLog(store.Table(nimbus.TableDeliveryAttempts), dir, subs, log),
	}
	if cfg.deliveryLog {
		p.deliverer.SetAttemptLog(p.attempts)
		p.pipeline.SetAttemptLog(p.attempts)
	}
	p.pipeline.Terminated = external.Released
	p.deliverer.SetMaxPerSubscription(cfg.callbackPolicy.maxPerSub)
	if cfg.coreURL != "" {
		p.forward = app.ForwardCommands(client, cfg.coreURL)
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

// outboxInterval is how often pending commands (kept while the commands queue was down) are
// sent again.
const outboxInterval = 5 * time.Second

// flushOutbox sends pending commands every outboxInterval until ctx is done.
func flushOutbox(ctx context.Context, commands *app.Commands, log *slog.Logger) {
	t := time.NewTicker(outboxInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := commands.Flush(ctx); err != nil {
				log.Warn("pending commands not sent yet", "err", err)
			} else if n > 0 {
				log.Info("pending commands sent", "count", n)
			}
		}
	}
}

// consume runs the in-process consumers of the embedded queues until ctx is done, then lets
// in-flight messages finish. It returns once both consumers stopped.
func consume(ctx context.Context, a *assembly, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if a.queues == nil {
		close(done)
		return done
	}
	runs := map[string]nimbus.Handler{nimbus.QueueEvents: a.parts.pipeline.ProcessEvent, nimbus.QueueDeliveries: a.parts.deliverer.Deliver}
	workers := map[string]int{nimbus.QueueEvents: eventWorkers, nimbus.QueueDeliveries: deliveryWorkers, nimbus.QueueCommands: commandWorkers}
	if a.parts.forward != nil {
		runs[nimbus.QueueCommands] = a.parts.forward
	}
	errs := make(chan error, len(runs))
	for name, h := range runs {
		go func() { errs <- a.queues.Run(ctx, name, h, workers[name]) }()
	}
	go func() {
		defer close(done)
		for range len(runs) {
			if err := <-errs; err != nil {
				log.Error("queue consumer stopped", "err", err)
			}
		}
	}()
	return done
}

// queueFunction adapts a queue handler to a Service Bus triggered function: a handler error
// fails the invocation, so the host abandons the message and Service Bus redelivers it.
//
// Service Bus redelivers an abandoned message at once, and dead-letters it after the queue's
// maximum delivery count; a storage outage would burn through that count in seconds. So a
// failing invocation first waits (holding the message lock, which the host renews), longer
// with every delivery, which stretches 50 deliveries over more than 20 minutes.
func queueFunction(h nimbus.Handler) funchost.Func {
	return func(ctx context.Context, inv *funchost.Invocation) (funchost.Response, error) {
		m, err := inv.ServiceBusMessage("message")
		if err != nil {
			return funchost.Response{}, fmt.Errorf("decode service bus message: %w", err)
		}
		msg := nimbus.Message{ID: m.MessageID, SessionID: m.SessionID, Body: m.Body, DeliveryCount: m.DeliveryCount, EnqueuedAt: m.EnqueuedTime}
		if err := h(ctx, msg); err != nil {
			select {
			case <-time.After(abandonBackoff(m.DeliveryCount)):
			case <-ctx.Done():
			}
			return funchost.Response{}, err
		}
		return funchost.Response{}, nil
	}
}

// abandonBackoff is how long a failed invocation waits before it gives the message back:
// 200 ms doubling per delivery, capped at 30 s.
func abandonBackoff(deliveryCount int) time.Duration {
	d := 200 * time.Millisecond
	for i := 1; i < deliveryCount && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}
