package entra

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/nimbusflow/connector/handler/nimbus"
)

const (
	tenantA   = "11111111-2222-3333-4444-555555555555"
	tenantB   = "99999999-8888-7777-6666-555555555555"
	audience  = "api://nimbus-connector"
	audience2 = "6f3c1a0e-1111-2222-3333-444444444444"
	kidA      = "key-a"
	kidB      = "key-b"
)

// testNow is the fixed clock of the validator tests.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// RSA key generation is slow; the tests share a few keys.
var (
	keysOnce sync.Once
	testKeys [3]*rsa.PrivateKey
)

func testKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for n := range testKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testKeys[n] = k
		}
	})
	return testKeys[i]
}

// jwksOf returns a JWKS document publishing the public keys under their kids.
func jwksOf(t *testing.T, keys map[string]*rsa.PrivateKey) []byte {
	t.Helper()
	var doc jwkset.JWKSMarshal
	for kid, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(&k.PublicKey, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: jwkset.UseSig},
		})
		if err != nil {
			t.Fatalf("jwk for %s: %v", kid, err)
		}
		doc.Keys = append(doc.Keys, jwk.Marshal())
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func staticKeys(t *testing.T, keys map[string]*rsa.PrivateKey) KeySet {
	t.Helper()
	s, err := newStaticKeySet(jwksOf(t, keys))
	if err != nil {
		t.Fatalf("newStaticKeySet: %v", err)
	}
	return s
}

// userClaims returns the claims of a valid v2 user token for tenantA at testNow.
func userClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":                "https://login.microsoftonline.com/" + tenantA + "/v2.0",
		"aud":                audience,
		"tid":                tenantA,
		"oid":                "0a0a0a0a-0000-0000-0000-000000000001",
		"upn":                "Ada@Contoso.example",
		"preferred_username": "ada@contoso.example",
		"iat":                testNow.Add(-5 * time.Minute).Unix(),
		"nbf":                testNow.Add(-5 * time.Minute).Unix(),
		"exp":                testNow.Add(55 * time.Minute).Unix(),
		"ver":                "2.0",
	}
}

// sign signs claims with key under kid using RS256.
func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// knownTenants returns a TenantKnown func that knows the given tenants.
func knownTenants(ids ...string) func(context.Context, string) (bool, error) {
	return func(_ context.Context, tid string) (bool, error) {
		for _, id := range ids {
			if id == tid {
				return true, nil
			}
		}
		return false, nil
	}
}

// wantUnauthenticated fails unless err is KindUnauthenticated with message want and does not
// echo token.
func wantUnauthenticated(t *testing.T, err error, want, token string) {
	t.Helper()
	if !errors.Is(err, nimbus.ErrUnauthenticated) {
		t.Fatalf("got error %v, want KindUnauthenticated", err)
	}
	var ne *nimbus.Error
	errors.As(err, &ne)
	if ne.Message != want {
		t.Errorf("got message %q, want %q", ne.Message, want)
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("error %q echoes the token", err)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) > 16 && strings.Contains(err.Error(), part) {
			t.Errorf("error %q echoes a token segment", err)
		}
	}
}
