package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/funchost"
)

// httpFunctions are the Azure Functions of kind HTTP. With enableForwardingHttpRequest the
// host forwards their requests on the original path; without it, it posts an invocation
// payload to /{Name}, which funchost turns back into the same request.
var httpFunctions = []string{"Diagnostics", "AddressBooks", "Admin", "Tasks", "TaskTriggers", "Ingest", "ExternalTasks", "ServiceCheck", "SchedulerEntries", "SchedulerEntryTriggers", "OutboundWithWorkflow", "VirtualAssistantTriggers", "VirtualAssistant", "Console"}

// shutdownGrace bounds how long in-flight requests may finish after a signal.
const shutdownGrace = 20 * time.Second

func serve(ctx context.Context, cfg config, a *assembly, log *slog.Logger, stdout io.Writer) error {
	var h http.Handler = a.api
	if cfg.mode == modeFunctions {
		h = functionsHandler(a, log)
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.httpTimeouts.readHeader,
		// ReadTimeout bounds the whole request, body included: a client trickling its body
		// is cut off even when it sends each byte before any per-read deadline would expire.
		ReadTimeout: cfg.httpTimeouts.read,
		IdleTimeout: cfg.httpTimeouts.idle,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	log.Info("listening", "addr", ln.Addr().String(), "mode", cfg.mode, "devAuth", cfg.devAuth)
	if cfg.mode != modeFunctions {
		printBanner(stdout, "http://"+ln.Addr().String(), a)
	}
	if err := serveMetrics(ctx, cfg, a, log); err != nil {
		ln.Close()
		return err
	}
	consumers := consume(ctx, a, log)
	if cfg.mode != modeFunctions {
		if err := tick(ctx, a.parts.timers(), log); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	// In-flight deliveries finish (or time out) before the store closes.
	select {
	case <-consumers:
	case <-sctx.Done():
		log.Warn("queue consumers did not drain in time; unfinished messages are delivered again at next start")
	}
	return nil
}

// functionsHandler serves invocation payloads at POST /{FunctionName} and every other request
// (forwarded HTTP, the host's readiness probe on /) through the REST surface.
func functionsHandler(a *assembly, log *slog.Logger) http.Handler {
	api := a.api
	host := funchost.NewHost(log)
	names := map[string]bool{}
	for _, name := range httpFunctions {
		host.Handle(name, funchost.HTTPFunction(api, "req", "res"))
		names[strings.ToLower(name)] = true
	}
	host.HandleConsumers(a.parts.consumers()...)
	for _, c := range a.parts.consumers() {
		names[strings.ToLower(c.Function)] = true
	}
	host.HandleTimers(a.parts.timers()...)
	for _, t := range a.parts.timers() {
		names[strings.ToLower(t.Function)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if r.Method == http.MethodPost && names[strings.ToLower(name)] {
			host.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

func printBanner(w io.Writer, base string, a *assembly) {
	fmt.Fprintf(w, "\nNimbus Flow Connector %s is running at %s (standalone, embedded store)\n\n", version, base)
	if a.demo == nil {
		return
	}
	d := a.demo
	fmt.Fprintf(w, `Demo tenant %s is ready; GET %s/dev/demo lists its users, services and address books.

Get a token (tenant admin):
  TOKEN=$(curl -s -X POST %s/dev/token -H 'Content-Type: application/json' \
    -d '{"tenantId":"%s","upn":"%s"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

Try it:
  curl -s %s/v1/diagnostics/testconnection -H "Authorization: Bearer $TOKEN"
  curl -s -X POST %s/v2/AddressBooks/%s/contacts -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{"externalId":"crm-42","firstName":"Ada","lastName":"Lovelace"}'

Press Ctrl+C to stop.
`, d.TenantID, base, base, d.TenantID, d.Users.TenantAdmin, base, base, d.AddressBooks[0].ID)
}
