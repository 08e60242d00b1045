// Package console serves the admin console: a small single-page web app, embedded in the
// binary, that signs an operator or tenant admin in (through the dev issuer locally, through
// Entra ID with authorization code and PKCE in Azure) and reads the admin API with that
// bearer token.
//
// Everything here is static: the assets and a config document built from the settings. No
// asset needs a role, since none holds data; the data comes from the admin API, which
// checks the token on every call. Nothing here reads storage or knows a tenant.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Settings say how the console signs users in and where the admin API is.
type Settings struct {
	// DevAuth offers sign-in through POST /dev/token (dev auth only).
	DevAuth bool
	// ClientID is the Entra app registration of the console (a single-page application);
	// empty turns Entra sign-in off.
	ClientID string
	// Authority is the Entra authority, e.g. https://login.microsoftonline.com/organizations.
	Authority string
	// Scope is the API scope the console asks for, e.g.
	// api://nimbusflow.example.com/user_impersonation.
	Scope string
	// AdminBase is the path of the admin API the console calls, e.g. /manage/v1.
	AdminBase string
}

// Console serves the embedded assets and the config document. Safe for concurrent use.
type Console struct {
	assets map[string]asset
	csp    string
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// ConfigPath is the config document's name under the console.
const ConfigPath = "config.json"

// New returns the console for s.
func New(s Settings) *Console {
	c := &Console{assets: map[string]asset{}, csp: contentSecurityPolicy(s.Authority, s.ClientID != "")}
	_ = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		c.assets[strings.TrimPrefix(p, "static/")] = newAsset(path.Ext(p), body)
		return nil
	})
	cfg, _ := json.Marshal(clientConfig{
		DevAuth: s.DevAuth, ClientID: s.ClientID, Authority: strings.TrimRight(s.Authority, "/"),
		Scope: s.Scope, AdminBase: s.AdminBase, StatsEverySeconds: int(statsEvery / time.Second),
	})
	c.assets[ConfigPath] = newAsset(".json", cfg)
	return c
}

// statsEvery is how often the counters view polls the stats: live enough to watch a replay
// land, rare enough that an open tab costs nothing.
const statsEvery = 3 * time.Second

// clientConfig is what the page learns about sign-in and the API at start.
type clientConfig struct {
	DevAuth           bool   `json:"devAuth"`
	ClientID          string `json:"clientId,omitempty"`
	Authority         string `json:"authority,omitempty"`
	Scope             string `json:"scope,omitempty"`
	AdminBase         string `json:"adminBase"`
	StatsEverySeconds int    `json:"statsEverySeconds"`
}

func newAsset(ext string, body []byte) asset {
	sum := sha256.Sum256(body)
	ct := mime.TypeByExtension(ext)
	switch ext { // not every system's MIME table knows these
	case ".js", ".mjs":
		ct = "text/javascript; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	return asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// contentSecurityPolicy allows the page's own scripts, styles and API only. With Entra
// sign-in the page also redeems the authorization code at the authority's token endpoint,
// so that one origin may be fetched too; the redirect to the sign-in page is a navigation,
// which the policy does not restrict.
func contentSecurityPolicy(authority string, entra bool) string {
	connect := "'self'"
	if u, err := url.Parse(authority); entra && err == nil && u.Scheme == "https" && u.Host != "" {
		connect += " https://" + u.Host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src " + connect + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// Has reports whether name (a path below /console/, "" for the page) is served.
func (c *Console) Has(name string) bool {
	_, ok := c.assets[assetName(name)]
	return ok
}

func assetName(name string) string {
	if name == "" {
		return "index.html"
	}
	return name
}

// Serve answers with the asset name ("" for the page) and the console's security headers;
// it answers 404 with the headers alone when there is no such asset (see Has).
func (c *Console) Serve(w http.ResponseWriter, r *http.Request, name string) {
	h := w.Header()
	SecurityHeaders(h, c.csp)
	a, ok := c.assets[assetName(name)]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	// Revalidate every time: a new binary must never run with the old page's script.
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// SecurityHeaders sets the console's response headers: its content security policy, no
// framing, no MIME sniffing, and no referrer (the sign-in code travels in the page's URL).
func SecurityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// CSP is the console's content security policy.
func (c *Console) CSP() string { return c.csp }
