package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/app"
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
	PublicBaseURL string // e.g. https://nimbusflow.example.com; empty: derived from the request
	Authenticate  Authenticator
	Directory     *app.Directory
	AddressBooks  *app.AddressBooks
	Subscriptions *app.Subscriptions
	Tasks         *app.Tasks
	ExternalTasks *app.ExternalTasks
	Ingest        *app.Ingest
	Failures      *app.Failures
	QueueFailures *app.QueueFailures
	Claims        *app.Claims
	Dev           DevTokens
	Demo          any // served at GET /dev/demo
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
	s.handle("GET /v1/diagnostics/testconnection", s.user(s.testConnection))
	s.handle("GET /v2/AddressBooks", s.user(s.listAddressBooks))
	s.handle("GET /v2/AddressBooks/{AddressBook}/contacts", s.user(s.getContacts))
	s.handle("POST /v2/AddressBooks/{AddressBook}/contacts", s.user(s.addContact))
	s.handle("PUT /v2/AddressBooks/{AddressBook}/contacts", s.user(s.updateContact))
	s.handle("POST /v2/AddressBooks/{AddressBook}/contacts/delete", s.user(s.removeContacts))
	s.handle("POST /v2/AddressBooks/{AddressBook}/contacts/clear", s.user(s.clearContacts))
	s.handle("POST /v1/triggers/tasks", s.user(s.registerTaskTrigger))
	s.handle("DELETE /v1/triggers/tasks/{triggerId}", s.user(s.deleteTrigger(nimbus.KindTask)))
	s.handle("GET /v1/tasks/service-contacts", s.user(s.upnList(s.cfg.Directory.ConversationServices)))
	s.handle("GET /v1/tasks/events", s.user(s.staticList(nimbus.GroupStaticLists, nimbus.TaskEventList())))
	s.handle("GET /v1/tasks/modalities", s.user(s.staticList(nimbus.GroupStaticLists, nimbus.Modalities)))
	s.handle("GET /v1/tasks/directions", s.user(s.staticList(nimbus.GroupStaticLists, nimbus.Directions)))
	s.handle("PUT /v1/tasks/{taskId}", s.user(s.updateTask))
	s.handle("GET /v1/tasks/users-for-preferred-routing", s.user(s.upnList(s.cfg.Directory.PreferredRoutingUsers)))
	s.handle("GET /v1/ExternalTasks/service-contacts", s.user(s.upnList(s.cfg.Directory.ExternalTaskServices)))
	s.handle("GET /v1/ExternalTasks/distribution-priorities", s.user(s.staticList(nimbus.GroupConversations, nimbus.Priorities)))
	s.handle("POST /v1/ExternalTasks", s.user(s.addExternalTask))
	s.handle("DELETE /v1/ExternalTasks/{externalTaskId}", s.user(s.removeExternalTask))
	s.handle("POST /internal/v1/task-events", s.user(s.ingestEvents))
	s.handle("GET /internal/v1/claims/{claimId}", s.user(s.readClaim))
	// The admin API answers under /admin/v1 (SPEC 10) and under /manage/v1: the Functions host
	// reserves every route that starts with "admin" for its own management API, so in Azure
	// the Admin function is published at /manage/v1.
	for _, prefix := range AdminPrefixes {
		s.handle("GET "+prefix+"/tenants/{tenantId}/directory", s.user(s.exportDirectory))
		s.handle("PUT "+prefix+"/tenants/{tenantId}/directory", s.user(s.importDirectory))
		s.handle("GET "+prefix+"/subscriptions", s.user(s.listSubscriptions))
		s.handle("GET "+prefix+"/delivery-failures", s.user(s.listFailures))
		s.handle("POST "+prefix+"/delivery-failures/replay", s.user(s.replayFailures))
		s.handle("GET "+prefix+"/queue-failures", s.user(s.listQueueFailures))
		s.handle("POST "+prefix+"/queue-failures/replay", s.user(s.replayQueueFailures))
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
		s.log.InfoContext(r.Context(), "request", "correlationId", id, "method", r.Method, "route", r.Pattern, "status", rec.status, "ms", time.Since(start).Milliseconds())
	}()
	s.mux.ServeHTTP(rec, r)
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

// baseURL is the public base URL for Location headers and dev metadata.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicBaseURL != "" {
		return strings.TrimRight(s.cfg.PublicBaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
