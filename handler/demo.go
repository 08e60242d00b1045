package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/nimbusflow/connector/handler/sim"
)

// runDemo wires the living demo: the handler (dev auth, demo tenant, a throwaway data
// directory) and the Nimbus core simulator in this one process, with a local callback sink
// registered as trigger. Ctrl+C stops the simulator first (its tasks end and are sent), then
// the handler; nothing is left running and the data directory is removed.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("handler demo takes no arguments; it runs the handler, the simulator and a callback sink until Ctrl+C")
	}
	dir, err := os.MkdirTemp("", "nimbusflow-demo-")
	if err != nil {
		return fmt.Errorf("create the demo data directory: %w", err)
	}
	defer os.RemoveAll(dir)
	addr := getenv("NIMBUS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:7071"
		if ln, err := net.Listen("tcp", addr); err != nil {
			addr = "127.0.0.1:0"
		} else {
			ln.Close()
		}
	}
	if addr == "127.0.0.1:0" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("find a free port: %w", err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	commands, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for core commands: %w", err)
	}
	env := map[string]string{
		"NIMBUS_ADDR": addr, "NIMBUS_DEV_AUTH": "true", "NIMBUS_SEED_DEMO": "true", "NIMBUS_DATA_DIR": dir,
		"NIMBUS_CORE_COMMANDS_URL": "http://" + commands.Addr().String() + "/commands", "NIMBUS_LOG_LEVEL": "warn",
		"NIMBUS_SCHEDULER_SWEEP_INTERVAL": "5s", "NIMBUS_PUBLIC_BASE_URL": "",
	}
	handlerEnv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k)
	}
	handlerCtx, stopHandler := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHandler()
	served := make(chan error, 1)
	go func() { served <- run(handlerCtx, nil, handlerEnv, io.Discard, stderr) }()
	base := "http://" + addr
	if err := waitUp(ctx, base, served); err != nil {
		commands.Close()
		stopHandler()
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	derr := sim.Demo(ctx, sim.DemoOptions{Handler: base, Commands: commands, Out: stdout, Log: log, Seed: 1, Speed: 20, Rate: 4})
	stopHandler()
	herr := <-served
	fmt.Fprintln(stdout, "demo stopped: the simulator and the handler have ended and the demo data is removed")
	if derr != nil {
		return derr
	}
	return herr
}

// waitUp waits until the handler answers GET / (or fails to start).
func waitUp(ctx context.Context, base string, served <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/"); err == nil {
			res.Body.Close()
			return nil
		}
		select {
		case err := <-served:
			return fmt.Errorf("the handler did not start: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("the handler did not answer at %s within 30 s", base)
}
