package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/console"
)

// The console's page and settings load without a token, with the console's security
// headers; it learns from the settings whether dev sign-in is on.
func TestConsoleRoutes(t *testing.T) {
	e := newEnv(t)
	page := e.do(t, "GET", "/console/", "", "", nil)
	if page.status != 200 || !strings.Contains(string(page.body), "Nimbus Flow console") {
		t.Fatalf("GET /console/: %d %s", page.status, page.body)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	var cfg struct {
		DevAuth   bool   `json:"devAuth"`
		AdminBase string `json:"adminBase"`
	}
	r := e.do(t, "GET", "/console/config.json", "", "", nil)
	if err := json.Unmarshal(r.body, &cfg); err != nil || !cfg.DevAuth || cfg.AdminBase != "/manage/v1" {
		t.Errorf("config.json: %d %s", r.status, r.body)
	}
	missing := e.do(t, "GET", "/console/secrets.txt", "", "", nil)
	if missing.status != 404 || missing.errorBody(t).Code != "NotFound" || missing.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("unknown console file: %d %s %v", missing.status, missing.body, missing.header)
	}
	if r := e.do(t, "POST", "/console/", "", "application/json", []byte("{}")); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /console/: %d, want 405", r.status)
	}
}

// /console sends the browser to /console/, where the page's relative links resolve, and
// keeps the query: an Entra sign-in answer may arrive there.
func TestConsoleRedirectKeepsTheQuery(t *testing.T) {
	e := newEnv(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{"/console": "/console/", "/console?code=abc&state=xyz": "/console/?code=abc&state=xyz"} {
		res, err := client.Get(e.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != want {
			t.Errorf("GET %s: %d Location %q, want 301 %q", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}

// Without dev auth the console offers no dev sign-in, and its settings carry the Entra ones.
func TestConsoleConfigWithoutDevAuth(t *testing.T) {
	srv := New(Config{Console: console.Settings{ClientID: "c0ffee", Scope: "api://x/user_impersonation", Authority: "https://login.microsoftonline.com/organizations"}})
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/console/config.json", nil))
	var cfg map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &cfg); err != nil || cfg["devAuth"] != false || cfg["clientId"] != "c0ffee" || cfg["scope"] != "api://x/user_impersonation" {
		t.Errorf("config.json without dev auth: %d %s", w.Code, w.Body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://login.microsoftonline.com;") {
		t.Errorf("Content-Security-Policy %q does not admit the token endpoint", csp)
	}
}
