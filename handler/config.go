package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/console"
	"github.com/nimbusflow/connector/handler/nimbus"
)

const usage = `Usage: handler [flags]
       handler sim [flags]   play Nimbus core against a running handler (handler sim -h)
       handler demo          the connector, the simulator and a printing callback sink

Runs the Nimbus Flow Connector. With no storage settings it runs standalone on
127.0.0.1:7071 with an embedded store, dev auth and a demo tenant.

Flags:
  --directory FILE   import the tenant directory (or array of directories) in FILE at start
  -h, --help         show this help
  --version          print the version

Configuration comes from environment variables; see the README.
`

// Mode names how the handler runs.
const (
	modeStandalone      = "standalone"
	modeStandaloneAzure = "standalone+azure"
	modeFunctions       = "functions"
)

const (
	defaultAddr        = "127.0.0.1:7071"
	defaultDataDir     = ".nimbusflow"
	defaultMetadataURL = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
	defaultDevAudience = "api://nimbusflow-dev"
)

type config struct {
	help          bool
	version       bool
	mode          string
	addr          string
	dataDir       string
	directoryFile string

	storage storageConfig

	devAuth       bool
	seedDemo      bool
	audiences     []string
	metadataURL   string
	appTenants    []string // NIMBUS_APP_TENANTS: operator tenants, whose trusted apps act as core and operator
	appIDs        []string // NIMBUS_APP_IDS: when set, only these client apps of the operator tenants are trusted
	publicBaseURL string
	// trustForwarded lets X-Forwarded-Host/-Proto name the base URL (NIMBUS_TRUST_FORWARDED_HEADERS).
	trustForwarded bool
	maxContacts    int
	logFormat      string
	logLevel       string
	inAzure        bool

	serviceBus           serviceBusConfig
	callbackPolicy       callbackConfig
	retrySchedule        []time.Duration
	coreURL              string // NIMBUS_CORE_COMMANDS_URL: standalone, commands are POSTed here
	maxOpenExternalTasks int
	scheduler            schedulerConfig

	httpTimeouts      httpTimeouts
	housekeepingEvery time.Duration // NIMBUS_HOUSEKEEPING_INTERVAL: standalone housekeeping ticker

	console     console.Settings // NIMBUS_CONSOLE_*: the admin console's Entra sign-in
	metricsAddr string           // NIMBUS_METRICS_ADDR: the Prometheus listener; empty: off
	deliveryLog bool             // NIMBUS_DELIVERY_LOG: record every attempt in the delivery log
}

// httpTimeouts bound how long one client may hold a connection, so that slow or stalled
// clients (slowloris headers or bodies) cannot pin connections and memory.
type httpTimeouts struct {
	readHeader time.Duration // NIMBUS_HTTP_READ_HEADER_TIMEOUT: request line and headers
	read       time.Duration // NIMBUS_HTTP_READ_TIMEOUT: the whole request, body included
	idle       time.Duration // NIMBUS_HTTP_IDLE_TIMEOUT: a keep-alive connection between requests
}

// serviceBusConfig selects Service Bus for the queues (Functions mode).
type serviceBusConfig struct {
	connectionString string // NIMBUS_SERVICEBUS
	namespace        string // NIMBUS_SERVICEBUS__fullyQualifiedNamespace
	clientID         string // NIMBUS_SERVICEBUS__clientId
}

func (s serviceBusConfig) configured() bool { return s.connectionString != "" || s.namespace != "" }

// callbackConfig is the callback URL policy and delivery limits.
type callbackConfig struct {
	allowInsecure bool
	allowedHosts  []string
	timeout       time.Duration
	maxPerHost    int
	maxPerSub     int // NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION
}

// storageConfig selects Azure Table Storage; all empty means the embedded store.
type storageConfig struct {
	connectionString string // NIMBUS_STORAGE
	accountName      string // NIMBUS_STORAGE__accountName
	tableServiceURI  string // NIMBUS_STORAGE__tableServiceUri
	blobServiceURI   string // NIMBUS_STORAGE__blobServiceUri
	clientID         string // NIMBUS_STORAGE__clientId (user-assigned managed identity)
}

func (s storageConfig) azure() bool {
	return s.connectionString != "" || s.accountName != "" || s.tableServiceURI != ""
}

