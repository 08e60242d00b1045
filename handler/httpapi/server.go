package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/console"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// Authenticator turns a request's Authorization header into the caller's identity. Every error is a
// *nimbus.Error: KindUnauthenticated for a bad token, KindUnavailable when keys or the
// directory cannot be reached. Safe for concurrent use.
type Authenticator func(ctx context.Context, authorization string) (nimbus.Caller, error)

// DevTokens mints local development tokens (dev auth only). Every method may wait for the
// signing key, which is made in the background at start, until ctx is done.
type DevTokens interface {
	MintUser(ctx context.Context, tenantID, upn, objectID string, ttl time.Duration) (string, error)
	MintApp(ctx context.Context, tenantID, appID string, roles []string, ttl time.Duration) (string, error)
	JWKS(ctx context.Context) ([]byte, error)
	Metadata(ctx context.Context, baseURL string) ([]byte, error)
}

// Config is what the REST surface needs. Dev and Demo are nil unless dev auth is on.
type Config struct {
	Logger        *slog.Logger
	Version       string
	Mode          string
	PublicBaseURL string // e.g. https://nimbusflow.example.com; empty: see baseURL
	// TrustForwardedHeaders lets X-Forwarded-Host and X-Forwarded-Proto name the public base
	// URL when PublicBaseURL is empty. Only for a proxy that sets them itself.
	TrustForwardedHeaders bool
	// ListenAddr is the address the server listens on, the base URL's last resort.
	ListenAddr    string
	Authenticate  Authenticator
	Directory     *app.Directory
	AddressBooks  *app.AddressBooks
	Subscriptions *app.Subscriptions
	Tasks         *app.Tasks
	ExternalTasks *app.ExternalTasks
	Scheduler     *app.Scheduler
	Ingest        *app.Ingest
	Failures      *app.Failures
	QueueFailures *app.QueueFailures
	Claims        *app.Claims
	Transcripts   *app.Transcripts
	Stats         *app.StatsView
	Attempts      *app.AttemptLog
	Dev           DevTokens
	Demo          any // served at GET /dev/demo
	// Console says how the admin console signs users in with Entra ID; dev sign-in follows Dev.
	Console console.Settings
}

// AdminPrefixes are the two homes of the admin API: the specified one, and the one the
// Functions host can publish.
var AdminPrefixes = []string{"/admin/v1", "/manage/v1"}

// Server is the connector's REST surface.
type Server struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	routes []string
}

// New returns the REST surface with every route registered.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.register()
	return s
}

// Routes lists the registered patterns ("METHOD /path"), for contract tests.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, h)
	s.routes = append(s.routes, pattern)
}

func (s *Server) register() {
	s.handle("GET /{$}", s.status)
	s.handle("GET /v1/diagnostics/testconnection", s.op(nimbus.GroupTestConnection, s.testConnection))
	s.handle("GET /v2/AddressBooks", s.op(nimbus.GroupAddressBooks, s.listAddressBooks))
	s.handle("GET /v2/AddressBooks/{AddressBook}/contacts", s.op(nimbus.GroupAddressBooks, s.getContacts))
	s.handle("POST /v2/AddressBooks/{AddressBook}/contacts", s.op(nimbus.GroupAddressBooks, s.addContact))
	s.handle("PUT /v2/AddressBooks/{AddressBook}/contacts", s.op(nimbus.GroupAddressBooks, s.updateContact))
	s.handle("POST /v2/AddressBooks/{AddressBook}/contacts/delete", s.op(nimbus.GroupAddressBooks, s.removeContacts))
	s.handle("POST /v2/AddressBooks/{AddressBook}/contacts/clear", s.op(nimbus.GroupAddressBooks, s.clearContacts))
	s.handle("POST /v1/triggers/tasks", s.op(nimbus.GroupConversations, s.registerTaskTrigger))
	// Deleting a trigger needs no role: Power Automate removes a flow's trigger when the flow
	// is turned off or deleted, also after its owner lost the role; the use case lets only the
	// owner (or a tenant admin) delete it.
	s.handle("DELETE /v1/triggers/tasks/{triggerId}", s.user(s.deleteTrigger(nimbus.KindTask)))
	s.handle("GET /v1/tasks/service-contacts", s.op(nimbus.GroupConversations, s.upnList(s.cfg.Directory.ConversationServices)))
	s.handle("GET /v1/tasks/events", s.op(nimbus.GroupStaticLists, s.staticList(nimbus.GroupStaticLists, nimbus.TaskEventList())))
	s.handle("GET /v1/tasks/modalities", s.op(nimbus.GroupStaticLists, s.staticList(nimbus.GroupStaticLists, nimbus.Modalities)))
	s.handle("GET /v1/tasks/directions", s.op(nimbus.GroupStaticLists, s.staticList(nimbus.GroupStaticLists, nimbus.Directions)))
	s.handle("PUT /v1/tasks/{taskId}", s.op(nimbus.GroupConversations, s.updateTask))
	s.handle("GET /v1/tasks/users-for-preferred-routing", s.op(nimbus.GroupConversations, s.upnList(s.cfg.Directory.PreferredRoutingUsers)))
	s.handle("GET /v1/ExternalTasks/service-contacts", s.op(nimbus.GroupConversations, s.upnList(s.cfg.Directory.ExternalTaskServices)))
	s.handle("GET /v1/ExternalTasks/distribution-priorities", s.op(nimbus.GroupConversations, s.staticList(nimbus.GroupConversations, nimbus.Priorities)))
	s.handle("POST /v1/ExternalTasks", s.op(nimbus.GroupConversations, s.addExternalTask))
	s.handle("DELETE /v1/ExternalTasks/{externalTaskId}", s.op(nimbus.GroupConversations, s.removeExternalTask))
	s.registerServiceCheck()
	s.registerConsole()
	s.handle("POST /internal/v1/task-events", s.core(s.ingestEvents))

	s.registerScheduler()
	s.handle("GET /internal/v1/claims/{claimId}", s.core(s.readClaim))
	s.registerVirtualAssistant()
	// The admin API answers under /admin/v1 (SPEC 10) and under /manage/v1: the Functions host
	// reserves every route that starts with "admin" for its own management API, so in Azure
	// the Admin function is published at /manage/v1.
	for _, prefix := range AdminPrefixes {
		s.handle("GET "+prefix+"/tenants/{tenantId}/directory", s.admin(s.exportDirectory))
		s.handle("PUT "+prefix+"/tenants/{tenantId}/directory", s.admin(s.importDirectory))
		s.handle("GET "+prefix+"/subscriptions", s.admin(s.listSubscriptions))
		s.handle("GET "+prefix+"/delivery-failures", s.admin(s.listFailures))
		s.handle("POST "+prefix+"/delivery-failures/replay", s.admin(s.replayFailures))
		s.handle("GET "+prefix+"/queue-failures", s.admin(s.listQueueFailures))
		s.handle("POST "+prefix+"/queue-failures/replay", s.admin(s.replayQueueFailures))
		s.handle("GET "+prefix+"/stats", s.admin(s.stats))
		s.handle("GET "+prefix+"/subscriptions/{id}/attempts", s.user(s.listAttempts))
	}
	if s.cfg.Dev != nil {
		s.handle("POST /dev/token", s.devToken)
		s.handle("GET /dev/.well-known/openid-configuration", s.devMetadata)
		s.handle("GET /dev/keys", s.devKeys)
		s.handle("GET /dev/demo", s.devDemo)
	}
	s.mux.HandleFunc("/", s.notFound)
}

