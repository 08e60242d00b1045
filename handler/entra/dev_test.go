package entra

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func newTestDevIssuer(t *testing.T) *DevIssuer {
	t.Helper()
	d, err := NewDevIssuer(audience)
	if err != nil {
		t.Fatalf("NewDevIssuer: %v", err)
	}
	return d
}

func devValidator(keys KeySet) *Validator {
	return NewValidator(Config{Audiences: []string{audience}, TenantKnown: knownTenants(tenantA)}, keys)
}

func TestDevIssuerRoundTrip(t *testing.T) {
	d := newTestDevIssuer(t)
	v := devValidator(d.KeySet())
	iss := "https://login.microsoftonline.com/" + tenantA + "/v2.0"
	tests := []struct {
		name string
		mint func() (string, error)
		want Claims
	}{
		{
			name: "user with derived object id",
			mint: func() (string, error) { return d.MintUser(tenantA, "Ada@Contoso.example", "", time.Hour) },
			want: Claims{TenantID: tenantA, UPN: "Ada@Contoso.example", ObjectID: devObjectID("user", tenantA, "ada@contoso.example"), Issuer: iss},
		},
		{
			name: "user with given object id",
			mint: func() (string, error) { return d.MintUser(tenantA, "ada@contoso.example", "oid-1", time.Minute) },
			want: Claims{TenantID: tenantA, UPN: "ada@contoso.example", ObjectID: "oid-1", Issuer: iss},
		},
		{
			name: "app with Nimbus.Core",
			mint: func() (string, error) { return d.MintApp(tenantA, "core-app", []string{"Nimbus.Core"}, time.Hour) },
			want: Claims{TenantID: tenantA, ObjectID: devObjectID("app", tenantA, "core-app"), AppID: "core-app",
				Roles: []string{"Nimbus.Core"}, IsApp: true, Issuer: iss},
		},
		{
			name: "app without roles",
			mint: func() (string, error) { return d.MintApp(tenantA, "plain-app", nil, time.Hour) },
			want: Claims{TenantID: tenantA, ObjectID: devObjectID("app", tenantA, "plain-app"), AppID: "plain-app", IsApp: true, Issuer: iss},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := tt.mint()
			if err != nil {
				t.Fatalf("mint: %v", err)
			}
			got, err := v.Validate(context.Background(), token)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDevObjectIDIsStable(t *testing.T) {
	a, b := devObjectID("user", tenantA, "ada@contoso.example"), devObjectID("user", tenantA, "ada@contoso.example")
	if a != b {
		t.Errorf("got %s and %s, want the same id", a, b)
	}
	if c := devObjectID("user", tenantB, "ada@contoso.example"); c == a {
		t.Errorf("got %s for two tenants, want different ids", c)
	}
}

func TestDevTokensFollowTheSameRules(t *testing.T) {
	d := newTestDevIssuer(t)
	d.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	expired, err := d.MintUser(tenantA, "ada@contoso.example", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	d.now = time.Now
	otherTenant, err := d.MintUser(tenantB, "ada@contoso.example", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other := newTestDevIssuer(t)
	foreign, err := other.MintUser(tenantA, "ada@contoso.example", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, wantMsg string
	}{
		{"expired", expired, "The token has expired."},
		{"tenant not known", otherTenant, "The token's tenant is not known to Nimbus."},
		{"minted by another dev issuer", foreign, "The token's signing key is not recognised."},
	}
	v := devValidator(d.KeySet())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Validate(context.Background(), tt.token)
			wantUnauthenticated(t, err, tt.wantMsg, tt.token)
		})
	}
}

func TestDevIssuerMintRejectsBadInput(t *testing.T) {
	d := newTestDevIssuer(t)
	tests := []struct {
		name       string
		mint       func() (string, error)
		wantTarget string
	}{
		{"user without tenant", func() (string, error) { return d.MintUser("", "a@b.example", "", time.Hour) }, "tenantId"},
		{"tenant with a slash", func() (string, error) { return d.MintUser("a/b", "a@b.example", "", time.Hour) }, "tenantId"},
		{"user without upn", func() (string, error) { return d.MintUser(tenantA, "", "", time.Hour) }, "upn"},
		{"app without app id", func() (string, error) { return d.MintApp(tenantA, "", nil, time.Hour) }, "appId"},
		{"zero ttl", func() (string, error) { return d.MintUser(tenantA, "a@b.example", "", 0) }, "ttl"},
		{"ttl too long", func() (string, error) { return d.MintApp(tenantA, "app", nil, MaxDevTokenTTL+time.Second) }, "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := tt.mint()
			if err == nil {
				t.Fatalf("got token %q, want an error", token)
			}
			var ne *nimbus.Error
			if !errors.As(err, &ne) || ne.Kind != nimbus.KindInvalid || ne.Target != tt.wantTarget {
				t.Errorf("got %#v, want KindInvalid on %q", err, tt.wantTarget)
			}
		})
	}
	if _, err := NewDevIssuer(""); !errors.Is(err, nimbus.ErrInvalid) {
		t.Errorf("NewDevIssuer(\"\"): got %v, want KindInvalid", err)
	}
}

func TestDevIssuerJWKS(t *testing.T) {
	d := newTestDevIssuer(t)
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(d.JWKS(), &doc); err != nil {
		t.Fatalf("decode jwks: %v", err)
	}
	if len(doc.Keys) != 1 {
		t.Fatalf("got %d keys, want 1", len(doc.Keys))
	}
	k := doc.Keys[0]
	for field, want := range map[string]string{"kty": "RSA", "kid": d.kid, "alg": "RS256", "use": "sig"} {
		if got, _ := k[field].(string); got != want {
			t.Errorf("got %s %q, want %q", field, got, want)
		}
	}
	for _, field := range []string{"n", "e"} {
		if s, _ := k[field].(string); s == "" {
			t.Errorf("got no %s, want the public key parameter", field)
		}
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := k[private]; ok {
			t.Errorf("got private parameter %q in the JWKS, want public parts only", private)
		}
	}
}

func TestDevIssuerMetadata(t *testing.T) {
	d := newTestDevIssuer(t)
	var got map[string]any
	if err := json.Unmarshal(d.Metadata("http://localhost:7071/"), &got); err != nil {
		t.Fatalf("decode metadata: %v", err)
	}
	want := map[string]any{
		"issuer":                                "https://login.microsoftonline.com/{tenantid}/v2.0",
		"jwks_uri":                              "http://localhost:7071/dev/keys",
		"token_endpoint":                        "http://localhost:7071/dev/token",
		"id_token_signing_alg_values_supported": []any{"RS256"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// The dev metadata and JWKS, served over HTTP, are enough for RemoteKeySet: a local run can
// use the production key path against the dev issuer.
func TestDevIssuerServedToRemoteKeySet(t *testing.T) {
	d := newTestDevIssuer(t)
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) { w.Write(d.Metadata(srv.URL)) })
	mux.HandleFunc("GET /dev/keys", func(w http.ResponseWriter, r *http.Request) { w.Write(d.JWKS()) })
	srv = httptest.NewServer(mux)
	defer srv.Close()
	ks, err := NewRemoteKeySet(context.Background(), srv.URL+"/.well-known/openid-configuration", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	token, err := d.MintApp(tenantA, "core-app", []string{"Nimbus.Core"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := devValidator(ks).Validate(context.Background(), token)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if !got.IsApp || got.AppID != "core-app" {
		t.Errorf("got %+v, want app core-app", got)
	}
}

func TestDevAuthAllowed(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; empty: allowed
	}{
		{"local", map[string]string{"HOME": "/home/dev", "FUNCTIONS_WORKER_RUNTIME": "custom"}, ""},
		{"app service or functions", map[string]string{"WEBSITE_SITE_NAME": "nimbus-prod"}, "WEBSITE_SITE_NAME"},
		{"functions instance", map[string]string{"WEBSITE_INSTANCE_ID": "abc"}, "WEBSITE_INSTANCE_ID"},
		{"generic container runtime", map[string]string{"CONTAINER_NAME": "abc"}, ""},
		{"container apps", map[string]string{"CONTAINER_APP_NAME": "nimbus"}, "CONTAINER_APP_NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DevAuthAllowed(func(k string) string { return tt.env[k] })
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("got %v, want dev auth allowed", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error naming %s", err, tt.wantErr)
			}
			if nimbus.KindOf(err) == nimbus.KindInternal {
				t.Errorf("got %v, want a *nimbus.Error", err)
			}
		})
	}
}

func TestDevIssuerWithKeyIsStable(t *testing.T) {
	key := testKey(t, 0)
	a, err := NewDevIssuerWithKey("api://x", key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewDevIssuerWithKey("api://x", key)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.JWKS()) != string(b.JWKS()) {
		t.Error("same key gave different JWKS (kid must derive from the key)")
	}
	token, err := a.MintUser("11111111-1111-1111-1111-111111111111", "anna@contoso.com", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v := NewValidator(Config{Audiences: []string{"api://x"}, TenantKnown: knownTenants("11111111-1111-1111-1111-111111111111")}, b.KeySet())
	if _, err := v.Validate(t.Context(), token); err != nil {
		t.Errorf("token of one issuer rejected by another with the same key: %v", err)
	}
	if _, err := NewDevIssuerWithKey("api://x", nil); err == nil {
		t.Error("nil key accepted")
	}
}

func TestAsyncDevIssuer(t *testing.T) {
	release := make(chan struct{})
	a := NewAsyncDevIssuer("api://x", func() (*rsa.PrivateKey, error) { <-release; return testKey(t, 1), nil })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.MintUser(ctx, "11111111-1111-1111-1111-111111111111", "a@contoso.com", "", time.Hour); err == nil {
		t.Error("minted before the key was ready")
	}
	close(release)
	tok, err := a.MintUser(t.Context(), "11111111-1111-1111-1111-111111111111", "a@contoso.com", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v := NewValidator(Config{Audiences: []string{"api://x"}, TenantKnown: knownTenants("11111111-1111-1111-1111-111111111111")}, a)
	if _, err := v.Validate(t.Context(), tok); err != nil {
		t.Errorf("validate through the async key set: %v", err)
	}
	failing := NewAsyncDevIssuer("api://x", func() (*rsa.PrivateKey, error) { return nil, errors.New("disk full") })
	if _, err := failing.JWKS(t.Context()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("load error not reported: %v", err)
	}
}
