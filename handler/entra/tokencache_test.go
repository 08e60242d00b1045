package entra

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// swappableKeys is a KeySet whose keys a test changes between validations, as a key rotation
// does.
type swappableKeys struct {
	mu   sync.Mutex
	keys map[string]*rsa.PublicKey
}

func (s *swappableKeys) Key(_ context.Context, kid string) (*rsa.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	return nil, unauthenticated("The token's signing key is not recognised.", fmt.Errorf("no key with id %q", kid))
}

func (s *swappableKeys) set(kid string, k *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k == nil {
		delete(s.keys, kid)
		return
	}
	s.keys[kid] = k
}

// cachingValidator returns a validator over a swappable key set holding key 0 as kidA, a
// movable clock starting at testNow, and a switch for whether tenantA is known.
func cachingValidator(t *testing.T) (*Validator, *swappableKeys, *time.Time, *bool) {
	keys := &swappableKeys{keys: map[string]*rsa.PublicKey{kidA: &testKey(t, 0).PublicKey}}
	now, known := testNow, true
	v := NewValidator(Config{
		Audiences:   []string{audience},
		TenantKnown: func(_ context.Context, tid string) (bool, error) { return known && tid == tenantA, nil },
		Now:         func() time.Time { return now },
	}, keys)
	return v, keys, &now, &known
}

func TestVerifiedTokenIsRememberedOnlyWhenValid(t *testing.T) {
	v, _, _, _ := cachingValidator(t)
	ctx := context.Background()
	good := sign(t, testKey(t, 0), kidA, userClaims())
	if _, err := v.Validate(ctx, good); err != nil {
		t.Fatal(err)
	}
	if v.verified.len() != 1 {
		t.Fatalf("cache holds %d tokens after one valid token, want 1", v.verified.len())
	}
	// The same claims signed by another key, and a valid token's signature on other claims,
	// are different strings: each gets the full check and is refused, and none is stored.
	forged := sign(t, testKey(t, 1), kidA, userClaims())
	_, err := v.Validate(ctx, forged)
	wantUnauthenticated(t, err, "The token's signature is invalid.", forged)
	other := userClaims()
	other["upn"] = "mallory@contoso.example"
	o, g := strings.Split(sign(t, testKey(t, 0), kidA, other), "."), strings.Split(good, ".")
	spliced := o[0] + "." + o[1] + "." + g[2]
	if _, err := v.Validate(ctx, spliced); err == nil {
		t.Fatal("a token with another token's signature was accepted")
	}
	// A well-signed token of a tenant that is not ours is refused and not remembered either.
	foreign := userClaims()
	foreign["tid"], foreign["iss"] = tenantB, "https://login.microsoftonline.com/"+tenantB+"/v2.0"
	alien := sign(t, testKey(t, 0), kidA, foreign)
	_, err = v.Validate(ctx, alien)
	wantUnauthenticated(t, err, "The token's tenant is not known to Nimbus.", alien)
	if v.verified.len() != 1 {
		t.Fatalf("cache holds %d tokens after refused ones, want 1", v.verified.len())
	}
	// A repeated valid token gives the same identity.
	for range 3 {
		c, err := v.Validate(ctx, good)
		if err != nil || c.UPN != "Ada@Contoso.example" {
			t.Fatalf("repeated token: %+v, %v", c, err)
		}
	}
}

func TestVerifiedTokenTimeIsCheckedAtEachUse(t *testing.T) {
	v, _, now, _ := cachingValidator(t)
	ctx := context.Background()
	tok := sign(t, testKey(t, 0), kidA, userClaims()) // nbf now−5 min, exp now+55 min
	if _, err := v.Validate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// Within the skew after exp the token is still accepted, as without the cache.
	*now = testNow.Add(55*time.Minute + ClockSkew - time.Second)
	if _, err := v.Validate(ctx, tok); err != nil {
		t.Fatalf("within the skew after exp: %v", err)
	}
	*now = testNow.Add(55*time.Minute + ClockSkew + time.Second)
	_, err := v.Validate(ctx, tok)
	wantUnauthenticated(t, err, "The token has expired.", tok)

	// A clock moved before nbf (minus the skew) refuses a token verified earlier.
	*now = testNow
	if _, err := v.Validate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	*now = testNow.Add(-5*time.Minute - ClockSkew - time.Second)
	_, err = v.Validate(ctx, tok)
	wantUnauthenticated(t, err, "The token is not valid yet.", tok)
}

func TestVerifiedTokenFollowsKeyRotation(t *testing.T) {
	v, keys, _, _ := cachingValidator(t)
	ctx := context.Background()
	tok := sign(t, testKey(t, 0), kidA, userClaims())
	if _, err := v.Validate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	keys.set(kidA, nil)
	_, err := v.Validate(ctx, tok)
	wantUnauthenticated(t, err, "The token's signing key is not recognised.", tok)

	// The kid now names another key: the token's signature does not verify with it.
	keys.set(kidA, &testKey(t, 1).PublicKey)
	_, err = v.Validate(ctx, tok)
	wantUnauthenticated(t, err, "The token's signature is invalid.", tok)

	keys.set(kidA, &testKey(t, 0).PublicKey)
	if _, err := v.Validate(ctx, tok); err != nil {
		t.Fatalf("key published again: %v", err)
	}
}

func TestVerifiedTokenTenantIsCheckedAtEachUse(t *testing.T) {
	v, _, _, known := cachingValidator(t)
	ctx := context.Background()
	tok := sign(t, testKey(t, 0), kidA, userClaims())
	if _, err := v.Validate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	*known = false
	_, err := v.Validate(ctx, tok)
	wantUnauthenticated(t, err, "The token's tenant is not known to Nimbus.", tok)
}

func TestVerifiedTokensAreBounded(t *testing.T) {
	c := newVerifiedTokens()
	exp := jwt.NewNumericDate(testNow.Add(time.Hour))
	key := &testKey(t, 0).PublicKey
	for i := range maxVerifiedTokens + 100 {
		var tc tokenClaims
		tc.ExpiresAt = exp
		c.put(sha256.Sum256(fmt.Append(nil, i)), verifiedToken{claims: tc, kid: kidA, key: key}, testNow)
	}
	if n := c.len(); n > maxVerifiedTokens {
		t.Fatalf("cache holds %d tokens, bound is %d", n, maxVerifiedTokens)
	}
	// Expired entries are the first to go when the cache is full, and are never returned.
	late := testNow.Add(2 * time.Hour)
	if _, ok := c.get(sha256.Sum256(fmt.Append(nil, maxVerifiedTokens+99)), late); ok {
		t.Fatal("an entry past its expiry was returned")
	}
	var tc tokenClaims
	tc.ExpiresAt = jwt.NewNumericDate(late.Add(time.Hour))
	c.put(sha256.Sum256([]byte("fresh 1")), verifiedToken{claims: tc, kid: kidA, key: key}, late)
	c.put(sha256.Sum256([]byte("fresh 2")), verifiedToken{claims: tc, kid: kidA, key: key}, late)
	if n := c.len(); n != 2 {
		t.Fatalf("after expiry the cache holds %d tokens, want only the 2 fresh ones", n)
	}
}

// BenchmarkValidateRepeatedToken is one core token presented again and again, as at ingest.
func BenchmarkValidateRepeatedToken(b *testing.B) {
	t := &testing.T{}
	v, _, _, _ := cachingValidator(t)
	tok := sign(t, testKey(t, 0), kidA, userClaims())
	ctx := context.Background()
	for b.Loop() {
		if _, err := v.Validate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
