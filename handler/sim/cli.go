package sim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Secrets are the settings read from the environment rather than flags.
type Secrets struct {
	ClientSecret string // NIMBUS_SIM_CLIENT_SECRET: Entra client secret (--auth entra)
	FunctionKey  string // NIMBUS_SIM_FUNCTION_KEY: the Ingest function key in Azure
}

// Options are the command-line settings of `handler sim`.
type Options struct {
	Handler       string
	Tenant        string
	Listen        string
	Auth          string
	EntraTenant   string
	EntraClientID string
	EntraScope    string
	Seed          int64
	RunID         string
	Rate          float64
	TotalRate     float64
	Speed         float64
	Duration      time.Duration
	Summary       time.Duration
	Odds          Odds
	Attempts      AttemptOdds
	Verbose       bool
}

// Usage is the help text of `handler sim`.
const Usage = `Usage: handler sim [flags]

Plays Nimbus core against a running handler: sends realistic task traffic for the tenant's
services, answers the commands the handler sends to core, reports outbound attempts and
stores virtual-assistant transcripts. Start the handler with
NIMBUS_CORE_COMMANDS_URL=http://<--listen>/commands so that commands reach the simulator.

`

// ParseFlags reads the flags of `handler sim`.
func ParseFlags(args []string, stderr io.Writer) (Options, error) {
	o := Options{Odds: DefaultOdds(), Attempts: AttemptOdds{NoAnswer: 0.2, Busy: 0.1, Failed: 0.05}}
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, Usage); fs.PrintDefaults() }
	fs.StringVar(&o.Handler, "handler", "http://127.0.0.1:7071", "base URL of the running handler")
	fs.StringVar(&o.Tenant, "tenant", "", "tenant to simulate (default: the demo tenant of GET /dev/demo)")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8090", "loopback address of the commands endpoint")
	fs.StringVar(&o.Auth, "auth", "dev", "how to get app tokens: dev (POST /dev/token) or entra (client credentials)")
	fs.StringVar(&o.EntraTenant, "entra-tenant", "", "--auth entra: the Entra tenant of the simulator's app registration")
	fs.StringVar(&o.EntraClientID, "entra-client-id", "", "--auth entra: the simulator's application (client) id; the secret is NIMBUS_SIM_CLIENT_SECRET")
	fs.StringVar(&o.EntraScope, "entra-scope", "", "--auth entra: scope of the connector's API, e.g. api://<app id>/.default")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed: the same seed gives the same traffic")
	fs.StringVar(&o.RunID, "run-id", "", "prefix of task ids (default: sim-<unix time>), so that runs do not collide")
	fs.Float64Var(&o.Rate, "rate", 6, "new inbound tasks per minute, per service")
	fs.Float64Var(&o.TotalRate, "total-rate", 0, "new inbound tasks per minute across all services (overrides --rate)")
	fs.Float64Var(&o.Speed, "speed", 10, "model time runs this many times faster than the clock (1 = real durations)")
	fs.DurationVar(&o.Duration, "duration", 0, "stop starting tasks after this long and let running ones finish (0 = until Ctrl+C)")
	fs.DurationVar(&o.Summary, "summary", 5*time.Second, "how often to print the live summary line (0 = never)")
	fs.Float64Var(&o.Odds.Abandon, "abandon", o.Odds.Abandon, "share of inbound tasks that leave the queue before a user answers")
	fs.Float64Var(&o.Odds.Transfer, "transfer", o.Odds.Transfer, "share of connected calls and chats transferred to another service")
	fs.Float64Var(&o.Odds.WaitForParam, "wait-for-parameter", o.Odds.WaitForParam, "share of tasks whose workflow waits for a parameter set by Update task")
	fs.DurationVar(&o.Odds.MaxQueueTime, "max-queue-time", o.Odds.MaxQueueTime, "model time after which a queued task leaves the queue")
	fs.Float64Var(&o.Attempts.NoAnswer, "no-answer", o.Attempts.NoAnswer, "odds that an outbound attempt is not answered")
	fs.Float64Var(&o.Attempts.Busy, "busy", o.Attempts.Busy, "odds that an outbound attempt finds the line busy")
	fs.Float64Var(&o.Attempts.Failed, "failed", o.Attempts.Failed, "odds that an outbound attempt fails with a system error")
	fs.BoolVar(&o.Verbose, "v", false, "log retries and details")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; see handler sim -h", fs.Arg(0))
	}
	for name, p := range map[string]float64{"abandon": o.Odds.Abandon, "transfer": o.Odds.Transfer, "wait-for-parameter": o.Odds.WaitForParam,
		"no-answer": o.Attempts.NoAnswer, "busy": o.Attempts.Busy, "failed": o.Attempts.Failed} {
		if p < 0 || p > 1 {
			return o, fmt.Errorf("--%s must be between 0 and 1, not %v", name, p)
		}
	}
	if o.Attempts.NoAnswer+o.Attempts.Busy+o.Attempts.Failed > 1 {
		return o, errors.New("--no-answer, --busy and --failed must add up to at most 1")
	}
	if o.Speed <= 0 || o.Rate < 0 || o.TotalRate < 0 {
		return o, errors.New("--speed must be positive and --rate and --total-rate must not be negative")
	}
	if o.Auth != "dev" && o.Auth != "entra" {
		return o, fmt.Errorf("--auth must be dev or entra, not %q", o.Auth)
	}
	if o.RunID == "" {
		o.RunID = "sim-" + strconv.FormatInt(time.Now().Unix(), 36)
	}
	return o, nil
}

