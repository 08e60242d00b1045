package funchost

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// connectorMux stands in for the router: the same handler serves forwarding mode and, through
// HTTPFunction, payload mode.
func connectorMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/internal/v1/task-events", func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ EventID string }
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if r.URL.Query().Get("tenant") != "contoso" || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			http.Error(w, "request not rebuilt faithfully", http.StatusTeapot)
			return
		}
		w.Header().Set("Location", "/api/internal/v1/task-events/"+ev.EventID)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"accepted": true, "eventId": ev.EventID})
	})
	mux.HandleFunc("PUT /api/blobs", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Add("X-Seen", "first")
		w.Header().Add("X-Seen", "second")
		_, _ = io.WriteString(w, hex.EncodeToString(b)) // no Content-Type: sniffed
		w.Header().Set("X-Too-Late", "ignored")
	})
	mux.HandleFunc("GET /api/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.WriteHeader(http.StatusOK) // superfluous: the first status wins
		_, _ = io.WriteString(w, `{"title":"unavailable"}`)
	})
	mux.HandleFunc("DELETE /api/empty", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func TestHTTPFunctionGoldenThroughHost(t *testing.T) {
	host := NewHost(nil)
	host.Handle("Ingest", HTTPFunction(connectorMux(), "req", "res"))
	req := httptest.NewRequest(http.MethodPost, "/Ingest", strings.NewReader(string(golden(t, "http_invocation.json"))))
	req.Header.Set(InvocationIDHeader, testInvocationID)
	rec := httptest.NewRecorder()
	host.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("invocation status: got %d, want 200 (body %s)", rec.Code, rec.Body)
	}
	assertJSONEqual(t, rec.Body.Bytes(), golden(t, "http_response.json"))
}

func TestHTTPFunction(t *testing.T) {
	tests := []struct {
		name string
		req  string // Data.req
		want HTTPOutput
	}{
		{
			name: "unmatched route is a 404 output, not a failed invocation",
			req:  `{"Url":"http://localhost:7071/api/v1/nothing-here","Method":"GET","Headers":{}}`,
			want: HTTPOutput{StatusCode: 404, Body: "404 page not found\n", Headers: map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}},
		},
		{
			name: "5xx from the handler is an output too; first status wins",
			req:  `{"Url":"http://localhost:7071/api/broken","Method":"GET"}`,
			want: HTTPOutput{StatusCode: 503, Body: `{"title":"unavailable"}`,
				Headers: map[string]string{"Content-Type": "application/problem+json"}},
		},
		{
			name: "octet-stream body arrives decoded; first header value; late headers dropped; sniffed type",
			req: `{"Url":"http://localhost:7071/api/blobs","Method":"PUT",
				"Headers":{"Content-Type":["application/octet-stream"]},"Body":"AAH+/w=="}`,
			want: HTTPOutput{StatusCode: 200, Body: "0001feff",
				Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Seen": "first"}},
		},
		{
			name: "no body still names a content type",
			req:  `{"Url":"http://localhost:7071/api/empty","Method":"DELETE"}`,
			want: HTTPOutput{StatusCode: 204, Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		},
	}
	fn := HTTPFunction(connectorMux(), "req", "res")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := ParseInvocation("Api", "", []byte(`{"Data":{"req":`+tt.req+`},"Metadata":{}}`))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := fn(context.Background(), inv)
			if err != nil {
				t.Fatalf("got error %v, want a successful invocation", err)
			}
			if len(resp.Outputs) != 1 {
				t.Fatalf("Outputs: got %v, want only res", resp.Outputs)
			}
			got, ok := resp.Outputs["res"].(HTTPOutput)
			if !ok {
				t.Fatalf("Outputs[res]: got %T, want HTTPOutput", resp.Outputs["res"])
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHTTPFunctionNotFoundThroughHost(t *testing.T) {
	host := NewHost(nil)
	host.Handle("Tasks", HTTPFunction(connectorMux(), "req", "res"))
	req := httptest.NewRequest(http.MethodPost, "/Tasks", strings.NewReader(string(golden(t, "http_invocation_get.json"))))
	rec := httptest.NewRecorder()
	host.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("invocation status: got %d, want 200: an HTTP 404 is an output, never a failed invocation", rec.Code)
	}
	want := `{"Outputs":{"res":{"statusCode":404,"headers":{"Content-Type":"text/plain; charset=utf-8",` +
		`"X-Content-Type-Options":"nosniff"},"body":"404 page not found\n"}},"Logs":[],"ReturnValue":null}`
	assertJSONEqual(t, rec.Body.Bytes(), []byte(want))
}

func TestHTTPFunctionUnbuildableRequestFails(t *testing.T) {
	fn := HTTPFunction(connectorMux(), "req", "res")
	inv, err := ParseInvocation("Api", "", []byte(`{"Data":{"request":{}},"Metadata":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fn(context.Background(), inv); err == nil || !strings.Contains(err.Error(), "http function Api") {
		t.Fatalf("got error %v, want a wrapped missing-binding error", err)
	}
}