// ServeHTTP adds a correlation id, recovers panics into a 500 with that id, and logs each
// request without its query string, headers or body (they may carry secrets or PII).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := newCorrelationID()
	r = r.WithContext(context.WithValue(r.Context(), correlationKey{}, id))
	w.Header().Set("X-Correlation-Id", id)
	rec := &statusRecorder{ResponseWriter: w}
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			s.log.ErrorContext(r.Context(), "panic serving request", "correlationId", id, "panic", v, "stack", string(debug.Stack()))
			if !rec.wrote {
				writeError(rec, r, slog.New(slog.DiscardHandler), &nimbus.Error{Kind: nimbus.KindInternal})
			}
		}
		attrs := []any{"correlationId", id, "method", r.Method, "route", r.Pattern, "status", rec.status, "ms", time.Since(start).Milliseconds()}
		if r.Pattern == "/" || r.Pattern == "" {
			// No route matched: the pattern says nothing, the path says what was asked for.
			// It is cut short so a caller cannot write arbitrary amounts into the log.
			attrs = append(attrs, "path", truncate(r.URL.EscapedPath(), maxLoggedPath))
		}
		s.log.InfoContext(r.Context(), "request", attrs...)
	}()
	s.mux.ServeHTTP(rec, r)
}

// maxLoggedPath bounds the path of an unknown route in the request log.
const maxLoggedPath = 256

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type correlationKey struct{}

func correlationID(r *http.Request) string {
	id, _ := r.Context().Value(correlationKey{}).(string)
	return id
}

func newCorrelationID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version, "mode": s.cfg.Mode})
}

// notFound answers unknown routes with the JSON error format: 405 when the path exists for
// another method, 404 otherwise.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "MethodNotAllowed", Message: "Method " + r.Method + " is not allowed here; use " + strings.Join(allow, " or ") + "."}})
		return
	}
	writeError(w, r, s.log, nimbus.NotFound("No operation is served at %s %s.", r.Method, r.URL.Path))
}

// baseURL is the public base URL for Location headers and dev metadata: the configured one;
// else, when a proxy is trusted to set them, the X-Forwarded-Host and X-Forwarded-Proto
// headers; else the address this server accepted the connection on. The request's Host
// header never decides on its own: a client could point the links we hand out (which Power
// Automate later calls with its credentials) at a host of its choosing.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicBaseURL != "" {
		return strings.TrimRight(s.cfg.PublicBaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if s.cfg.TrustForwardedHeaders {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		host := firstValue(r.Header.Get("X-Forwarded-Host"))
		if host == "" {
			host = r.Host
		}
		return scheme + "://" + host
	}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && addr != nil {
		return scheme + "://" + addr.String()
	}
	return scheme + "://" + s.cfg.ListenAddr
}

// firstValue is the first entry of a comma-separated header value, as proxies append theirs.
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.ToLower(strings.TrimSpace(first))
}