// Main runs `handler sim` until ctx ends (Ctrl+C) or --duration has passed.
func Main(ctx context.Context, args []string, sec Secrets, stdout, stderr io.Writer) error {
	o, err := ParseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if o.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen for commands on %s: %w", o.Listen, err)
	}
	fmt.Fprintf(stdout, "commands endpoint: http://%s/commands (start the handler with NIMBUS_CORE_COMMANDS_URL set to it)\n", ln.Addr())
	return RunWith(ctx, o, sec, ln, stdout, log)
}

// RunWith runs the simulator with commands served on ln (closed on return).
func RunWith(ctx context.Context, o Options, sec Secrets, ln net.Listener, stdout io.Writer, log *slog.Logger) error {
	defer ln.Close()
	client := &Client{Base: o.Handler, FunctionKey: sec.FunctionKey, HTTP: &http.Client{Timeout: 60 * time.Second}}
	tenant := o.Tenant
	switch o.Auth {
	case "entra":
		t, err := NewEntraTokens(o.EntraTenant, o.EntraClientID, sec.ClientSecret, o.EntraScope)
		if err != nil {
			return err
		}
		client.Tokens = t
		if tenant == "" {
			return errors.New("--tenant is required with --auth entra")
		}
	default:
		demo, err := client.Demo(ctx)
		if err != nil {
			return fmt.Errorf("the handler at %s has no dev issuer to mint core tokens (start it standalone with dev auth, or use --auth entra): %w", o.Handler, err)
		}
		if tenant == "" {
			tenant = demo.TenantID
		}
		client.Tokens = &DevTokens{Base: o.Handler, TenantID: demo.OperatorTenantID, AppID: "nimbus-core-simulator", Roles: []string{"Nimbus.Core", "Nimbus.Admin"}, HTTP: client.HTTP}
	}
	dir, err := client.Directory(ctx, tenant)
	if err != nil {
		return err
	}
	s, err := New(Config{Client: client, TenantID: tenant, Seed: o.Seed, RunID: o.RunID, Rate: o.Rate, TotalRate: o.TotalRate,
		Speed: o.Speed, Odds: o.Odds, Attempts: o.Attempts, Duration: o.Duration, Summary: o.Summary, Out: stdout, Log: log}, dir)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /commands", s)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	var names []string
	for _, svc := range s.Services() {
		names = append(names, fmt.Sprintf("%s %v", svc.UPN, svc.Modalities))
	}
	fmt.Fprintf(stdout, "simulating tenant %s, services: %v; seed %d, speed x%g\n", tenant, names, o.Seed, o.Speed)
	s.Run(ctx, 10*time.Second)
	return nil
}
