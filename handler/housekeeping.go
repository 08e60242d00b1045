package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/funchost"
)

// The housekeeping job (retention of terminated tasks) runs hourly: standalone on an
// in-process ticker every NIMBUS_HOUSEKEEPING_INTERVAL, under the Functions host when the
// Housekeeping timer trigger invokes /Housekeeping.

// housekeepingFunction is the Housekeeping timer function. A failed run fails the invocation;
// the host does not retry timers, so the next occurrence is the retry.
func housekeepingFunction(job *app.Housekeeping, log *slog.Logger) funchost.Func {
	return func(ctx context.Context, inv *funchost.Invocation) (funchost.Response, error) {
		info, err := inv.Timer("timer")
		if err != nil {
			return funchost.Response{}, fmt.Errorf("decode housekeeping timer: %w", err)
		}
		if info.IsPastDue {
			log.Info("housekeeping runs late", "function", "Housekeeping")
		}
		if _, err := job.Run(ctx); err != nil {
			return funchost.Response{}, err
		}
		return funchost.Response{}, nil
	}
}

// runHousekeeping runs the job every interval until ctx is done. A failed run is logged and
// retried at the next tick.
func runHousekeeping(ctx context.Context, job *app.Housekeeping, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := job.Run(ctx); err != nil && ctx.Err() == nil {
				log.Warn("housekeeping failed; it runs again at the next tick", "err", err)
			}
		}
	}
}