func loadConfig(args []string, getenv func(string) string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("handler", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.directoryFile, "directory", "", "")
	fs.BoolVar(&cfg.help, "help", false, "")
	fs.BoolVar(&cfg.help, "h", false, "")
	fs.BoolVar(&cfg.version, "version", false, "")
	if err := fs.Parse(args); err != nil {
		return cfg, fmt.Errorf("%w\n\n%s", err, usage)
	}
	if fs.NArg() > 0 && fs.Arg(0) != "serve" {
		return cfg, fmt.Errorf("unknown command %q\n\n%s", fs.Arg(0), usage)
	}
	if cfg.help || cfg.version {
		return cfg, nil // answered before the environment is read, so a bad setting cannot hide them
	}

	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	cfg.storage = storageConfig{
		connectionString: env("NIMBUS_STORAGE", ""),
		accountName:      env("NIMBUS_STORAGE__accountName", ""),
		tableServiceURI:  env("NIMBUS_STORAGE__tableServiceUri", ""),
		blobServiceURI:   env("NIMBUS_STORAGE__blobServiceUri", ""),
		clientID:         env("NIMBUS_STORAGE__clientId", ""),
	}
	cfg.inAzure = getenv("WEBSITE_SITE_NAME") != ""
	cfg.addr = env("NIMBUS_ADDR", defaultAddr)
	cfg.mode = modeStandalone
	if cfg.storage.azure() {
		cfg.mode = modeStandaloneAzure
	}
	if port := getenv("FUNCTIONS_CUSTOMHANDLER_PORT"); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			return cfg, fmt.Errorf("FUNCTIONS_CUSTOMHANDLER_PORT %q is not a port number", port)
		}
		cfg.mode, cfg.addr = modeFunctions, net.JoinHostPort("127.0.0.1", port)
	}
	cfg.dataDir = env("NIMBUS_DATA_DIR", defaultDataDir)

	// Dev auth is on by default only standalone with the embedded store; never by default
	// with Azure storage, and never at all in Azure (checked again where it is built).
	devDefault := cfg.mode == modeStandalone && !cfg.inAzure
	var err error
	if cfg.devAuth, err = envBool(getenv, "NIMBUS_DEV_AUTH", devDefault); err != nil {
		return cfg, err
	}
	if cfg.seedDemo, err = envBool(getenv, "NIMBUS_SEED_DEMO", cfg.devAuth); err != nil {
		return cfg, err
	}
	audDefault := ""
	if cfg.devAuth {
		audDefault = defaultDevAudience
	}
	cfg.audiences = splitList(env("NIMBUS_AUTH_AUDIENCES", audDefault))
	if len(cfg.audiences) == 0 {
		return cfg, fmt.Errorf("NIMBUS_AUTH_AUDIENCES must list the accepted token audiences (the connector app's client id or application ID URI)")
	}
	cfg.metadataURL = env("NIMBUS_AUTH_METADATA_URL", defaultMetadataURL)
	// With dev auth the dev operator tenant plays the operator (and Nimbus core) unless the
	// operator tenants are given explicitly.
	appDefault := ""
	if cfg.devAuth {
		appDefault = app.DevOperatorTenantID
	}
	cfg.appTenants = splitList(env("NIMBUS_APP_TENANTS", appDefault))
	for _, t := range cfg.appTenants {
		if !nimbus.ValidTenantID(t) {
			return cfg, fmt.Errorf("NIMBUS_APP_TENANTS: %q is not a tenant id (GUID)", t)
		}
	}
	cfg.appIDs = splitList(env("NIMBUS_APP_IDS", ""))
	for _, id := range cfg.appIDs {
		if err := nimbus.CheckID("NIMBUS_APP_IDS", id); err != nil {
			return cfg, fmt.Errorf("NIMBUS_APP_IDS: %q is not a client app id", id)
		}
	}
	cfg.publicBaseURL = env("NIMBUS_PUBLIC_BASE_URL", "")
	if u, err := url.Parse(cfg.publicBaseURL); cfg.publicBaseURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "") {
		return cfg, fmt.Errorf("NIMBUS_PUBLIC_BASE_URL must be an absolute http(s) URL such as https://nimbusflow.example.com, not %q", cfg.publicBaseURL)
	}
	if cfg.trustForwarded, err = envBool(getenv, "NIMBUS_TRUST_FORWARDED_HEADERS", false); err != nil {
		return cfg, err
	}
	if cfg.maxContacts, err = envInt(getenv, "NIMBUS_MAX_CONTACTS_PER_BOOK", nimbus.DefaultMaxContactsPerBook); err != nil {
		return cfg, err
	}
	cfg.serviceBus = serviceBusConfig{
		connectionString: env("NIMBUS_SERVICEBUS", ""),
		namespace:        env("NIMBUS_SERVICEBUS__fullyQualifiedNamespace", ""),
		clientID:         env("NIMBUS_SERVICEBUS__clientId", ""),
	}
	if cfg.inAzure && cfg.mode == modeFunctions && !cfg.serviceBus.configured() {
		return cfg, fmt.Errorf("NIMBUS_SERVICEBUS__fullyQualifiedNamespace (or NIMBUS_SERVICEBUS) is required in Azure: the Functions host consumes the queues from Service Bus")
	}
	// Insecure callbacks (http, loopback) default to on only with dev auth, and never in Azure.
	if cfg.callbackPolicy.allowInsecure, err = envBool(getenv, "NIMBUS_CALLBACK_ALLOW_INSECURE", cfg.devAuth && !cfg.inAzure); err != nil {
		return cfg, err
	}
	if cfg.callbackPolicy.allowInsecure && cfg.inAzure {
		return cfg, fmt.Errorf("NIMBUS_CALLBACK_ALLOW_INSECURE cannot be on when running in Azure")
	}
	cfg.callbackPolicy.allowedHosts = splitList(env("NIMBUS_CALLBACK_ALLOWED_HOSTS", ""))
	if cfg.callbackPolicy.timeout, err = envDuration(getenv, "NIMBUS_DELIVERY_TIMEOUT", 30*time.Second); err != nil {
		return cfg, err
	}
	if cfg.callbackPolicy.maxPerHost, err = envInt(getenv, "NIMBUS_CALLBACK_MAX_PER_HOST", 64); err != nil {
		return cfg, err
	}
	if cfg.callbackPolicy.maxPerSub, err = envInt(getenv, "NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION", app.DefaultMaxPerSubscription); err != nil {
		return cfg, err
	}
	if v := env("NIMBUS_RETRY_SCHEDULE", ""); v != "" {
		for _, part := range splitList(v) {
			d, err := time.ParseDuration(part)
			if err != nil || d <= 0 {
				return cfg, fmt.Errorf("NIMBUS_RETRY_SCHEDULE must be a comma-separated list of positive durations such as 5s,30s,2m, not %q", v)
			}
			cfg.retrySchedule = append(cfg.retrySchedule, d)
		}
	}
	cfg.coreURL = env("NIMBUS_CORE_COMMANDS_URL", "")
	if cfg.maxOpenExternalTasks, err = envInt(getenv, "NIMBUS_MAX_OPEN_EXTERNAL_TASKS", nimbus.DefaultMaxOpenExternalTasks); err != nil {
		return cfg, err
	}
	if cfg.scheduler, err = loadSchedulerConfig(getenv); err != nil {
		return cfg, err
	}
	if cfg.httpTimeouts, err = loadHTTPTimeouts(getenv); err != nil {
		return cfg, err
	}
	if cfg.housekeepingEvery, err = envDuration(getenv, "NIMBUS_HOUSEKEEPING_INTERVAL", time.Hour); err != nil {
		return cfg, err
	}
	cfg.metricsAddr = env("NIMBUS_METRICS_ADDR", "")
	if cfg.deliveryLog, err = envBool(getenv, "NIMBUS_DELIVERY_LOG", true); err != nil {
		return cfg, err
	}
	logDefault := "text"
	if cfg.mode == modeFunctions {
		logDefault = "json"
	}
	cfg.logFormat = env("NIMBUS_LOG_FORMAT", logDefault)
	cfg.logLevel = env("NIMBUS_LOG_LEVEL", "info")
	if cfg.console, err = consoleConfig(getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func envBool(getenv func(string) string, name string, def bool) (bool, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false, not %q", name, v)
	}
	return b, nil
}

