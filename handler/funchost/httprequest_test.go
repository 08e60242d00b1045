package funchost

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

type wantRequest struct {
	method        string
	url           string
	path          string
	query         map[string]string
	host          string
	headers       http.Header // each listed header must match exactly
	absentHeaders []string
	body          string
	pathValues    map[string]string
}

func assertRequest(t *testing.T, req *http.Request, want wantRequest) {
	t.Helper()
	if req.Method != want.method {
		t.Errorf("Method: got %q, want %q", req.Method, want.method)
	}
	if got := req.URL.String(); got != want.url {
		t.Errorf("URL: got %q, want %q", got, want.url)
	}
	if req.URL.Path != want.path {
		t.Errorf("Path: got %q, want %q", req.URL.Path, want.path)
	}
	if got := req.RequestURI; got != req.URL.RequestURI() {
		t.Errorf("RequestURI: got %q, want %q", got, req.URL.RequestURI())
	}
	for k, v := range want.query {
		if got := req.URL.Query().Get(k); got != v {
			t.Errorf("query %s: got %q, want %q", k, got, v)
		}
	}
	if req.Host != want.host {
		t.Errorf("Host: got %q, want %q", req.Host, want.host)
	}
	for name, values := range want.headers {
		if got := req.Header.Values(name); !reflect.DeepEqual(got, values) {
			t.Errorf("header %s: got %q, want %q", name, got, values)
		}
	}
	for _, name := range want.absentHeaders {
		if got := req.Header.Values(name); len(got) != 0 {
			t.Errorf("header %s: got %q, want none", name, got)
		}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != want.body {
		t.Errorf("Body: got %q, want %q", body, want.body)
	}
	if req.ContentLength != int64(len(want.body)) {
		t.Errorf("ContentLength: got %d, want %d", req.ContentLength, len(want.body))
	}
	for k, v := range want.pathValues {
		if got := req.PathValue(k); got != v {
			t.Errorf("PathValue(%s): got %q, want %q", k, got, v)
		}
	}
}

func TestHTTPRequestGolden(t *testing.T) {
	tests := []struct {
		file string
		fn   string
		want wantRequest
	}{
		{
			file: "http_invocation.json",
			fn:   "Ingest",
			want: wantRequest{
				method: http.MethodPost,
				url:    "https://nimbus-connector.azurewebsites.net/api/internal/v1/task-events?api-version=2025-01-01&tenant=contoso",
				path:   "/api/internal/v1/task-events",
				query:  map[string]string{"api-version": "2025-01-01", "tenant": "contoso"},
				host:   "nimbus-connector.azurewebsites.net",
				headers: http.Header{
					"Accept":          {"application/json"},
					"Content-Type":    {"application/json; charset=utf-8"},
					"Content-Length":  {"76"},
					"User-Agent":      {"nimbus-core/3.2"},
					"X-Nimbus-Trace":  {"a1", "b2"},
					"X-Forwarded-For": {"203.0.113.7:51234"},
				},
				absentHeaders: []string{"Host"},
				body:          `{"eventId":"evt-0001","type":"TaskCreated","taskId":"task-123","sequence":7}`,
				pathValues:    map[string]string{"path": "task-events"},
			},
		},
		{
			file: "http_invocation_get.json",
			fn:   "Tasks",
			want: wantRequest{
				method:        http.MethodGet,
				url:           "http://localhost:7071/api/v1/tasks/task-123?%24select=status",
				path:          "/api/v1/tasks/task-123",
				query:         map[string]string{"$select": "status"},
				host:          "localhost:7071",
				headers:       http.Header{"Accept": {"application/json"}, "User-Agent": {"PowerAutomate/1.0"}},
				absentHeaders: []string{"Host", "Content-Length", "Content-Type"},
				pathValues:    map[string]string{"path": "task-123"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ctx := context.WithValue(context.Background(), ctxKey{}, tt.file)
			req, err := goldenInvocation(t, tt.file, tt.fn).HTTPRequest(ctx, "req")
			if err != nil {
				t.Fatalf("HTTPRequest: %v", err)
			}
			if req.Context().Value(ctxKey{}) != tt.file {
				t.Errorf("request does not carry the invocation context")
			}
			assertRequest(t, req, tt.want)
		})
	}
}

type ctxKey struct{}

func TestHTTPRequestVariants(t *testing.T) {
	tests := []struct {
		name    string
		req     string // Data.req
		want    wantRequest
		wantErr string
	}{
		{
			name: "octet-stream body is base64",
			req: `{"Url":"http://localhost:7071/api/blobs","Method":"PUT",
				"Headers":{"Content-Type":["application/octet-stream"],"Content-Length":["4"]},
				"Body":"AAH+/w=="}`,
			want: wantRequest{
				method: http.MethodPut, url: "http://localhost:7071/api/blobs", path: "/api/blobs", host: "localhost:7071",
				headers: http.Header{"Content-Length": {"4"}},
				body:    "\x00\x01\xfe\xff",
			},
		},
		{
			name: "multipart body is base64",
			req: `{"Url":"http://localhost:7071/api/upload","Method":"POST",
				"Headers":{"Content-Type":["multipart/form-data; boundary=XyZ"]},
				"Body":"LS1YeVotLQ=="}`,
			want: wantRequest{
				method: http.MethodPost, url: "http://localhost:7071/api/upload", path: "/api/upload", host: "localhost:7071",
				headers: http.Header{"Content-Length": {"7"}}, body: "--XyZ--",
			},
		},
		{
			name: "text body is kept as text, Content-Length recomputed",
			req: `{"Url":"http://localhost:7071/api/echo","Method":"post",
				"Headers":{"Content-Type":["text/plain"],"Content-Length":["999"]},"Body":"AAH+/w=="}`,
			want: wantRequest{
				method: http.MethodPost, url: "http://localhost:7071/api/echo", path: "/api/echo", host: "localhost:7071",
				headers: http.Header{"Content-Length": {"8"}}, body: "AAH+/w==",
			},
		},
		{
			name: "query object used when the url has none; string header values",
			req: `{"Url":"http://localhost:7071/api/q","Method":"GET","Query":{"b":"2","a":"x y"},
				"Headers":{"Accept":"text/csv"}}`,
			want: wantRequest{
				method: http.MethodGet, url: "http://localhost:7071/api/q?a=x+y&b=2", path: "/api/q", host: "localhost:7071",
				query: map[string]string{"a": "x y", "b": "2"}, headers: http.Header{"Accept": {"text/csv"}},
			},
		},
		{
			name:    "octet-stream body that is not base64",
			req:     `{"Url":"http://localhost:7071/api/blobs","Method":"PUT","Headers":{"Content-Type":["application/octet-stream"]},"Body":"%%%"}`,
			wantErr: "not base64",
		},
		{name: "no url", req: `{"Method":"GET"}`, wantErr: "no url"},
		{name: "bad url", req: `{"Url":"http://[::1","Method":"GET"}`, wantErr: "parse url"},
		{name: "bad method", req: `{"Url":"http://localhost/","Method":"GE T"}`, wantErr: "build request"},
		{name: "bad headers", req: `{"Url":"http://localhost/","Headers":{"X":[1]}}`, wantErr: "header"},
		{name: "not an object", req: `[1]`, wantErr: `http binding "req"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := ParseInvocation("Fn", "", []byte(`{"Data":{"req":`+tt.req+`},"Metadata":{}}`))
			if err != nil {
				t.Fatal(err)
			}
			req, err := inv.HTTPRequest(context.Background(), "req")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			assertRequest(t, req, tt.want)
		})
	}
}

func TestHTTPRequestMissingBinding(t *testing.T) {
	inv := goldenInvocation(t, "http_invocation.json", "Ingest")
	if _, err := inv.HTTPRequest(context.Background(), "request"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("got error %v, want a missing-binding error", err)
	}
}
