// Command handler is the Nimbus Flow Connector: one binary that runs standalone (embedded
// store, dev auth, demo tenant) or as an Azure Functions custom handler. This package only
// wires: it reads configuration, chooses adapters, and runs the server until a signal.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// The opening-hours check evaluates calendars in their IANA time zones. Embedding the
	// zone database (about 400 KB) makes that work on hosts without one, such as minimal
	// containers and some Functions workers, and keeps the answer independent of the host.
	_ "time/tzdata"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(1)
	}
}

// run is the whole program, callable from tests: it returns when ctx is cancelled (after a
// graceful shutdown) or when start-up fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "sim" {
		return runSim(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(ctx, args[1:], getenv, stdout, stderr)
	}
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	if cfg.help {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if cfg.version {
		fmt.Fprintf(stdout, "handler %s\n", version)
		return nil
	}
	log := newLogger(cfg, stderr)
	a, err := assemble(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	return serve(ctx, cfg, a, log, stdout)
}
