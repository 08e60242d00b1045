package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/entra"
	"github.com/nimbusflow/connector/handler/nimbus"
)

type env struct {
	srv  *Server
	http *httptest.Server
	dev  *entra.AsyncDevIssuer
	demo app.DemoInfo
}

// newEnv wires the REST surface over the real embedded store and the real token validator,
// the way main does.
func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := embedded.Open(filepath.Join(t.TempDir(), "nimbus.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir := app.NewDirectory(db.Tables().Table(nimbus.TableDirectory), 0)
	d, demo := app.Demo()
	if _, err := dir.Seed(t.Context(), d, false); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dev := entra.NewAsyncDevIssuer("api://test", func() (*rsa.PrivateKey, error) { return key, nil })
	trust := nimbus.NewAppTrust([]string{app.DevOperatorTenantID}, nil)
	known := func(ctx context.Context, tenant string) (bool, error) {
		if trust.OperatorTenant(tenant) {
			return true, nil
		}
		return dir.TenantKnown(ctx, tenant)
	}
	v := entra.NewValidator(entra.Config{Audiences: []string{"api://test"}, TenantKnown: known}, dev)
	srv := New(Config{
		Version: "test", Mode: "test",
		Authenticate: func(ctx context.Context, authz string) (nimbus.Caller, error) {
			tok, err := entra.BearerToken(authz)
			if err != nil {
				return nimbus.Caller{}, err
			}
			c, err := v.Validate(ctx, tok)
			return trust.Resolve(nimbus.Caller{TenantID: c.TenantID, UPN: c.UPN, AppID: c.AppID, Roles: c.Roles, IsApp: c.IsApp}), err
		},
		Directory:    dir,
		AddressBooks: app.NewAddressBooks(dir, db.Tables().Table(nimbus.TableContacts), 0),
		Dev:          dev,
		Demo:         demo,
	})
	e := &env{srv: srv, dev: dev, demo: demo}
	e.http = httptest.NewServer(srv)
	t.Cleanup(e.http.Close)
	return e
}

func (e *env) token(t testing.TB, upn string) string {
	t.Helper()
	tok, err := e.dev.MintUser(t.Context(), e.demo.TenantID, upn, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorBody(t *testing.T) errorDetail {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return b.Error
}

func (e *env) do(t *testing.T, method, path, token, contentType string, body []byte) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.http.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func TestStatusRoot(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "GET", "/", "", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"status":"ok"`) {
		t.Errorf("GET /: %d %s", r.status, r.body)
	}
}

func TestHTTPErrors(t *testing.T) {
	e := newEnv(t)
	admin := e.token(t, e.demo.Users.TenantAdmin)
	book := "/v2/AddressBooks/" + e.demo.AddressBooks[0].ID + "/contacts"
	tests := []struct {
		name        string
		method      string
		path        string
		token       string
		contentType string
		body        []byte
		status      int
		code        string
		target      string
	}{
		{"unknown route", "GET", "/v9/nothing", admin, "", nil, 404, "NotFound", ""},
		{"wrong method", "DELETE", "/v2/AddressBooks", admin, "", nil, 405, "MethodNotAllowed", ""},
		{"no token", "GET", "/v2/AddressBooks", "", "", nil, 401, "Unauthenticated", ""},
		{"garbage token", "GET", "/v2/AddressBooks", "not.a.jwt", "", nil, 401, "Unauthenticated", ""},
		{"unknown user", "GET", "/v2/AddressBooks", e.token(t, "ghost@contoso.com"), "", nil, 403, "Forbidden", ""},
		{"not JSON", "POST", book, admin, "text/plain", []byte("hi"), 415, "UnsupportedMediaType", ""},
		{"form body", "POST", book, admin, "application/x-www-form-urlencoded", []byte("a=b"), 415, "UnsupportedMediaType", ""},
		{"malformed JSON", "POST", book, admin, "application/json", []byte(`{"externalId":`), 400, "InvalidArgument", ""},
		{"two values", "POST", book, admin, "application/json", []byte(`{"externalId":"a"} {}`), 400, "InvalidArgument", ""},
		{"empty body", "POST", book, admin, "application/json", nil, 400, "InvalidArgument", ""},
		{"wrong type", "POST", book, admin, "application/json", []byte(`{"externalId":"a","addresses":[{"city":7}]}`), 400, "InvalidArgument", "addresses.city"},
		{"array for object", "POST", book, admin, "application/json", []byte(`[1]`), 400, "InvalidArgument", ""},
		{"field too long", "POST", book, admin, "application/json", []byte(`{"externalId":"a","initials":"` + strings.Repeat("x", 17) + `"}`), 400, "InvalidArgument", "initials"},
		{"too large", "POST", book, admin, "application/json", []byte(`{"externalId":"` + strings.Repeat("x", MaxBody) + `"}`), 413, "TooLarge", ""},
		{"remove with object body", "POST", book + "/delete", admin, "application/json", []byte(`{"ids":["a"]}`), 400, "InvalidArgument", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, tt.token, tt.contentType, tt.body)
			if r.status != tt.status {
				t.Fatalf("status: got %d, want %d (%s)", r.status, tt.status, r.body)
			}
			got := r.errorBody(t)
			if got.Code != tt.code || got.Target != tt.target || got.Message == "" {
				t.Errorf("error: got %+v, want code %s target %q", got, tt.code, tt.target)
			}
			if tt.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
		})
	}
}

func TestPanicBecomes500WithCorrelationID(t *testing.T) {
	e := newEnv(t)
	e.srv.handle("GET /test/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	r := e.do(t, "GET", "/test/panic", "", "", nil)
	if r.status != 500 {
		t.Fatalf("status %d", r.status)
	}
	got := r.errorBody(t)
	if got.Code != "Internal" || got.Message != "internal error" || got.CorrelationID == "" || got.CorrelationID != r.header.Get("X-Correlation-Id") {
		t.Errorf("got %+v (header id %q)", got, r.header.Get("X-Correlation-Id"))
	}
	if strings.Contains(string(r.body), "boom") {
		t.Error("panic value leaked to the caller")
	}
}

func TestAddressBooksOverHTTP(t *testing.T) {
	e := newEnv(t)
	admin := e.token(t, e.demo.Users.TenantAdmin)
	base := "/v2/AddressBooks/" + url.PathEscape(e.demo.AddressBooks[0].ID) + "/contacts"
	for _, id := range []string{"a/b", "c#d", "e?f", "Zürich"} {
		body, _ := json.Marshal(nimbus.Contact{ExternalID: id, FirstName: "x"})
		if r := e.do(t, "POST", base, admin, "application/json", body); r.status != 200 {
			t.Fatalf("add %q: %d %s", id, r.status, r.body)
		}
	}
	q := url.Values{"externalIds": {"a/b,c#d", "Zürich"}}
	r := e.do(t, "GET", base+"?"+q.Encode(), admin, "", nil)
	var got []nimbus.Contact
	if err := json.Unmarshal(r.body, &got); err != nil || len(got) != 3 {
		t.Fatalf("get by ids: %d %s", r.status, r.body)
	}
	r = e.do(t, "POST", base+"/delete", admin, "application/json", []byte(`["e?f","nope"]`))
	if r.status != 200 || string(r.body) != `{"removed":1}` {
		t.Errorf("remove: %d %s", r.status, r.body)
	}
	r = e.do(t, "POST", base+"/clear", admin, "", nil)
	if r.status != 200 || string(r.body) != `{"removed":3}` {
		t.Errorf("clear: %d %s", r.status, r.body)
	}
	r = e.do(t, "GET", "/v2/AddressBooks/"+url.PathEscape("no/such")+"/contacts", admin, "", nil)
	if r.status != 404 {
		t.Errorf("unknown book: %d", r.status)
	}
}

func TestDevToken(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		body   string
		status int
	}{
		{`{"tenantId":"` + e.demo.TenantID + `","upn":"admin@contoso.com"}`, 200},
		{`{"tenantId":"` + e.demo.TenantID + `","appId":"core","roles":["Nimbus.Core"]}`, 200},
		{`{"tenantId":"nope","upn":"admin@contoso.com"}`, 400},
		{`{"tenantId":"` + e.demo.TenantID + `"}`, 400},
		{`{"tenantId":"` + e.demo.TenantID + `","upn":"a@b.c","appId":"x"}`, 400},
	}
	for _, tt := range tests {
		r := e.do(t, "POST", "/dev/token", "", "application/json", []byte(tt.body))
		if r.status != tt.status {
			t.Errorf("%s: got %d, want %d (%s)", tt.body, r.status, tt.status, r.body)
		}
	}
	r := e.do(t, "GET", "/dev/.well-known/openid-configuration", "", "", nil)
	if !strings.Contains(string(r.body), e.http.URL+"/dev/keys") {
		t.Errorf("metadata does not point at our keys: %s", r.body)
	}
}

// A request without credentials gets the bare challenge; a refused token gets
// invalid_token (RFC 6750 section 3.1).
func TestWWWAuthenticate(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name          string
		authorization string
		want          string
	}{
		{"no Authorization header", "", "Bearer"},
		{"another scheme", "Basic dXNlcjpwYXNz", "Bearer"},
		{"scheme without token", "Bearer", `Bearer error="invalid_request"`},
		{"garbage token", "Bearer not.a.jwt", `Bearer error="invalid_token"`},
		{"expired-looking junk", "bearer eyJhbGciOiJub25lIn0.e30.", `Bearer error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), "GET", e.http.URL+"/v2/AddressBooks", nil)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != tt.want {
				t.Errorf("got %d with WWW-Authenticate %q, want 401 with %q", res.StatusCode, res.Header.Get("WWW-Authenticate"), tt.want)
			}
		})
	}
}

// An unknown route is logged with the path that was asked for (not the catch-all pattern),
// without its query string.
func TestUnknownRouteLoggedWithPath(t *testing.T) {
	var logs bytes.Buffer
	srv := New(Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	for _, target := range []string{"/v9/nothing/here?sig=secret", "/" + strings.Repeat("p", 1000)} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != 404 {
			t.Fatalf("%s: status %d", target, rec.Code)
		}
	}
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[0]["path"] != "/v9/nothing/here" {
		t.Fatalf("logs: %s", logs.String())
	}
	if p, _ := lines[1]["path"].(string); len(p) > maxLoggedPath+len("…") || !strings.HasPrefix(p, "/ppp") {
		t.Errorf("a long path is logged as %q", p)
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("query string logged: %s", logs.String())
	}
}
