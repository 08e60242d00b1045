package funchost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// MaxInvocationBytes bounds an invocation request body. Service Bus messages are at most
// 256 KiB (1 MiB on Premium), and the connector's HTTP bodies are smaller still; base64 and
// metadata (promoted body properties repeat the body) add overhead, so 4 MiB leaves room
// without letting one request exhaust memory.
const MaxInvocationBytes = 4 << 20

// Func handles one invocation. Returning an error fails the invocation: the host abandons a
// Service Bus message (it is redelivered with DeliveryCount+1, and dead-lettered by the broker
// after MaxDeliveryCount), fails a timer run (not retried), and answers an HTTP caller with 500.
// Logs in the Response returned alongside an error are still logged by the Host.
type Func func(ctx context.Context, inv *Invocation) (Response, error)

// Host serves the custom-handler protocol: POST /{FunctionName} for each registered Func.
// It is safe for concurrent use; register every Func before serving.
type Host struct {
	logger *slog.Logger

	mu    sync.RWMutex
	funcs map[string]registered // keyed by lower-case name: function names ignore case
}

type registered struct {
	name string
	fn   Func
}

// NewHost returns a Host with no functions. A nil logger discards logs.
func NewHost(logger *slog.Logger) *Host {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Host{logger: logger, funcs: map[string]registered{}}
}

// Handle registers fn for the function named name (its folder name under functions/). Like
// http.ServeMux it panics on an empty name, a nil fn or a duplicate: those are wiring
// mistakes, found at startup.
func (h *Host) Handle(name string, fn Func) {
	if name == "" || strings.Contains(name, "/") || fn == nil {
		panic("funchost: Handle needs a function name without '/' and a non-nil Func")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	key := strings.ToLower(name)
	if _, dup := h.funcs[key]; dup {
		panic(fmt.Sprintf("funchost: function %q registered twice", name))
	}
	h.funcs[key] = registered{name: name, fn: fn}
}

func (h *Host) lookup(name string) (registered, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	r, ok := h.funcs[strings.ToLower(name)]
	return r, ok
}

// ServeHTTP answers the host's invocation requests. Status codes are chosen for the host, not
// for people: any non-2xx fails the invocation, so only a completed Func earns a 200.
//
//   - 200: the Func succeeded; the body is the encoded Response.
//   - 400: the body is not an invocation payload (the host counts it as a failure).
//   - 404: no function of that name (the host's readiness probe GET / lands here too, and any
//     response counts as ready).
//   - 405: not a POST.
//   - 413: the body is larger than MaxInvocationBytes.
//   - 500: the Func returned an error or panicked.
//
// Every non-2xx body is {"error": "...", "Logs": [...]}. The host discards it (it checks the
// status before reading Logs), so everything in it is also logged here; Core Tools prints it
// when tracing locally.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	reg, ok := h.lookup(name)
	if !ok || name == "" {
		writeFailure(w, http.StatusNotFound, "no such function", nil)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeFailure(w, http.StatusMethodNotAllowed, "invocations are POST requests", nil)
		return
	}
	id := r.Header.Get(InvocationIDHeader)
	log := h.logger.With("function", reg.name, "invocationId", id)

	body, err := readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.Warn("invocation rejected: body too large", "limit", MaxInvocationBytes)
			writeFailure(w, http.StatusRequestEntityTooLarge, "invocation body too large", nil)
			return
		}
		log.Warn("invocation rejected: read body", "err", err)
		writeFailure(w, http.StatusBadRequest, "cannot read invocation body", nil)
		return
	}
	inv, err := ParseInvocation(reg.name, id, body)
	if err != nil {
		log.Warn("invocation rejected: malformed payload", "err", err)
		writeFailure(w, http.StatusBadRequest, "malformed invocation payload", nil)
		return
	}

	start := time.Now()
	resp, err := h.call(r.Context(), log, reg.fn, inv)
	elapsed := time.Since(start)
	if err != nil {
		log.Error("invocation failed", "err", err, "elapsed", elapsed, "logs", resp.Logs)
		logs := append(append([]string(nil), resp.Logs...), "error: "+err.Error())
		writeFailure(w, http.StatusInternalServerError, "invocation failed", logs)
		return
	}
	out, err := json.Marshal(resp)
	if err != nil {
		log.Error("invocation failed: encode response", "err", err, "elapsed", elapsed)
		writeFailure(w, http.StatusInternalServerError, "cannot encode response", nil)
		return
	}
	log.Debug("invocation succeeded", "elapsed", elapsed)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// call runs fn and turns a panic into an error, so that one bad message fails its own
// invocation (and is redelivered) instead of taking the process down.
func (h *Host) call(ctx context.Context, log *slog.Logger, fn Func, inv *Invocation) (resp Response, err error) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("invocation panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			resp, err = Response{}, fmt.Errorf("panic: %v", v)
		}
	}()
	return fn(ctx, inv)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxInvocationBytes {
		return nil, &http.MaxBytesError{Limit: MaxInvocationBytes}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInvocationBytes))
	if err != nil {
		return nil, fmt.Errorf("read invocation body: %w", err)
	}
	return body, nil
}

// failure is the body of every non-2xx answer.
type failure struct {
	Error string   `json:"error"`
	Logs  []string `json:"Logs"`
}

func writeFailure(w http.ResponseWriter, status int, msg string, logs []string) {
	if logs == nil {
		logs = []string{}
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(failure{Error: msg, Logs: logs})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
