package console

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(c *Console, name string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/console/"+name, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	c.Serve(w, r, name)
	return w
}

func TestServesAssetsWithTheirTypes(t *testing.T) {
	c := New(Settings{AdminBase: "/manage/v1"})
	tests := []struct{ name, wantType, wantBody string }{
		{"", "text/html", "<title>Nimbus Flow console</title>"},
		{"index.html", "text/html", `<script type="module" src="app.js">`},
		{"app.js", "text/javascript", "hashchange"},
		{"style.css", "text/css", ".badge"},
		{"favicon.svg", "image/svg+xml", "<svg"},
		{"config.json", "application/json", `"adminBase":"/manage/v1"`},
	}
	for _, tt := range tests {
		w := serve(c, tt.name, nil)
		if w.Code != http.StatusOK {
			t.Errorf("%q: got %d, want 200", tt.name, w.Code)
			continue
		}
		if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
			t.Errorf("%q: Content-Type %q, want %s", tt.name, got, tt.wantType)
		}
		if !strings.Contains(w.Body.String(), tt.wantBody) {
			t.Errorf("%q: body lacks %q", tt.name, tt.wantBody)
		}
	}
	if w := serve(c, "nope.js", nil); w.Code != http.StatusNotFound || c.Has("nope.js") || !c.Has("") {
		t.Errorf("unknown asset: got %d, Has %v", w.Code, c.Has("nope.js"))
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, name := range []string{"", "app.js", "config.json", "missing"} {
		h := serve(New(Settings{}), name, nil).Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self';", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%q: CSP %q lacks %q", name, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%q: CSP %q allows unsafe sources", name, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%q: headers %v", name, h)
		}
	}
}

// With Entra sign-in the page redeems the code at the authority's token endpoint: that one
// origin, and no other, is added to connect-src.
func TestPolicyAdmitsTheAuthorityOnlyWithEntra(t *testing.T) {
	tests := []struct {
		settings Settings
		want     string
	}{
		{Settings{Authority: "https://login.microsoftonline.com/organizations"}, "connect-src 'self';"},
		{Settings{ClientID: "c", Scope: "s", Authority: "https://login.microsoftonline.com/organizations"}, "connect-src 'self' https://login.microsoftonline.com;"},
		{Settings{ClientID: "c", Scope: "s", Authority: "http://login.example.com/x"}, "connect-src 'self';"},
	}
	for _, tt := range tests {
		if got := New(tt.settings).CSP(); !strings.Contains(got, tt.want) {
			t.Errorf("%+v: CSP %q, want %q", tt.settings, got, tt.want)
		}
	}
}

func TestConfigDocument(t *testing.T) {
	s := Settings{DevAuth: true, ClientID: "c0ffee", Authority: "https://login.microsoftonline.com/organizations/", Scope: "api://x/user_impersonation", AdminBase: "/manage/v1"}
	var got clientConfig
	if err := json.Unmarshal(serve(New(s), ConfigPath, nil).Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := clientConfig{DevAuth: true, ClientID: "c0ffee", Authority: "https://login.microsoftonline.com/organizations", Scope: "api://x/user_impersonation", AdminBase: "/manage/v1", StatsEverySeconds: 3}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// A browser revalidates with the ETag and gets 304, so a new binary's assets are picked up
// at once and an unchanged one costs no body.
func TestRevalidation(t *testing.T) {
	c := New(Settings{})
	first := serve(c, "app.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("headers %v", first.Header())
	}
	if w := serve(c, "app.js", http.Header{"If-None-Match": {etag}}); w.Code != http.StatusNotModified {
		t.Errorf("revalidation: got %d, want 304", w.Code)
	}
}

// The policy forbids inline script and style, so the page must not need any: no script
// without src, no inline event handler, no style element or attribute, and nothing loaded
// from another origin. Every file the page names exists.
func TestPageNeedsNothingInline(t *testing.T) {
	c := New(Settings{})
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := static.ReadFile(p)
		text := string(b)
		if strings.HasSuffix(p, ".html") {
			for _, bad := range []*regexp.Regexp{
				regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`),
				regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
				regexp.MustCompile(`(?i)<style|\sstyle\s*=`),
			} {
				if m := bad.FindString(text); m != "" {
					t.Errorf("%s: inline code %q", p, m)
				}
			}
			for _, m := range regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(text, -1) {
				if !c.Has(m[1]) {
					t.Errorf("%s names %s, which the console does not serve", p, m[1])
				}
			}
		}
		if strings.HasSuffix(p, ".js") {
			if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function`).FindString(text); m != "" {
				t.Errorf("%s uses %s: text must go in as text", p, m)
			}
			for _, m := range regexp.MustCompile(`from '\./([^']+)'`).FindAllStringSubmatch(text, -1) {
				if !c.Has(m[1]) {
					t.Errorf("%s imports %s, which the console does not serve", p, m[1])
				}
			}
		}
		if m := regexp.MustCompile(`(?:src|href)="https?://|import\s.*from\s+'https?:`).FindString(text); m != "" {
			t.Errorf("%s loads from another origin: %q", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
