package entra

import (
	"crypto/rsa"
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// maxVerifiedTokens bounds the cache of verified tokens. Nimbus core reuses one app token
// for every event it reports until the token nears its expiry, and a user's client reuses
// its token in the same way, so a few thousand entries cover every active caller.
const maxVerifiedTokens = 4096

// verifiedTokens remembers which raw tokens had a valid RS256 signature, by the SHA-256 of
// the token, so that a token presented again is not RSA-verified again: at several thousand
// requests a second, the verification would be most of an ingest request's cost.
//
// Only the signature check is skipped. A token found here still passes every other rule at
// each use (Validator.Validate): exp (required) and nbf against the current clock with
// ClockSkew, the audiences, the issuer and the tenant lookup; and its signing key must still
// be the one the key set returns for its kid, so a key removed or replaced in a rotation
// stops its tokens at once. An entry is dropped once the token has expired past the skew
// (it can never be valid again) and when the cache is full. Tokens that failed any check
// are never stored. Safe for concurrent use.
type verifiedTokens struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedToken
}

// verifiedToken is what the full validation of one token found.
type verifiedToken struct {
	claims tokenClaims
	kid    string
	key    *rsa.PublicKey // the key that verified the signature
	until  time.Time      // exp + ClockSkew: the entry is useless after it
}

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{entries: map[[sha256.Size]byte]verifiedToken{}}
}

func tokenDigest(raw string) [sha256.Size]byte { return sha256.Sum256([]byte(raw)) }

// get returns the entry of the token with digest sum, unless it has expired at now. Its
// claims are a copy the caller may keep.
func (c *verifiedTokens) get(sum [sha256.Size]byte, now time.Time) (verifiedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.entries[sum]
	if !ok {
		return verifiedToken{}, false
	}
	if now.After(t.until) {
		delete(c.entries, sum)
		return verifiedToken{}, false
	}
	t.claims.Roles = slices.Clone(t.claims.Roles)
	return t, true
}

// put remembers a token whose signature was verified with key. A token without an expiry is
// never accepted, so it is not stored either.
func (c *verifiedTokens) put(sum [sha256.Size]byte, t verifiedToken, now time.Time) {
	if t.claims.ExpiresAt == nil || t.key == nil {
		return
	}
	t.until = t.claims.ExpiresAt.Add(ClockSkew)
	t.claims.Roles = slices.Clone(t.claims.Roles)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxVerifiedTokens {
		for k, e := range c.entries {
			if now.After(e.until) {
				delete(c.entries, k)
			}
		}
		// Still full of live tokens: make room by dropping arbitrary ones (map order), which
		// only costs those tokens one more signature check.
		for k := range c.entries {
			if len(c.entries) < maxVerifiedTokens {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[sum] = t
}

// drop forgets a token, e.g. when its key is no longer the one the key set returns.
func (c *verifiedTokens) drop(sum [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, sum)
}

func (c *verifiedTokens) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
