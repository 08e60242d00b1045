package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nimbusflow/connector/handler/metrics"
)

// serveMetrics starts the Prometheus listener on NIMBUS_METRICS_ADDR, standalone only: under
// the Functions host the host's Application Insights collects the structured logs, and no
// port of the worker is reachable anyway. It stops when ctx is done.
func serveMetrics(ctx context.Context, cfg config, a *assembly, log *slog.Logger) error {
	if cfg.metricsAddr == "" {
		return nil
	}
	if cfg.mode == modeFunctions {
		log.Warn("NIMBUS_METRICS_ADDR is ignored under the Functions host; use Application Insights")
		return nil
	}
	ln, err := net.Listen("tcp", cfg.metricsAddr)
	if err != nil {
		return fmt.Errorf("listen for metrics on %s (NIMBUS_METRICS_ADDR): %w", cfg.metricsAddr, err)
	}
	src := metrics.Source{Stats: a.parts.stats, Queues: queueGauges(a.queues), Lost: a.parts.attempts.Lost,
		Subscriptions: a.parts.statsView.SubscriptionTotals}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(src))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("metrics listening", "addr", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return nil
}
