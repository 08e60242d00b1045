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
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// syncBuffer lets the server goroutine log while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const testInvocationID = "7c1d9e2a-5b3f-4a6c-8d0e-1f2a3b4c5d6e"

func TestHostServeHTTP(t *testing.T) {
	var logs syncBuffer
	host := NewHost(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	var seen struct {
		sync.Mutex
		name, id  string
		sessionID string
		serverCtx bool
	}
	host.Handle("ProcessEvents", func(ctx context.Context, inv *Invocation) (Response, error) {
		msg, err := inv.ServiceBusMessage("message")
		if err != nil {
			return Response{}, err
		}
		seen.Lock()
		seen.name, seen.id, seen.sessionID = inv.FunctionName, inv.InvocationID, msg.SessionID
		seen.serverCtx = ctx.Value(http.ServerContextKey) != nil
		seen.Unlock()
		return Response{Logs: []string{"applied " + msg.MessageID}}, nil
	})
	host.Handle("DeliverWebhooks", func(ctx context.Context, inv *Invocation) (Response, error) {
		return Response{Logs: []string{"attempt 1 of 5"}}, errors.New("deliver: store unavailable")
	})
	host.Handle("SchedulerSweep", func(ctx context.Context, inv *Invocation) (Response, error) {
		var m map[string]int
		m["boom"] = 1 // nil map write: a bug in the Func must not take the process down
		return Response{}, nil
	})
	host.Handle("Unencodable", func(ctx context.Context, inv *Invocation) (Response, error) {
		return Response{Outputs: map[string]any{"x": make(chan int)}}, nil
	})
	srv := httptest.NewServer(host)
	defer srv.Close()

	sbPayload := string(golden(t, "servicebus_single.json"))
	tests := []struct {
		name      string
		method    string
		path      string
		body      io.Reader
		wantCode  int
		wantBody  string   // normalized JSON, when set
		wantLogs  []string // substrings of the body's Logs, for failures
		wantError string   // the body's "error", for failures
	}{
		{
			name: "success", method: http.MethodPost, path: "/ProcessEvents", body: strings.NewReader(sbPayload),
			wantCode: http.StatusOK, wantBody: `{"Outputs":{},"Logs":["applied evt-0042"],"ReturnValue":null}`,
		},
		{
			name: "function names ignore case", method: http.MethodPost, path: "/processevents", body: strings.NewReader(sbPayload),
			wantCode: http.StatusOK, wantBody: `{"Outputs":{},"Logs":["applied evt-0042"],"ReturnValue":null}`,
		},
		{
			name: "func error fails the invocation", method: http.MethodPost, path: "/DeliverWebhooks", body: strings.NewReader(`{"Data":{},"Metadata":{}}`),
			wantCode: http.StatusInternalServerError, wantError: "invocation failed",
			wantLogs: []string{"attempt 1 of 5", "deliver: store unavailable"},
		},
		{
			name: "decode error inside the func fails the invocation", method: http.MethodPost, path: "/ProcessEvents",
			body:     strings.NewReader(`{"Data":{},"Metadata":{}}`),
			wantCode: http.StatusInternalServerError, wantError: "invocation failed", wantLogs: []string{`"message": missing`},
		},
		{
			name: "panic", method: http.MethodPost, path: "/SchedulerSweep", body: strings.NewReader(string(golden(t, "timer.json"))),
			wantCode: http.StatusInternalServerError, wantError: "invocation failed", wantLogs: []string{"panic: assignment to entry in nil map"},
		},
		{
			name: "unencodable response", method: http.MethodPost, path: "/Unencodable", body: strings.NewReader(`{}`),
			wantCode: http.StatusInternalServerError, wantError: "cannot encode response",
		},
		{
			name: "unknown function", method: http.MethodPost, path: "/Nope", body: strings.NewReader(sbPayload),
			wantCode: http.StatusNotFound, wantError: "no such function",
		},
		{
			name: "readiness probe", method: http.MethodGet, path: "/",
			wantCode: http.StatusNotFound, wantError: "no such function",
		},
		{
			name: "nested path", method: http.MethodPost, path: "/ProcessEvents/x", body: strings.NewReader(sbPayload),
			wantCode: http.StatusNotFound, wantError: "no such function",
		},
		{
			name: "not a post", method: http.MethodGet, path: "/ProcessEvents",
			wantCode: http.StatusMethodNotAllowed, wantError: "invocations are POST requests",
		},
		{
			name: "malformed body", method: http.MethodPost, path: "/ProcessEvents", body: strings.NewReader(`{"Data":`),
			wantCode: http.StatusBadRequest, wantError: "malformed invocation payload",
		},
		{
			name: "oversized with content length", method: http.MethodPost, path: "/ProcessEvents",
			body:     bytes.NewReader(oversized()),
			wantCode: http.StatusRequestEntityTooLarge, wantError: "invocation body too large",
		},
		{
			name: "oversized chunked", method: http.MethodPost, path: "/ProcessEvents",
			body:     io.MultiReader(bytes.NewReader(oversized())), // hides the length: sent chunked
			wantCode: http.StatusRequestEntityTooLarge, wantError: "invocation body too large",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(InvocationIDHeader, testInvocationID)
			req.Header.Set("User-Agent", "Azure-Functions-Host/4.1037.1.1")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantCode {
				t.Fatalf("status: got %d, want %d (body %s)", res.StatusCode, tt.wantCode, body)
			}
			if got := res.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", got)
			}
			if tt.wantBody != "" {
				assertJSONEqual(t, body, []byte(tt.wantBody))
			}
			if tt.wantError == "" {
				return
			}
			var fail struct {
				Error string
				Logs  []string
			}
			if err := json.Unmarshal(body, &fail); err != nil {
				t.Fatalf("failure body is not JSON: %v: %s", err, body)
			}
			if fail.Error != tt.wantError {
				t.Errorf("error: got %q, want %q", fail.Error, tt.wantError)
			}
			if fail.Logs == nil {
				t.Errorf("Logs: got null, want a list")
			}
			joined := strings.Join(fail.Logs, "\n")
			for _, want := range tt.wantLogs {
				if !strings.Contains(joined, want) {
					t.Errorf("Logs: got %q, want an entry containing %q", fail.Logs, want)
				}
			}
		})
	}

	seen.Lock()
	defer seen.Unlock()
	if seen.name != "ProcessEvents" || seen.id != testInvocationID || seen.sessionID != "contoso/task-123" {
		t.Errorf("func saw name %q id %q session %q; want ProcessEvents %s contoso/task-123", seen.name, seen.id, seen.sessionID, testInvocationID)
	}
	if !seen.serverCtx {
		t.Errorf("func context is not the request's context")
	}
	// The panic is logged with the invocation id and a stack, for finding the bad message.
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"invocation panicked"`) {
			found = true
			for _, want := range []string{`"invocationId":"` + testInvocationID + `"`, `"function":"SchedulerSweep"`, `"stack":`} {
				if !strings.Contains(line, want) {
					t.Errorf("panic log line lacks %s: %s", want, line)
				}
			}
		}
	}
	if !found {
		t.Errorf("no panic log line in:\n%s", logs.String())
	}
}

// oversized is a syntactically valid invocation just over the limit, so only the size rule
// can reject it.
func oversized() []byte {
	pad := strings.Repeat("a", MaxInvocationBytes)
	return []byte(fmt.Sprintf(`{"Data":{"message":%q},"Metadata":{}}`, pad))
}

func TestHostHandleRejectsWiringMistakes(t *testing.T) {
	noop := func(context.Context, *Invocation) (Response, error) { return Response{}, nil }
	tests := []struct {
		name     string
		register func(h *Host)
	}{
		{name: "duplicate ignoring case", register: func(h *Host) { h.Handle("Tasks", noop); h.Handle("tasks", noop) }},
		{name: "empty name", register: func(h *Host) { h.Handle("", noop) }},
		{name: "slash in name", register: func(h *Host) { h.Handle("a/b", noop) }},
		{name: "nil func", register: func(h *Host) { h.Handle("Tasks", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle did not panic")
				}
			}()
			tt.register(NewHost(nil))
		})
	}
}
