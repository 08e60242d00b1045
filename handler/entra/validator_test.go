package entra

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func newTestValidator(t *testing.T) *Validator {
	t.Helper()
	return NewValidator(Config{
		Audiences:   []string{audience, audience2},
		TenantKnown: knownTenants(tenantA, tenantB),
		Now:         func() time.Time { return testNow },
	}, staticKeys(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)}))
}

// claimsWith returns a token maker: userClaims changed by edit, signed with key 0 as kidA.
func claimsWith(edit func(c jwt.MapClaims)) func(t *testing.T) string {
	return func(t *testing.T) string {
		c := userClaims()
		edit(c)
		return sign(t, testKey(t, 0), kidA, c)
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name  string
		token func(t *testing.T) string
		want  Claims
	}{
		{
			name:  "user token with v2 issuer",
			token: claimsWith(func(jwt.MapClaims) {}),
			want: Claims{TenantID: tenantA, UPN: "Ada@Contoso.example", ObjectID: "0a0a0a0a-0000-0000-0000-000000000001",
				Issuer: "https://login.microsoftonline.com/" + tenantA + "/v2.0"},
		},
		{
			name: "user token with v1 issuer",
			token: claimsWith(func(c jwt.MapClaims) {
				c["iss"] = "https://sts.windows.net/" + tenantA + "/"
				c["ver"] = "1.0"
				c["unique_name"] = "ada@contoso.example"
				c["appid"] = "client-app"
				delete(c, "preferred_username")
			}),
			want: Claims{TenantID: tenantA, UPN: "Ada@Contoso.example", ObjectID: "0a0a0a0a-0000-0000-0000-000000000001",
				AppID: "client-app", Issuer: "https://sts.windows.net/" + tenantA + "/"},
		},
		{
			name:  "user name falls back to preferred_username",
			token: claimsWith(func(c jwt.MapClaims) { delete(c, "upn") }),
			want: Claims{TenantID: tenantA, UPN: "ada@contoso.example", ObjectID: "0a0a0a0a-0000-0000-0000-000000000001",
				Issuer: "https://login.microsoftonline.com/" + tenantA + "/v2.0"},
		},
		{
			name: "user name falls back to unique_name",
			token: claimsWith(func(c jwt.MapClaims) {
				delete(c, "upn")
				delete(c, "preferred_username")
				c["unique_name"] = "live.com#ada@example.org"
			}),
			want: Claims{TenantID: tenantA, UPN: "live.com#ada@example.org", ObjectID: "0a0a0a0a-0000-0000-0000-000000000001",
				Issuer: "https://login.microsoftonline.com/" + tenantA + "/v2.0"},
		},
		{
			name: "app token with roles",
			token: claimsWith(func(c jwt.MapClaims) {
				delete(c, "upn")
				delete(c, "preferred_username")
				c["azp"] = "core-app"
				c["roles"] = []string{"Nimbus.Core", "Nimbus.Admin"}
			}),
			want: Claims{TenantID: tenantA, ObjectID: "0a0a0a0a-0000-0000-0000-000000000001", AppID: "core-app",
				Roles: []string{"Nimbus.Core", "Nimbus.Admin"}, IsApp: true,
				Issuer: "https://login.microsoftonline.com/" + tenantA + "/v2.0"},
		},
		{
			name: "token without a user name but with appid is an app token",
			token: claimsWith(func(c jwt.MapClaims) {
				c["iss"] = "https://sts.windows.net/" + tenantA + "/"
				delete(c, "upn")
				delete(c, "preferred_username")
				c["appid"] = "v1-app"
			}),
			want: Claims{TenantID: tenantA, ObjectID: "0a0a0a0a-0000-0000-0000-000000000001", AppID: "v1-app",
				IsApp: true, Issuer: "https://sts.windows.net/" + tenantA + "/"},
		},
		{
			name:  "expired but within the 60 s skew",
			token: claimsWith(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-50 * time.Second).Unix() }),
			want: Claims{TenantID: tenantA, UPN: "Ada@Contoso.example", ObjectID: "0a0a0a0a-0000-0000-0000-000000000001",
				Issuer: "https://login.microsoftonline.com/" + tenantA + "/v2.0"},
		},
		{
			name:  "not yet valid but within the 60 s skew",
			token: claimsWith(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(50 * time.Second).Unix() }),
			want: Claims{TenantID: tenantA, UPN: "Ada@Contoso.example", ObjectID: "0a0a0a0a-0000-0000-0000-000000000001",
				Issuer: "https://login.microsoftonline.com/" + tenantA + "/v2.0"},
		},
		{
			name:  "audience array containing an accepted one",
			token: claimsWith(func(c jwt.MapClaims) { c["aud"] = []string{"https://graph.microsoft.com", audience2} }),
			want: Claims{TenantID: tenantA, UPN: "Ada@Contoso.example", ObjectID: "0a0a0a0a-0000-0000-0000-000000000001",
				Issuer: "https://login.microsoftonline.com/" + tenantA + "/v2.0"},
		},
		{
			name: "second known tenant",
			token: claimsWith(func(c jwt.MapClaims) {
				c["tid"] = tenantB
				c["iss"] = "https://login.microsoftonline.com/" + tenantB + "/v2.0"
			}),
			want: Claims{TenantID: tenantB, UPN: "Ada@Contoso.example", ObjectID: "0a0a0a0a-0000-0000-0000-000000000001",
				Issuer: "https://login.microsoftonline.com/" + tenantB + "/v2.0"},
		},
	}
	v := newTestValidator(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Validate(context.Background(), tt.token(t))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	other := testKey(t, 1)
	tests := []struct {
		name    string
		token   func(t *testing.T) string
		wantMsg string
	}{
		{"expired", claimsWith(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-2 * time.Minute).Unix() }), "The token has expired."},
		{"not before in the future beyond skew", claimsWith(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(2 * time.Minute).Unix() }), "The token is not valid yet."},
		{"missing exp", claimsWith(func(c jwt.MapClaims) { delete(c, "exp") }), "The token has no expiry."},
		{"wrong audience", claimsWith(func(c jwt.MapClaims) { c["aud"] = "api://someone-else" }), "The token's audience is not accepted."},
		{"audience array without an accepted one", claimsWith(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} }), "The token's audience is not accepted."},
		{"missing audience", claimsWith(func(c jwt.MapClaims) { delete(c, "aud") }), "The token's audience is not accepted."},
		{"wrong issuer host", claimsWith(func(c jwt.MapClaims) { c["iss"] = "https://login.evil.example/" + tenantA + "/v2.0" }), "The token's issuer is not accepted."},
		{"v1 issuer without trailing slash", claimsWith(func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/" + tenantA }), "The token's issuer is not accepted."},
		{"issuer tenant differs from tid", claimsWith(func(c jwt.MapClaims) { c["iss"] = "https://login.microsoftonline.com/" + tenantB + "/v2.0" }), "The token's issuer is not accepted."},
		{"missing tid", claimsWith(func(c jwt.MapClaims) { delete(c, "tid") }), "The token's issuer is not accepted."},
		{"unknown tenant", claimsWith(func(c jwt.MapClaims) {
			c["tid"] = "00000000-0000-0000-0000-00000000dead"
			c["iss"] = "https://sts.windows.net/00000000-0000-0000-0000-00000000dead/"
		}), "The token's tenant is not known to Nimbus."},
		{"no user and no application", claimsWith(func(c jwt.MapClaims) {
			delete(c, "upn")
			delete(c, "preferred_username")
		}), "The token names neither a user nor an application."},
		{"bad signature: another key with the same kid", func(t *testing.T) string {
			return sign(t, other, kidA, userClaims())
		}, "The token's signature is invalid."},
		{"tampered payload", func(t *testing.T) string {
			parts := strings.Split(sign(t, testKey(t, 0), kidA, userClaims()), ".")
			c := userClaims()
			c["upn"] = "admin@contoso.example"
			parts[1] = strings.Split(sign(t, other, kidA, c), ".")[1]
			return strings.Join(parts, ".")
		}, "The token's signature is invalid."},
		{"unknown kid", func(t *testing.T) string { return sign(t, testKey(t, 0), "no-such-kid", userClaims()) }, "The token's signing key is not recognised."},
		{"no kid", func(t *testing.T) string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, userClaims()).SignedString(testKey(t, 0))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "The token has no key id."},
		{"alg none", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, userClaims())
			tok.Header["kid"] = kidA
			s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "The token's signing algorithm is not accepted."},
		{"HS256 with the RSA public key as HMAC secret", func(t *testing.T) string {
			der, err := x509.MarshalPKIXPublicKey(&testKey(t, 0).PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, userClaims())
			tok.Header["kid"] = kidA
			s, err := tok.SignedString(secret)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "The token's signing algorithm is not accepted."},
		{"RS512 with the right key", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS512, userClaims())
			tok.Header["kid"] = kidA
			s, err := tok.SignedString(testKey(t, 0))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "The token's signing algorithm is not accepted."},
		{"unknown alg", func(t *testing.T) string {
			parts := strings.Split(sign(t, testKey(t, 0), kidA, userClaims()), ".")
			parts[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"XS999","kid":"key-a","typ":"JWT"}`))
			return strings.Join(parts, ".")
		}, "The token's signing algorithm is not accepted."},
		{"empty string", func(*testing.T) string { return "" }, "A bearer token is required: send Authorization: Bearer <access token>."},
		{"two segments", func(*testing.T) string { return "a.b" }, "The token is malformed."},
		{"garbage", func(*testing.T) string { return "not a token at all" }, "The token is malformed."},
		{"three segments of garbage", func(*testing.T) string { return "a.b.c" }, "The token is malformed."},
		{"claims of the wrong type", claimsWith(func(c jwt.MapClaims) { c["roles"] = "Nimbus.Core" }), "The token is malformed."},
		{"too long", func(*testing.T) string { return strings.Repeat("a", MaxTokenLength+1) }, "The token is malformed."},
	}
	v := newTestValidator(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token(t)
			got, err := v.Validate(context.Background(), token)
			if err == nil {
				t.Fatalf("got %+v, want an error", got)
			}
			wantUnauthenticated(t, err, tt.wantMsg, token)
		})
	}
}

func TestValidateTenantLookupError(t *testing.T) {
	plain := errors.New("disk on fire")
	tests := []struct {
		name     string
		lookup   error
		wantKind nimbus.Kind
		wantIs   error
	}{
		{"storage unavailable stays unavailable", nimbus.Unavailable("get tenant", errors.New("timeout")), nimbus.KindUnavailable, nimbus.ErrUnavailable},
		{"plain error is internal and keeps its cause", plain, nimbus.KindInternal, plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewValidator(Config{
				Audiences:   []string{audience},
				TenantKnown: func(context.Context, string) (bool, error) { return false, tt.lookup },
				Now:         func() time.Time { return testNow },
			}, staticKeys(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)}))
			_, err := v.Validate(context.Background(), sign(t, testKey(t, 0), kidA, userClaims()))
			if got := nimbus.KindOf(err); got != tt.wantKind {
				t.Errorf("got kind %s, want %s (err %v)", got, tt.wantKind, err)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("got %v, want it to match %v", err, tt.wantIs)
			}
			if errors.Is(err, nimbus.ErrUnauthenticated) {
				t.Errorf("got %v, want it not turned into KindUnauthenticated", err)
			}
		})
	}
}

func TestValidateFailsClosedWithoutConfig(t *testing.T) {
	keys := staticKeys(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)})
	clock := func() time.Time { return testNow }
	tests := []struct {
		name    string
		cfg     Config
		keys    KeySet
		wantMsg string
	}{
		{"no audiences", Config{TenantKnown: knownTenants(tenantA), Now: clock}, keys, "The token's audience is not accepted."},
		{"no tenant lookup", Config{Audiences: []string{audience}, Now: clock}, keys, "The token's tenant is not known to Nimbus."},
		{"no key set", Config{Audiences: []string{audience}, TenantKnown: knownTenants(tenantA), Now: clock}, nil, "The token's signing key is not recognised."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := sign(t, testKey(t, 0), kidA, userClaims())
			_, err := NewValidator(tt.cfg, tt.keys).Validate(context.Background(), token)
			wantUnauthenticated(t, err, tt.wantMsg, token)
		})
	}
}

func TestValidateUsesRealClockByDefault(t *testing.T) {
	v := NewValidator(Config{Audiences: []string{audience}, TenantKnown: knownTenants(tenantA)},
		staticKeys(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)}))
	// userClaims expired long ago by the real clock.
	token := sign(t, testKey(t, 0), kidA, userClaims())
	_, err := v.Validate(context.Background(), token)
	wantUnauthenticated(t, err, "The token has expired.", token)
}