func envInt(getenv func(string) string, name string, def int) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s must be a positive whole number, not %q", name, v)
	}
	return n, nil
}

func envDuration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 30s, not %q", name, v)
	}
	return d, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loadHTTPTimeouts reads the server timeouts. The body limit of the connector API is 1 MiB
// and directory imports are at most 32 MiB, so a minute to send a whole request is ample for
// any honest client on the networks the Functions host and Power Platform use.
func loadHTTPTimeouts(getenv func(string) string) (httpTimeouts, error) {
	var t httpTimeouts
	var err error
	if t.readHeader, err = envDuration(getenv, "NIMBUS_HTTP_READ_HEADER_TIMEOUT", 10*time.Second); err != nil {
		return t, err
	}
	if t.read, err = envDuration(getenv, "NIMBUS_HTTP_READ_TIMEOUT", time.Minute); err != nil {
		return t, err
	}
	if t.idle, err = envDuration(getenv, "NIMBUS_HTTP_IDLE_TIMEOUT", 2*time.Minute); err != nil {
		return t, err
	}
	if t.read < t.readHeader {
		return t, fmt.Errorf("NIMBUS_HTTP_READ_TIMEOUT (%s) must not be shorter than NIMBUS_HTTP_READ_HEADER_TIMEOUT (%s): it bounds the headers too", t.read, t.readHeader)
	}
	return t, nil
}
