package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// schedulerConfig holds the scheduler's timing settings (SPEC 6).
type schedulerConfig struct {
	// sweepInterval is how often the safety-net sweep runs standalone
	// (NIMBUS_SCHEDULER_SWEEP_INTERVAL); under the Functions host the SchedulerSweep
	// timer's schedule decides.
	sweepInterval time.Duration
	// timeoutGrace is added to an attempt's timeout (NIMBUS_SCHEDULER_TIMEOUT_GRACE). It
	// may be negative, to shorten attempt timeouts in tests; an attempt always gets at least
	// one second.
	timeoutGrace time.Duration
}

func loadSchedulerConfig(getenv func(string) string) (schedulerConfig, error) {
	c := schedulerConfig{timeoutGrace: app.DefaultSchedulerGrace}
	var err error
	if c.sweepInterval, err = envDuration(getenv, "NIMBUS_SCHEDULER_SWEEP_INTERVAL", time.Minute); err != nil {
		return c, err
	}
	if v := strings.TrimSpace(getenv("NIMBUS_SCHEDULER_TIMEOUT_GRACE")); v != "" {
		if c.timeoutGrace, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("NIMBUS_SCHEDULER_TIMEOUT_GRACE must be a duration such as 60s, not %q", v)
		}
	}
	return c, nil
}

// schedulerParts is the scheduler use case and its standalone sweep period.
type schedulerParts struct {
	app           *app.Scheduler
	sweepInterval time.Duration
}

// Scheduler messages are small and each is one conditional write or two, so a few workers
// keep up with many entries falling due at once.
const schedulerWorkers = 16

// wireScheduler builds the scheduler: events through the claim-checked queues, wake-ups
// straight on the scheduler queue (direct), whose Service Bus adapter can cancel them.
func wireScheduler(cfg config, log *slog.Logger, dir *app.Directory, store nimbus.Tables, queues, direct nimbus.Queues, commands *app.Commands) schedulerParts {
	s := app.NewScheduler(dir, store.Table(nimbus.TableSchedulerEntries), store.Table(nimbus.TableSchedulerDue),
		queues.Queue(nimbus.QueueEvents), direct.Queue(nimbus.QueueScheduler), commands, cfg.scheduler.timeoutGrace, log)
	return schedulerParts{app: s, sweepInterval: cfg.scheduler.sweepInterval}
}
